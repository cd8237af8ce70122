/**
 * Request-line and header framing checks run before routing. Node's llhttp parser already
 * refuses most malformed messages; these checks close the gaps that matter for a proxy: things
 * llhttp accepts but an upstream or an intermediary could frame differently (request smuggling),
 * and protocol switches (CONNECT, Upgrade, h2c) that would let a client leave the inspected path.
 *
 * Only HTTP/1.x requests from node:http are in scope; HTTP/2 pseudo-headers would fail the
 * header-name check by design.
 */
import { excerpt } from './excerpt.js';

export const FRAMING_REJECT_STATUS = {
  too_many_headers: 431,
  malformed_header_list: 400,
  invalid_method: 400,
  connect_not_supported: 501,
  invalid_header_name: 400,
  invalid_header_value: 400,
  missing_host: 400,
  duplicate_host: 400,
  invalid_host: 400,
  duplicate_content_length: 400,
  invalid_content_length: 400,
  duplicate_transfer_encoding: 400,
  unsupported_transfer_encoding: 400,
  content_length_with_transfer_encoding: 400,
  upgrade_not_supported: 400,
  unsupported_expect: 400,
  body_not_allowed: 400,
} as const satisfies Record<string, 400 | 431 | 501>;

export type FramingRejectReason = keyof typeof FRAMING_REJECT_STATUS;

export const FRAMING_REJECT_REASONS = Object.keys(FRAMING_REJECT_STATUS) as readonly FramingRejectReason[];

export type FramingResult =
  | { ok: true }
  | { ok: false; status: 400 | 431 | 501; reason: FramingRejectReason; detail: string };

export interface FramingRequest {
  method: string;
  /** Node's flat `[name, value, name, value, ...]` list, in wire order and wire case. */
  rawHeaders: readonly string[];
  httpVersion: string;
}

export interface FramingLimits {
  /** Header lines allowed; one more is a 431. */
  maxHeaderCount: number;
}

const OK: FramingResult = Object.freeze({ ok: true });

function reject(reason: FramingRejectReason, detail: string): FramingResult {
  return { ok: false, status: FRAMING_REJECT_STATUS[reason], reason, detail };
}

// RFC 9110 §5.6.2 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 §5.5: field values are VCHAR / obs-text with SP/HTAB inside. NUL, CR and LF are the
// smuggling-relevant ones; the other controls are refused too because no client sends them and
// Node's own header writer would throw on them later.
const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;
// A DNS name or an IP literal, optional port. Stricter than "reg-name" on purpose: the Host is
// used to build absolute URLs and log lines, and `/ \ @ ? # ,` or whitespace inside it are the
// classic ways to make `http://${host}${path}` point somewhere else.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~]+)(?::[0-9]{1,5})?$/;
const DIGITS = /^[0-9]+$/;
const METHOD = /^[A-Z]+$/;
const ZEROS = /^0+$/;
// Methods whose requests carry no content (RFC 9110 §9.3.1, §9.3.2, §9.3.8). Many servers ignore
// Content-Length on them, so a forwarded body would be read as the next request on the upstream
// connection (CL.0 desync).
const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'TRACE']);

/** Strips RFC 9110 OWS (SP / HTAB), not every Unicode space as String#trim would. */
function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

// String#toLowerCase folds some non-ASCII letters onto ASCII ("chun\u212Aed" → "chunked", via
// the Kelvin sign). llhttp compares bytes, so a Unicode-aware comparison here would accept values
// the parser and the upstream treat as something else.
function asciiLower(value: string): string {
  // toLowerCase is only safe on pure ASCII: it folds the Kelvin sign onto "k". Header names are
  // ASCII tokens, so the fast path is the common one; the per-character path is the fallback.
  if (!NON_ASCII.test(value)) return value.toLowerCase();
  return value.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x20));
}
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

function listTokens(value: string): string[] {
  return value.split(',').map((t) => asciiLower(trimOws(t)));
}

/**
 * Refuses requests whose framing is ambiguous or whose protocol the gateway does not proxy.
 * The first problem found wins; the order is cheap-and-global first (count, method), then
 * per-line syntax, then cross-header semantics.
 */
