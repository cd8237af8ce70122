import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimatePromptTokens, loadTokenCounter, promptTexts, reservedOutputTokens } from './estimate.js';

describe('prompt token estimates', () => {
  it('load the tokenizer once and count plain text, special-token text included', async () => {
    const [a, b] = await Promise.all([loadTokenCounter(), loadTokenCounter()]);
    assert.equal(a, b, 'memoised');
    assert.equal(a('hello world'), 2);
    assert.ok(a('a<|endoftext|>b') > 3, 'special tokens in client text are plain text, not an error');
  });

  it('read every chat text: multi-part content, names, tool calls and results, tool definitions', async () => {
    const count = await loadTokenCounter();
    const plain = { model: 'm', messages: [{ role: 'user', content: 'What is the weather in Paris?' }] };
    const rich = {
      model: 'm',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', name: 'alice', content: [{ type: 'text', text: 'What is the weather in Paris?' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny, 21C' },
      ],
      tools: [{ type: 'function', function: { name: 'weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    };
    const texts = promptTexts('openai-chat', rich);
    for (const t of ['You are terse.', 'alice', 'What is the weather in Paris?', '{"city":"Paris"}', 'sunny, 21C']) assert.ok(texts.includes(t), t);
    assert.ok(texts.some((t) => t.includes('Current weather for a city')), 'tools are serialized');
    assert.ok(!texts.some((t) => t.includes('y.png')), 'image URLs are not prompt text');

    const p = estimatePromptTokens('openai-chat', plain, count);
    assert.equal(p, count('What is the weather in Paris?') + 3 + 3, 'text plus per-message and reply framing');
    const withTools = estimatePromptTokens('openai-chat', { ...plain, tools: rich.tools }, count);
    assert.ok(withTools > p + 10, `${withTools} > ${p} + 10`);
    assert.ok(estimatePromptTokens('openai-chat', rich, count) > withTools);
  });

  it('read Anthropic system blocks, tool_use inputs, tool_result contents and tools', async () => {
    const count = await loadTokenCounter();
    const body = {
      model: 'claude',
      max_tokens: 100,
      system: [{ type: 'text', text: 'Be kind.' }],
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'weather', input: { city: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'snowing' }] }] },
      ],
      tools: [{ name: 'weather', input_schema: { type: 'object' } }],
    };
    const texts = promptTexts('anthropic-messages', body);
    for (const t of ['Be kind.', 'Weather?', '{"city":"Oslo"}', 'snowing']) assert.ok(texts.includes(t), t);
    assert.ok(texts.some((t) => t.includes('input_schema')));
    assert.equal(promptTexts('anthropic-messages', { ...body, system: 'Be kind.' }).filter((t) => t === 'Be kind.').length, 1);
    assert.ok(estimatePromptTokens('anthropic-messages', body, count) >= 3 * 3 + 3);
  });

  it('count token-id arrays by their length', () => {
    const count = (t: string): number => t.length; // any counter: ids must not go through it
    assert.equal(estimatePromptTokens('openai-completions', { model: 'm', prompt: [1, 2, 3, 4] }, count), 4);
    assert.equal(estimatePromptTokens('openai-embeddings', { model: 'm', input: [[1, 2], [3, 4, 5]] }, count), 5);
    assert.equal(estimatePromptTokens('openai-embeddings', { model: 'm', input: ['ab', 'cde'] }, count), 5);
    assert.equal(estimatePromptTokens('openai-completions', { model: 'm', prompt: 'abcd' }, count), 4, 'no chat framing for completions');
    assert.deepEqual(promptTexts('openai-completions', { model: 'm', prompt: [1, 2] }), []);
  });

  it('estimate nothing for json/passthrough and never throw on odd shapes', () => {
    const count = (t: string): number => t.length;
    assert.deepEqual(promptTexts('json', { messages: [{ role: 'user', content: 'hi' }] }), []);
    assert.equal(estimatePromptTokens('passthrough', { prompt: 'hi' }, count), 0);
    const odd = { messages: [null, 7, 'x', { content: { nested: true } }, { content: [null, 3, { text: 5 }] }], tools: 'nope', system: 42, prompt: { a: 1 }, input: [{}, null] };
    for (const kind of ['openai-chat', 'anthropic-messages', 'openai-completions', 'openai-embeddings'] as const) {
      const n = estimatePromptTokens(kind, odd, count);
      assert.ok(Number.isInteger(n) && n >= 0, `${kind}: ${n}`);
    }
    const deep: Record<string, unknown> = { type: 'tool_result', content: [] };
    let cur = deep;
    for (let i = 0; i < 10_000; i++) {
      const next: Record<string, unknown> = { type: 'tool_result', content: [{ type: 'text', text: 'x' }] };
      (cur.content as unknown[]).push(next);
      cur = next;
    }
    assert.doesNotThrow(() => promptTexts('anthropic-messages', { messages: [{ role: 'user', content: [deep] }] }));
  });
});

