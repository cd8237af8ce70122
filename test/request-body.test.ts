// G-6 (request bodies on the chat route), over real sockets. A refusal counts only when nothing
// reached the upstream.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';
import { rawRequest } from './helpers/raw-http.js';
import { assertProblem, JSON_HEADERS, nodeRequest, reachedSince, type NodeResponse } from './helpers/node-request.js';

const CHAT = '/v1/chat/completions';
const LIMIT = 128 * 1024;
const CHAT_WITH_CAP = { name: 'chat', match: { methods: ['POST' as const], path: CHAT }, kind: 'openai-chat' as const, input: { maxTokens: 100 } };
/** What the upstream reads for a client body without a cap: the same value, with the route's cap written in. */
const capped = (body: string): unknown => ({ ...(JSON.parse(body) as Record<string, unknown>), max_tokens: 100 });

const msgs = '"messages":[{"role":"user","content":"hi"}]';

/** Asserts a refusal: problem+json INVALID_INPUT with the OpenAI envelope, and nothing forwarded. */
function assertRefused(f: Fixture, n: number, res: NodeResponse, statuses: readonly number[]): void {
  assert.deepEqual(reachedSince(f, n).map((r) => `${r.method} ${r.url}`), [], 'nothing may reach the upstream');
  const p = assertProblem(res, 'INVALID_INPUT', statuses);
  assert.ok(p.error, 'openai-chat refusals carry the OpenAI error envelope');
  assert.equal(typeof p.error.message, 'string');
  assert.ok(p.error.message.length > 0);
  assert.equal(typeof p.error.type, 'string');
  assert.ok(!/at .*\.(ts|js):\d+/.test(res.text), 'no stack trace');
}

async function post(f: Fixture, body: string | Buffer, headers: Record<string, string> = { ...JSON_HEADERS }): Promise<{ res: NodeResponse; n: number }> {
  const n = f.mock.requests.length;
  const res = await nodeRequest(f.port, { path: CHAT, headers, body });
  return { res, n };
}

