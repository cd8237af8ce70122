import { StringDecoder } from 'node:string_decoder';
import type { ResponseFilter } from '../../core/stage.js';
import type { OutputPolicy } from './policy.js';
import { applySpans, StreamScanner } from './scanner.js';

/**
 * A text body (text/*, or JSON that does not parse) redacted as it streams: decoded as UTF-8
 * across chunk boundaries, held back only where a secret could still be growing.
 */
export function textFilter(policy: OutputPolicy): ResponseFilter {
  const decoder = new StringDecoder('utf8');
  const scanner = new StreamScanner(policy.recognizers, policy.literals);
  let held = '';
  let heldFrom = 0;
  const release = (r: { safe: number; spans: Parameters<OutputPolicy['decide']>[0] }): Buffer => {
    const redact = policy.decide(r.spans);
    const text = held.slice(0, r.safe - heldFrom);
    held = held.slice(r.safe - heldFrom);
    const out = applySpans(text, heldFrom, redact);
    heldFrom = r.safe;
    return Buffer.from(out, 'utf8');
  };
  return {
    onChunk(chunk) {
      const text = decoder.write(chunk);
      if (text.length === 0) return Buffer.alloc(0);
      held += text;
      return release(scanner.push(text));
    },
    onEnd() {
      const tail = decoder.end();
      held += tail;
      if (tail.length > 0) scanner.push(tail);
      return release(scanner.finish());
    },
  };
}
