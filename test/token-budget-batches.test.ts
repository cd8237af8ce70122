import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { startFixture } from './helpers/fixture.js';
import { llmRoute, postJson, promptEstimate, spent, spentSettled } from './helpers/budget.js';
import { startScriptedUpstream } from './helpers/scripted-upstream.js';

// Red-team review 2, point 2: token budgets that cannot be bypassed.
const budget = (tokens: number) => [{ by: 'identity' as const, tokens, per: '1m' }];

/** A completions upstream that, like OpenAI and vLLM, answers each prompt of a batch with its own choice at the full cap. */
async function batchUpstream(): Promise<{ url: string; billed: () => number; requests: number; close(): Promise<void> }> {
  let billed = 0;
  let requests = 0;
  const up = await startScriptedUpstream(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { prompt: unknown; max_tokens: number };
    requests++;
    const prompts = Array.isArray(body.prompt) && body.prompt.length > 0 && typeof body.prompt[0] !== 'number' ? body.prompt.length : 1;
    const completion = prompts * body.max_tokens;
    billed += prompts + completion;
    const text = JSON.stringify({ id: 'c', object: 'text_completion', choices: Array.from({ length: prompts }, (_, i) => ({ index: i, text: 'x', finish_reason: 'length' })), usage: { prompt_tokens: prompts, completion_tokens: completion, total_tokens: prompts + completion } });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  });
  return { url: up.url, billed: () => billed, get requests() { return requests; }, close: up.close };
}

describe('token budgets: prompt batches and upstream timeouts', () => {
  it('a completions prompt batch (20 prompts) multiplies the reservation: a 1,000-token budget does not spend 2,000 in one request', async () => {
    const up = await batchUpstream();
    const f = await startFixture({ upstreams: { llm: { url: up.url } }, routes: [llmRoute('completions', '/v1/completions', 'openai-completions', { input: { maxTokens: 100 }, rateLimit: budget(1000) })] });
    try {
      const body = { model: 'm', prompt: Array.from({ length: 20 }, () => 'hi') };
      const r = await postJson(`${f.url}/v1/completions`, JSON.stringify(body));
      assert.equal(r.status, 429, `a 20-prompt batch at cap 100 reserves 2,000 > 1,000; got ${r.status}, upstream billed ${up.billed()}`);
      assert.equal(up.requests, 0, 'nothing forwarded');
      const small = { model: 'm', prompt: ['hi', 'hi', 'hi'] };
      const ok = await postJson(`${f.url}/v1/completions`, JSON.stringify(small));
      assert.equal(ok.status, 200, ok.text);
      assert.equal(await spentSettled(f.gw.store, 'completions', up.billed()), up.billed());
    } finally {
      await f.close();
      await up.close();
    }
  });

  it('an upstream that times out before its answer head (the model may still be generating) is settled at the reservation, not refunded', async () => {
    const held: http.ServerResponse[] = [];
    const up = await startScriptedUpstream((req, res) => {
      req.resume();
      held.push(res); // generating for longer than the gateway waits
    });
    const f = await startFixture({
      upstreams: { llm: { url: up.url, timeout: '300ms' } },
      routes: [llmRoute('chat', '/v1/chat/completions', 'openai-chat', { input: { maxTokens: 100 }, rateLimit: budget(1000) })],
    });
    try {
      const body = { model: 'm', messages: [{ role: 'user', content: 'Write a long essay.' }] };
      const reservation = (await promptEstimate('openai-chat', body)) + 100;
      const r = await postJson(`${f.url}/v1/chat/completions`, JSON.stringify(body));
      assert.equal(r.status, 504, r.text);
      assert.equal(held.length, 1, 'the request reached the upstream');
      assert.equal(await spentSettled(f.gw.store, 'chat', reservation), reservation, `settled at ${await spent(f.gw.store, 'chat')}: a timed-out request costs nothing, so it may be repeated without end`);
    } finally {
      await f.close();
      await up.close();
    }
  });
});

describe('input.maxTokens where the gateway cannot set the cap', () => {
  for (const kind of ['json', 'openai-embeddings'] as const) {
    it(`on a ${kind} route is a config error (the budget would reserve a cap nobody sets upstream)`, async () => {
      const { parseConfigText } = await import('../src/config/load.js');
      const yaml = `version: 1\nupstreams: { llm: { url: "http://127.0.0.1:9" } }\nroutes:\n  - name: r\n    match: { methods: [POST], path: /v1/responses }\n    kind: ${kind}\n    auth: { public: true }\n    input: { maxTokens: 100 }\n    rateLimit: [{ by: ip, tokens: 1000, per: 1m }]\n`;
      assert.throws(() => parseConfigText(yaml, 'bulwark.yaml'), /maxTokens needs a route kind whose output cap the gateway sets/);
    });
  }
});
