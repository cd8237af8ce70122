import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import type { Store } from '../src/stores/store.js';
import { chatPromptEstimate } from './helpers/budget.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

type RouteInput = NonNullable<BulwarkConfigInput['routes']>[number];
const chat = (rateLimit: NonNullable<RouteInput['rateLimit']>, extra: Partial<RouteInput> = {}): RouteInput => ({
  name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, rateLimit, ...extra,
});
const post = async (f: Fixture, body: Record<string, unknown> = {}) => {
  const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(body) });
  return { status: r.status, headers: r.headers, text: await r.text() };
};

/**
 * The tokens spent in a budget's window, read through the store contract: a zero spend under an
 * unreachable limit records nothing that counts and returns the window's total. The key is the
 * stage's layout (`tk:<route>:<rule>:<subject>`); an anonymous caller is counted by address.
 */
async function spent(store: Store, rule = 0, windowMs = 60_000): Promise<number> {
  return (await store.spend(`tk:chat:${rule}:ip:127.0.0.1`, 0, Number.MAX_SAFE_INTEGER, windowMs)).total;
}

/** Settling runs when the request is over, just after the client has its answer. */
async function spentSettled(store: Store, expected: number): Promise<number> {
  const until = Date.now() + 2000;
  let now = await spent(store);
  while (now !== expected && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
    now = await spent(store);
  }
  return now;
}

describe('LLM token budgets', () => {
  it('a JSON answer drains the budget by exactly its reported usage', async () => {
    const f = await startFixture({ routes: [chat([{ by: 'identity', tokens: 10_000, per: '1m' }])] });
    try {
      for (let i = 1; i <= 3; i++) {
        assert.equal((await post(f, { max_tokens: 500 })).status, 200);
        // The mock reports usage 12 + 9 = 21 per answer; the reservation (estimate + 500) is gone.
        assert.equal(await spentSettled(f.gw.store, 21 * i), 21 * i);
      }
    } finally {
      await f.close();
    }
  });

  it('a streamed answer drains the budget by exactly the usage of its final chunk', async () => {
    const f = await startFixture({ routes: [chat([{ by: 'identity', tokens: 10_000, per: '1m' }])] }, { sseEvents: 7, sseDelayMs: 2 });
    try {
      for (let i = 1; i <= 2; i++) {
        const r = await post(f, { stream: true, max_tokens: 300 });
        assert.equal(r.status, 200);
        assert.match(r.text, /\[DONE\]/);
        assert.equal(await spentSettled(f.gw.store, 19 * i), 19 * i, 'usage 12 + 7 per stream');
      }
    } finally {
      await f.close();
    }
  });

  it('reserves the estimate plus max_tokens before forwarding; a reservation that does not fit is refused and nothing is forwarded', async () => {
    const f = await startFixture({ routes: [chat([{ by: 'identity', tokens: 100, per: '1m' }])] });
    try {
      const r = await post(f, { max_tokens: 200 });
      assert.equal(r.status, 429);
      assert.equal(f.mock.requests.length, 0);
      assert.equal(r.headers.get('ratelimit-policy'), '"t0";q=100;w=60');
      assert.match(r.headers.get('ratelimit') ?? '', /^"t0";r=0;t=\d+$/);
      assert.equal(JSON.parse(r.text).code, 'RATE_LIMITED');
      const event = f.events.find((e) => e.event.action === 'ratelimit.exceeded');
      assert.equal(event?.bulwark.unit, 'tokens');
    } finally {
      await f.close();
    }
  });

  it('real usage, not the reservation, decides when the budget runs out', async () => {
    // Each request reserves its estimate (about 8) + max_tokens 20 = ~28, and really costs 21.
    // 72 tokens: counted by reservations only two would fit; counted by usage, three do
    // (21 + 21 + 28 <= 72) and the fourth (63 + 28) does not.
    const f = await startFixture({ routes: [chat([{ by: 'identity', tokens: 72, per: '1m' }])] });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await post(f, { max_tokens: 20 })).status);
        await spentSettled(f.gw.store, 21 * Math.min(i + 1, 3));
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      assert.equal(f.mock.requests.length, 3);
    } finally {
      await f.close();
    }
  });

  it('a request that never reaches a model costs nothing', async () => {
    const f = await startFixture((mockUrl) => ({
      upstreams: { llm: { url: mockUrl }, dead: { url: 'http://127.0.0.1:9', connectTimeout: '500ms' } },
      routes: [chat([{ by: 'identity', tokens: 10_000, per: '1m' }], { upstream: 'dead' })],
    }));
    try {
      const r = await post(f, { max_tokens: 1000 });
      assert.equal(r.status, 502);
      assert.equal(await spentSettled(f.gw.store, 0), 0, 'the reservation is given back');
    } finally {
      await f.close();
    }
  });

  it('a stream the client abandons, before any usage came, costs the whole reservation', async () => {
    // The upstream may have generated more than the client saw (hidden reasoning, text buffered
    // ahead): leaving mid-stream must not be a way to pay for the visible words only.
    const f = await startFixture({ routes: [chat([{ by: 'identity', tokens: 100_000, per: '1m' }])] }, { sseEvents: 200, sseDelayMs: 10 });
    try {
      const reservation = (await chatPromptEstimate({ stream: true, max_tokens: 5000 })) + 5000;
      const ac = new AbortController();
      const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody({ stream: true, max_tokens: 5000 }), signal: ac.signal });
      const reader = (r.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      ac.abort();
      await f.mock.aborted;
      assert.equal(await spentSettled(f.gw.store, reservation), reservation, 'the prompt estimate plus the 5000 reserved');
    } finally {
      await f.close();
    }
  });
});
