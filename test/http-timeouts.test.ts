/**
 * G-9 over real sockets, with small limits: connections that do not finish their head within
 * headersTimeout are closed (also ones that never send a byte), a stalled body gets 408 or a
 * close within requestTimeout and is never forwarded, and 200 half-open connections do not stop
 * another client from being served.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startFixture, type Fixture } from './helpers/fixture.js';
import { canBind, holdConnections, rawUntilClose, sleep, statusLines } from './helpers/raw-socket.js';

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const GRACE_MS = 3000;
const HEAD_PREFIX = 'POST /v1/chat/completions HTTP/1.1\r\nHost: gw.test\r\n';

describe('G-9.1 / G-9.2 timeouts (headersTimeout 1 s, requestTimeout 2 s)', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ server: { limits: { headersTimeout: `${HEADERS_TIMEOUT_MS}ms`, requestTimeout: `${REQUEST_TIMEOUT_MS}ms` } } });
  });
  after(async () => {
    await f.close();
  });

  function assertClosedWithin(r: { closed: boolean; elapsedMs: number; text: string }, boundMs: number, what: string) {
    assert.ok(r.closed, `${what}: still open after ${Math.round(r.elapsedMs)} ms`);
    assert.ok(r.elapsedMs <= boundMs, `${what}: closed after ${Math.round(r.elapsedMs)} ms, bound ${boundMs} ms`);
    const statuses = statusLines(r.text);
    assert.ok(statuses.length <= 1, `at most one response: ${statuses.join(' | ')}`);
    if (statuses.length === 1) assert.match(statuses[0] ?? '', /^HTTP\/1\.1 (408|400)/);
  }

  test('a connection that never sends a byte is closed within headersTimeout + 3 s', async () => {
    const bound = HEADERS_TIMEOUT_MS + GRACE_MS;
    const r = await rawUntilClose(f.port, '', bound + 1000);
    assertClosedWithin(r, bound, 'idle connection');
  });

  test('a partial request head that stalls is closed within headersTimeout + 3 s', async () => {
    const bound = HEADERS_TIMEOUT_MS + GRACE_MS;
    const r = await rawUntilClose(f.port, HEAD_PREFIX, bound + 1000);
    assertClosedWithin(r, bound, 'partial head');
    assert.equal(f.mock.requests.length, 0);
  });

  test('a head trickled one header line every 200 ms (slowloris) is closed within headersTimeout + 3 s', async () => {
    const bound = HEADERS_TIMEOUT_MS + GRACE_MS;
    const started = performance.now();
    const socket = net.connect(f.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - started)));
    let i = 0;
    const timer = setInterval(() => {
      if (socket.writable) socket.write(i++ === 0 ? HEAD_PREFIX : `X-Slow-${i}: ${'a'.repeat(10)}\r\n`);
    }, 200);
    const timeout = sleep(bound + 1000).then(() => -1);
    const elapsed = await Promise.race([closed, timeout]);
    clearInterval(timer);
    socket.destroy();
    assert.ok(elapsed >= 0, `slowloris connection still open after ${bound + 1000} ms`);
    assert.ok(elapsed <= bound, `closed after ${Math.round(elapsed)} ms, bound ${bound} ms`);
    assert.equal(f.mock.requests.length, 0);
  });

  test('a body that stalls after 10 of 100 bytes gets 408 or is closed within requestTimeout + 3 s, and nothing is forwarded', async () => {
    const bound = REQUEST_TIMEOUT_MS + GRACE_MS;
    const head = `${HEAD_PREFIX}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
    const r = await rawUntilClose(f.port, `${head}{"model":"`, bound + 1000);
    assertClosedWithin(r, bound, 'stalled body');
    if (r.status !== undefined) assert.equal(r.status, 408);
    await sleep(100);
    assert.equal(f.mock.requests.length, 0, 'a partial body was forwarded');
  });

  test('a chunked body that stalls mid-chunk gets 408 or is closed within requestTimeout + 3 s, and nothing is forwarded', async () => {
    const bound = REQUEST_TIMEOUT_MS + GRACE_MS;
    const head = `${HEAD_PREFIX}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const r = await rawUntilClose(f.port, `${head}64\r\n{"model":"`, bound + 1000);
    assertClosedWithin(r, bound, 'stalled chunked body');
    await sleep(100);
    assert.equal(f.mock.requests.length, 0, 'a partial body was forwarded');
  });

  test('the gateway still serves afterwards', async () => {
    const res = await fetch(`${f.url}/v1/models`);
    await res.arrayBuffer();
    assert.equal(res.status, 200);
  });
});

describe('G-9.3 200 half-open connections do not starve another client', () => {
  let f: Fixture;
  // Longer timeouts here so that the 200 connections are certainly still held while we measure.
  before(async () => {
    f = await startFixture({ server: { limits: { headersTimeout: '10s', requestTimeout: '20s' } } });
  });
  after(async () => {
    await f.close();
  });

  test('while 200 partial heads are held open, GET /v1/models answers 200 within 2 s', async () => {
    // On Linux the held connections come from 127.0.0.2, the measured client from 127.0.0.1.
    const localAddress = process.platform === 'linux' && (await canBind('127.0.0.2')) ? '127.0.0.2' : undefined;
    const held = await holdConnections(f.port, 200, HEAD_PREFIX, localAddress);
    try {
      await sleep(100);
      assert.equal(held.closedCount(), 0, 'the held connections should still be open');
      const started = performance.now();
      const res = await fetch(`${f.url}/v1/models`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      const elapsed = performance.now() - started;
      assert.equal(res.status, 200);
      assert.ok(elapsed <= 2000, `answered after ${Math.round(elapsed)} ms`);
      assert.equal(held.closedCount(), 0, 'the connections were held for the whole measurement');
    } finally {
      held.destroyAll();
    }
    assert.deepEqual(f.mock.requests.map((q) => `${q.method} ${q.url}`), ['GET /v1/models']);
  });
});
