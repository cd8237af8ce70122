import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

type RouteInput = NonNullable<BulwarkConfigInput['routes']>[number];
const chat = (rateLimit: NonNullable<RouteInput['rateLimit']>, extra: Partial<RouteInput> = {}): RouteInput => ({
  name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, rateLimit, ...extra,
});
const post = async (f: Fixture, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
  const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody(body) });
  return { status: r.status, headers: r.headers, text: await r.text() };
};

describe('concurrency limits', () => {
  it('at most `concurrent` requests are in flight; slots come back when answers end', async () => {
    const f = await startFixture({ routes: [chat([{ by: 'ip', concurrent: 2 }])] }, { sseEvents: 10, sseDelayMs: 20 });
    try {
      const results = await Promise.all(Array.from({ length: 6 }, () => post(f, { stream: true })));
      assert.equal(results.filter((r) => r.status === 200).length, 2);
      assert.equal(f.mock.requests.length, 2);
      const refused = results.find((r) => r.status === 429);
      assert.equal(refused?.headers.get('ratelimit-policy'), '"c0";q=2;qu="concurrent-requests"');
      assert.equal(refused?.headers.get('retry-after'), '1');
      // Every slot was given back: a new burst gets two more through.
      const again = await Promise.all(Array.from({ length: 3 }, () => post(f, { stream: true })));
      assert.equal(again.filter((r) => r.status === 200).length, 2);
    } finally {
      await f.close();
    }
  });

  it('a request refused after taking its slot (failed authentication) gives it back', async () => {
    const f = await startFixture({
      auth: { apiKeys: {} },
      routes: [chat([{ by: 'ip', concurrent: 1 }], { auth: { any: ['apiKey'] } })],
    });
    try {
      for (let i = 0; i < 4; i++) assert.equal((await post(f, {}, { authorization: 'Bearer bwk_nope' })).status, 401);
    } finally {
      await f.close();
    }
  });

  it('a client that abandons a stream gives its slot back', async () => {
    const f = await startFixture({ routes: [chat([{ by: 'ip', concurrent: 1 }])] }, { sseEvents: 200, sseDelayMs: 10 });
    try {
      const ac = new AbortController();
      const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody({ stream: true }), signal: ac.signal });
      await (r.body as ReadableStream<Uint8Array>).getReader().read();
      assert.equal((await post(f)).status, 429, 'the stream holds the only slot');
      ac.abort();
      await f.mock.aborted;
      await new Promise((res) => setTimeout(res, 50));
      assert.equal((await post(f)).status, 200);
    } finally {
      await f.close();
    }
  });
});
