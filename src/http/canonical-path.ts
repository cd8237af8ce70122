/**
 * Request-target canonicalization. The gateway matches routes against the canonical path and
 * forwards exactly that string upstream, so a path that the gateway and the upstream would read
 * differently (encoded slashes, dot segments, matrix params, backslashes, overlong UTF-8...)
 * must either be reduced to one unambiguous spelling here or refused. Anything we cannot make
 * unambiguous is refused rather than "fixed": a clever repair is itself a parser differential.
 */
import { describeChar, excerpt } from './excerpt.js';

/** Longest canonical path accepted. Generous for every AI API route; tiny next to header limits. */
export const MAX_CANONICAL_PATH_LENGTH = 2048;

export const TARGET_REJECT_REASONS = [
  'not_origin_form',
  'fragment',
  'invalid_character',
  'backslash',
  'matrix_param',
  'bad_percent_encoding',
  'encoded_separator',
  'encoded_nul',
  'double_encoding',
  'encoded_reserved',
  'path_traversal',
  'too_long',
] as const;

export type TargetRejectReason = (typeof TARGET_REJECT_REASONS)[number];

export type CanonicalTarget =
  | { ok: true; path: string; query: string | undefined }
  | { ok: false; reason: TargetRejectReason; detail: string };

const REASON_TEXT: Readonly<Record<TargetRejectReason, string>> = {
  not_origin_form: 'The request target must be a path starting with "/" (no absolute URL, authority or "*").',
  fragment: 'The request target must not contain a "#" fragment.',
  invalid_character: 'The request target contains a character that is not allowed in a URL path or query.',
  backslash: 'The request path must not contain a backslash.',
  matrix_param: 'The request path must not contain ";" (matrix parameters).',
  bad_percent_encoding: 'The request path contains a malformed percent-encoding.',
  encoded_separator: 'The request path must not contain an encoded "/" or "\\".',
  encoded_nul: 'The request path must not contain an encoded NUL byte.',
  double_encoding: 'The request path must not contain an encoded "%" (double encoding).',
  encoded_reserved: 'The request path contains a percent-encoded character other than a letter, digit, "-", ".", "_" or "~".',
  path_traversal: 'The request path climbs above the root with "..".',
  too_long: `The canonical request path is longer than ${MAX_CANONICAL_PATH_LENGTH} characters.`,
};

/** A short human sentence for a reject reason, safe to put in a client-facing error body. */
export function describeTargetReject(reason: TargetRejectReason): string {
  return REASON_TEXT[reason];
}

// RFC 3986 forbids these in a path. WHATWG URL parsers (undici, browsers, most upstream
// frameworks) silently percent-encode `"<>`{}` and leave `[]^|` alone, so the upstream would
// see a different string from the one we matched; refusing keeps "matched === forwarded" true.
const NOT_URI_CHARS = new Set(['"', '<', '>', '[', ']', '^', '`', '{', '|', '}']);

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e
  );
}

function reject(reason: TargetRejectReason, detail: string): CanonicalTarget {
  return { ok: false, reason, detail };
}

/** Classifies a decoded byte that is not unreserved; every such encoding is refused. */
function encodedRejectReason(byte: number): TargetRejectReason {
  if (byte === 0x2f || byte === 0x5c) return 'encoded_separator';
  if (byte === 0x00) return 'encoded_nul';
  if (byte === 0x25) return 'double_encoding';
  // Reserved chars, space, controls and every byte >= 0x80: the last group covers overlong
  // UTF-8 (%C0%AE) and encoded fullwidth forms, which some upstream stacks fold to ASCII.
  return 'encoded_reserved';
}

/**
 * Canonicalize a raw HTTP request target (`req.url` as Node delivers it). On success `path` is
 * the only spelling the gateway routes on and forwards; `query` is the raw text after the first
 * `?` (without it), untouched apart from the character check.
 */
export function canonicalizeTarget(rawTarget: string): CanonicalTarget {
  if (rawTarget.charCodeAt(0) !== 0x2f) {
    return reject('not_origin_form', `target ${excerpt(rawTarget)} does not start with "/"`);
  }
  const hash = rawTarget.indexOf('#');
  if (hash !== -1) {
    return reject('fragment', `"#" at offset ${hash} in ${excerpt(rawTarget)}`);
  }

  const q = rawTarget.indexOf('?');
  const rawPath = q === -1 ? rawTarget : rawTarget.slice(0, q);
  const query = q === -1 ? undefined : rawTarget.slice(q + 1);

  if (query !== undefined) {
    // The query is forwarded raw, so a space, CR/LF or non-ASCII byte in it would reach the
    // upstream request line; Node's parser stops most of these but this contract must not rely on it.
    for (let i = 0; i < query.length; i++) {
      const code = query.charCodeAt(i);
      if (code < 0x21 || code > 0x7e) {
        return reject('invalid_character', `${describeChar(query[i] ?? '')} at query offset ${i}`);
      }
    }
  }

  let decoded = '';
  for (let i = 0; i < rawPath.length; i++) {
    const ch = rawPath[i] ?? '';
    const code = rawPath.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) {
      return reject('invalid_character', `${describeChar(ch)} at path offset ${i}`);
    }
    if (ch === '\\') return reject('backslash', `"\\" at path offset ${i}`);
    if (ch === ';') return reject('matrix_param', `";" at path offset ${i}`);
    if (NOT_URI_CHARS.has(ch)) {
      return reject('invalid_character', `${describeChar(ch)} at path offset ${i}`);
    }
    if (ch !== '%') {
      decoded += ch;
      continue;
    }
    const hi = rawPath.charCodeAt(i + 1);
    const lo = rawPath.charCodeAt(i + 2);
    // charCodeAt past the end is NaN, which isHexDigit rejects: truncated escapes land here too.
    if (!isHexDigit(hi) || !isHexDigit(lo)) {
      return reject('bad_percent_encoding', `${excerpt(rawPath.slice(i, i + 3))} at path offset ${i}`);
    }
    const byte = Number.parseInt(rawPath.slice(i + 1, i + 3), 16);
    if (!isUnreserved(byte)) {
      return reject(encodedRejectReason(byte), `${excerpt(rawPath.slice(i, i + 3))} at path offset ${i}`);
    }
    decoded += String.fromCharCode(byte);
    i += 2;
  }

  // Decoding happens before dot resolution on purpose: `%2E%2E` is `..` to every upstream that
  // decodes, so it must be resolved (or refused) here, not forwarded as an opaque segment.
  // Empty segments are dropped first, which is what "collapse runs of /" means for resolution:
  // `/a//..` is `/`, never `/a`.
  const stack: string[] = [];
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (stack.length === 0) {
        return reject('path_traversal', `".." climbs above the root in ${excerpt(rawPath)}`);
      }
      stack.pop();
      continue;
    }
    stack.push(segment);
  }

  const path = `/${stack.join('/')}`;
  if (path.length > MAX_CANONICAL_PATH_LENGTH) {
    return reject('too_long', `canonical path is ${path.length} characters; limit is ${MAX_CANONICAL_PATH_LENGTH}`);
  }
  return { ok: true, path, query };
}
