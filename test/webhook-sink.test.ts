import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createEventBus } from '../src/events/bus.js';
import { buildEvent, type EventInput, type SecurityEvent } from '../src/events/event.js';
import { createWebhookSink, verifyWebhookSignature, type WebhookSinkOptions } from '../src/events/sinks/webhook-sink.js';

const SECRET = 'test-webhook-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'bulwark-webhook-'));
let fileNo = 0;
const queueFile = () => join(dir, `queue-${fileNo++}.db`);

type Mode = number | 'hang' | ((n: number) => number);

interface Delivery {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  events: SecurityEvent[];
  signatureOk: boolean;
}

interface Receiver {
  url: string;
  mode: Mode;
  deliveries: Delivery[];
  /** Events of the deliveries answered 2xx: what the receiver accepted. */
  accepted(): SecurityEvent[];
  close(): Promise<void>;
}

async function receiver(mode: Mode): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const hanging = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const r: Receiver = {
    url: '',
    mode,
    deliveries,
    accepted: () => deliveries.filter((d) => d.status >= 200 && d.status < 300).flatMap((d) => d.events),
    async close() {
      for (const res of hanging) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      const signatureOk = verifyWebhookSignature(SECRET, req.headers['x-bulwark-timestamp'] as string | undefined, raw, req.headers['x-bulwark-signature'], 300);
      const m = r.mode;
      if (m === 'hang') { hanging.add(res); return; }
      const status = typeof m === 'function' ? m(deliveries.length) : m;
      deliveries.push({ status, headers: req.headers, body, events: (JSON.parse(body) as { events: SecurityEvent[] }).events, signatureOk });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/bulwark?token=should-not-leak`;
  return r;
}

/** Small timings so the tests run in well under a second each on an idle machine. */
const FAST: Partial<WebhookSinkOptions> = {
  secret: SECRET, batchSize: 8, batchDelayMs: 20, flushMs: 5, initialBackoffMs: 30, maxBackoffMs: 120,
  pollMs: 50, closeTimeoutMs: 300, timeoutMs: 2000,
};

function ev(n: number, action: EventInput['action'] = 'prompt.injection'): SecurityEvent {
  return buildEvent({ action, severity: 'high', sourceIp: '10.0.0.9', requestId: `req-${n}`, details: { n } });
}

function idOf(e: SecurityEvent): string {
  return String((e.event as { id?: unknown }).id);
}

async function until(cond: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('webhook sink', () => {
  it('receiver down, gateway restarted in between, receiver up: every event arrives once (by id), signed', async (t) => {
    const rx = await receiver(503);
    t.after(() => rx.close());
    const path = queueFile();
    const failures: EventInput[] = [];
    const opts = { ...FAST, url: rx.url, queuePath: path, maxAttempts: 1000, emit: (i: EventInput) => failures.push(i) };
    const first = createWebhookSink(opts);
    t.after(() => first.close());
    assert.equal(first.queueKind, 'sqlite');
    const written = Array.from({ length: 20 }, (_, i) => ev(i));
    for (const e of written) first.write(e, JSON.stringify(e));
    await until(() => rx.deliveries.length >= 3, 15_000, 'failed attempts');
    assert.deepEqual({ queued: first.stats().queued, delivered: first.stats().delivered }, { queued: 20, delivered: 0 });
    const idsWhileDown = new Set(rx.deliveries.flatMap((d) => d.events.map(idOf)));
    await first.close(); // "gateway restart" while the receiver is still down

    const second = createWebhookSink(opts);
    t.after(() => second.close());
    assert.equal(second.stats().queued, 20, 'resumed from the file');
    rx.mode = 200;
    await until(() => new Set(rx.accepted().map(idOf)).size >= 20, 15_000, '20 distinct ids');
    await sleep(300); // time for a duplicate to show up, if there were one
    const accepted = rx.accepted();
    const ids = accepted.map(idOf);
    assert.equal(new Set(ids).size, 20, 'distinct ids');
    assert.equal(ids.length, 20, 'none twice');
    for (const id of idsWhileDown) assert.ok(ids.includes(id), 'an event keeps its id across retries and the restart');
    // Every written event is there, content intact (plus its id).
    const byN = new Map(accepted.map((e) => [e.bulwark['n'], e]));
    for (const e of written) {
      const got = byN.get(e.bulwark['n']);
      assert.ok(got);
      // The event model gives every event its id; the sink delivers it unchanged.
      assert.match(got.event.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(got, e);
    }
    for (const d of rx.deliveries) {
      assert.ok(d.signatureOk, 'signature verifies');
      assert.match(String(d.headers['x-bulwark-signature']), /^sha256=[0-9a-f]{64}$/);
      assert.match(String(d.headers['x-bulwark-delivery']), /^[0-9a-f]{32}$/);
      assert.equal(d.headers['content-type'], 'application/json');
      assert.ok(d.events.length <= 8, 'batch size');
    }
    assert.deepEqual(failures, []);
    assert.deepEqual({ ...second.stats(), queued: second.stats().queued }, { queued: 0, dropped: 0, delivered: 20, failed: 0 });
    await second.close();
  });

  it('keeps an event.id the event model already set; a tampered body fails verification', async (t) => {
    const rx = await receiver(200);
    t.after(() => rx.close());
    const sink = createWebhookSink({ ...FAST, url: rx.url, queuePath: queueFile() });
    t.after(() => sink.close());
    const e = ev(1);
    (e.event as { id?: string }).id = 'evt-fixed-1';
    sink.write(e, JSON.stringify(e));
    await until(() => rx.accepted().length === 1, 15_000, 'delivery');
    assert.equal(idOf(rx.accepted()[0] as SecurityEvent), 'evt-fixed-1');
    const d = rx.deliveries[0] as Delivery;
    const ts = d.headers['x-bulwark-timestamp'] as string;
    assert.equal(verifyWebhookSignature(SECRET, ts, d.body, d.headers['x-bulwark-signature'], 300), true);
    assert.equal(verifyWebhookSignature(SECRET, ts, d.body.replace('evt-fixed-1', 'evt-fixed-2'), d.headers['x-bulwark-signature'], 300), false);
    await sink.close();
  });

  it('retries 429 and 5xx with backoff, batches, then delivers once', async (t) => {
    const rx = await receiver((n) => (n === 0 ? 429 : n === 1 ? 500 : 200));
    t.after(() => rx.close());
    const sink = createWebhookSink({ ...FAST, url: rx.url, queuePath: queueFile(), batchSize: 50 });
    t.after(() => sink.close());
    for (let i = 0; i < 120; i++) { const e = ev(i); sink.write(e, JSON.stringify(e)); }
    await until(() => rx.accepted().length >= 120, 15_000, '120 events');
    await sleep(200);
    assert.equal(rx.accepted().length, 120);
    assert.equal(new Set(rx.accepted().map(idOf)).size, 120);
    assert.deepEqual(rx.deliveries.slice(0, 3).map((d) => d.status), [429, 500, 200]);
    // The retried batch kept its delivery id.
    assert.equal(rx.deliveries[0]?.headers['x-bulwark-delivery'], rx.deliveries[2]?.headers['x-bulwark-delivery']);
    assert.ok(rx.deliveries.every((d) => d.events.length <= 50));
    await sink.close();
  });

  it('a 4xx gives up at once: alert.delivery_failed through emit, never queued back to the same webhook', async (t) => {
    const rx = await receiver(400);
    t.after(() => rx.close());
    const seen: SecurityEvent[] = [];
    // The real wiring: the sink's emit is the bus's emit, and the bus writes to the sink.
    let bus: ReturnType<typeof createEventBus> | undefined;
    const sink = createWebhookSink({ ...FAST, url: rx.url, queuePath: queueFile(), emit: (i) => bus?.emit(i) });
    t.after(() => sink.close());
    bus = createEventBus({ sinks: [sink] });
    const b2 = bus;
    t.after(() => b2.close());
    bus.subscribe((e) => seen.push(e), ['alert.delivery_failed']);
    for (let i = 0; i < 5; i++) bus.emit({ action: 'canary.leaked', severity: 'critical', details: { n: i } });
    await until(() => seen.length === 1, 15_000, 'alert.delivery_failed');
    await sleep(300);
    assert.equal(rx.deliveries.length, 1, 'one attempt, and the failure report was not sent to the failing webhook');
    assert.equal(seen.length, 1);
    const f = seen[0] as SecurityEvent;
    assert.equal(f.event.outcome, 'failure');
    assert.equal(f.bulwark.severity, 'high');
    assert.equal(f.bulwark['events'], 5);
    assert.equal(f.bulwark['status'], 400);
    assert.deepEqual(f.bulwark['ids'], rx.deliveries[0]?.events.map(idOf));
    assert.doesNotMatch(JSON.stringify(f), /should-not-leak|test-webhook-secret/);
    assert.deepEqual({ queued: sink.stats().queued, failed: sink.stats().failed }, { queued: 0, failed: 5 });
    await bus.close();
  });

  it('after the last retry: alert.delivery_failed with the attempts', async (t) => {
    const rx = await receiver(503);
    t.after(() => rx.close());
    const failures: EventInput[] = [];
    const sink = createWebhookSink({ ...FAST, url: rx.url, queuePath: queueFile(), maxAttempts: 3, emit: (i) => failures.push(i) });
    t.after(() => sink.close());
    const e = ev(7);
    sink.write(e, JSON.stringify(e));
    await until(() => failures.length === 1, 15_000, 'give up');
    await sleep(200);
    assert.equal(rx.deliveries.length, 3);
    assert.equal(failures[0]?.action, 'alert.delivery_failed');
    assert.match(failures[0]?.reason ?? '', /503; gave up after 3 attempts/);
    assert.equal(failures[0]?.details?.['attempts'], 3);
    assert.equal(sink.stats().queued, 0);
    await sink.close();
  });

  it('a receiver that never answers does not slow write; the queue stays bounded; close does not hang', async (t) => {
    const rx = await receiver('hang');
    t.after(() => rx.close());
    const sink = createWebhookSink({ ...FAST, url: rx.url, queuePath: queueFile(), maxQueue: 1000, timeoutMs: 30_000, closeTimeoutMs: 200 });
    t.after(() => sink.close());
    const e = ev(1);
    const line = JSON.stringify(e);
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) sink.write(e, line);
    const writeMs = performance.now() - t0;
    assert.ok(writeMs < 2000, `10k writes took ${writeMs.toFixed(1)} ms`);
    await sleep(200);
    const s = sink.stats();
    assert.ok(s.queued <= 1000, `queued ${s.queued}`);
    assert.ok(s.dropped >= 9000, `dropped ${s.dropped}`);
    const c0 = performance.now();
    await sink.close();
    assert.ok(performance.now() - c0 < 3000, 'close is bounded');
  });

  it('config reload: old and new sink on one file at once deliver every event exactly once', async (t) => {
    const rx = await receiver(200);
    t.after(() => rx.close());
    const path = queueFile();
    const a = createWebhookSink({ ...FAST, url: rx.url, queuePath: path, batchDelayMs: 100 });
    t.after(() => a.close());
    for (let i = 0; i < 50; i++) { const e = ev(i); a.write(e, JSON.stringify(e)); }
    const b = createWebhookSink({ ...FAST, url: rx.url, queuePath: path });
    t.after(() => b.close());
    for (let i = 50; i < 100; i++) { const e = ev(i); b.write(e, JSON.stringify(e)); }
    await a.close();
    await until(() => rx.accepted().length >= 100, 15_000, '100 events');
    await sleep(300);
    assert.equal(rx.accepted().length, 100);
    assert.equal(new Set(rx.accepted().map((x) => x.bulwark['n'])).size, 100);
    await b.close();
  });

  it('without better-sqlite3: an in-memory queue, said once on stderr, still delivers', async (t) => {
    const rx = await receiver(200);
    t.after(() => rx.close());
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true; }) as typeof process.stderr.write;
    let sink: ReturnType<typeof createWebhookSink>;
    try {
      sink = createWebhookSink({ ...FAST, url: rx.url, queuePath: queueFile(), loadDriver: () => { throw new Error('not installed'); } });
    } finally {
      process.stderr.write = write;
    }
    t.after(() => sink.close());
    assert.equal(sink.queueKind, 'memory');
    assert.equal(lines.filter((l) => /webhook queue is in memory only/.test(l)).length, 1);
    const e = ev(1);
    sink.write(e, JSON.stringify(e));
    await until(() => rx.accepted().length === 1, 15_000, 'delivery');
    await sink.close();
  });
});
