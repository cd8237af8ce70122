import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { startFixture, type Fixture } from './helpers/fixture.js';
import { startGreedyLlm, type GreedyLlm, type GreedyLlmOptions } from './helpers/greedy-llm.js';
import { CHAT_PATH, chatPromptEstimate, llmRoute, postChat, postJson, promptEstimate, spent, spentSettled, sseData, type RouteInput } from './helpers/budget.js';

/** A gateway in front of the greedy upstream (which spends every token it is allowed). */
async function gatewayOverGreedy(routes: RouteInput[], options: GreedyLlmOptions = {}, extra: Partial<BulwarkConfigInput> = {}): Promise<{ f: Fixture; llm: GreedyLlm; close(): Promise<void> }> {
  const llm = await startGreedyLlm(options);
  const f = await startFixture({ upstreams: { llm: { url: llm.url } }, routes, ...extra }).catch(async (err: unknown) => {
    await llm.close();
    throw err;
  });
  return { f, llm, close: async () => {
    await f.close();
    await llm.close();
  } };
}

const budget = (tokens: number): NonNullable<RouteInput['rateLimit']> => [{ by: 'identity', tokens, per: '1m' }];

describe('an output cap the client cannot leave out', () => {
  it('a chat request without max_tokens, or with null, reaches the upstream capped at input.maxTokens, in the route\'s field', async () => {
    const g = await gatewayOverGreedy([
      llmRoute('chat', CHAT_PATH, 'openai-chat', { input: { maxTokens: 100 } }),
      llmRoute('reasoning', '/v1/o/chat/completions', 'openai-chat', { input: { maxTokens: 100, maxTokensField: 'max_completion_tokens' } }),
    ]);
    try {
      for (const extra of [{}, { max_tokens: null }, { max_completion_tokens: null }, { max_tokens: null, max_completion_tokens: null }]) {
        assert.equal((await postChat(g.f.url, extra)).status, 200);
        const sent = g.llm.exchanges.at(-1)!.body;
        const caps = [sent.max_tokens, sent.max_completion_tokens].filter((v) => v !== undefined);
        assert.deepEqual(caps, [100], `${JSON.stringify(extra)} forwarded as ${JSON.stringify(sent)}`);
      }
      assert.equal(g.llm.exchanges[0]!.body.max_tokens, 100, 'the default field is max_tokens');
      assert.equal(g.llm.exchanges[2]!.body.max_completion_tokens, 100, 'the field the client named keeps the cap');
      assert.equal((await postChat(g.f.url, {}, '/v1/o/chat/completions')).status, 200);
      assert.equal(g.llm.exchanges.at(-1)!.body.max_completion_tokens, 100, 'input.maxTokensField names the field');
      assert.equal((await postChat(g.f.url, { max_tokens: 40 })).status, 200);
      assert.equal(g.llm.exchanges.at(-1)!.body.max_tokens, 40, 'a cap under the limit is forwarded as sent');
    } finally {
      await g.close();
    }
  });

  it('completions and Anthropic messages without a cap reach the upstream capped at input.maxTokens', async () => {
    const g = await gatewayOverGreedy([
      llmRoute('completions', '/v1/completions', 'openai-completions', { input: { maxTokens: 100 } }),
      llmRoute('messages', '/v1/messages', 'anthropic-messages', { input: { maxTokens: 100 } }),
    ]);
    try {
      assert.equal((await postJson(`${g.f.url}/v1/completions`, JSON.stringify({ model: 'm', prompt: 'Say hi', max_tokens: null }))).status, 200);
      assert.equal(g.llm.exchanges.at(-1)!.body.max_tokens, 100);
      const messages = [{ role: 'user', content: 'Say hi' }];
      for (const body of [{ model: 'claude', messages }, { model: 'claude', messages, max_tokens: null }]) {
        const r = await postJson(`${g.f.url}/v1/messages`, JSON.stringify(body));
        assert.equal(r.status, 200, r.text);
        assert.equal(g.llm.exchanges.at(-1)!.body.max_tokens, 100);
      }
      assert.equal(g.llm.exchanges.length, 3);
    } finally {
      await g.close();
    }
  });

  it('another server\'s length field that would override the cap is refused, nothing forwarded', async () => {
    const g = await gatewayOverGreedy([llmRoute('chat', CHAT_PATH, 'openai-chat', { input: { maxTokens: 100 } })]);
    try {
      for (const extra of [{ n_predict: -1 }, { max_tokens: 10, max_new_tokens: 4000 }, { options: { num_predict: -1 } }]) {
        const r = await postChat(g.f.url, extra);
        assert.equal(r.status, 400, JSON.stringify(extra));
        assert.equal(r.json().code, 'INVALID_INPUT');
      }
      assert.equal(g.llm.exchanges.length, 0);
    } finally {
      await g.close();
    }
  });

  it('a budget of 1,000 tokens is never overspent by requests that leave the cap out', async () => {
    const g = await gatewayOverGreedy([llmRoute('chat', CHAT_PATH, 'openai-chat', { input: { maxTokens: 100 }, rateLimit: budget(1000) })]);
    try {
      const reservation = (await chatPromptEstimate()) + 100;
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        statuses.push((await postChat(g.f.url)).status);
        await spentSettled(g.f.gw.store, 'chat', g.llm.billed());
      }
      assert.ok(statuses.includes(200) && statuses.includes(429), `statuses ${statuses.join(',')}`);
      assert.ok(g.llm.billed() <= 1000, `billed ${g.llm.billed()} for a budget of 1000 (reservation ${reservation})`);
      assert.equal(await spent(g.f.gw.store, 'chat'), g.llm.billed(), 'the budget holds exactly what the upstream billed');
    } finally {
      await g.close();
    }
  });
});

