import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { chatBody, startFixture } from './helpers/fixture.js';
import { deferred, startScriptedUpstream } from './helpers/scripted-upstream.js';

// Requests waiting for an upstream connection are bounded in count and time (issue 12, point 8).
// The upstream here accepts connections and never answers, the case where undici's own queue
// (unbounded, and outside headersTimeout) used to hold every extra request for the whole
// upstream timeout. Timings are only upper bounds: the queue timeout is short, the upstream
// timeout long, and the test fails by its own deadline if the extra requests wait for the latter.

const CHAT = { name: 'chat', match: { methods: ['POST' as const], path: '/v1/chat/completions' }, kind: 'openai-chat' as const };

/** An upstream that records every request that reaches it and answers only when told to. */
async function hungUpstream() {
  const arrivals: string[] = [];
  const held: ServerResponse[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const up = await startScriptedUpstream((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const m = /"tag":"([^"]+)"/.exec(body);
      arrivals.push(m?.[1] ?? '?');
      held.push(res);
      for (const w of waiters.splice(0)) {
        if (arrivals.length >= w.n) w.resolve();
        else waiters.push(w);
      }
    });
  });
  return {
    url: up.url,
    arrivals,
    /** Answers the oldest held request. */
    release() {
      const res = held.shift();
      res?.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
    },
    arrived(n: number): Promise<void> {
      if (arrivals.length >= n) return Promise.resolve();
      const d = deferred();
      waiters.push({ n, resolve: d.resolve });
      return d.promise;
    },
    close: () => up.close(),
  };
}

