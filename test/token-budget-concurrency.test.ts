import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { startFixture } from './helpers/fixture.js';
import { startGreedyLlm } from './helpers/greedy-llm.js';
import { CHAT_PATH, chatPromptEstimate, llmRoute, postChat, spentSettled } from './helpers/budget.js';

const BUDGET = 1000;
const PARALLEL = 50;

/**
 * 50 requests at once against a 1,000-token budget, through a real listener to an upstream that
 * spends every token it is allowed. They leave the cap out, ask for 4 choices, and half of them
 * stream without asking for usage: every way a request could spend more than it reserved.
 */
async function burst(state: BulwarkConfigInput['state'], t: TestContext): Promise<void> {
  const llm = await startGreedyLlm();
  const f = await startFixture({
    upstreams: { llm: { url: llm.url } },
    routes: [llmRoute('chat', CHAT_PATH, 'openai-chat', { input: { maxTokens: 100, maxChoices: 4 }, rateLimit: [{ by: 'identity', tokens: BUDGET, per: '1m' }] })],
    ...(state ? { state } : {}),
  });
  try {
    const reservation = Math.max(await chatPromptEstimate({ n: 4 }), await chatPromptEstimate({ n: 4, stream: true })) + 4 * 100;
    const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => postChat(f.url, i % 2 === 0 ? { n: 4 } : { n: 4, stream: true })));
    const statuses = results.map((r) => r.status);
    assert.ok(statuses.every((s) => s === 200 || s === 429), `statuses ${statuses.join(',')}`);
    const admitted = statuses.filter((s) => s === 200).length;
    assert.ok(admitted >= 1, 'the budget admits at least one request');
    assert.equal(llm.exchanges.length, admitted, 'a refused request never reaches the upstream');
    assert.ok(llm.billed() <= BUDGET + reservation, `the upstream billed ${llm.billed()} for ${admitted} requests: over ${BUDGET} + one reservation (${reservation})`);
    const settled = await spentSettled(f.gw.store, 'chat', llm.billed());
    assert.ok(settled <= BUDGET + reservation, `the budget's window holds ${settled}`);
    t.diagnostic(`${admitted}/${PARALLEL} admitted, ${llm.billed()} billed, ${settled} in the window (budget ${BUDGET}, reservation ${reservation})`);
  } finally {
    await f.close();
    await llm.close();
  }
}

describe('50 concurrent requests never spend more than the budget plus one reservation', () => {
  it('with the memory store', (t) => burst(undefined, t));
  it('with a real Redis store', (t) => burst({ store: 'redis', redis: { url: 'redis://127.0.0.1:6379', prefix: `bulwark-test:${randomUUID()}:` } }, t));
  it('with a SQLite store', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-budget-'));
    try {
      await burst({ store: 'sqlite', sqlite: { path: join(dir, 'state.db') } }, t);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
