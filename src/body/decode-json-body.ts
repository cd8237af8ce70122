import sjson from 'secure-json-parse';
import { rejectBody, type BodyCheckFailure } from './body-result.js';
import { scanJson } from './json-scan.js';

export type JsonBodyOptions = {
  /** Most containers that may be open at once; `{}` is depth 1. */
  maxDepth: number;
  /** Refuse any top-level value other than an object (the JSON API route kinds). */
  requireObject: boolean;
};

export type JsonBodyResult = { ok: true; value: unknown } | BodyCheckFailure;

// `ignoreBOM: true` keeps a leading U+FEFF in the output instead of silently dropping it, so a
// BOM can never slip through even if the byte check below were bypassed. A fatal decoder has no
// state between non-streaming calls, so one instance is shared.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const SJSON_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Turn a fully buffered request body into a JSON value, refusing anything that is not
 * unambiguous, strictly encoded RFC 8259 JSON.
 *
 * The scanner runs first and decides; secure-json-parse only builds the value, and its own
 * prototype-poisoning checks stay on as a second, independent guard.
 */
export function decodeJsonBody(bytes: Uint8Array, options: JsonBodyOptions): JsonBodyResult {
  // Refused rather than skipped: some parsers strip a BOM and some treat it as content, and
  // RFC 8259 forbids sending one, so accepting it only invites a parser disagreement.
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return rejectBody('byte_order_mark', 'body starts with a UTF-8 byte order mark; send JSON without a BOM');
  }

  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8Offset(bytes);
    return rejectBody('invalid_utf8', at >= 0 ? `body is not valid UTF-8 at byte ${at}` : 'body is not valid UTF-8');
  }

  const scanned = scanJson(text, { maxDepth: options.maxDepth });
  if (!scanned.ok) return scanned;

  if (options.requireObject) {
    const first = text.charCodeAt(firstNonWhitespace(text));
    if (first !== 0x7b) {
      return rejectBody('not_an_object', `top-level JSON value is ${kindOf(first)}; expected an object`);
    }
  }

  let value: unknown;
  try {
    value = sjson.parse(text, undefined, SJSON_OPTIONS);
  } catch (err) {
    // The native error message quotes the input, so it is never passed on.
    if (err instanceof SyntaxError && /forbidden prototype property/.test(err.message)) {
      return rejectBody('forbidden_key', 'body contains a forbidden prototype property');
    }
    // The scanner accepted what the parser refused; the disagreement itself is the reason to refuse.
    return rejectBody('invalid_json', 'body could not be parsed as JSON');
  }
  return { ok: true, value };
}

function firstNonWhitespace(text: string): number {
  let i = 0;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

function kindOf(firstChar: number): string {
  if (firstChar === 0x5b) return 'an array';
  if (firstChar === 0x22) return 'a string';
  if (firstChar === 0x74 || firstChar === 0x66) return 'a boolean';
  if (firstChar === 0x6e) return 'null';
  return 'a number';
}

/**
 * Byte offset of the first ill-formed sequence, following the WHATWG decoder's rules (no
 * overlongs, no surrogates, nothing above U+10FFFF), or -1 when the bytes are well-formed.
 * TextDecoder only says "invalid", and a client fixing its encoder needs the position; this
 * only runs after TextDecoder has already refused the body.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lower = 0xa0; // overlong
      if (b === 0xed) upper = 0x9f; // UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lower = 0x90; // overlong
      if (b === 0xf4) upper = 0x8f; // above U+10FFFF
    } else {
      return i;
    }
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      const lo = k === 1 ? lower : 0x80;
      const hi = k === 1 ? upper : 0xbf;
      if (c < lo || c > hi) return i;
    }
    i += need + 1;
  }
  return -1;
}
