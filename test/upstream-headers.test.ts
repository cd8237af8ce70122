// G-3.4 and SPEC §3: what crosses the gateway in headers, in both directions, over real sockets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RecordedRequest } from '../src/demo/mock-llm.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

import { rawRequest } from './helpers/raw-http.js';
import { JSON_HEADERS, nodeRequest, reachedSince } from './helpers/node-request.js';

const CHAT = '/v1/chat/completions';
const PROVIDER_KEY = 'Bearer sk-provider-0123456789';

/** Client headers that must never reach the upstream (name → value sent). */
const HOSTILE: Array<[string, string]> = [
  ['Authorization', 'Bearer client-token-AAAA'],
  ['x-api-key', 'client-key-BBBB'],
  ['Api-Key', 'client-key-CCCC'],
  ['Cookie', 'session=client-cookie-DDDD'],
  ['Proxy-Authorization', 'Basic Y2xpZW50OnNlY3JldA=='],
  ['X-Real-IP', '6.6.6.6'],
  ['True-Client-IP', '6.6.6.6'],
  ['CF-Connecting-IP', '6.6.6.6'],
  ['X-Client-IP', '6.6.6.6'],
  ['Fastly-Client-IP', '6.6.6.6'],
  ['X-Cluster-Client-IP', '6.6.6.6'],
  ['Forwarded', 'for=6.6.6.6;proto=https;host=evil.example'],
  ['X-Forwarded-Host', 'evil.example'],
  ['X-Forwarded-Port', '47919'], // not 443: that substring turns up in random request ids now and then
  ['X-Bulwark-Subject', 'admin'],
  ['X-Bulwark-Role', 'admin'],
  ['x-bulwark-roles', 'admin'],
  ['X-Gateway-Subject', 'admin'],
  ['X-Gateway-Role', 'admin'],
  ['x-user-id', 'admin'],
  ['X-User-Roles', 'admin'],
  ['x-forwarded-user', 'admin'],
  ['x-remote-user', 'admin'],
  ['remote-user', 'admin'],
  ['x-authenticated-userid', 'admin'],
  ['x-consumer-id', 'admin'],
  ['X-Consumer-Username', 'admin'],
  ['X-Consumer-Custom-ID', 'admin'],
  ['Proxy', 'http://evil.example:8080'],
  ['Proxy-Connection', 'keep-alive, pc-marker'],
  ['Keep-Alive', 'timeout=5, max=1000'],
  ['TE', 'trailers'],
  ['Trailer', 'x-bar'],
  ['X-HTTP-Method-Override', 'DELETE'],
  ['X-Original-URL', '/admin'],
];
const HOSTILE_NAMES = HOSTILE.map(([n]) => n.toLowerCase());

function rawHeaderNames(r: RecordedRequest): string[] {
  return r.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

function rawHeaderValues(r: RecordedRequest, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) if (r.rawHeaders[i]!.toLowerCase() === name) out.push(r.rawHeaders[i + 1]!);
  return out;
}

interface ParsedRaw {
  status: number;
  headers: Map<string, string[]>;
  body: string;
}

function parseRaw(text: string): ParsedRaw {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const lines = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const name = line.slice(0, c).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(c + 1).trim()]);
  }
  return { status, headers, body: end < 0 ? '' : text.slice(end + 4) };
}

