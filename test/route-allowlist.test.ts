// G-4 (route allowlist, shadow routes) and SPEC §3 "unknown method/path", over real sockets.
// A request counts as refused only when nothing reached the upstream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CHAT_ROUTE, chatBody, startFixture, type Fixture } from './helpers/fixture.js';
import { rawRequest, type RawResponse } from './helpers/raw-http.js';
import { assertProblem, JSON_HEADERS, nodeRequest, reachedSince } from './helpers/node-request.js';

const REFUSED = [400, 403, 404, 405] as const;
const CHAT = '/v1/chat/completions';
const MODELS = '/v1/models';

/** One hostile request: `refuse` = refused and never forwarded; `forward` = must be forwarded to exactly that path; `either` = one of the two. */
type Expect = { refuse: true } | { forward: string } | { either: string };
interface Case {
  method: string;
  /** The request-target bytes, exactly as sent. A string is sent as latin1 (one byte per char). */
  target: string | Buffer;
  expect: Expect;
  note?: string;
}

const refuse: Expect = { refuse: true };
const utf8 = (s: string) => Buffer.from(s, 'utf8');

const CASES: Case[] = [
  // Other methods on the chat path.
  ...['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND', 'OPTIONS', 'MKCOL', 'PURGE', 'LOCK', 'COPY', 'MOVE', 'SEARCH', 'REPORT'].map((method) => ({ method, target: CHAT, expect: refuse })),
  { method: 'post', target: CHAT, expect: refuse, note: 'lower-case method' },
  { method: 'Post', target: CHAT, expect: refuse, note: 'mixed-case method' },
  { method: 'FOO', target: CHAT, expect: refuse, note: 'unknown method' },
  { method: 'M-SEARCH', target: CHAT, expect: refuse },
  // Other methods on the models (GET) path.
  { method: 'POST', target: MODELS, expect: refuse },
  { method: 'DELETE', target: MODELS, expect: refuse },
  // Prefixes and extensions.
  { method: 'POST', target: '/v1/chat', expect: refuse },
  { method: 'POST', target: '/v1', expect: refuse },
  { method: 'POST', target: '/', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions.json', expect: refuse },
  { method: 'POST', target: '/v1/chat/completionsX', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions/x', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions/..', expect: refuse, note: 'resolves to /v1/chat' },
  { method: 'POST', target: '/v1/chat/completions..', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions...', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions.', expect: refuse, note: 'trailing dot' },
  { method: 'POST', target: '/v2/chat/completions', expect: refuse },
  // Shadow endpoints of the upstream.
  { method: 'POST', target: '/debug', expect: refuse },
  { method: 'GET', target: '/debug', expect: refuse },
  { method: 'POST', target: '/admin', expect: refuse },
  { method: 'GET', target: '/admin', expect: refuse },
  { method: 'GET', target: '/admin/', expect: refuse },
  { method: 'POST', target: '/debug?x=1', expect: refuse },
  // Dot segments, raw and encoded.
  { method: 'POST', target: '/v1/chat/completions/../../../admin', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions/../../admin', expect: refuse, note: 'resolves to /v1/admin' },
  { method: 'POST', target: '/v1/chat/completions/../../../../admin', expect: refuse, note: 'climbs above the root' },
  { method: 'GET', target: '/v1/models/../../admin', expect: refuse },
  { method: 'GET', target: '/v1/models/../chat/completions', expect: refuse, note: 'GET on the chat path' },
  { method: 'POST', target: '/%2e%2e/admin', expect: refuse },
  { method: 'POST', target: '/%2E%2E/%2E%2E/admin', expect: refuse },
  { method: 'POST', target: '/v1/%2e%2e/admin', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions/%2e%2e/%2e%2e/%2e%2e/admin', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions/.%2e/.%2e/.%2e/debug', expect: refuse },
  { method: 'POST', target: '/./admin', expect: refuse },
  { method: 'POST', target: '/.%2fadmin', expect: refuse },
  // Encoded separators, double encoding, NUL, overlong UTF-8, encoded reserved characters.
  { method: 'POST', target: '/v1/chat%2fcompletions', expect: refuse },
  { method: 'POST', target: '/v1/chat%2Fcompletions', expect: refuse },
  { method: 'POST', target: '/v1%2fchat%2fcompletions', expect: refuse },
  { method: 'POST', target: '/v1/chat%5ccompletions', expect: refuse },
  { method: 'POST', target: '/v1/chat%252fcompletions', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions%252e', expect: refuse },
  { method: 'POST', target: '/%252e%252e/admin', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions%00', expect: refuse },
  { method: 'POST', target: '/admin%00/v1/chat/completions', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions%2500', expect: refuse },
  { method: 'POST', target: '/%c0%afadmin', expect: refuse, note: 'overlong "/"' },
  { method: 'POST', target: '/v1/chat%c0%afcompletions', expect: refuse, note: 'overlong "/"' },
  { method: 'POST', target: '/v1/chat/completions/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/admin', expect: refuse, note: 'overlong "."' },
  { method: 'POST', target: '/v1/chat/completions%e0%80%af', expect: refuse, note: '3-byte overlong "/"' },
  { method: 'POST', target: '/v1/chat/completions%ef%bc%8f', expect: refuse, note: 'encoded fullwidth solidus' },
  { method: 'POST', target: '/v1/chat/completions%20', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions%09', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions%u002e', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions%', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions%2', expect: refuse },
  // Backslashes.
  { method: 'POST', target: '/v1\\chat\\completions', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions\\', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions\\..\\..\\..\\admin', expect: refuse },
  { method: 'POST', target: '\\admin', expect: refuse },
  // Matrix parameters.
  { method: 'POST', target: '/v1/chat/completions;jsessionid=x', expect: refuse },
  { method: 'POST', target: '/v1/chat;x=1/completions', expect: refuse },
  { method: 'POST', target: '/admin;/v1/chat/completions', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions/..;/..;/..;/admin', expect: refuse },
  // Repeated slashes.
  { method: 'POST', target: '//admin', expect: refuse },
  { method: 'POST', target: '///debug', expect: refuse },
  { method: 'GET', target: '//127.0.0.1/admin', expect: refuse },
  // Case.
  { method: 'POST', target: '/V1/CHAT/COMPLETIONS', expect: refuse },
  { method: 'POST', target: '/v1/Chat/Completions', expect: refuse },
  { method: 'POST', target: '/%56%31/chat/completions', expect: refuse, note: '%56%31 is "V1"' },
  { method: 'GET', target: '/V1/MODELS', expect: refuse },
  // Fullwidth and other non-ASCII bytes, raw.
  { method: 'POST', target: utf8('/\uff0fadmin'), expect: refuse, note: 'fullwidth solidus' },
  { method: 'POST', target: utf8('\uff0fadmin'), expect: refuse, note: 'fullwidth solidus first' },
  { method: 'POST', target: utf8('/v1/chat/completions\uff0f..\uff0f..\uff0f..\uff0fadmin'), expect: refuse },
  { method: 'POST', target: utf8('/v1/chat/completions\uff0e'), expect: refuse, note: 'fullwidth full stop' },
  { method: 'POST', target: utf8('/\uff41dmin'), expect: refuse, note: 'fullwidth a' },
  { method: 'POST', target: utf8('/v1/chat/completion\u017f'), expect: refuse, note: 'long s' },
  { method: 'POST', target: Buffer.from([...Buffer.from('/v1/chat/completions'), 0xc0, 0xaf]), expect: refuse, note: 'raw overlong bytes' },
  // Control characters and whitespace.
  { method: 'POST', target: '/v1/chat/completions\t', expect: refuse },
  { method: 'POST', target: '/v1/chat/\tcompletions', expect: refuse },
  { method: 'POST', target: '/v1/chat/compl\x01etions', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions\x7f', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions\x00', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions\x0b', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions\x0c', expect: refuse },
  // Characters RFC 3986 forbids in a path.
  { method: 'POST', target: '/v1/chat/completions"', expect: refuse },
  { method: 'POST', target: '/v1/chat/{completions}', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions|', expect: refuse },
  // `?` and `#` tricks.
  { method: 'POST', target: '/admin?/v1/chat/completions', expect: refuse },
  { method: 'POST', target: '/debug?/v1/chat/completions', expect: refuse },
  { method: 'POST', target: '/admin#/v1/chat/completions', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions#/../../../admin', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions#', expect: refuse },
  { method: 'POST', target: '/admin%3f/v1/chat/completions', expect: refuse },
  { method: 'POST', target: '/admin%3F/v1/chat/completions', expect: refuse },
  { method: 'POST', target: '/admin%23/v1/chat/completions', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions%3f', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions%23', expect: refuse },
  { method: 'POST', target: '/v1/chat/completions?x=/../admin', expect: { either: CHAT } },
  { method: 'POST', target: '/v1/chat/completions?/../../admin', expect: { either: CHAT } },
  { method: 'POST', target: '/v1/chat/completions?_method=DELETE', expect: { either: CHAT } },
  { method: 'POST', target: '/v1/chat/completions?x=1#frag', expect: refuse },
  { method: 'GET', target: '/v1/models?/../../admin', expect: { either: MODELS } },
  // Not origin-form.
  { method: 'POST', target: 'http://127.0.0.1/admin', expect: refuse },
  { method: 'POST', target: 'http://127.0.0.1/v1/chat/completions', expect: { either: CHAT }, note: 'absolute-form' },
  { method: 'POST', target: '*', expect: refuse },
  { method: 'OPTIONS', target: '*', expect: refuse },
  { method: 'POST', target: 'v1/chat/completions', expect: refuse },
  // Canonicalized and forwarded with exactly the canonical path (SPEC §3, src/http/README.md).
  { method: 'POST', target: '//v1//chat/completions', expect: { forward: CHAT } },
  { method: 'POST', target: '/v1/./chat/completions', expect: { forward: CHAT } },
  { method: 'POST', target: '/v1/chat/completions/', expect: { forward: CHAT } },
  { method: 'POST', target: '/v1/%63hat/completions', expect: { forward: CHAT } },
  { method: 'POST', target: '/v1/%63%68%61%74/%63ompletions', expect: { either: CHAT } },
  { method: 'POST', target: '/v1/chat/completions/.', expect: { either: CHAT } },
  { method: 'POST', target: '/v1/chat/completions/%2e', expect: { either: CHAT } },
  { method: 'POST', target: '/v1/x/../chat/completions', expect: { either: CHAT } },
  { method: 'POST', target: '/v1/chat/x/%2e%2e/completions', expect: { either: CHAT } },
  { method: 'POST', target: '/admin/../v1/chat/completions', expect: { either: CHAT } },
  { method: 'POST', target: '///v1///chat///completions///', expect: { either: CHAT } },
  { method: 'POST', target: '/%76%31/chat/completions', expect: { either: CHAT } },
  { method: 'GET', target: '//v1/models', expect: { either: MODELS } },
  { method: 'GET', target: '/v1/models/', expect: { either: MODELS } },
];

function label(c: Case): string {
  const t = Buffer.isBuffer(c.target) ? c.target.toString('utf8') : c.target;
  return `${c.method} ${JSON.stringify(t)}${c.note ? ` (${c.note})` : ''}`;
}

function rawFor(c: Case): Buffer {
  const withBody = c.method !== 'GET' && c.method !== 'HEAD';
  const body = withBody ? chatBody() : '';
  const head = `Host: 127.0.0.1\r\n${withBody ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : ''}Connection: close\r\n\r\n`;
  const target = Buffer.isBuffer(c.target) ? c.target : Buffer.from(c.target, 'latin1');
  return Buffer.concat([Buffer.from(`${c.method} `, 'latin1'), target, Buffer.from(` HTTP/1.1\r\n${head}`, 'latin1'), Buffer.from(body, 'utf8')]);
}

function statusLine(r: RawResponse): string {
  return r.text.split('\r\n', 1)[0] ?? '(nothing)';
}

describe('G-4 route allowlist: hostile targets and methods', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f.close();
  });

  test(`the table has at least 40 hostile cases (${CASES.length})`, () => {
    assert.ok(CASES.length >= 40);
  });

  for (const c of CASES) {
    test(label(c), async () => {
      const n = f.mock.requests.length;
      const r = await rawRequest(f.port, rawFor(c), { timeoutMs: 3000 });
      const reached = reachedSince(f, n);
      const seen = reached.map((q) => `${q.method} ${q.url}`);
      const refused = r.status !== undefined && (REFUSED as readonly number[]).includes(r.status);
      if ('refuse' in c.expect) {
        assert.deepEqual(seen, [], `nothing may reach the upstream (got ${statusLine(r)})`);
        assert.ok(refused, `expected 400/403/404/405, got ${statusLine(r)}`);
        return;
      }
      const path = 'forward' in c.expect ? c.expect.forward : c.expect.either;
      if ('either' in c.expect && reached.length === 0) {
        assert.ok(refused, `not forwarded, so it must be refused; got ${statusLine(r)}`);
        return;
      }
      assert.equal(r.status, 200, statusLine(r));
      // Exactly the canonical path that was authorized, with no query (the default policy drops it).
      assert.deepEqual(seen, [`${c.method} ${path}`]);
    });
  }
});

describe('G-4 / SPEC §3: unregistered routes', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f.close();
  });

  for (const [method, path] of [['POST', '/admin'], ['GET', '/debug'], ['GET', CHAT], ['DELETE', CHAT], ['POST', '/v1/embeddings']] as const) {
    test(`${method} ${path}: 404 ROUTE_NOT_FOUND problem+json, route.unregistered event, never forwarded`, async () => {
      const n = f.mock.requests.length;
      const res = await nodeRequest(f.port, { method, path, headers: { ...JSON_HEADERS }, ...(method === 'GET' ? {} : { body: chatBody() }) });
      const p = assertProblem(res, 'ROUTE_NOT_FOUND', [404]);
      assert.match(p.requestId, /^[0-9a-f-]{36}$/);
      assert.deepEqual(reachedSince(f, n), []);
      const ev = f.events.find((e) => e.trace?.id === p.requestId);
      assert.ok(ev, 'an event names the request id');
      assert.equal(ev.event.action, 'route.unregistered');
      assert.equal(ev.url?.path, path);
      assert.equal(ev.http?.request.method, method);
      assert.equal(ev.http?.response?.status_code, 404);
      assert.ok(!res.text.includes('internal'), 'the shadow endpoint answer never shows');
    });
  }
});

describe('G-4.3: method and path override headers', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f.close();
  });

  const OVERRIDES: Record<string, string> = {
    'X-HTTP-Method-Override': 'DELETE',
    'X-HTTP-Method': 'DELETE',
    'X-Method-Override': 'DELETE',
    'X-Original-Method': 'DELETE',
    'X-Original-URL': '/admin',
    'X-Rewrite-URL': '/admin',
    'X-Original-Path': '/admin',
    'X-Envoy-Original-Path': '/admin',
    'X-Forwarded-Prefix': '/admin',
  };
  const overrideNames = Object.keys(OVERRIDES).map((h) => h.toLowerCase());

  test('on the chat route: forwarded as POST /v1/chat/completions with none of the override headers', async () => {
    const n = f.mock.requests.length;
    const res = await nodeRequest(f.port, { headers: { ...JSON_HEADERS, ...OVERRIDES }, body: chatBody() });
    assert.equal(res.status, 200, res.text);
    const reached = reachedSince(f, n);
    assert.equal(reached.length, 1);
    const up = reached[0]!;
    assert.equal(up.method, 'POST');
    assert.equal(up.url, CHAT);
    for (const name of overrideNames) assert.equal(up.headers[name], undefined, `${name} reached the upstream`);
    for (let i = 0; i < up.rawHeaders.length; i += 2) assert.ok(!overrideNames.includes(up.rawHeaders[i]!.toLowerCase()), up.rawHeaders[i]);
  });

  test('each override header alone is stripped', async () => {
    for (const [name, value] of Object.entries(OVERRIDES)) {
      const n = f.mock.requests.length;
      const res = await nodeRequest(f.port, { headers: { ...JSON_HEADERS, [name]: value }, body: chatBody() });
      assert.equal(res.status, 200, `${name}: ${res.text}`);
      const [up] = reachedSince(f, n);
      assert.equal(up?.url, CHAT, name);
      assert.equal(up?.method, 'POST', name);
      assert.equal(up?.headers[name.toLowerCase()], undefined, `${name} reached the upstream`);
    }
  });

  test('on the GET route: X-HTTP-Method-Override: POST does not change the method', async () => {
    const n = f.mock.requests.length;
    const res = await nodeRequest(f.port, { method: 'GET', path: MODELS, headers: { 'X-HTTP-Method-Override': 'POST', 'X-Original-URL': CHAT } });
    assert.equal(res.status, 200, res.text);
    const [up] = reachedSince(f, n);
    assert.equal(up?.method, 'GET');
    assert.equal(up?.url, MODELS);
    assert.equal(up?.headers['x-http-method-override'], undefined);
    assert.equal(up?.headers['x-original-url'], undefined);
  });

  test('an unregistered path is not rescued by a header naming a registered one', async () => {
    for (const [name, value] of [['X-Original-URL', CHAT], ['X-Rewrite-URL', CHAT], ['X-Envoy-Original-Path', CHAT], ['X-Original-Path', CHAT], ['X-Forwarded-Prefix', '/v1']] as const) {
      const n = f.mock.requests.length;
      const res = await nodeRequest(f.port, { path: '/admin', headers: { ...JSON_HEADERS, [name]: value }, body: chatBody() });
      assertProblem(res, 'ROUTE_NOT_FOUND', [404]);
      assert.deepEqual(reachedSince(f, n), [], name);
    }
    for (const method of ['GET', 'DELETE', 'PUT']) {
      const n = f.mock.requests.length;
      const res = await nodeRequest(f.port, { method, headers: { ...JSON_HEADERS, 'X-HTTP-Method-Override': 'POST', 'X-HTTP-Method': 'POST', 'X-Method-Override': 'POST' }, body: chatBody() });
      assert.ok((REFUSED as readonly number[]).includes(res.status), `${method}: ${res.status}`);
      assert.deepEqual(reachedSince(f, n), [], method);
    }
  });

  test('_method=DELETE in the query never reaches the upstream', async () => {
    for (const q of ['_method=DELETE', '_method=DELETE&x=1', 'x=1&_method=DELETE', '%5Fmethod=DELETE', '_METHOD=DELETE']) {
      const n = f.mock.requests.length;
      const res = await nodeRequest(f.port, { path: `${CHAT}?${q}`, headers: { ...JSON_HEADERS }, body: chatBody() });
      const reached = reachedSince(f, n);
      if (reached.length === 0) {
        assert.ok((REFUSED as readonly number[]).includes(res.status), `${q}: ${res.status}`);
        continue;
      }
      assert.equal(res.status, 200);
      assert.equal(reached[0]!.method, 'POST');
      assert.ok(!/_method/i.test(decodeURIComponent(reached[0]!.url)), `${q} -> ${reached[0]!.url}`);
    }
  });
});

