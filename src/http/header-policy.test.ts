import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_FORWARD_REQUEST_HEADERS,
  DEFAULT_FORWARD_RESPONSE_HEADERS,
  NEVER_FORWARD_REQUEST_HEADERS,
  NEVER_FORWARD_REQUEST_HEADER_PREFIXES,
  NEVER_FORWARD_RESPONSE_HEADERS,
  buildUpstreamRequestHeaders,
  compileForwardAllowlist,
  filterResponseHeaders,
  isNeverForwarded,
  type DroppedRequestHeaderReason,
} from './header-policy.js';

// The names the brief requires; the implementation may add more but never fewer.
const REQUIRED_NEVER = [
  'authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key', 'host', 'connection', 'keep-alive',
  'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'content-encoding', 'expect',
  'x-http-method-override', 'x-http-method', 'x-method-override', 'x-original-url', 'x-rewrite-url', 'x-original-path',
  'x-envoy-original-path', 'x-forwarded-prefix', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded',
  'x-real-ip', 'true-client-ip', 'cf-connecting-ip', 'x-client-ip', 'x-forwarded-user', 'x-remote-user', 'remote-user',
  'x-authenticated-userid', 'x-request-id', 'http2-settings',
];
const PREFIXED = ['x-bulwark-tenant', 'X-Gateway-Auth', 'x-user-id', 'x-user-email', 'x-consumer-username', 'X-BULWARK-'];
const CREDENTIAL_AND_IDENTITY = [...REQUIRED_NEVER, ...PREFIXED];

/** Every case spelling a client might use for a name. */
function spellings(name: string): string[] {
  const title = name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
  return [name, name.toUpperCase(), title];
}

describe('header policy constants', () => {
  it('never-forward contains every required name', () => {
    for (const name of REQUIRED_NEVER) assert.ok(NEVER_FORWARD_REQUEST_HEADERS.has(name), name);
  });

  it('prefixes are the reserved families', () => {
    assert.deepEqual([...NEVER_FORWARD_REQUEST_HEADER_PREFIXES].sort(), ['x-bulwark-', 'x-consumer-', 'x-gateway-', 'x-user-']);
  });

  it('the default request allowlist lists exact names and never a never-forward one', () => {
    assert.equal(DEFAULT_FORWARD_REQUEST_HEADERS.size, 15);
    // A client must not pick the organization or project the gateway's provider key bills.
    assert.equal(DEFAULT_FORWARD_REQUEST_HEADERS.has('openai-organization'), false);
    assert.equal(DEFAULT_FORWARD_REQUEST_HEADERS.has('openai-project'), false);
    for (const name of DEFAULT_FORWARD_REQUEST_HEADERS) {
      assert.equal(isNeverForwarded(name), false, name);
      assert.doesNotMatch(name, /[*A-Z]/, name);
    }
    assert.ok(DEFAULT_FORWARD_REQUEST_HEADERS.has('x-stainless-retry-count'));
    assert.ok(!DEFAULT_FORWARD_REQUEST_HEADERS.has('x-stainless-*'));
  });

  it('the default response allowlist has no cookies, hop-by-hop or upstream identity', () => {
    assert.equal(DEFAULT_FORWARD_RESPONSE_HEADERS.size, 21);
    for (const name of ['set-cookie', 'connection', 'transfer-encoding', 'openai-organization', 'x-request-id', 'content-length']) {
      assert.ok(!DEFAULT_FORWARD_RESPONSE_HEADERS.has(name), name);
    }
    for (const name of NEVER_FORWARD_RESPONSE_HEADERS) assert.ok(!DEFAULT_FORWARD_RESPONSE_HEADERS.has(name), name);
  });

  it('mutating the exported set does not weaken isNeverForwarded', () => {
    const exported = NEVER_FORWARD_REQUEST_HEADERS as Set<string>;
    exported.delete('authorization');
    try {
      assert.equal(isNeverForwarded('authorization'), true);
    } finally {
      exported.add('authorization');
    }
  });
});

describe('isNeverForwarded', () => {
  it('matches every spelling of credential and identity headers', () => {
    for (const name of CREDENTIAL_AND_IDENTITY) {
      for (const spelling of spellings(name)) assert.equal(isNeverForwarded(spelling), true, spelling);
    }
  });

  it('treats non-token names as never forwarded', () => {
    assert.equal(isNeverForwarded('x-api-\u212aey'), true);
    assert.equal(isNeverForwarded(''), true);
    assert.equal(isNeverForwarded('content type'), true);
  });

  it('does not refuse ordinary headers', () => {
    for (const name of ['accept', 'Content-Type', 'x-stainless-os', 'x-userinfo', 'x-bulwark']) assert.equal(isNeverForwarded(name), false, name);
  });
});