function deepArrays(depth: number): string {
  return `{"model":"mock-gpt",${msgs},"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

describe('G-6 request bodies on the chat route', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ routes: [CHAT_WITH_CAP, { name: 'models', match: { methods: ['GET'], path: '/v1/models' } }], server: { limits: { bodyBytes: '128kb', jsonDepth: 32 } } });
  });
  after(async () => {
    await f.close();
  });

  describe('content type', () => {
    for (const ct of ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=UTF-8', 'Application/Json; Charset=utf-8', 'application/json ; charset=utf-8']) {
      test(`accepted: ${ct}`, async () => {
        const { res, n } = await post(f, chatBody(), { 'content-type': ct });
        assert.equal(res.status, 200, res.text);
        const reached = reachedSince(f, n);
        assert.equal(reached.length, 1);
        assert.equal(reached[0]!.headers['content-type'], 'application/json', 'the upstream is told exactly what it gets');
      });
    }

    const refusedTypes: Array<[string, string | undefined]> = [
      ['text/plain', 'text/plain'],
      ['text/plain;charset=utf-8', 'text/plain;charset=utf-8'],
      ['missing', undefined],
      ['empty', ''],
      ['charset=latin1', 'application/json; charset=latin1'],
      ['charset=iso-8859-1', 'application/json; charset=iso-8859-1'],
      ['charset=utf-16', 'application/json; charset=utf-16'],
      ['charset=utf-7', 'application/json; charset=utf-7'],
      ['+json', 'application/vnd.x+json'],
      ['merge-patch+json', 'application/merge-patch+json'],
      ['form', 'application/x-www-form-urlencoded'],
      ['multipart', 'multipart/form-data; boundary=xyz'],
      ['text/json', 'text/json'],
      ['two values', 'application/json, text/plain'],
      ['application/jsonx', 'application/jsonx'],
      ['application/json-patch', 'application/json-patch'],
      ['other parameter', 'application/json; boundary=x'],
      ['wildcard', '*/*'],
    ];
    for (const [name, ct] of refusedTypes) {
      test(`refused with 415: ${name}`, async () => {
        const headers: Record<string, string> = ct === undefined ? {} : { 'content-type': ct };
        const { res, n } = await post(f, chatBody(), headers);
        assertRefused(f, n, res, [415, 400]);
        assert.equal(res.status, 415);
      });
    }

    test('two Content-Type headers: refused, or forwarded with exactly one application/json', async () => {
      for (const pair of [['application/json', 'text/plain'], ['text/plain', 'application/json']]) {
        const { res, n } = await post(f, chatBody(), { 'content-type': pair } as unknown as Record<string, string>);
        const up = reachedSince(f, n);
        if (up.length === 0) {
          assertRefused(f, n, res, [415, 400]);
          continue;
        }
        assert.equal(res.status, 200);
        const lines = up[0]!.rawHeaders.filter((_, i) => i % 2 === 0 && up[0]!.rawHeaders[i]!.toLowerCase() === 'content-type');
        assert.equal(lines.length, 1);
        assert.equal(up[0]!.headers['content-type'], 'application/json');
        // It can only be accepted when the value the gateway checked was application/json.
        assert.equal(pair[0], 'application/json', `accepted although the first Content-Type was ${pair[0]}`);
      }
    });

    for (const enc of ['gzip', 'deflate', 'br', 'GZIP', 'gzip, identity']) {
      test(`Content-Encoding: ${enc} gets 415`, async () => {
        const body = enc.toLowerCase().startsWith('gzip') ? gzipSync(chatBody()) : Buffer.from(chatBody());
        const { res, n } = await post(f, body, { ...JSON_HEADERS, 'content-encoding': enc });
        assertRefused(f, n, res, [415]);
      });
    }

    test('a gzip bomb is refused without being inflated', async () => {
      const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
      assert.ok(bomb.length < LIMIT);
      const t0 = performance.now();
      const { res, n } = await post(f, bomb, { ...JSON_HEADERS, 'content-encoding': 'gzip' });
      assertRefused(f, n, res, [413, 415]);
      assert.ok(performance.now() - t0 < 2000);
    });
  });

  describe('size', () => {
    const big = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x'.repeat(LIMIT + 1024) }] });

    test('over the limit with Content-Length: 413, nothing forwarded', async () => {
      const { res, n } = await post(f, big);
      assertRefused(f, n, res, [413]);
    });

    test('declared over the limit: 413 before the body is sent', async () => {
      const n = f.mock.requests.length;
      const r = await rawRequest(f.port, `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${LIMIT * 10}\r\n\r\n{"model":`);
      assert.equal(r.status, 413);
      assert.deepEqual(reachedSince(f, n), []);
    });

    test('the same body chunked: 413, nothing forwarded', async () => {
      let chunked = '';
      for (let i = 0; i < big.length; i += 8192) {
        const c = big.slice(i, i + 8192);
        chunked += `${c.length.toString(16)}\r\n${c}\r\n`;
      }
      chunked += '0\r\n\r\n';
      const n = f.mock.requests.length;
      const r = await rawRequest(f.port, `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`);
      assert.equal(r.status, 413, r.text.slice(0, 200));
      assert.match(r.text, /"code":"INVALID_INPUT"/);
      assert.deepEqual(reachedSince(f, n), []);
    });

    test('chunked through node:http (one big chunk): 413', async () => {
      const { res, n } = await post(f, big, { ...JSON_HEADERS, 'transfer-encoding': 'chunked' });
      assertRefused(f, n, res, [413]);
    });

    test('exactly at the limit is accepted', async () => {
      const base = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: '' }] });
      const body = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'y'.repeat(LIMIT - Buffer.byteLength(base)) }] });
      assert.equal(Buffer.byteLength(body), LIMIT);
      const { res, n } = await post(f, body);
      assert.equal(res.status, 200, res.text.slice(0, 200));
      assert.equal(reachedSince(f, n).length, 1);
    });
  });

  describe('strict UTF-8 and strict JSON', () => {
    const BAD: Array<[string, string | Buffer]> = [
      ['invalid UTF-8 byte', Buffer.concat([Buffer.from('{"model":"mock-gpt","messages":[{"role":"user","content":"'), Buffer.from([0xff]), Buffer.from('"}]}')])],
      ['overlong UTF-8', Buffer.concat([Buffer.from('{"model":"mock-gpt","messages":[{"role":"user","content":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}]}')])],
      ['UTF-8-encoded surrogate', Buffer.concat([Buffer.from('{"model":"mock-gpt","messages":[{"role":"user","content":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}]}')])],
      ['truncated UTF-8', Buffer.concat([Buffer.from('{"model":"mock-gpt","messages":[{"role":"user","content":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}]}')])],
      ['BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(chatBody())])],
      ['UTF-16LE', Buffer.from(chatBody(), 'utf16le')],
      ['line comment', `{"model":"mock-gpt", // c\n${msgs}}`],
      ['block comment', `{"model":"mock-gpt",/* c */${msgs}}`],
      ['single quotes', `{'model':'mock-gpt',${msgs}}`],
      ['unquoted key', `{model:"mock-gpt",${msgs}}`],
      ['trailing comma in object', `{"model":"mock-gpt",${msgs},}`],
      ['trailing comma in array', `{"model":"mock-gpt","messages":[{"role":"user","content":"hi"},]}`],
      ['trailing data', `${chatBody()}x`],
      ['second document', `${chatBody()}${chatBody()}`],
      ['trailing garbage after whitespace', `${chatBody()}\n\n{}`],
      ['NaN', `{"model":"mock-gpt",${msgs},"temperature":NaN}`],
      ['Infinity', `{"model":"mock-gpt",${msgs},"temperature":Infinity}`],
      ['-Infinity', `{"model":"mock-gpt",${msgs},"temperature":-Infinity}`],
      ['hex number', `{"model":"mock-gpt",${msgs},"temperature":0x1}`],
      ['leading zero', `{"model":"mock-gpt",${msgs},"temperature":01}`],
      ['leading plus', `{"model":"mock-gpt",${msgs},"temperature":+1}`],
      ['bare dot number', `{"model":"mock-gpt",${msgs},"temperature":.5}`],
      ['undefined', `{"model":"mock-gpt",${msgs},"x":undefined}`],
      ['raw newline in string', `{"model":"mock-gpt","messages":[{"role":"user","content":"a\nb"}]}`],
      ['raw tab in string', `{"model":"mock-gpt","messages":[{"role":"user","content":"a\tb"}]}`],
      ['raw NUL in string', `{"model":"mock-gpt","messages":[{"role":"user","content":"a\u0000b"}]}`],
      ['bad escape', `{"model":"mock-gpt","messages":[{"role":"user","content":"\\x41"}]}`],
      ['short unicode escape', `{"model":"mock-gpt","messages":[{"role":"user","content":"\\u00"}]}`],
      ['unterminated', '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]'],
      ['empty body', ''],
      ['whitespace only', '   '],
      ['vertical tab whitespace', `{\u000b"model":"mock-gpt",${msgs}}`],
      ['non-breaking space whitespace', `{\u00a0"model":"mock-gpt",${msgs}}`],
    ];
    for (const [name, body] of BAD) {
      test(`400: ${name}`, async () => {
        const { res, n } = await post(f, body);
        assertRefused(f, n, res, [400]);
      });
    }
  });

  describe('depth', () => {
    test('depth just over jsonDepth (32) gets 400', async () => {
      const { res, n } = await post(f, deepArrays(32));
      assertRefused(f, n, res, [400]);
    });

    test('nested objects over jsonDepth get 400', async () => {
      const body = `{"model":"mock-gpt",${msgs},"x":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`;
      const { res, n } = await post(f, body);
      assertRefused(f, n, res, [400]);
    });

    test('within jsonDepth is accepted', async () => {
      const { res, n } = await post(f, deepArrays(20));
      assert.equal(res.status, 200, res.text);
      assert.equal(reachedSince(f, n).length, 1);
    });

    for (const depth of [20_000, 50_000]) {
      test(`${depth} nested arrays: 400 quickly, and the gateway keeps serving`, async () => {
        const t0 = performance.now();
        const { res, n } = await post(f, deepArrays(depth));
        const ms = performance.now() - t0;
        assertRefused(f, n, res, [400]);
        assert.ok(ms < 2000, `took ${ms} ms`);
        // Also unterminated, and objects.
        const open = await post(f, `{"model":"mock-gpt",${msgs},"x":${'['.repeat(depth)}}`);
        assertRefused(f, open.n, open.res, [400]);
        const objs = await post(f, `{"model":"mock-gpt",${msgs},"x":${'{"a":'.repeat(depth / 10)}1${'}'.repeat(depth / 10)}}`);
        assertRefused(f, objs.n, objs.res, [400]);
        const ok = await post(f, chatBody());
        assert.equal(ok.res.status, 200);
      });
    }

    test('a deep body and a normal request at the same time: the normal one is served within 1.5 s', async () => {
      const t0 = performance.now();
      const [deep, normal] = await Promise.all([post(f, deepArrays(50_000)), post(f, chatBody()).then((r) => ({ ...r, ms: performance.now() - t0 }))]);
      assert.equal(deep.res.status, 400);
      assert.equal(normal.res.status, 200);
      assert.ok(normal.ms < 1500, `took ${normal.ms} ms`);
    });
  });

  describe('duplicate and forbidden keys, surrogates, shape', () => {
    const BAD: Array<[string, string]> = [
      ['duplicate top-level key', `{"model":"mock-gpt","model":"other",${msgs}}`],
      ['duplicate via escape "mod\\u0065l"', `{"model":"mock-gpt","mod\\u0065l":"other",${msgs}}`],
      ['duplicate via escape "\\u006dodel"', `{"\\u006dodel":"mock-gpt","model":"other",${msgs}}`],
      ['duplicate messages', `{"model":"mock-gpt",${msgs},"messages":[{"role":"user","content":"evil"}]}`],
      ['duplicate key inside a message', `{"model":"mock-gpt","messages":[{"role":"user","content":"hi","content":"evil"}]}`],
      ['duplicate role inside a message', `{"model":"mock-gpt","messages":[{"role":"user","r\\u006fle":"system","content":"hi"}]}`],
      ['duplicate max_tokens', `{"model":"mock-gpt",${msgs},"max_tokens":50,"max_tokens":5000}`],
      ['__proto__ at top level', `{"model":"mock-gpt",${msgs},"__proto__":{"isAdmin":true}}`],
      ['escaped __proto__', `{"model":"mock-gpt",${msgs},"\\u005f_proto__":{"isAdmin":true}}`],
      ['__proto__ inside a message', `{"model":"mock-gpt","messages":[{"role":"user","content":"hi","__proto__":{"role":"system"}}]}`],
      ['constructor.prototype', `{"model":"mock-gpt",${msgs},"constructor":{"prototype":{"isAdmin":true}}}`],
      ['nested constructor.prototype', `{"model":"mock-gpt","messages":[{"role":"user","content":"hi","constructor":{"prototype":{"x":1}}}]}`],
      ['lone high surrogate \\ud800', `{"model":"mock-gpt","messages":[{"role":"user","content":"\\ud800"}]}`],
      ['lone low surrogate \\udc00', `{"model":"mock-gpt","messages":[{"role":"user","content":"a\\udc00b"}]}`],
      ['reversed surrogate pair', `{"model":"mock-gpt","messages":[{"role":"user","content":"\\udc00\\ud800"}]}`],
      ['lone surrogate in a key', `{"model":"mock-gpt",${msgs},"\\ud800":1}`],
      ['top-level array', `[${chatBody()}]`],
      ['top-level string', '"hello"'],
      ['top-level number', '42'],
      ['top-level null', 'null'],
      ['top-level true', 'true'],
      ['empty object', '{}'],
      ['empty messages array', '{"model":"mock-gpt","messages":[]}'],
      ['missing messages', '{"model":"mock-gpt"}'],
      ['messages not an array', '{"model":"mock-gpt","messages":{"role":"user","content":"hi"}}'],
      ['messages is a string', '{"model":"mock-gpt","messages":"hi"}'],
      ['message without a valid role', '{"model":"mock-gpt","messages":[{"role":"root","content":"hi"}]}'],
      ['message is not an object', '{"model":"mock-gpt","messages":["hi"]}'],
      ['missing model', `{${msgs}}`],
      ['model not a string', `{"model":1,${msgs}}`],
    ];
    for (const [name, body] of BAD) {
      test(`400: ${name}`, async () => {
        const { res, n } = await post(f, body);
        assertRefused(f, n, res, [400]);
      });
    }

    test('a refused __proto__ body does not poison later requests', async () => {
      await post(f, `{"model":"mock-gpt",${msgs},"__proto__":{"stream":true,"max_tokens":99999}}`);
      const o = {} as Record<string, unknown>;
      assert.equal(o.stream, undefined);
      assert.equal(o.isAdmin, undefined);
      const { res, n } = await post(f, chatBody());
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(reachedSince(f, n)[0]!.body), capped(chatBody()));
    });

    test('a valid surrogate pair is accepted', async () => {
      const { res, n } = await post(f, `{"model":"mock-gpt","messages":[{"role":"user","content":"\\ud83d\\ude00 and 😀"}]}`);
      assert.equal(res.status, 200, res.text);
      assert.equal((JSON.parse(reachedSince(f, n)[0]!.body) as { messages: Array<{ content: string }> }).messages[0]!.content, '😀 and 😀');
    });
  });

  describe('max_tokens (route input.maxTokens: 100)', () => {
    for (const [field, v] of [['max_tokens', 50], ['max_tokens', 100], ['max_tokens', 0], ['max_completion_tokens', 100]] as const) {
      test(`${field}: ${v} is forwarded unchanged`, async () => {
        const { res, n } = await post(f, chatBody({ [field]: v }));
        assert.equal(res.status, 200, res.text);
        const up = reachedSince(f, n);
        assert.equal(up.length, 1);
        assert.equal((JSON.parse(up[0]!.body) as Record<string, unknown>)[field], v);
      });
    }

    const BAD: Array<[string, string]> = [
      ['101', '101'],
      ['5000', '5000'],
      ['1.5', '1.5'],
      ['"50"', '"50"'],
      ['-1', '-1'],
      ['1e400', '1e400'],
      ['-1e400', '-1e400'],
      ['1e3', '1e3'],
      ['9007199254740993', '9007199254740993'],
      ['true', 'true'],
      ['[50]', '[50]'],
      ['{"n":50}', '{"n":50}'],
    ];
    for (const [name, raw] of BAD) {
      test(`max_tokens: ${name} gets 400`, async () => {
        const { res, n } = await post(f, `{"model":"mock-gpt",${msgs},"max_tokens":${raw}}`);
        assertRefused(f, n, res, [400]);
      });
    }
    test('max_completion_tokens: 101 gets 400', async () => {
      const { res, n } = await post(f, chatBody({ max_completion_tokens: 101 }));
      assertRefused(f, n, res, [400]);
    });
  });

  describe('ReDoS and large fields', () => {
    test('a 60,000-character user message is answered within 2 s', async () => {
      const t0 = performance.now();
      const { res, n } = await post(f, chatBody({ messages: [{ role: 'user', content: 'a'.repeat(60_000) }] }));
      const ms = performance.now() - t0;
      assert.equal(res.status, 200);
      assert.equal(reachedSince(f, n).length, 1);
      assert.ok(ms < 2000, `took ${ms} ms`);
    });

    for (const [name, content] of [
      ['whitespace run', `a${' '.repeat(60_000)}b`],
      ['email-like', `${'a.'.repeat(30_000)}@`],
      ['backslash escapes', '\\'.repeat(30_000)],
      ['unicode escapes', '\u00e9'.repeat(30_000)],
    ] as const) {
      test(`pathological 60,000-character field (${name}) is answered within 2 s`, async () => {
        const t0 = performance.now();
        const { res } = await post(f, chatBody({ messages: [{ role: 'user', content }] }));
        const ms = performance.now() - t0;
        assert.ok(res.status === 200 || res.status === 400 || res.status === 413, String(res.status));
        assert.ok(ms < 2000, `took ${ms} ms`);
      });
    }

    test('6,000 keys in one object is answered within 2 s', async () => {
      const keys = Array.from({ length: 6_000 }, (_, i) => `"k${i}":0`).join(',');
      const t0 = performance.now();
      const { res } = await post(f, `{"model":"mock-gpt",${msgs},"x":{${keys}}}`);
      assert.ok(res.status === 200 || res.status === 400, String(res.status));
      assert.ok(performance.now() - t0 < 2000);
    });
  });

  describe('re-serialization', () => {
    test('the upstream body parses to the same value as the client body (plus the route\'s cap)', async () => {
      const sent = '{ "model" : "mock-gpt" ,\n "messages" : [ { "role" : "system", "content" : "be \\"nice\\"" }, { "role":"user","content":"\\u0048ello \\/ w\\u00f6rld \\t tab 😀" } ],\n "temperature": 0.7, "top_p": 1e-1, "n": 1, "stop": ["\\n"], "user": "u-1", "metadata": {"nested": {"a": [1, 2.5, -3e2, true, false, null]}} }';
      const { res, n } = await post(f, sent);
      assert.equal(res.status, 200, res.text);
      const up = reachedSince(f, n);
      assert.equal(up.length, 1);
      assert.deepEqual(JSON.parse(up[0]!.body), capped(sent));
      assert.equal(up[0]!.headers['content-type'], 'application/json');
      assert.equal(Number(up[0]!.headers['content-length']), Buffer.byteLength(up[0]!.body));
    });

    test('a chunked client body is forwarded complete and equal', async () => {
      const body = chatBody({ messages: [{ role: 'user', content: 'z'.repeat(20_000) }] });
      const { res, n } = await post(f, body, { ...JSON_HEADERS, 'transfer-encoding': 'chunked' });
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(reachedSince(f, n)[0]!.body), capped(body));
    });
  });
});

