import type { ResponseFilter } from '../../core/stage.js';
import type { OutputPolicy } from './policy.js';
import { MAX_WHOLE_BYTES, redactJson, redactUnlabelled, uninspectable } from './whole-body.js';

/** The largest JSON answer inspected; a larger one is refused rather than passed unchecked. */
export const MAX_JSON_BYTES = MAX_WHOLE_BYTES;

/**
 * A whole answer, checked before anything is sent. `json`: an answer labelled JSON — every
 * string after JSON decoding (so `\u` escapes hide nothing; tool-call arguments included), then
 * re-serialized only when something was redacted (otherwise the bytes pass unchanged); a body
 * that does not parse is read as what it is (an event stream, or text). `unlabelled`: an answer
 * whose media type says nothing the guard can rely on (none, `application/octet-stream`, XML…),
 * read as JSON, an event stream or text, and refused when it is not text at all.
 */
export function wholeBodyFilter(policy: OutputPolicy, mode: 'json' | 'unlabelled', transform?: (doc: unknown) => boolean): ResponseFilter {
  const parts: Buffer[] = [];
  let size = 0;
  return {
    wholeBody: true,
    onChunk(chunk) {
      size += chunk.length;
      if (size > MAX_WHOLE_BYTES) throw uninspectable('The answer is too large to inspect.');
      parts.push(chunk);
      return Buffer.alloc(0);
    },
    onEnd() {
      const raw = Buffer.concat(parts);
      if (mode === 'json') {
        let doc: unknown;
        let parsed = true;
        try {
          doc = JSON.parse(raw.toString('utf8'));
        } catch {
          parsed = false;
        }
        if (parsed) return redactJson(policy, raw, doc, transform);
      }
      return redactUnlabelled(policy, raw);
    },
  };
}

/** An answer labelled JSON (see wholeBodyFilter). */
export function jsonFilter(policy: OutputPolicy, transform?: (doc: unknown) => boolean): ResponseFilter {
  return wholeBodyFilter(policy, 'json', transform);
}
