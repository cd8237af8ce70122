import { ResponseRefused, type ResponseFilter } from '../../core/stage.js';
import { deny } from '../../core/verdict.js';
import type { OutputPolicy } from './policy.js';
import { applySpans, StreamScanner, type Span } from './scanner.js';

/** The largest JSON answer inspected; a larger one is refused rather than passed unchecked. */
export const MAX_JSON_BYTES = 32 * 1024 * 1024;

type Json = unknown;

/** Each string of a parsed JSON value, with a setter, depth-bounded. */
function eachString(v: Json, visit: (s: string, set: (next: string) => void) => void, depth = 0): void {
  if (depth > 256 || typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      if (typeof x === 'string') visit(x, (n) => (v[i] = n));
      else eachString(x, visit, depth + 1);
    });
    return;
  }
  const o = v as Record<string, Json>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (typeof x === 'string') visit(x, (n) => (o[k] = n));
    else eachString(x, visit, depth + 1);
  }
}


function findAll(policy: OutputPolicy, text: string): Span[] {
  // push() may already decide spans before finish(); collect both.
  const scanner = new StreamScanner(policy.recognizers, policy.literals);
  const first = scanner.push(text).spans;
  return [...first, ...scanner.finish().spans];
}

/**
 * A JSON answer, checked whole before anything is sent: every string after JSON decoding (so
 * `\u` escapes hide nothing; tool-call arguments included), then re-serialized only when
 * something was redacted (otherwise the bytes pass unchanged). A body that is not JSON is
 * checked as text.
 */
export function jsonFilter(policy: OutputPolicy, transform?: (doc: unknown) => boolean): ResponseFilter {
  const parts: Buffer[] = [];
  let size = 0;
  return {
    wholeBody: true,
    onChunk(chunk) {
      size += chunk.length;
      if (size > MAX_JSON_BYTES) throw new ResponseRefused(deny('OUTPUT_BLOCKED', 'The answer is too large to inspect.', { quiet: true, event: { stage: 'output-guard' } }));
      parts.push(chunk);
      return Buffer.alloc(0);
    },
    onEnd() {
      const raw = Buffer.concat(parts);
      const text = raw.toString('utf8');
      let doc: Json;
      try {
        doc = JSON.parse(text);
      } catch {
        const redact = policy.decide(findAll(policy, text));
        return redact.length === 0 ? raw : Buffer.from(applySpans(text, 0, redact), 'utf8');
      }
      if (typeof doc === 'string') {
        const redact = policy.decide(findAll(policy, doc));
        return redact.length === 0 ? raw : Buffer.from(JSON.stringify(applySpans(doc, 0, redact)), 'utf8');
      }
      let changed = false;
      eachString(doc, (s, set) => {
        const redact = policy.decide(findAll(policy, s));
        if (redact.length > 0) {
          set(applySpans(s, 0, redact));
          changed = true;
        }
      });
      // After redaction: watermarks mark what is actually served.
      if (transform?.(doc)) changed = true;
      return changed ? Buffer.from(JSON.stringify(doc), 'utf8') : raw;
    },
  };
}
