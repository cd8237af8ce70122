import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatBody, startFixture } from './helpers/fixture.js';
import { deferred, startScriptedUpstream } from './helpers/scripted-upstream.js';

const CHAT = { name: 'chat', match: { methods: ['POST' as const], path: '/v1/chat/completions' }, kind: 'openai-chat' as const };

async function withUpstream(handler: Parameters<typeof startScriptedUpstream>[0], routeExtra: Record<string, unknown> = {}) {
  const up = await startScriptedUpstream(handler);
  const f = await startFixture({ upstreams: { llm: { url: up.url, timeout: '2s' } }, routes: [{ ...CHAT, ...routeExtra }] });
  return {
    f,
    post: (signal?: AbortSignal) =>
      fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody({ stream: true }), ...(signal ? { signal } : {}) }),
    async close() {
      await f.close();
      await up.close();
    },
  };
}

describe('streaming and upstream failures', () => {
  it('SSE passes through event by event: the first event reaches the client before the upstream finishes', async () => {
    const release = deferred();
    const t = await withUpstream(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"delta":{"content":"first"}}]}\n\n');
      await release.promise; // the upstream holds the rest until the client has seen the first event
      res.write('data: {"choices":[{"delta":{"content":"second"}}]}\n\n');
      res.end('data: [DONE]\n\n');
    });
    try {
      const res = await t.post();
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const first = await Promise.race([reader.read(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('first event was buffered')), 3000))]);
      assert.match(Buffer.from(first.value ?? []).toString(), /first/);
      release.resolve();
      let rest = '';
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        rest += Buffer.from(r.value).toString();
      }
      assert.match(rest, /second[\s\S]*\[DONE\]/);
    } finally {
      release.resolve();
      await t.close();
    }
  });

  it('a client that disconnects aborts the upstream request', async () => {
    const upstreamClosed = deferred();
    const t = await withUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write('data: {"choices":[{"delta":{"content":"x"}}]}\n\n'), 20);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed.resolve();
      });
    });
    try {
      const ac = new AbortController();
      const res = await t.post(ac.signal);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      ac.abort();
      await Promise.race([upstreamClosed.promise, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('upstream request was not aborted')), 3000))]);
    } finally {
      await t.close();
    }
  });

  it('multi-byte UTF-8 split across upstream writes arrives byte-exact', async () => {
    const text = Buffer.from('data: {"c":"héllo 日本語 🙂"}\n\n');
    const t = await withUpstream(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const b of text) {
        res.write(Buffer.from([b]));
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
    try {
      const res = await t.post();
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), text);
    } finally {
      await t.close();
    }
  });

  it('an upstream that does not answer in time gets 504 UPSTREAM_UNAVAILABLE and an upstream.error event', async () => {
    const t = await withUpstream(() => {
      /* never answers */
    }, { timeout: '300ms' });
    try {
      const res = await t.post();
      assert.equal(res.status, 504);
      const body = (await res.json()) as { code: string; error: { message: string } };
      assert.equal(body.code, 'UPSTREAM_UNAVAILABLE');
      assert.ok(body.error.message);
      assert.ok(t.f.events.some((e) => e.event.action === 'upstream.error' && e.http?.response?.status_code === 504));
    } finally {
      await t.close();
    }
  });

  it('an unreachable upstream gets 502 without leaking the address', async () => {
    const dead = await startScriptedUpstream(() => {});
    const url = dead.url;
    await dead.close();
    const f = await startFixture({ upstreams: { llm: { url, connectTimeout: '1s' } }, routes: [CHAT] });
    try {
      const res = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() });
      assert.equal(res.status, 502);
      const text = await res.text();
      assert.doesNotMatch(text, /127\.0\.0\.1|ECONNREFUSED/);
    } finally {
      await f.close();
    }
  });

  it('an upstream that dies mid-stream cuts the client connection instead of ending the answer cleanly', async () => {
    const t = await withUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"delta":{"content":"partial"}}]}\n\n');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    try {
      const res = await t.post();
      await assert.rejects(res.text());
      assert.ok(t.f.events.some((e) => e.event.action === 'upstream.error' && e.bulwark.phase === 'body'));
    } finally {
      await t.close();
    }
  });
});
