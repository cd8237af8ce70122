import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FRAMING_REJECT_REASONS, FRAMING_REJECT_STATUS, checkFraming, type FramingRejectReason, type FramingRequest } from './framing.js';

const LIMITS = { maxHeaderCount: 50 };
const BASE = ['Host', 'api.example.com', 'Content-Type', 'application/json', 'Content-Length', '12'];

function req(rawHeaders: readonly string[], method = 'POST', httpVersion = '1.1'): FramingRequest {
  return { method, rawHeaders, httpVersion };
}

type Row = readonly [label: string, request: FramingRequest, expected: FramingRejectReason | 'ok'];

const TABLE: readonly Row[] = [
  // Accepted.
  ['plain POST', req(BASE), 'ok'],
  ['GET without body headers', req(['Host', 'localhost:8080'], 'GET'), 'ok'],
  ['Host with IPv4 and port', req(['Host', '127.0.0.1:3000'], 'GET'), 'ok'],
  ['Host with IPv6 literal', req(['Host', '[::1]:443'], 'GET'), 'ok'],
  ['Host with trailing dot', req(['Host', 'api.example.com.'], 'GET'), 'ok'],
  ['chunked upload', req(['Host', 'a', 'Transfer-Encoding', 'chunked']), 'ok'],
  ['chunked with OWS and case', req(['Host', 'a', 'transfer-encoding', ' \tChunKed ']), 'ok'],
  ['Content-Length 0', req(['Host', 'a', 'Content-Length', '0']), 'ok'],
  ['Content-Length with leading zeros', req(['Host', 'a', 'Content-Length', '007']), 'ok'],
  ['Expect 100-continue', req(['Host', 'a', 'Expect', '100-Continue', 'Content-Length', '5']), 'ok'],
  ['Connection keep-alive', req(['Host', 'a', 'Connection', 'keep-alive'], 'GET'), 'ok'],
  ['Connection close', req(['Host', 'a', 'Connection', 'close'], 'GET'), 'ok'],
  ['TRACE is routed like any method', req(['Host', 'a'], 'TRACE'), 'ok'],
  ['HTTP/1.0 without Host', req([], 'GET', '1.0'), 'ok'],
  ['value with obs-text and tab', req(['Host', 'a', 'X-Note', 'caf\u00e9\tok'], 'GET'), 'ok'],
  ['exactly maxHeaderCount lines', req(['Host', 'a', ...Array.from({ length: 49 }, (_, i) => [`X-H${i}`, 'v']).flat()], 'GET'), 'ok'],

  // Header count.
  ['one line over the limit', req(['Host', 'a', ...Array.from({ length: 50 }, (_, i) => [`X-H${i}`, 'v']).flat()], 'GET'), 'too_many_headers'],
  ['odd raw header list', req(['Host', 'a', 'X-Dangling'], 'GET'), 'malformed_header_list'],

  // Method.
  ['CONNECT', req(['Host', 'a:443'], 'CONNECT'), 'connect_not_supported'],
  ['lower-case method', req(['Host', 'a'], 'get'), 'invalid_method'],
  ['method with a digit', req(['Host', 'a'], 'GET2'), 'invalid_method'],
  ['method with a space', req(['Host', 'a'], 'GET /'), 'invalid_method'],
  ['empty method', req(['Host', 'a'], ''), 'invalid_method'],
  ['method with hyphen', req(['Host', 'a'], 'M-SEARCH'), 'invalid_method'],

  // Host.
  ['missing Host on HTTP/1.1', req(['Content-Length', '0']), 'missing_host'],
  ['two Host lines', req(['Host', 'a', 'Host', 'b'], 'GET'), 'duplicate_host'],
  ['two identical Host lines', req(['Host', 'a', 'host', 'a'], 'GET'), 'duplicate_host'],
  ['two Host lines on HTTP/1.0', req(['Host', 'a', 'Host', 'b'], 'GET', '1.0'), 'duplicate_host'],
  ['empty Host', req(['Host', ''], 'GET'), 'invalid_host'],
  ['Host with a path', req(['Host', 'a/evil'], 'GET'), 'invalid_host'],
  ['Host with a backslash', req(['Host', 'a\\evil'], 'GET'), 'invalid_host'],
  ['Host with userinfo', req(['Host', 'user@evil.example'], 'GET'), 'invalid_host'],
  ['Host with a space', req(['Host', 'a b'], 'GET'), 'invalid_host'],
  ['Host list', req(['Host', 'a, b'], 'GET'), 'invalid_host'],
  ['Host with a query', req(['Host', 'a?b'], 'GET'), 'invalid_host'],
  ['Host with a fragment', req(['Host', 'a#b'], 'GET'), 'invalid_host'],
  ['Host with a control char', req(['Host', 'a\x01b'], 'GET'), 'invalid_header_value'],
  ['Host with non-ASCII', req(['Host', 'b\u00fccher.example'], 'GET'), 'invalid_host'],
  ['Host with a non-numeric port', req(['Host', 'a:http'], 'GET'), 'invalid_host'],

  // Content-Length.
  ['two Content-Length lines', req(['Host', 'a', 'Content-Length', '5', 'Content-Length', '6']), 'duplicate_content_length'],
  ['two identical Content-Length lines', req(['Host', 'a', 'Content-Length', '5', 'content-length', '5']), 'duplicate_content_length'],
  ['Content-Length list', req(['Host', 'a', 'Content-Length', '5, 5']), 'invalid_content_length'],
  ['Content-Length with a sign', req(['Host', 'a', 'Content-Length', '+5']), 'invalid_content_length'],
  ['negative Content-Length', req(['Host', 'a', 'Content-Length', '-1']), 'invalid_content_length'],
  ['empty Content-Length', req(['Host', 'a', 'Content-Length', '']), 'invalid_content_length'],
  ['Content-Length with inner space', req(['Host', 'a', 'Content-Length', '1 2']), 'invalid_content_length'],
  ['hex Content-Length', req(['Host', 'a', 'Content-Length', '0x10']), 'invalid_content_length'],
  ['Content-Length with a fullwidth digit', req(['Host', 'a', 'Content-Length', '\uff15']), 'invalid_content_length'],

  // Transfer-Encoding.
  ['two TE lines', req(['Host', 'a', 'Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']), 'duplicate_transfer_encoding'],
  ['TE list', req(['Host', 'a', 'Transfer-Encoding', 'gzip, chunked']), 'unsupported_transfer_encoding'],
  ['TE identity', req(['Host', 'a', 'Transfer-Encoding', 'identity']), 'unsupported_transfer_encoding'],
  ['TE chunked twice in one line', req(['Host', 'a', 'Transfer-Encoding', 'chunked, chunked']), 'unsupported_transfer_encoding'],
  ['TE with a Kelvin sign that lower-cases to k', req(['Host', 'a', 'Transfer-Encoding', 'chun\u212aed']), 'unsupported_transfer_encoding'],
  ['TE with a vertical tab', req(['Host', 'a', 'Transfer-Encoding', '\x0bchunked']), 'invalid_header_value'],
  ['TE and Content-Length', req(['Host', 'a', 'Content-Length', '5', 'Transfer-Encoding', 'chunked']), 'content_length_with_transfer_encoding'],
  ['TE in HTTP/1.0', req(['Host', 'a', 'Transfer-Encoding', 'chunked'], 'POST', '1.0'), 'unsupported_transfer_encoding'],

  // Header syntax.
  ['empty header name', req(['Host', 'a', '', 'x'], 'GET'), 'invalid_header_name'],
  ['header name with a space', req(['Host', 'a', 'Transfer-Encoding ', 'chunked']), 'invalid_header_name'],
  ['header name with a colon', req(['Host', 'a', 'X:Y', 'z'], 'GET'), 'invalid_header_name'],
  ['HTTP/2 pseudo-header', req(['Host', 'a', ':authority', 'a'], 'GET'), 'invalid_header_name'],
  ['header name with non-ASCII', req(['Host', 'a', 'X-\u00e9', 'z'], 'GET'), 'invalid_header_name'],
  ['value with NUL', req(['Host', 'a', 'X-A', 'a\x00b'], 'GET'), 'invalid_header_value'],
  ['value with CR', req(['Host', 'a', 'X-A', 'a\rb'], 'GET'), 'invalid_header_value'],
  ['value with LF', req(['Host', 'a', 'X-A', 'a\nTransfer-Encoding: chunked'], 'GET'), 'invalid_header_value'],
  ['value with DEL', req(['Host', 'a', 'X-A', 'a\x7f'], 'GET'), 'invalid_header_value'],

  // Protocol switches.
  ['WebSocket upgrade', req(['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket'], 'GET'), 'upgrade_not_supported'],
  ['h2c upgrade', req(['Host', 'a', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAMAAABkAAQAAP__'], 'GET'), 'upgrade_not_supported'],
  ['Upgrade header alone', req(['Host', 'a', 'upgrade', 'h2c'], 'GET'), 'upgrade_not_supported'],
  ['Connection naming upgrade among others', req(['Host', 'a', 'Connection', 'keep-alive, UPGRADE'], 'GET'), 'upgrade_not_supported'],
  ['HTTP2-Settings alone', req(['Host', 'a', 'http2-settings', 'AAMAAABk'], 'GET'), 'upgrade_not_supported'],

  // Expect.
  ['Expect other than 100-continue', req(['Host', 'a', 'Expect', '200-ok']), 'unsupported_expect'],
  ['Expect list', req(['Host', 'a', 'Expect', '100-continue, foo']), 'unsupported_expect'],
  ['empty Expect', req(['Host', 'a', 'Expect', '']), 'unsupported_expect'],

  // Bodies on methods without content (CL.0 desync towards upstreams that ignore them).
  ['GET with Content-Length 0', req(['Host', 'a', 'Content-Length', '0'], 'GET'), 'ok'],
  ['HEAD with Content-Length 00', req(['Host', 'a', 'Content-Length', '00'], 'HEAD'), 'ok'],
  ['DELETE with a body', req(['Host', 'a', 'Content-Length', '5'], 'DELETE'), 'ok'],
  ['GET with a body', req(['Host', 'a', 'Content-Length', '33'], 'GET'), 'body_not_allowed'],
  ['HEAD with a body', req(['Host', 'a', 'Content-Length', '1'], 'HEAD'), 'body_not_allowed'],
  ['TRACE with a body', req(['Host', 'a', 'Content-Length', '1'], 'TRACE'), 'body_not_allowed'],
  ['chunked GET', req(['Host', 'a', 'Transfer-Encoding', 'chunked'], 'GET'), 'body_not_allowed'],
];

describe('checkFraming: table', () => {
  for (const [label, request, expected] of TABLE) {
    it(`${label} → ${expected}`, () => {
      const got = checkFraming(request, LIMITS);
      if (expected === 'ok') {
        assert.deepEqual(got, { ok: true }, JSON.stringify(got));
      } else {
        assert.equal(got.ok, false, `expected ${expected}`);
        if (!got.ok) {
          assert.equal(got.reason, expected, got.detail);
          assert.equal(got.status, FRAMING_REJECT_STATUS[expected]);
        }
      }
    });
  }

  it('covers every reject reason', () => {
    const covered = new Set(TABLE.map(([, , e]) => e));
    for (const reason of FRAMING_REJECT_REASONS) assert.ok(covered.has(reason), `no row for ${reason}`);
  });

  it('uses 431 only for header count and 501 only for CONNECT', () => {
    assert.equal(FRAMING_REJECT_STATUS.too_many_headers, 431);
    assert.equal(FRAMING_REJECT_STATUS.connect_not_supported, 501);
    for (const reason of FRAMING_REJECT_REASONS) {
      if (reason !== 'too_many_headers' && reason !== 'connect_not_supported') assert.equal(FRAMING_REJECT_STATUS[reason], 400);
    }
  });

  it('never echoes more than 40 characters of a header value', () => {
    const got = checkFraming(req(['Host', 'a', 'Transfer-Encoding', `${'x'.repeat(300)}, chunked`]), LIMITS);
    assert.equal(got.ok, false);
    if (!got.ok) assert.ok(!got.detail.includes('x'.repeat(41)), got.detail);
  });
});

describe('checkFraming: properties', () => {
  const name = fc.stringMatching(/^X-[A-Za-z0-9-]{1,12}$/);
  const value = fc.stringMatching(/^[\x21-\x7e]{0,20}$/);
  const benignHeaders = fc.array(fc.tuple(name, value), { maxLength: 20 }).map((pairs) => pairs.flat());

  it('a second Content-Length anywhere is refused whatever its value', () => {
    fc.assert(
      fc.property(benignHeaders, benignHeaders, fc.string({ maxLength: 10 }), (before, after, second) => {
        const got = checkFraming(req(['Host', 'a', ...before, 'Content-Length', '5', ...after, 'content-length', second]), LIMITS);
        return !got.ok && (got.reason === 'duplicate_content_length' || got.reason === 'invalid_header_value');
      }),
    );
  });

  it('any Transfer-Encoding value other than chunked is refused', () => {
    fc.assert(
      fc.property(benignHeaders, value.filter((v) => v.toLowerCase() !== 'chunked'), (extra, te) => {
        const got = checkFraming(req(['Host', 'a', ...extra, 'Transfer-Encoding', te]), LIMITS);
        return !got.ok && got.reason === 'unsupported_transfer_encoding';
      }),
    );
  });

  it('benign extra headers never change an accepted request into a refusal', () => {
    fc.assert(
      fc.property(benignHeaders, (extra) => checkFraming(req([...BASE, ...extra]), LIMITS).ok),
    );
  });
});