describe('reserved output tokens', () => {
  it('take the request field, else the route cap, else 0; embeddings reserve none', () => {
    assert.equal(reservedOutputTokens('openai-chat', { max_tokens: 50 }, 1000), 50);
    assert.equal(reservedOutputTokens('openai-chat', { max_completion_tokens: 70 }, 1000), 70);
    assert.equal(reservedOutputTokens('openai-chat', { max_tokens: 50, max_completion_tokens: 70 }, 1000), 70, 'the larger of both');
    assert.equal(reservedOutputTokens('openai-chat', { max_tokens: null }, 1000), 1000);
    assert.equal(reservedOutputTokens('openai-chat', {}, 1000), 1000);
    assert.equal(reservedOutputTokens('openai-chat', { max_tokens: '50' }, undefined), 0);
    assert.equal(reservedOutputTokens('openai-completions', { max_completion_tokens: 70 }, 9), 9, 'only the kind\'s own fields count');
    assert.equal(reservedOutputTokens('anthropic-messages', { max_tokens: 0 }, 500), 0, 'an explicit 0 is the request\'s choice');
    assert.equal(reservedOutputTokens('openai-embeddings', { max_tokens: 50 }, 1000), 0);
    assert.equal(reservedOutputTokens('json', {}, 300), 300);
  });

  it('multiply by the answers asked for: chat n, completions the larger of n and best_of', () => {
    assert.equal(reservedOutputTokens('openai-chat', { max_tokens: 100, n: 4 }, 1000), 400);
    assert.equal(reservedOutputTokens('openai-chat', { n: 3 }, 1000), 3000, 'the route cap per answer');
    assert.equal(reservedOutputTokens('openai-chat', { max_tokens: 100, n: null }, 1000), 100);
    assert.equal(reservedOutputTokens('openai-completions', { max_tokens: 10, n: 2, best_of: 5 }, 1000), 50);
    assert.equal(reservedOutputTokens('anthropic-messages', { max_tokens: 10, n: 8 }, 1000), 10, 'Anthropic has no choices field');
  });
});

describe('bounded work on hostile text', () => {
  it('a long run without spaces is counted in pieces (linear, not quadratic)', async () => {
    const { boundedCounter } = await import('./estimate.js');
    const lengths: number[] = [];
    const c = boundedCounter((t) => (lengths.push(t.length), t.length));
    assert.equal(c(`hello ${'q'.repeat(100)} world`), 112);
    assert.ok(Math.max(...lengths) <= 32, `no piece over 32 characters: ${lengths.join(',')}`);
    assert.ok(lengths.filter((l) => l === 32).length >= 3, 'the run is cut into 32-character pieces');
  });

  it('a per-request counter tokenizes a bounded number of characters and extrapolates the rest', async () => {
    const { budgetedCounter } = await import('./estimate.js');
    let exact = 0;
    const c = budgetedCounter((t) => ((exact += t.length), Math.ceil(t.length / 2)), 100);
    assert.equal(c('a'.repeat(60)), 30);
    assert.equal(c('a'.repeat(100)), 20 + 30, '40 exact (20 tokens) + 60 at the rate seen (0.5)');
    assert.equal(c('a'.repeat(1000)), 500);
    assert.equal(exact, 100, 'never more than the budget tokenized exactly');
  });
});
