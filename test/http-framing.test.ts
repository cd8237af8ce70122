/**
 * G-1 over real sockets: malformed framing is refused with 400 (431/501 where noted) and a closed
 * connection, nothing reaches the upstream, pipelined or smuggled requests do not escape the
 * allowlist, oversized heads get 431 and the gateway keeps serving. A 101 is never returned.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';
import { rawUntilClose, sleep, statusLines, type TimedResponse } from './helpers/raw-socket.js';

const BODY = chatBody();
const LEN = Buffer.byteLength(BODY);
const CHAT = 'POST /v1/chat/completions HTTP/1.1\r\nHost: gw.test\r\nContent-Type: application/json\r\n';
/** A valid request to a registered route, used as the hidden/pipelined payload. */
const MODELS = 'GET /v1/models HTTP/1.1\r\nHost: gw.test\r\n\r\n';
const ADMIN = 'GET /admin HTTP/1.1\r\nHost: gw.test\r\n\r\n';
const DEBUG = 'GET /debug HTTP/1.1\r\nHost: gw.test\r\n\r\n';

/** Everything any server sent in this file, for the "never a 101" check. */
const transcripts: string[] = [];

async function send(f: Fixture, payload: string, timeoutMs = 3000): Promise<TimedResponse> {
  const r = await rawUntilClose(f.port, payload, timeoutMs);
  transcripts.push(r.text);
  return r;
}

function isStatus(allowed: readonly number[] | 'any-error') {
  return (s: number | undefined) => s !== undefined && (allowed === 'any-error' ? s >= 400 && s <= 599 : allowed.includes(s));
}

/**
 * Sends one malformed request on a fresh connection and checks G-1.1: an allowed status, the
 * server closes the connection, exactly one response, no 101, and nothing reached the upstream.
 */
async function expectRefused(f: Fixture, payload: string, allowed: readonly number[] | 'any-error' = [400]): Promise<void> {
  const before = f.mock.requests.length;
  const r = await send(f, payload);
  const first = statusLines(r.text)[0] ?? '(no response)';
  assert.ok(isStatus(allowed)(r.status), `status ${first}, expected ${allowed === 'any-error' ? '4xx/5xx' : allowed.join('/')}`);
  assert.ok(r.closed, `the server must close the connection (got ${first}, still open after 3 s)`);
  assert.equal(f.mock.requests.length, before, `forwarded: ${f.mock.requests.slice(before).map((q) => `${q.method} ${q.url}`).join(', ')}`);
  assert.doesNotMatch(r.text, /HTTP\/1\.[01] 101/, 'a 101 was returned');
  assert.deepEqual(statusLines(r.text), [first], 'exactly one response per refused request (a second status line after the refusal desynchronizes the client)');
}

async function expectServing(f: Fixture): Promise<void> {
  const res = await fetch(`${f.url}/v1/models`);
  await res.arrayBuffer();
  assert.equal(res.status, 200, 'the gateway keeps serving');
}