describe('an answer the gateway refuses still cost what the model ran', () => {
  it('an answer blocked by output redaction, without usage, is settled at the reservation', async () => {
    const route = llmRoute('chat', CHAT_PATH, 'openai-chat', { input: { maxTokens: 100 }, rateLimit: budget(10_000), output: { redact: ['pii'], onMatch: 'block' } });
    const g = await gatewayOverGreedy([route], { withholdUsage: true, text: 'Write to jane.doe@example.com today' });
    try {
      const reservation = (await chatPromptEstimate()) + 100;
      const r = await postChat(g.f.url);
      assert.equal(r.json().code, 'OUTPUT_BLOCKED', r.text);
      assert.equal(g.llm.exchanges.length, 1, 'the model ran');
      assert.equal(await spentSettled(g.f.gw.store, 'chat', reservation), reservation);
    } finally {
      await g.close();
    }
  });
});

describe('usage that is not final is not the cost', () => {
  it('an Anthropic stream whose final count never comes is settled at the reservation, not at message_start\'s placeholder', async () => {
    const g = await gatewayOverGreedy([llmRoute('messages', '/v1/messages', 'anthropic-messages', { input: { maxTokens: 100 }, rateLimit: budget(10_000) })], { withholdUsage: 'final' });
    try {
      const body = { model: 'claude', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Say hi' }] };
      const reservation = (await promptEstimate('anthropic-messages', body)) + 100;
      assert.equal((await postJson(`${g.f.url}/v1/messages`, JSON.stringify(body))).status, 200);
      assert.equal(await spentSettled(g.f.gw.store, 'messages', reservation), reservation);
    } finally {
      await g.close();
    }
  });
});

describe('fields that multiply the output multiply the reservation', () => {
  it('n above input.maxChoices (default 1 on chat) is refused with 400 INVALID_INPUT, nothing forwarded', async () => {
    const g = await gatewayOverGreedy([llmRoute('chat', CHAT_PATH, 'openai-chat', { input: { maxTokens: 100 }, rateLimit: budget(1000) })]);
    try {
      const r = await postChat(g.f.url, { n: 64 });
      assert.equal(r.status, 400);
      assert.equal(r.json().code, 'INVALID_INPUT');
      assert.match(String(r.json().detail), /n must be at most 1/);
      assert.equal((await postChat(g.f.url, { n: '64' })).status, 400, 'n must be an integer, not a string a lax upstream would coerce');
      assert.equal(g.llm.exchanges.length, 0);
      assert.equal((await postChat(g.f.url, { n: 1 })).status, 200);
      assert.equal((await postChat(g.f.url, { n: null })).status, 200);
      const event = g.f.events.find((e) => e.event.action === 'input.invalid');
      assert.equal(event?.event.reason, 'max_choices');
    } finally {
      await g.close();
    }
  });

  it('n: 64 inside a 1,000-token budget does not spend 6,400: the reservation is the cap times n', async () => {
    const g = await gatewayOverGreedy([llmRoute('chat', CHAT_PATH, 'openai-chat', { input: { maxTokens: 100, maxChoices: 64 }, rateLimit: budget(1000) })]);
    try {
      const r = await postChat(g.f.url, { n: 64 });
      assert.equal(r.status, 429);
      assert.equal(g.llm.exchanges.length, 0, 'a reservation of 64 x 100 never fits 1,000');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await postChat(g.f.url, { n: 4, max_tokens: 100 })).status);
        await spentSettled(g.f.gw.store, 'chat', g.llm.billed());
      }
      assert.deepEqual(statuses, [200, 200, 429, 429]);
      assert.ok(g.llm.billed() <= 1000, `billed ${g.llm.billed()}`);
    } finally {
      await g.close();
    }
  });

  it('completions best_of multiplies like n, and is bounded by input.maxChoices', async () => {
    const g = await gatewayOverGreedy([llmRoute('completions', '/v1/completions', 'openai-completions', { input: { maxTokens: 100, maxChoices: 4 }, rateLimit: budget(1000) })]);
    try {
      const post = (extra: Record<string, unknown>) => postJson(`${g.f.url}/v1/completions`, JSON.stringify({ model: 'm', prompt: 'Say hi', ...extra }));
      assert.equal((await post({ best_of: 5 })).status, 400);
      assert.equal((await post({ n: 5, best_of: 5 })).status, 400);
      assert.equal(g.llm.exchanges.length, 0);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await post({ best_of: 4 })).status);
      assert.deepEqual(statuses, [200, 200, 429, 429]);
      assert.ok(g.llm.billed() <= 1000, `billed ${g.llm.billed()}`);
    } finally {
      await g.close();
    }
  });
});