describe('route query policy', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({
      routes: [
        CHAT_ROUTE,
        { name: 'q-drop', match: { methods: ['GET'], path: '/v1/models' } },
        { name: 'q-deny', match: { methods: ['GET'], path: '/v1/models/deny' }, query: 'deny' },
        { name: 'q-forward', match: { methods: ['GET'], path: '/v1/models/forward' }, query: 'forward' },
      ],
    });
  });
  after(async () => {
    await f.close();
  });

  test('drop (the default): forwarded without any query', async () => {
    for (const q of ['a=1', 'a=1&b=2', '_method=DELETE', 'api_key=k', '', 'x=%2F..%2Fadmin']) {
      const n = f.mock.requests.length;
      const res = await nodeRequest(f.port, { method: 'GET', path: `${MODELS}?${q}` });
      assert.equal(res.status, 200, q);
      assert.deepEqual(reachedSince(f, n).map((r) => r.url), [MODELS], q);
    }
  });

  test('drop on the chat route: the query never reaches the upstream', async () => {
    const n = f.mock.requests.length;
    const res = await nodeRequest(f.port, { path: `${CHAT}?model=evil&stream=true`, headers: { ...JSON_HEADERS }, body: chatBody() });
    assert.equal(res.status, 200);
    assert.deepEqual(reachedSince(f, n).map((r) => r.url), [CHAT]);
  });

  test('deny: a request with a query gets 400 and is never forwarded', async () => {
    for (const q of ['a=1', '_method=DELETE', 'x', '']) {
      const n = f.mock.requests.length;
      const res = await nodeRequest(f.port, { method: 'GET', path: `/v1/models/deny?${q}` });
      if (q === '') {
        // A bare "?" carries no query: forwarding without it, or refusing, are both fine.
        const reached = reachedSince(f, n).map((r) => r.url);
        if (reached.length > 0) assert.deepEqual(reached, ['/v1/models/deny']);
        else assert.equal(res.status, 400);
        continue;
      }
      assert.deepEqual(reachedSince(f, n), [], q);
      assert.equal(res.status, 400, q);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(typeof res.headers['x-request-id'], 'string');
    }
    // Without a query the route still works (and the mock answers 404 for the unknown path, which is fine).
    const n = f.mock.requests.length;
    await nodeRequest(f.port, { method: 'GET', path: '/v1/models/deny' });
    assert.deepEqual(reachedSince(f, n).map((r) => r.url), ['/v1/models/deny']);
  });

  test('forward: the query is forwarded, minus _method, api_key and access_token', async () => {
    const cases: Array<[string, string | undefined]> = [
      ['a=1&b=2', 'a=1&b=2'],
      ['a=1&_method=DELETE&b=2', 'a=1&b=2'],
      ['api_key=secret&a=1', 'a=1'],
      ['a=1&access_token=secret', 'a=1'],
      ['_method=DELETE&api_key=s&access_token=t', undefined],
      ['%5Fmethod=DELETE&API_KEY=s&Access_Token=t&a=1', 'a=1'],
      ['api%5Fkey=s&a=1', 'a=1'],
    ];
    for (const [q, expected] of cases) {
      const n = f.mock.requests.length;
      const res = await nodeRequest(f.port, { method: 'GET', path: `/v1/models/forward?${q}` });
      assert.equal(res.status, 404, 'the mock has no such path; the gateway forwarded it');
      const reached = reachedSince(f, n);
      assert.equal(reached.length, 1, q);
      assert.equal(reached[0]!.url, expected === undefined ? '/v1/models/forward' : `/v1/models/forward?${expected}`, q);
      assert.ok(!/secret|_method|api_key|access_token/i.test(decodeURIComponent(reached[0]!.url)), reached[0]!.url);
    }
  });
});