describe('G-1.1 malformed framing: 400, connection closed, nothing forwarded', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f.close();
  });

  // [name, payload, allowed statuses]
  const cases: Array<[string, string, (readonly number[] | 'any-error')?]> = [
    ['Content-Length and Transfer-Encoding: chunked together', `${CHAT}Content-Length: ${LEN}\r\nTransfer-Encoding: chunked\r\n\r\n${LEN.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`],
    ['two identical Content-Length lines', `${CHAT}Content-Length: ${LEN}\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`],
    ['two different Content-Length lines', `${CHAT}Content-Length: ${LEN}\r\nContent-Length: 5\r\n\r\n${BODY}`],
    ['Content-Length list "5, 5"', `${CHAT}Content-Length: 5, 5\r\n\r\nhello`],
    ['Content-Length "+5"', `${CHAT}Content-Length: +5\r\n\r\nhello`],
    ['Content-Length "-1"', `${CHAT}Content-Length: -1\r\n\r\nhello`],
    ['empty Content-Length', `${CHAT}Content-Length: \r\n\r\nhello`],
    ['Content-Length " 5x"', `${CHAT}Content-Length:  5x\r\n\r\nhello`],
    ['Transfer-Encoding on two lines', `${CHAT}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['"Transfer-Encoding : chunked" (space before the colon)', `${CHAT}Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['obs-folded Transfer-Encoding', `${CHAT}Transfer-Encoding: \r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['Transfer-Encoding: gzip, chunked', `${CHAT}Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['Transfer-Encoding: chunked, gzip', `${CHAT}Transfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['Transfer-Encoding: identity', `${CHAT}Transfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['Transfer-Encoding: xchunked', `${CHAT}Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['NUL inside a header value', `${CHAT}X-Note: a\x00b\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`],
    ['empty header name (": x")', `${CHAT}: x\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`],
    ['header name with a space', `${CHAT}X Note: x\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`],
    ['bare CR line endings throughout', `POST /v1/chat/completions HTTP/1.1\rHost: gw.test\rContent-Type: application/json\rContent-Length: ${LEN}\r\r${BODY}`],
    ['one bare CR inside the head', `${CHAT}X-A: a\rX-B: b\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`],
    ['overflowing chunk size', `${CHAT}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n`],
    ['missing Host on HTTP/1.1', `POST /v1/chat/completions HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`],
    ['two Host headers', `${CHAT}Host: other.test\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`],
    ['Upgrade: h2c with HTTP2-Settings', 'GET /v1/models HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n'],
    ['Upgrade: h2c on the chat route', `${CHAT}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`],
    ['Upgrade: websocket', 'GET /v1/models HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'],
    ['CONNECT example.com:443', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 'any-error'],
    ['absolute-form target naming another host', 'GET http://evil.example/v1/models HTTP/1.1\r\nHost: evil.example\r\n\r\n'],
    ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: gw.test\r\n\r\n'],
    // The same "refused after the head, then the parser fails on the body" shape on an unknown route:
    // the route refusal (404) may come first, but it must stay the only answer.
    ['overflowing chunk size on an unregistered path', 'POST /nope HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n', [400, 404]],
  ];

  for (const [name, payload, allowed] of cases) {
    test(name, async () => {
      await expectRefused(f, payload, allowed ?? [400]);
    });
  }

  test('nothing at all reached the upstream, then a normal request still succeeds', async () => {
    await sleep(150);
    assert.deepEqual(f.mock.requests.map((q) => `${q.method} ${q.url}`), []);
    await expectServing(f);
    assert.equal(f.mock.requests.length, 1);
  });
});

describe('G-1.2 pipelined and smuggled requests do not escape the allowlist', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f.close();
  });

  const forwarded = (from: number) => f.mock.requests.slice(from).map((q) => `${q.method} ${q.url}`);
  const reachedShadow = () => f.mock.requests.filter((q) => /^\/(admin|debug)\b/.test(q.url)).map((q) => `${q.method} ${q.url}`);

  test('GET /debug pipelined after a valid GET /v1/models is not forwarded', async () => {
    const before = f.mock.requests.length;
    const r = await send(f, `${MODELS}${DEBUG}`, 1500);
    assert.equal(r.status, 200, 'the first, valid request is answered');
    const statuses = statusLines(r.text);
    assert.ok(statuses.length === 1 || /^HTTP\/1\.1 404/.test(statuses[1] ?? ''), `second answer: ${statuses[1]}`);
    await sleep(150);
    assert.deepEqual(forwarded(before), ['GET /v1/models']);
    assert.deepEqual(reachedShadow(), []);
  });

  test('GET /debug pipelined after a valid chat POST is not forwarded', async () => {
    const before = f.mock.requests.length;
    const r = await send(f, `${CHAT}Content-Length: ${LEN}\r\n\r\n${BODY}${DEBUG}`, 1500);
    assert.equal(r.status, 200);
    await sleep(150);
    assert.deepEqual(forwarded(before), ['POST /v1/chat/completions']);
    assert.deepEqual(reachedShadow(), []);
  });

  const hiddenLen = ADMIN.length;
  const smuggles: Array<[string, string]> = [
    // Front end uses Content-Length (body = "0\r\n\r\n" + hidden), back end chunked (hidden = next request).
    ['CL.TE', `${CHAT}Content-Length: ${5 + hiddenLen}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${ADMIN}`],
    // Front end uses chunked (hidden inside a chunk), back end Content-Length: 4.
    ['TE.CL', `${CHAT}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${hiddenLen.toString(16)}\r\n${ADMIN}\r\n0\r\n\r\n`],
    ['TE.TE (second, obfuscated Transfer-Encoding)', `${CHAT}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n${ADMIN}`],
    ['TE.CL with a tab before chunked', `${CHAT}Content-Length: 4\r\nTransfer-Encoding:\tchunked\r\n\r\n${hiddenLen.toString(16)}\r\n${ADMIN}\r\n0\r\n\r\n`],
    ['CL.CL (two lengths)', `${CHAT}Content-Length: 0\r\nContent-Length: ${hiddenLen}\r\n\r\n${ADMIN}`],
  ];
  for (const [name, payload] of smuggles) {
    test(`${name} smuggle towards /admin: refused, closed, /admin never reaches the upstream`, async () => {
      const before = f.mock.requests.length;
      const r = await send(f, payload);
      assert.equal(r.status, 400, statusLines(r.text)[0]);
      assert.ok(r.closed, 'connection closed');
      await sleep(150);
      assert.deepEqual(forwarded(before), []);
      assert.deepEqual(reachedShadow(), []);
    });
  }

  // CL.0: a back end that ignores Content-Length on GET (common in real servers) reads the body of
  // a forwarded GET as the next request on the gateway's upstream connection. The gateway must not
  // hand such a body to the upstream (refusing the request, or dropping the body, both qualify).
  test('CL.0: a hidden request in the body of a GET on a registered route never reaches the upstream', async () => {
    const before = f.mock.requests.length;
    await send(f, `GET /v1/models HTTP/1.1\r\nHost: gw.test\r\nContent-Length: ${hiddenLen}\r\n\r\n${ADMIN}`, 1500);
    await sleep(150);
    const bodies = f.mock.requests.slice(before).filter((q) => q.body.length > 0).map((q) => `${q.method} ${q.url} body=${JSON.stringify(q.body)}`);
    assert.deepEqual(bodies, [], 'a GET body was forwarded upstream');
    assert.deepEqual(reachedShadow(), []);
  });

  // RFC 9112 §9.6: after a response with `Connection: close` the server MUST NOT process further
  // requests on that connection. A request pipelined behind a refused one must not be forwarded:
  // "refused" in G-1.1 means nothing from that connection reached the upstream.
  const refusedHeads: Array<[string, string]> = [
    ['two Host headers', 'GET /v1/models HTTP/1.1\r\nHost: gw.test\r\nHost: other.test\r\n\r\n'],
    ['missing Host', 'GET /v1/models HTTP/1.1\r\n\r\n'],
    ['absolute-form target', 'GET http://evil.example/v1/models HTTP/1.1\r\nHost: evil.example\r\n\r\n'],
    ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: gw.test\r\n\r\n'],
    ['Host with userinfo', 'GET /v1/models HTTP/1.1\r\nHost: user@evil.example\r\n\r\n'],
    ['Upgrade: websocket', 'GET /v1/models HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'],
    ['duplicate Transfer-Encoding', `${CHAT}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ];
  for (const [name, head] of refusedHeads) {
    test(`a request pipelined behind a refused one (${name}) is not forwarded`, async () => {
      const before = f.mock.requests.length;
      const r = await send(f, `${head}${MODELS}`);
      assert.equal(r.status, 400, statusLines(r.text)[0]);
      assert.ok(r.closed, 'connection closed');
      await sleep(150);
      assert.deepEqual(forwarded(before), [], 'the pipelined request reached the upstream');
    });
  }

  test('the gateway still serves and nothing ever reached /admin or /debug', async () => {
    await expectServing(f);
    assert.deepEqual(reachedShadow(), []);
  });
});

describe('G-1.3 oversized heads: 431/400 or close, then the gateway keeps serving', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ server: { limits: { headerBytes: '16kb', headerCount: 100 } } });
  });
  after(async () => {
    await f.close();
  });

  async function expectOversizedRefused(payload: string): Promise<void> {
    const before = f.mock.requests.length;
    const r = await send(f, payload);
    // The server may reset the connection while we are still sending: then there is no status.
    assert.ok(r.status === undefined || r.status === 431 || r.status === 400, `status ${statusLines(r.text)[0]}`);
    assert.ok(r.closed, 'connection closed');
    assert.ok(statusLines(r.text).length <= 1, 'at most one response');
    assert.equal(f.mock.requests.length, before, 'nothing forwarded');
    // A new connection right after is served normally.
    await expectServing(f);
  }

  test('17 KiB of request headers', async () => {
    await expectOversizedRefused(`GET /v1/models HTTP/1.1\r\nHost: gw.test\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
  });

  test('17 KiB of headers on the chat route, with a body', async () => {
    await expectOversizedRefused(`${CHAT}X-Big: ${'a'.repeat(17 * 1024)}\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`);
  });

  test('5,000 header lines', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    await expectOversizedRefused(`GET /v1/models HTTP/1.1\r\nHost: gw.test\r\n${lines}\r\n`);
  });
});

describe('G-1.3 header count alone (byte limit raised): 5,000 short lines are still refused', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ server: { limits: { headerBytes: '128kb', headerCount: 100 } } });
  });
  after(async () => {
    await f.close();
  });

  test('5,000 header lines under a 128 KiB byte limit get 431/400 or close, then a normal request succeeds', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const r = await send(f, `GET /v1/models HTTP/1.1\r\nHost: gw.test\r\n${lines}\r\n`);
    assert.ok(r.status === undefined || r.status === 431 || r.status === 400, `status ${statusLines(r.text)[0]}`);
    assert.ok(r.closed, 'connection closed');
    assert.equal(f.mock.requests.length, 0, 'nothing forwarded');
    await expectServing(f);
  });
});

test('G-1.2 no response anywhere in this file was a 101', () => {
  assert.ok(transcripts.length > 40, `only ${transcripts.length} transcripts recorded`);
  for (const t of transcripts) assert.doesNotMatch(t, /HTTP\/1\.[01] 101/);
});
