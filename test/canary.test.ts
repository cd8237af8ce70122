import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { defineStage } from '../src/core/stage.js';
import { BUILTIN_STAGES } from '../src/gateway/builtin-stages.js';
import { canaryOf } from '../src/stages/input-guard/canary.js';
import { startFixture } from './helpers/fixture.js';

type RouteInput = NonNullable<BulwarkConfigInput['routes']>[number];

it('input.canary plants a fresh marker in the system prompt of each request and keeps it for the output phase', async () => {
  // An output-phase stage reading what the canary stage remembered (what output.canary builds on).
  const seenByOutput: Array<string | undefined> = [];
  const probe = defineStage({ name: 'canary-probe', build: () => ({ name: 'canary-probe', phase: 'inspect-request', onResponse: (ctx) => (seenByOutput.push(canaryOf(ctx)), undefined) }) });
  const routes: RouteInput[] = [
    { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, input: { canary: true } },
    { name: 'messages', match: { methods: ['POST'], path: '/v1/messages' }, kind: 'anthropic-messages', auth: { public: true }, input: { canary: true } },
  ];
  const f = await startFixture({ routes }, {}, [...BUILTIN_STAGES, probe]);
  try {
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${f.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return r.text();
    };
    const answer = await post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    await post('/v1/chat/completions', { model: 'm', messages: [{ role: 'system', content: 'You are a helpful bot.' }, { role: 'user', content: 'hi' }] });
    await post('/v1/messages', { model: 'm', max_tokens: 10, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] });

    const sent = f.mock.requests.map((r) => JSON.parse(r.body) as { messages: Array<{ role: string; content: string }>; system?: string });
    const first = sent[0]?.messages[0];
    assert.equal(first?.role, 'system', 'a system message is added when there is none');
    const tokens = [first?.content, sent[1]?.messages[0]?.content, sent[2]?.system].map((t) => /BWC-[0-9A-F]{16}/.exec(t ?? '')?.[0]);
    assert.ok(tokens.every((t) => t !== undefined), `planted in each: ${JSON.stringify(tokens)}`);
    assert.equal(new Set(tokens).size, 3, 'fresh per request');
    assert.match(sent[1]?.messages[0]?.content ?? '', /^You are a helpful bot\.\n\n/, 'appended to an existing system prompt');
    assert.match(sent[2]?.system ?? '', /^Be brief\.\n\n/);
    assert.equal(sent[1]?.messages.length, 2, 'no extra message when a system prompt exists');
    assert.deepEqual(seenByOutput, tokens, 'the output phase knows each request\'s canary');
    assert.ok(!answer.includes('BWC-'), 'the client never sees the canary');
  } finally {
    await f.close();
  }
});

it('a canary on a route kind without a system prompt is a config error', async () => {
  const { parseConfigText } = await import('../src/config/load.js');
  assert.throws(
    () => parseConfigText('version: 1\nupstreams: { llm: { url: "http://127.0.0.1:9" } }\nroutes:\n  - name: e\n    match: { methods: [POST], path: /v1/embeddings }\n    kind: openai-embeddings\n    input: { canary: true }\n', 'c.yaml'),
    /c\.yaml:7:\d+.*routes\[0\]\.input\.canary/s,
  );
});