export function checkFraming(req: FramingRequest, limits: FramingLimits): FramingResult {
  const raw = req.rawHeaders;
  if (raw.length % 2 !== 0) {
    return reject('malformed_header_list', `rawHeaders has an odd length (${raw.length})`);
  }
  const lineCount = raw.length / 2;
  if (lineCount > limits.maxHeaderCount) {
    return reject('too_many_headers', `${lineCount} header lines; limit is ${limits.maxHeaderCount}`);
  }

  if (!METHOD.test(req.method)) {
    return reject('invalid_method', `method ${excerpt(req.method)} is not an upper-case token`);
  }
  if (req.method === 'CONNECT') {
    return reject('connect_not_supported', 'CONNECT tunnels are not proxied');
  }

  let hostCount = 0;
  let hostValue = '';
  let contentLengthCount = 0;
  let contentLengthValue = '';
  let transferEncodingCount = 0;

  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    if (!TOKEN.test(name)) {
      return reject('invalid_header_name', `header name ${excerpt(name)} is not a token`);
    }
    if (BAD_VALUE_CHAR.test(value)) {
      return reject('invalid_header_value', `header ${excerpt(name)} has a control character in its value`);
    }

    switch (asciiLower(name)) {
      case 'host': {
        hostCount++;
        if (hostCount > 1) return reject('duplicate_host', 'more than one Host header');
        hostValue = trimOws(value);
        break;
      }
      case 'content-length': {
        contentLengthCount++;
        if (contentLengthCount > 1) {
          // Even identical repeats are refused: RFC 9112 lets a recipient merge them, but a
          // proxy that merges while the upstream rejects (or vice versa) is a desync.
          return reject('duplicate_content_length', 'more than one Content-Length header');
        }
        contentLengthValue = trimOws(value);
        if (!DIGITS.test(contentLengthValue)) {
          return reject('invalid_content_length', `Content-Length ${excerpt(value)} is not 1*DIGIT`);
        }
        break;
      }
      case 'transfer-encoding': {
        transferEncodingCount++;
        if (transferEncodingCount > 1) {
          return reject('duplicate_transfer_encoding', 'more than one Transfer-Encoding header');
        }
        if (asciiLower(trimOws(value)) !== 'chunked') {
          return reject('unsupported_transfer_encoding', `Transfer-Encoding ${excerpt(value)} is not exactly "chunked"`);
        }
        break;
      }
      case 'upgrade':
        return reject('upgrade_not_supported', `Upgrade ${excerpt(value)} is not supported`);
      case 'http2-settings':
        return reject('upgrade_not_supported', 'HTTP2-Settings (h2c upgrade) is not supported');
      case 'connection': {
        if (listTokens(value).includes('upgrade')) {
          return reject('upgrade_not_supported', 'Connection names "upgrade"');
        }
        break;
      }
      case 'expect': {
        if (asciiLower(trimOws(value)) !== '100-continue') {
          return reject('unsupported_expect', `Expect ${excerpt(value)} is not "100-continue"`);
        }
        break;
      }
      default:
        break;
    }
  }

  if (transferEncodingCount > 0 && contentLengthCount > 0) {
    return reject('content_length_with_transfer_encoding', 'both Content-Length and Transfer-Encoding are present');
  }
  if (transferEncodingCount > 0 && req.httpVersion === '1.0') {
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty.
    return reject('unsupported_transfer_encoding', 'Transfer-Encoding in an HTTP/1.0 request');
  }

  if (hostCount === 0) {
    // HTTP/1.0 predates Host; every other version (including ones we do not expect here) needs it.
    if (req.httpVersion !== '1.0') return reject('missing_host', `no Host header (HTTP version ${excerpt(req.httpVersion)})`);
  } else if (!HOST.test(hostValue)) {
    return reject('invalid_host', `Host ${excerpt(hostValue)} is not a host name or IP literal with optional port`);
  }

  if (BODYLESS_METHODS.has(req.method) && (transferEncodingCount > 0 || (contentLengthCount > 0 && !ZEROS.test(contentLengthValue)))) {
    return reject('body_not_allowed', `${req.method} requests carry no body (Content-Length other than 0, or Transfer-Encoding)`);
  }

  return OK;
}