function post(url: string, tag: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody({ tag }), ...(signal ? { signal } : {}),
  });
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** Polls a condition of the gateway's state (an upper bound, not a timing assert). */
async function until(pred: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function start(upstream: Record<string, unknown>, extra: Partial<BulwarkConfigInput> = {}) {
  const up = await hungUpstream();
  const f = await startFixture({ upstreams: { llm: { url: up.url, ...upstream } }, routes: [CHAT], ...extra });
  return { up, f, close: async () => { await f.close(); await up.close(); } };
}

type Problem = { code: string; status: number; error?: { type: string; code: string } };

describe('bounded upstream queue', () => {
  it('a hung upstream with 2 connections: of 40 requests 2 reach it, the rest get 503 UPSTREAM_BUSY with Retry-After and upstream.saturated, long before the upstream timeout', { timeout: 60_000 }, async () => {
    // Upstream timeout 60 s: an extra request that waits for it misses the 20 s deadline below.
    const t = await start({ connections: 2, timeout: '60s', queue: { max: 3, timeout: '300ms' } });
    const controllers = Array.from({ length: 40 }, () => new AbortController());
    const answered: Response[] = [];
    const enough = deferred();
    try {
      const all = controllers.map((c, i) => post(t.f.url, `r${i}`, c.signal).then((r) => {
        answered.push(r);
        if (answered.length === 38) enough.resolve();
      }, () => undefined));
      // The 38 that cannot get a connection are answered; the 2 admitted ones stay hung.
      await withDeadline(enough.promise, 20_000, '38 refusals');
      await withDeadline(t.up.arrived(2), 20_000, 'the admitted requests reaching the upstream');
      assert.equal(answered.length, 38, 'every request beyond connections + queue is answered within the deadline');
      const reasons: Record<string, number> = {};
      for (const r of answered) {
        assert.equal(r.status, 503);
        assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
        const retryAfter = Number(r.headers.get('retry-after'));
        assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After is whole seconds: ${r.headers.get('retry-after')}`);
        const body = (await r.json()) as Problem;
        assert.equal(body.code, 'UPSTREAM_BUSY');
        assert.equal(body.status, 503);
        assert.deepEqual(body.error && { type: body.error.type, code: body.error.code }, { type: 'api_error', code: 'upstream_busy' }, 'the OpenAI envelope');
      }
      const saturated = t.f.events.filter((e) => e.event.action === 'upstream.saturated');
      for (const e of saturated) reasons[e.event.reason ?? ''] = (reasons[e.event.reason ?? ''] ?? 0) + 1;
      // The first 3 to queue always time out (nothing frees); a request that reaches the gateway
      // after they left may queue and time out too on a slow machine, so only the sum is exact.
      assert.equal(saturated.length, 38, 'one upstream.saturated event per refusal');
      assert.deepEqual(Object.keys(reasons).filter((k) => k !== 'queue_full' && k !== 'queue_timeout'), []);
      assert.ok((reasons.queue_timeout ?? 0) >= 3, `queued requests time out: ${JSON.stringify(reasons)}`);
      assert.ok(saturated.every((e) => e.bulwark.upstream === 'llm' && e.bulwark.code === 'UPSTREAM_BUSY' && e.http?.response?.status_code === 503));
      assert.equal(t.up.arrivals.length, 2, `only the admitted requests reached the upstream: ${t.up.arrivals.join(',')}`);
      const scrape = await t.f.gw.metrics.metrics();
      assert.match(scrape, /^bulwark_blocks_total\{stage="\(gateway\)",code="UPSTREAM_BUSY"\} 38$/m, 'every refusal is counted');
      assert.match(scrape, /^bulwark_upstream_requests_active\{upstream="llm"\} 2$/m);
      assert.match(scrape, /^bulwark_upstream_queue_depth\{upstream="llm"\} 0$/m);
      for (const c of controllers) c.abort();
      await Promise.all(all);
    } finally {
      await t.close();
    }
  });

  it('a queued request is sent when a connection frees up, in arrival order; one whose client left is never sent', { timeout: 60_000 }, async () => {
    const t = await start({ connections: 1, timeout: '60s', queue: { max: 10, timeout: '30s' } });
    try {
      const gate = t.f.gw.runtime().routes[0]?.upstream.admission;
      assert.ok(gate);
      const first = post(t.f.url, 'first');
      await withDeadline(t.up.arrived(1), 20_000, 'first reaching the upstream');
      const gone = new AbortController();
      const second = post(t.f.url, 'second', gone.signal).catch((e: unknown) => e);
      await until(() => gate.queued === 1, 'second queued');
      const third = post(t.f.url, 'third');
      await until(() => gate.queued === 2, 'third queued');
      gone.abort();
      assert.ok((await second) instanceof Error);
      await until(() => gate.queued === 1, 'second leaving the queue');
      t.up.release();
      assert.equal((await withDeadline(first, 20_000, 'first')).status, 200);
      await withDeadline(t.up.arrived(2), 20_000, 'third reaching the upstream');
      t.up.release();
      assert.equal((await withDeadline(third, 20_000, 'third')).status, 200);
      assert.deepEqual(t.up.arrivals, ['first', 'third']);
      assert.equal(t.f.events.filter((e) => e.event.action === 'upstream.saturated').length, 0);
    } finally {
      await t.close();
    }
  });

  it('a request queued longer than queue.timeout gets 503 UPSTREAM_BUSY (queue_timeout) and is never sent', { timeout: 60_000 }, async () => {
    const t = await start({ connections: 1, timeout: '60s', queue: { max: 5, timeout: '200ms' } });
    try {
      const first = post(t.f.url, 'first').catch((e: unknown) => e);
      await withDeadline(t.up.arrived(1), 20_000, 'first reaching the upstream');
      const res = await withDeadline(post(t.f.url, 'second'), 20_000, 'second');
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as Problem).code, 'UPSTREAM_BUSY');
      assert.deepEqual(t.f.events.filter((e) => e.event.action === 'upstream.saturated').map((e) => e.event.reason), ['queue_timeout']);
      t.up.release();
      await first;
      assert.deepEqual(t.up.arrivals, ['first']);
    } finally {
      await t.close();
    }
  });

  it('queue.max 0 refuses at once when every connection is busy', { timeout: 60_000 }, async () => {
    const t = await start({ connections: 1, timeout: '60s', queue: { max: 0 } });
    try {
      const first = post(t.f.url, 'first').catch((e: unknown) => e);
      await withDeadline(t.up.arrived(1), 20_000, 'first reaching the upstream');
      const res = await withDeadline(post(t.f.url, 'second'), 20_000, 'second');
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as Problem).code, 'UPSTREAM_BUSY');
      assert.deepEqual(t.f.events.filter((e) => e.event.action === 'upstream.saturated').map((e) => e.event.reason), ['queue_full']);
      assert.deepEqual(t.up.arrivals, ['first']);
      t.up.release();
      await first;
    } finally {
      await t.close();
    }
  });

  it('server.limits.maxInflight: past it 503 GATEWAY_BUSY with Retry-After, nothing forwarded, /healthz still answers', { timeout: 60_000 }, async () => {
    const t = await start({ connections: 10, timeout: '60s' }, { server: { listen: '127.0.0.1:0', limits: { maxInflight: 3 } } });
    const aborts = Array.from({ length: 3 }, () => new AbortController());
    try {
      const held = aborts.map((a, i) => post(t.f.url, `held${i}`, a.signal).catch((e: unknown) => e));
      await withDeadline(t.up.arrived(3), 20_000, 'three requests reaching the upstream');
      for (let i = 0; i < 3; i++) {
        const res = await withDeadline(post(t.f.url, `extra${i}`), 20_000, `extra ${i}`);
        assert.equal(res.status, 503);
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
        const body = (await res.json()) as Problem;
        assert.equal(body.code, 'GATEWAY_BUSY');
        assert.equal(body.error?.code, 'gateway_busy');
      }
      const health = await fetch(`${t.f.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual([...t.up.arrivals].sort(), ['held0', 'held1', 'held2']);
      const ev = t.f.events.filter((e) => e.event.action === 'gateway.saturated');
      assert.equal(ev.length, 3);
      assert.ok(ev.every((e) => e.bulwark.code === 'GATEWAY_BUSY' && e.bulwark.limit === 3));
      for (const a of aborts) a.abort();
      await Promise.all(held);
    } finally {
      await t.close();
    }
  });
});
