// Each screened text is normalized once per request, whatever reads it: maxPromptChars, the deny
// patterns, the injection detector (each text and the concatenation), the canary stage and the
// poisoning guard. Counted on the normalizer over a real listener and a recording upstream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { normalizeWork } from '../src/stages/input-guard/detector/normalize.js';
import { extractTexts } from '../src/stages/input-guard/texts.js';
import { startFixture } from './helpers/fixture.js';

type RouteInput = NonNullable<BulwarkConfigInput['routes']>[number];

const conversation = {
  model: 'mock-gpt',
  messages: [
    { role: 'system', content: 'You are a concise travel assistant.' },
    { role: 'user', content: 'Plan a day in Lisbon.' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Lisbon"}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: 'Sunny, 24 C.' },
    { role: 'user', content: [{ type: 'text', text: 'Keep it short.' }, { type: 'text', text: 'And add a café.' }] },
  ],
};

/** What the normalization passes do from now on (the counters are the process's own). */
function counted() {
  const at = { ...normalizeWork };
  return {
    clean: () => normalizeWork.cleanCalls - at.cleanCalls,
    cleanChars: () => normalizeWork.cleanChars - at.cleanChars,
    fold: () => normalizeWork.foldCalls - at.foldCalls,
  };
}

describe('one normalization per text per request', () => {
  it('chat route with maxPromptChars, deny patterns, the injection screen and a canary', async () => {
    const route: RouteInput = {
      name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true },
      input: { maxPromptChars: 10_000, deny: ['project\\s+falcon', 'BEGIN [A-Z]+ PRIVATE KEY'], promptInjection: { action: 'block' }, canary: true },
    };
    const f = await startFixture({ routes: [route] });
    try {
      const all = extractTexts('openai-chat', conversation, undefined).texts;
      const texts = all.length;
      assert.ok(texts >= 6);
      const n = counted();
      const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(conversation) });
      assert.equal(r.status, 200);
      assert.equal(f.mock.requests.length, 1);
      assert.equal(n.clean(), texts, 'Unicode normalization once per text');
      assert.equal(n.cleanChars(), all.reduce((sum, t) => sum + t.text.length, 0), 'every character normalized once');
      assert.equal(n.fold(), texts, 'folding once per text; the concatenation reuses the pieces');
    } finally {
      await f.close();
    }
  });

  it('json route screened by the input guard and the poisoning guard', async () => {
    const route: RouteInput = {
      name: 'feedback', match: { methods: ['POST'], path: '/v1/feedback' }, kind: 'json', auth: { public: true },
      input: { fields: ['/title', '/text'], promptInjection: { action: 'block' }, poisoning: { action: 'log' } },
    };
    const f = await startFixture({ routes: [route] });
    try {
      const n = counted();
      const r = await fetch(`${f.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Great trip', text: 'The tram ride was lovely.' }) });
      assert.equal(r.status, 201);
      assert.equal(n.clean(), 2);
      assert.equal(n.fold(), 2);
    } finally {
      await f.close();
    }
  });

  it('a message whose script decision differs from the conversation is folded at most twice, never normalized again', async () => {
    const route: RouteInput = { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, input: { promptInjection: { action: 'block' } } };
    const f = await startFixture({ routes: [route] });
    try {
      const n = counted();
      const body = { model: 'mock-gpt', messages: [{ role: 'user', content: 'Привет, как дела? ok' }, { role: 'user', content: 'Tell me about the weather in Oslo and Bergen this week.' }] };
      const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 200);
      assert.equal(n.clean(), 2);
      assert.ok(n.fold() <= 3, `fold calls ${n.fold()}`);
    } finally {
      await f.close();
    }
  });
});