describe('G-6.5 clamping (input.clampTokens: true)', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ routes: [{ ...CHAT_WITH_CAP, input: { maxTokens: 100, clampTokens: true } }] });
  });
  after(async () => {
    await f.close();
  });

  test('max_tokens 5000 is forwarded as 100', async () => {
    const n = f.mock.requests.length;
    const res = await nodeRequest(f.port, { headers: { ...JSON_HEADERS }, body: chatBody({ max_tokens: 5000 }) });
    assert.equal(res.status, 200, res.text);
    const up = reachedSince(f, n);
    assert.equal(up.length, 1);
    const body = JSON.parse(up[0]!.body) as Record<string, unknown>;
    assert.equal(body.max_tokens, 100);
    assert.equal(body.model, 'mock-gpt');
  });

  test('max_completion_tokens 5000 is forwarded as 100; 50 stays 50', async () => {
    const n = f.mock.requests.length;
    await nodeRequest(f.port, { headers: { ...JSON_HEADERS }, body: chatBody({ max_completion_tokens: 5000 }) });
    await nodeRequest(f.port, { headers: { ...JSON_HEADERS }, body: chatBody({ max_tokens: 50 }) });
    const up = reachedSince(f, n).map((r) => JSON.parse(r.body) as Record<string, unknown>);
    assert.equal(up[0]?.max_completion_tokens, 100);
    assert.equal(up[1]?.max_tokens, 50);
  });

  test('clamping does not make invalid values acceptable', async () => {
    for (const raw of ['1.5', '"5000"', '-1', '1e400']) {
      const n = f.mock.requests.length;
      const res = await nodeRequest(f.port, { headers: { ...JSON_HEADERS }, body: `{"model":"mock-gpt",${msgs},"max_tokens":${raw}}` });
      assert.equal(res.status, 400, raw);
      assert.deepEqual(reachedSince(f, n), [], raw);
    }
  });
});

describe('Expect: 100-continue', () => {
  test('an oversized declared body is refused with 413 without a 100 Continue; an acceptable one gets 100 first', async () => {
    const f = await startFixture({ server: { limits: { bodyBytes: '1kb' } } });
    try {
      const big = await rawRequest(f.port, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n', { timeoutMs: 1500 });
      assert.equal(big.status, 413);
      assert.doesNotMatch(big.text, /100 Continue/);
      const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      const ok = await rawRequest(f.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n${body}`, { timeoutMs: 1500, waitForClose: false });
      assert.match(ok.text, /^HTTP\/1\.1 100 Continue/);
    } finally {
      await f.close();
    }
  });
});