function rawChat(port: number, headerLines: Array<[string, string]>, body = chatBody(), target = CHAT): Promise<ParsedRaw> {
  const lines = [
    `POST ${target} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...headerLines.map(([n, v]) => `${n}: ${v}`),
  ];
  return rawRequest(port, `${lines.join('\r\n')}\r\n\r\n${body}`, { timeoutMs: 3000 }).then((r) => parseRaw(r.text));
}

describe('G-3.4 request headers the upstream never receives', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture((url) => ({
      upstreams: { llm: { url, headers: { authorization: PROVIDER_KEY, 'x-provider-org': 'org-provider' }, forwardHeaders: ['x-foo', 'x-trace-tag'] } },
    }));
  });
  after(async () => {
    await f.close();
  });

  test('all hostile headers at once: none reaches the upstream', async () => {
    const n = f.mock.requests.length;
    const res = await rawChat(f.port, [...HOSTILE, ['Connection', 'x-foo'], ['x-foo', 'hop'], ['X-Forwarded-For', '6.6.6.6'], ['X-Request-Id', 'client-chosen-id']]);
    assert.equal(res.status, 200, res.body);
    const [up] = reachedSince(f, n);
    assert.ok(up);
    const names = rawHeaderNames(up);
    for (const name of HOSTILE_NAMES) {
      if (name === 'authorization') continue;
      assert.ok(!names.includes(name), `${name} reached the upstream`);
    }
    for (const prefix of ['x-bulwark-', 'x-gateway-', 'x-user-', 'x-consumer-']) {
      assert.deepEqual(names.filter((h) => h.startsWith(prefix)), [], prefix);
    }
    assert.deepEqual(rawHeaderValues(up, 'authorization'), [PROVIDER_KEY], 'only the configured upstream credential');
    const all = up.rawHeaders.join('\n');
    for (const secret of ['client-token-AAAA', 'client-key-BBBB', 'client-key-CCCC', 'client-cookie-DDDD', 'Y2xpZW50', '6.6.6.6', 'evil.example', 'client-chosen-id']) {
      assert.ok(!all.includes(secret), `${secret} reached the upstream in a header`);
    }
    assert.equal(up.headers.host, new URL(f.mock.url).host, 'Host names the upstream, not what the client sent');
  });

  test('X-Forwarded-Proto is the gateway\'s own, never the client\'s', async () => {
    const n = f.mock.requests.length;
    const res = await rawChat(f.port, [['X-Forwarded-Proto', 'https'], ['x-forwarded-proto', 'gopher']]);
    assert.equal(res.status, 200);
    const [up] = reachedSince(f, n);
    assert.ok(up);
    assert.deepEqual(rawHeaderValues(up, 'x-forwarded-proto'), ['http']);
  });

  for (const [name, value] of HOSTILE) {
    test(`${name} alone is stripped`, async () => {
      const n = f.mock.requests.length;
      const res = await rawChat(f.port, [[name, value]]);
      assert.equal(res.status, 200, res.body);
      const [up] = reachedSince(f, n);
      assert.ok(up);
      if (name.toLowerCase() === 'authorization') assert.deepEqual(rawHeaderValues(up, 'authorization'), [PROVIDER_KEY]);
      else assert.deepEqual(rawHeaderValues(up, name.toLowerCase()), [], `${name} reached the upstream`);
      assert.ok(!up.rawHeaders.join('\n').includes(value) || name.toLowerCase() === 'x-http-method-override', `the value of ${name} reached the upstream`);
    });
  }

  test('case variants are stripped too', async () => {
    const n = f.mock.requests.length;
    const res = await rawChat(f.port, [['AUTHORIZATION', 'Bearer client-token-EEEE'], ['X-API-KEY', 'client-key-FFFF'], ['COOKIE', 'a=client-cookie-GGGG'], ['X-BULWARK-ROLE', 'admin'], ['x-GaTeWaY-role', 'admin'], ['X-USER-ID', 'admin'], ['FORWARDED', 'for=6.6.6.6']]);
    assert.equal(res.status, 200);
    const [up] = reachedSince(f, n);
    assert.ok(up);
    const all = up.rawHeaders.join('\n');
    for (const s of ['client-token-EEEE', 'client-key-FFFF', 'client-cookie-GGGG', '6.6.6.6']) assert.ok(!all.includes(s), s);
    const names = rawHeaderNames(up);
    for (const h of ['x-bulwark-role', 'x-gateway-role', 'x-user-id', 'forwarded', 'cookie', 'x-api-key']) assert.ok(!names.includes(h), h);
  });

  test('hop-by-hop: headers nominated in Connection are not forwarded, even when allowlisted', async () => {
    const n = f.mock.requests.length;
    // x-foo is in upstreams.llm.forwardHeaders and accept-language is in the default allowlist;
    // naming them in Connection makes them hop-by-hop for this hop (RFC 9110 §7.6.1).
    const res = await rawChat(f.port, [['Connection', 'x-foo, Accept-Language'], ['x-foo', 'hop'], ['Accept-Language', 'de'], ['x-trace-tag', 'kept']]);
    assert.equal(res.status, 200, res.body);
    const [up] = reachedSince(f, n);
    assert.ok(up);
    assert.equal(up.headers['x-trace-tag'], 'kept', 'an allowlisted end-to-end header is forwarded');
    assert.equal(up.headers['x-foo'], undefined, 'x-foo was nominated in Connection');
    assert.equal(up.headers['accept-language'], undefined, 'accept-language was nominated in Connection');
    assert.ok(!rawHeaderValues(up, 'connection').some((v) => /x-foo|accept-language/i.test(v)), 'the client Connection header is not forwarded');
  });

  test('hop-by-hop: two Connection lines and odd spacing', async () => {
    const n = f.mock.requests.length;
    const res = await rawChat(f.port, [['Connection', 'keep-alive'], ['Connection', ' X-Foo ,'], ['x-foo', 'hop'], ['x-trace-tag', 'kept']]);
    assert.equal(res.status, 200, res.body);
    const [up] = reachedSince(f, n);
    assert.ok(up);
    assert.equal(up.headers['x-foo'], undefined);
    assert.equal(up.headers['x-trace-tag'], 'kept');
  });

  test('without Connection, an allowlisted header is forwarded (control)', async () => {
    const n = f.mock.requests.length;
    await rawChat(f.port, [['x-foo', 'end-to-end'], ['Accept-Language', 'de']]);
    const [up] = reachedSince(f, n);
    assert.equal(up?.headers['x-foo'], 'end-to-end');
    assert.equal(up?.headers['accept-language'], 'de');
  });

  test('Transfer-Encoding and Expect from the client are not forwarded; the body is re-framed', async () => {
    const body = chatBody();
    const n = f.mock.requests.length;
    const res = await nodeRequest(f.port, { headers: { ...JSON_HEADERS, 'transfer-encoding': 'chunked', te: 'trailers' }, body });
    assert.equal(res.status, 200);
    const [up] = reachedSince(f, n);
    assert.ok(up);
    assert.equal(rawHeaderValues(up, 'te').length, 0);
    assert.deepEqual(JSON.parse(up.body), JSON.parse(body));
  });
});

describe('G-3.4 X-Forwarded-For', () => {
  test('untrusted peer: the client XFF is dropped entirely; the upstream sees only 127.0.0.1', async () => {
    const f = await startFixture();
    try {
      for (const xff of ['6.6.6.6', '6.6.6.6, 7.7.7.7', '127.0.0.1', 'garbage', '']) {
        const n = f.mock.requests.length;
        const res = await rawChat(f.port, xff === '' ? [] : [['X-Forwarded-For', xff]]);
        assert.equal(res.status, 200);
        const [up] = reachedSince(f, n);
        assert.ok(up);
        assert.deepEqual(rawHeaderValues(up, 'x-forwarded-for'), ['127.0.0.1'], `client sent ${JSON.stringify(xff)}`);
      }
      // Two XFF lines, and client-address claims next to it.
      const n = f.mock.requests.length;
      await rawChat(f.port, [['X-Forwarded-For', '6.6.6.6'], ['X-Forwarded-For', '7.7.7.7'], ['X-Real-IP', '8.8.8.8'], ['Forwarded', 'for=9.9.9.9']]);
      const [up] = reachedSince(f, n);
      assert.ok(up);
      assert.deepEqual(rawHeaderValues(up, 'x-forwarded-for'), ['127.0.0.1']);
      assert.equal(up.headers['x-real-ip'], undefined);
      assert.equal(up.headers.forwarded, undefined);
    } finally {
      await f.close();
    }
  });

  test('trusted peer (server.trustedProxies 127.0.0.1/32): the client entry is kept before 127.0.0.1', async () => {
    const f = await startFixture({ server: { trustedProxies: ['127.0.0.1/32'] } });
    try {
      const cases: Array<[string, string]> = [
        ['6.6.6.6', '6.6.6.6, 127.0.0.1'],
        // Only the nearest untrusted hop is vouched for; what that client wrote before it is not.
        ['1.1.1.1, 6.6.6.6', '6.6.6.6, 127.0.0.1'],
      ];
      for (const [sent, expected] of cases) {
        const n = f.mock.requests.length;
        const res = await rawChat(f.port, [['X-Forwarded-For', sent]]);
        assert.equal(res.status, 200);
        const [up] = reachedSince(f, n);
        assert.ok(up);
        const xff = rawHeaderValues(up, 'x-forwarded-for');
        assert.equal(xff.length, 1);
        const entries = xff[0]!.split(',').map((s) => s.trim());
        assert.equal(entries.at(-1), '127.0.0.1', 'the last entry is the real peer');
        assert.equal(entries.at(-2), '6.6.6.6');
        assert.equal(xff[0], expected);
      }
      const n = f.mock.requests.length;
      await rawChat(f.port, []);
      assert.deepEqual(rawHeaderValues(reachedSince(f, n)[0]!, 'x-forwarded-for'), ['127.0.0.1']);
    } finally {
      await f.close();
    }
  });
});

describe('configured upstream headers and response headers', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture((url) => ({
      upstreams: { llm: { url, headers: { authorization: PROVIDER_KEY, 'X-Provider-Org': 'org-provider-42' } } },
    }));
  });
  after(async () => {
    await f.close();
  });

  test('configured headers reach the upstream, once, instead of the client credential', async () => {
    for (const client of [[], [['Authorization', 'Bearer client-token']], [['Authorization', 'Bearer a'], ['Authorization', 'Bearer b']], [['X-Provider-Org', 'client-org']]] as Array<Array<[string, string]>>) {
      const n = f.mock.requests.length;
      const res = await rawChat(f.port, client);
      assert.ok([200, 400, 401].includes(res.status), String(res.status));
      const up = reachedSince(f, n);
      if (up.length === 0) continue; // refusing duplicate Authorization is fine
      assert.deepEqual(rawHeaderValues(up[0]!, 'authorization'), [PROVIDER_KEY]);
      assert.deepEqual(rawHeaderValues(up[0]!, 'x-provider-org'), ['org-provider-42']);
    }
  });

  test('configured headers and upstream-only headers never reach the client', async () => {
    const responses = [
      await rawChat(f.port, []),
      await rawChat(f.port, [['Connection', 'close']], chatBody({ stream: true })),
      parseRaw((await rawRequest(f.port, 'GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).text),
      // Refusals too.
      await rawChat(f.port, [], chatBody(), '/admin'),
      parseRaw((await rawRequest(f.port, `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi`)).text),
      await rawChat(f.port, [], '{"model":1}'),
    ];
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 404, 415, 400]);
    for (const r of responses) {
      assert.equal(r.headers.get('set-cookie'), undefined, 'set-cookie from the upstream');
      assert.equal(r.headers.get('x-upstream-secret-header'), undefined);
      assert.equal(r.headers.get('x-provider-org'), undefined);
      assert.equal(r.headers.get('authorization'), undefined);
      const whole = [...r.headers.entries()].map(([k, v]) => `${k}: ${v.join(',')}`).join('\n') + r.body;
      for (const s of ['sk-provider', 'org-provider-42', 'upstream=1']) assert.ok(!whole.includes(s), `${s} in a response`);
    }
  });

  test('the provider key never appears in security events', () => {
    const all = JSON.stringify(f.events);
    assert.ok(!all.includes('sk-provider'));
  });
});

describe('SPEC §3: X-Request-Id on every response, the same id upstream', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ server: { limits: { bodyBytes: '8kb' } } });
  });
  after(async () => {
    await f.close();
  });

  test('success: the response id is the id the upstream received, and a client id is ignored', async () => {
    const ids = new Set<string>();
    for (const client of [[], [['X-Request-Id', 'client-chosen']], [['x-request-id', '../../admin\u0000']]] as Array<Array<[string, string]>>) {
      const n = f.mock.requests.length;
      const res = await rawChat(f.port, client.filter(([, v]) => !v.includes('\u0000')));
      assert.equal(res.status, 200);
      const rid = res.headers.get('x-request-id');
      assert.equal(rid?.length, 1);
      const [up] = reachedSince(f, n);
      assert.ok(up);
      assert.deepEqual(rawHeaderValues(up, 'x-request-id'), [rid![0]!]);
      assert.notEqual(rid![0], 'client-chosen');
      assert.match(rid![0]!, /^[0-9a-f-]{36}$/);
      ids.add(rid![0]!);
      // And the events of that request carry it as trace.id.
      assert.ok(f.events.some((e) => e.trace?.id === rid![0] && e.event.action === 'request.completed'));
    }
    assert.equal(ids.size, 3, 'a fresh id per request');
  });

  test('GET passthrough: same id upstream and in the response', async () => {
    const n = f.mock.requests.length;
    const res = await nodeRequest(f.port, { method: 'GET', path: '/v1/models' });
    assert.equal(res.status, 200);
    assert.equal(reachedSince(f, n)[0]?.headers['x-request-id'], res.headers['x-request-id']);
  });

  const REFUSALS: Array<[string, string | Buffer, number]> = [
    ['404 unregistered', `POST /admin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`, 404],
    ['404 wrong method', `GET ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 404],
    ['400 encoded slash', `POST /v1/chat%2fcompletions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`, 400],
    ['400 invalid JSON', `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{]`, 400],
    ['415 wrong media type', `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}`, 415],
    ['413 too large', `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`, 413],
    ['400 framing (duplicate Host)', `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`, 400],
  ];
  for (const [name, payload, status] of REFUSALS) {
    test(`refusal ${name}: carries X-Request-Id, equal to the problem's requestId and the event's trace.id`, async () => {
      const n = f.mock.requests.length;
      const r = await rawRequest(f.port, payload);
      const res = parseRaw(r.text);
      assert.equal(res.status, status, r.text.slice(0, 200));
      assert.deepEqual(reachedSince(f, n), []);
      const rid = res.headers.get('x-request-id')?.[0];
      assert.ok(rid, 'X-Request-Id header');
      assert.equal((JSON.parse(res.body) as { requestId: string }).requestId, rid);
      assert.ok(f.events.some((e) => e.trace?.id === rid), 'an event carries the id');
    });
  }

  // Requests Node's parser refuses before the gateway's handler runs (data-server.ts onClientError).
  const PARSER_REFUSALS: Array<[string, string]> = [
    ['bad header value (NUL)', `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n`],
    ['lower-case method', `post ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`],
    ['space in header name', `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n`],
    ['Content-Length with Transfer-Encoding', `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ];
  for (const [name, payload] of PARSER_REFUSALS) {
    test(`parser-level refusal (${name}) also carries X-Request-Id`, async () => {
      const r = await rawRequest(f.port, payload);
      const res = parseRaw(r.text);
      assert.equal(res.status, 400, r.text.slice(0, 200));
      const rid = res.headers.get('x-request-id')?.[0];
      assert.ok(rid, `no X-Request-Id on: ${r.text.split('\r\n\r\n')[0]}`);
      assert.equal((JSON.parse(res.body) as { requestId?: string }).requestId, rid);
    });
  }
});