describe('streams settle on usage the client did not ask for', () => {
  it('usage is asked of the upstream, hidden from the client, and settles the budget', async () => {
    const g = await gatewayOverGreedy([
      llmRoute('chat', CHAT_PATH, 'openai-chat', { input: { maxTokens: 100 }, rateLimit: budget(10_000) }),
      llmRoute('redacted', '/v1/r/chat/completions', 'openai-chat', { input: { maxTokens: 100 }, rateLimit: budget(10_000), output: { redact: ['secrets', 'pii'] } }),
    ]);
    try {
      const redacted = await postChat(g.f.url, { stream: true }, '/v1/r/chat/completions');
      assert.equal(redacted.status, 200);
      assert.deepEqual(sseData(redacted.text).map((e) => JSON.stringify((e as { choices: unknown }).choices)), [0, 1, 2].map((i) => JSON.stringify([{ index: 0, delta: { content: ['three ', 'visible ', 'words'][i] } }])), 'behind output redaction too');
      assert.match(redacted.text, /data: \[DONE\]/);
      assert.equal(await spentSettled(g.f.gw.store, 'redacted', 105), 105);
      const r = await postChat(g.f.url, { stream: true, stream_options: { include_obfuscation: false } });
      assert.equal(r.status, 200);
      assert.deepEqual(g.llm.exchanges.at(-1)!.body.stream_options, { include_obfuscation: false, include_usage: true }, 'the client\'s other stream options are kept');
      assert.match(r.text, /three /);
      assert.match(r.text, /data: \[DONE\]/);
      assert.doesNotMatch(r.text, /"prompt_tokens"/, 'the usage chunk the client did not ask for is removed');
      assert.equal(await spentSettled(g.f.gw.store, 'chat', 105), 105, 'settled on the upstream\'s usage, reasoning included');
    } finally {
      await g.close();
    }
  });

  it('a client that asked for usage gets the usage chunk', async () => {
    const g = await gatewayOverGreedy([llmRoute('chat', CHAT_PATH, 'openai-chat', { input: { maxTokens: 100 }, rateLimit: budget(10_000) })]);
    try {
      const r = await postChat(g.f.url, { stream: true, stream_options: { include_usage: true } });
      assert.equal(r.status, 200);
      assert.match(r.text, /"completion_tokens":100/);
      assert.equal(await spentSettled(g.f.gw.store, 'chat', 105), 105);
    } finally {
      await g.close();
    }
  });

  it('an upstream that reports no usage is settled at the reservation, not at the visible text', async () => {
    const g = await gatewayOverGreedy(
      [
        llmRoute('chat', CHAT_PATH, 'openai-chat', { input: { maxTokens: 100 }, rateLimit: budget(10_000) }),
        llmRoute('messages', '/v1/messages', 'anthropic-messages', { input: { maxTokens: 100 }, rateLimit: budget(10_000) }),
      ],
      { withholdUsage: true },
    );
    try {
      const reservation = (await chatPromptEstimate({ stream: true })) + 100;
      assert.equal((await postChat(g.f.url, { stream: true })).status, 200);
      assert.equal(await spentSettled(g.f.gw.store, 'chat', reservation), reservation, 'streamed: three visible words, 100 reasoning tokens');
      assert.equal((await postChat(g.f.url)).status, 200);
      assert.equal(await spentSettled(g.f.gw.store, 'chat', 2 * reservation), 2 * reservation, 'JSON answer without usage');
      const anthropic = { model: 'claude', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Say hi' }] };
      const anthropicReservation = (await promptEstimate('anthropic-messages', anthropic)) + 100;
      assert.equal((await postJson(`${g.f.url}/v1/messages`, JSON.stringify(anthropic))).status, 200);
      assert.equal(await spentSettled(g.f.gw.store, 'messages', anthropicReservation), anthropicReservation, 'Anthropic stream whose usage never came');
    } finally {
      await g.close();
    }
  });
});