describe('locally answered: health and OPTIONS', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f.close();
  });

  test('/healthz answers 200 locally and is never forwarded', async () => {
    const n = f.mock.requests.length;
    const res = await nodeRequest(f.port, { method: 'GET', path: '/healthz' });
    assert.equal(res.status, 200);
    assert.equal(typeof res.headers['x-request-id'], 'string');
    assert.deepEqual(JSON.parse(res.text), { status: 'ok' });
    const head = await nodeRequest(f.port, { method: 'HEAD', path: '/healthz' });
    assert.equal(head.status, 200);
    const q = await nodeRequest(f.port, { method: 'GET', path: '/healthz?x=/admin' });
    assert.equal(q.status, 200);
    assert.deepEqual(reachedSince(f, n), []);
  });

  test('/healthz with other methods is not forwarded either', async () => {
    const n = f.mock.requests.length;
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await nodeRequest(f.port, { method, path: '/healthz', headers: { ...JSON_HEADERS }, body: chatBody() });
      assert.ok((REFUSED as readonly number[]).includes(res.status), `${method}: ${res.status}`);
    }
    assert.deepEqual(reachedSince(f, n), []);
  });

  test('OPTIONS (CORS preflight) is not forwarded and does not reflect an arbitrary origin with credentials', async () => {
    for (const path of [CHAT, MODELS, '/admin', '*']) {
      const n = f.mock.requests.length;
      const res = path === '*'
        ? await rawRequest(f.port, 'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n').then((r) => ({ status: r.status ?? 0, headers: {} as Record<string, string | string[] | undefined> }))
        : await nodeRequest(f.port, {
            method: 'OPTIONS',
            path,
            headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
          });
      assert.deepEqual(reachedSince(f, n), [], `OPTIONS ${path} reached the upstream`);
      assert.ok(res.status < 500, `OPTIONS ${path}: ${res.status}`);
      const acao = res.headers['access-control-allow-origin'];
      const acac = res.headers['access-control-allow-credentials'];
      assert.ok(!(acao === 'https://evil.example' && acac === 'true'), 'arbitrary origin reflected with credentials');
      assert.notEqual(acao === '*' && acac === 'true', true);
    }
  });
});