describe('compileForwardAllowlist', () => {
  it('lower-cases names and refuses never-forward and non-token entries', () => {
    const { allow, refused } = compileForwardAllowlist(['Accept', 'Authorization', 'X-Bulwark-Tenant', 'bad name', 'OpenAI-Beta']);
    assert.deepEqual([...allow].sort(), ['accept', 'openai-beta']);
    assert.deepEqual(refused, [
      { name: 'Authorization', why: 'never_forward' },
      { name: 'X-Bulwark-Tenant', why: 'never_forward' },
      { name: 'bad name', why: 'not_a_token' },
    ]);
  });
});

describe('buildUpstreamRequestHeaders', () => {
  it('copies allowlisted headers only, lower-cased', () => {
    const out = buildUpstreamRequestHeaders({
      rawHeaders: ['Host', 'gw', 'Content-Type', 'application/json', 'X-Custom', '1', 'OpenAI-Beta', 'assistants=v2', 'Accept', '*/*'],
      forwardAllowlist: DEFAULT_FORWARD_REQUEST_HEADERS,
    });
    assert.deepEqual(out, { 'content-type': 'application/json', 'openai-beta': 'assistants=v2', accept: '*/*' });
  });

  it('never emits credential or identity headers even when they are in the allowlist', () => {
    const allowEverything = new Set([...DEFAULT_FORWARD_REQUEST_HEADERS, ...CREDENTIAL_AND_IDENTITY.map((n) => n.toLowerCase())]);
    const rawHeaders = CREDENTIAL_AND_IDENTITY.flatMap((n) => spellings(n).flatMap((s) => [s, 'secret']));
    const dropped: string[] = [];
    const out = buildUpstreamRequestHeaders({
      rawHeaders: [...rawHeaders, 'Accept', 'text/plain'],
      forwardAllowlist: allowEverything,
      onDropped: (name, why) => {
        assert.equal(why, 'never_forward');
        dropped.push(name);
      },
    });
    assert.deepEqual(out, { accept: 'text/plain' });
    assert.ok(dropped.includes('authorization') && dropped.includes('x-bulwark-tenant'));
  });

  it('keeps the first of duplicated allowlisted headers and reports the rest', () => {
    const reports: Array<[string, DroppedRequestHeaderReason]> = [];
    const out = buildUpstreamRequestHeaders({
      rawHeaders: ['Content-Type', 'application/json', 'content-type', 'text/plain', 'CONTENT-TYPE', 'x/y'],
      forwardAllowlist: DEFAULT_FORWARD_REQUEST_HEADERS,
      onDropped: (name, why) => reports.push([name, why]),
    });
    assert.deepEqual(out, { 'content-type': 'application/json' });
    assert.deepEqual(reports, [
      ['content-type', 'duplicate'],
      ['content-type', 'duplicate'],
    ]);
  });

  it('drops values that would inject headers', () => {
    const reports: Array<[string, DroppedRequestHeaderReason]> = [];
    const out = buildUpstreamRequestHeaders({
      rawHeaders: ['Accept', '*/*\r\nAuthorization: Bearer x', 'User-Agent', 'ua\x00', 'Content-Type', 'a/b'],
      forwardAllowlist: DEFAULT_FORWARD_REQUEST_HEADERS,
      onDropped: (name, why) => reports.push([name, why]),
    });
    assert.deepEqual(out, { 'content-type': 'a/b' });
    assert.deepEqual(reports, [
      ['accept', 'invalid_value'],
      ['user-agent', 'invalid_value'],
    ]);
  });

  it('drops allowlisted headers the client nominated in Connection (RFC 9110 §7.6.1)', () => {
    const reports: Array<[string, DroppedRequestHeaderReason]> = [];
    const out = buildUpstreamRequestHeaders({
      rawHeaders: ['Connection', 'keep-alive, X-Foo', 'connection', ' Accept-Language ,', 'x-foo', 'hop', 'Accept-Language', 'de', 'X-Bar', 'kept', 'Accept', '*/*'],
      forwardAllowlist: new Set([...DEFAULT_FORWARD_REQUEST_HEADERS, 'x-foo', 'x-bar']),
      onDropped: (name, why) => reports.push([name, why]),
    });
    assert.deepEqual(out, { 'x-bar': 'kept', accept: '*/*' });
    assert.deepEqual(reports, [
      ['x-foo', 'connection_nominated'],
      ['accept-language', 'connection_nominated'],
    ]);
  });

  it('does not fold a Kelvin-sign name onto an allowlisted one', () => {
    const out = buildUpstreamRequestHeaders({
      rawHeaders: ['x-stainless-pac\u212aage-version', '1.0.0'],
      forwardAllowlist: DEFAULT_FORWARD_REQUEST_HEADERS,
    });
    assert.deepEqual(out, {});
  });

  it('a __proto__ header cannot touch the prototype', () => {
    const out = buildUpstreamRequestHeaders({ rawHeaders: ['__proto__', 'x'], forwardAllowlist: new Set(['__proto__']) });
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    // Never a real header name; skipped rather than written, since writing it addresses the prototype.
    assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__'), undefined);
  });

  it('property: output is always a subset of allowlist minus never-forward, with clean values', () => {
    const nameArb = fc.oneof(
      fc.constantFrom(...CREDENTIAL_AND_IDENTITY.flatMap(spellings), ...[...DEFAULT_FORWARD_REQUEST_HEADERS].flatMap(spellings)),
      fc.stringMatching(/^[A-Za-z-]{1,16}$/),
    );
    const valueArb = fc.string({ unit: 'binary', maxLength: 12 });
    const allowArb = fc.uniqueArray(nameArb, { maxLength: 30 }).map((names) => new Set(names.map((n) => n.toLowerCase())));
    fc.assert(
      fc.property(fc.array(fc.tuple(nameArb, valueArb), { maxLength: 30 }), allowArb, (pairs, allow) => {
        const out = buildUpstreamRequestHeaders({ rawHeaders: pairs.flat(), forwardAllowlist: allow });
        for (const [name, value] of Object.entries(out)) {
          assert.ok(allow.has(name), name);
          assert.equal(isNeverForwarded(name), false, name);
          assert.equal(name, name.toLowerCase());
          assert.doesNotMatch(value, /[\r\n\x00]/);
          // The first occurrence with a writable value wins.
          const first = pairs.find(([n, v]) => n.toLowerCase() === name && !/[^\t\x20-\x7e\x80-\xff]/.test(v));
          assert.equal(value, first?.[1]);
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });
});

describe('filterResponseHeaders', () => {
  it('keeps allowlisted headers and drops cookies, hop-by-hop and unknown ones', () => {
    const out = filterResponseHeaders(
      {
        'Content-Type': 'text/event-stream',
        'x-ratelimit-remaining-tokens': '999',
        'set-cookie': ['a=b', 'c=d'],
        connection: 'keep-alive',
        'transfer-encoding': 'chunked',
        'openai-organization': 'acme-internal',
        'x-request-id': 'req_123',
        server: 'cloudflare',
        etag: undefined,
        vary: ['Origin', 'Accept-Encoding'],
      },
      DEFAULT_FORWARD_RESPONSE_HEADERS,
    );
    assert.deepEqual(out, {
      'content-type': 'text/event-stream',
      'x-ratelimit-remaining-tokens': '999',
      vary: ['Origin', 'Accept-Encoding'],
    });
  });

  it('drops set-cookie and hop-by-hop even when allowlisted', () => {
    const allow = new Set(['set-cookie', 'set-cookie2', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive', 'content-type']);
    const out = filterResponseHeaders(
      { 'set-cookie': 'a=b', 'set-cookie2': 'x', connection: 'close', upgrade: 'h2c', te: 'trailers', trailer: 'x', 'keep-alive': 'timeout=5', 'content-type': 'a/b' },
      allow,
    );
    assert.deepEqual(out, { 'content-type': 'a/b' });
  });

  it('drops headers the upstream nominated as hop-by-hop in Connection', () => {
    const out = filterResponseHeaders({ connection: 'close, Retry-After', 'retry-after': '5', etag: '"x"' }, DEFAULT_FORWARD_RESPONSE_HEADERS);
    assert.deepEqual(out, { etag: '"x"' });
  });

  it('drops a header when any of its values carries CR, LF, NUL or another byte Node refuses to write', () => {
    const out = filterResponseHeaders(
      {
        'content-type': 'text/plain\r\nSet-Cookie: a=b',
        'retry-after': '5\x00',
        vary: ['Origin', 'Accept\n'],
        etag: 'W/"\x01"',
        'cache-control': 'no-store',
        'content-language': 'fr\u0100',
      },
      DEFAULT_FORWARD_RESPONSE_HEADERS,
    );
    assert.deepEqual(out, { 'cache-control': 'no-store' });
  });

  it('merges two spellings of the same name instead of losing one', () => {
    const out = filterResponseHeaders({ Vary: 'Origin', vary: 'Accept' }, DEFAULT_FORWARD_RESPONSE_HEADERS);
    assert.deepEqual(out, { vary: ['Origin', 'Accept'] });
  });

  it('property: output names are allowlisted, never cookies or hop-by-hop, values writable', () => {
    const nameArb = fc.constantFrom(
      ...[...DEFAULT_FORWARD_RESPONSE_HEADERS, ...NEVER_FORWARD_RESPONSE_HEADERS, 'server', 'x-request-id'].flatMap(spellings),
    );
    const valueArb = fc.string({ unit: 'binary', maxLength: 10 });
    const headersArb = fc.dictionary(nameArb, fc.option(fc.oneof(valueArb, fc.array(valueArb, { maxLength: 3 })), { nil: undefined }));
    fc.assert(
      fc.property(headersArb, (headers) => {
        const out = filterResponseHeaders(headers, new Set([...DEFAULT_FORWARD_RESPONSE_HEADERS, ...NEVER_FORWARD_RESPONSE_HEADERS]));
        for (const [name, value] of Object.entries(out)) {
          assert.ok(DEFAULT_FORWARD_RESPONSE_HEADERS.has(name), name);
          for (const v of Array.isArray(value) ? value : [value]) assert.doesNotMatch(v, /[^\t\x20-\x7e\x80-\xff]/);
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });
});
