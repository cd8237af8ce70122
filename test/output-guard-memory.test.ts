import assert from 'node:assert/strict';
import { it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startFixture } from './helpers/fixture.js';
import { startScriptedUpstream } from './helpers/scripted-upstream.js';

// 50 MB of SSE through the redactor: memory stays flat (bounded hold-back, events released as
// soon as their text is final, backpressure to the upstream).
it('streams 50 MB through the redactor with flat memory', async (t) => {
  const event = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'All work and no play makes a dull answer, again and again. '.repeat(16) } }] })}\n\n`;
  const events = Math.ceil((50 * 1024 * 1024) / event.length);
  const up = await startScriptedUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < events; i++) {
      if (!res.write(event)) await new Promise((r) => res.once('drain', r));
    }
    res.end('data: [DONE]\n\n');
  });
  const f = await startFixture({
    upstreams: { llm: { url: up.url } },
    routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, output: { redact: ['secrets', 'pii'] } }],
  });
  try {
    // Live memory, not garbage not yet collected: sample the heap right after a full collection.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const live = () => (gc(), process.memoryUsage().heapUsed);
    const base = live();
    let peak = base;
    const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'go' }] }) });
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    let bytes = 0;
    let n = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      if (++n % 500 === 0) peak = Math.max(peak, live());
    }
    assert.ok(bytes >= 50 * 1024 * 1024, `${bytes} bytes arrived`);
    const grew = (peak - base) / 1024 / 1024;
    // The whole stream is 50 MB; a redactor that buffered it would grow by far more than this.
    t.diagnostic(`live heap grew by ${grew.toFixed(2)} MB while ${(bytes / 1024 / 1024).toFixed(0)} MB streamed`);
    assert.ok(grew < 16, `live heap grew by ${grew.toFixed(1)} MB while 50 MB streamed`);
  } finally {
    await f.close();
    await up.close();
  }
});
