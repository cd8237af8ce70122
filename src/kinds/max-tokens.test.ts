import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enforceOutputCaps, outputChoices, type OutputCapConfig } from './max-tokens.js';

const cfg = (o: Partial<OutputCapConfig> = {}): OutputCapConfig => ({ maxTokens: 100, clamp: false, field: 'max_tokens', maxChoices: 1, ...o });

describe('output caps', () => {
  it('write the route cap into a request that leaves it out, in the field it named or the route\'s', () => {
    const cases: Array<[Record<string, unknown>, Partial<OutputCapConfig>, Record<string, unknown>]> = [
      [{}, {}, { max_tokens: 100 }],
      [{}, { field: 'max_completion_tokens' }, { max_completion_tokens: 100 }],
      [{ max_tokens: null }, { field: 'max_completion_tokens' }, { max_tokens: 100 }],
      [{ max_completion_tokens: null }, {}, { max_completion_tokens: 100 }],
      [{ max_tokens: null, max_completion_tokens: null }, {}, { max_tokens: 100 }],
      [{ max_tokens: null, max_completion_tokens: 40 }, {}, { max_completion_tokens: 40 }],
      [{ max_tokens: 0 }, {}, { max_tokens: 0 }],
    ];
    for (const [body, o, expected] of cases) {
      assert.deepEqual(enforceOutputCaps('openai-chat', body, cfg(o)), { ok: true, clamped: false });
      assert.deepEqual(body, expected);
    }
    const completions: Record<string, unknown> = { max_tokens: null };
    enforceOutputCaps('openai-completions', completions, cfg({ field: 'max_completion_tokens' }));
    assert.deepEqual(completions, { max_tokens: 100 }, 'completions has one field');
    const anthropic: Record<string, unknown> = {};
    enforceOutputCaps('anthropic-messages', anthropic, cfg());
    assert.deepEqual(anthropic, { max_tokens: 100 });
  });

  it('refuse or clamp a cap above the limit; leave requests alone on routes without one', () => {
    assert.deepEqual(enforceOutputCaps('openai-chat', { max_tokens: 101 }, cfg()), { ok: false, detail: 'max_tokens must be at most 100', reason: 'max_tokens' });
    const clamped: Record<string, unknown> = { max_completion_tokens: 500 };
    assert.deepEqual(enforceOutputCaps('openai-chat', clamped, cfg({ clamp: true })), { ok: true, clamped: true });
    assert.deepEqual(clamped, { max_completion_tokens: 100 });
    const open: Record<string, unknown> = { max_tokens: null };
    assert.deepEqual(enforceOutputCaps('openai-chat', open, cfg({ maxTokens: undefined })), { ok: true, clamped: false });
    assert.deepEqual(open, { max_tokens: null });
    assert.equal(enforceOutputCaps('anthropic-messages', {}, cfg({ maxTokens: undefined })).ok, false, 'Anthropic needs a cap from somewhere');
    assert.equal(enforceOutputCaps('anthropic-messages', { max_tokens: null }, cfg({ maxTokens: undefined })).ok, false);
    assert.deepEqual(enforceOutputCaps('openai-embeddings', {}, cfg()), { ok: true, clamped: false });
  });

  it('refuse the length fields of other servers that would override the cap', () => {
    for (const body of [{ n_predict: -1 }, { max_tokens: 10, max_new_tokens: 5000 }, { num_predict: 9 }, { options: { num_predict: -1 } }]) {
      const r = enforceOutputCaps('openai-chat', body, cfg());
      assert.equal(r.ok, false, JSON.stringify(body));
      assert.equal(r.ok ? '' : r.reason, 'max_tokens');
    }
    assert.equal(enforceOutputCaps('openai-completions', { n_predict: 1 }, cfg()).ok, false);
    assert.equal(enforceOutputCaps('openai-chat', { n_predict: -1 }, cfg({ maxTokens: undefined })).ok, true, 'a route without a cap has none to protect');
  });

  it('refuse more choices than maxChoices, whatever the cap', () => {
    assert.deepEqual(enforceOutputCaps('openai-chat', { n: 2 }, cfg({ maxTokens: undefined })), { ok: false, detail: 'n must be at most 1', reason: 'max_choices' });
    assert.equal(enforceOutputCaps('openai-chat', { n: 4 }, cfg({ maxChoices: 4 })).ok, true);
    assert.equal(enforceOutputCaps('openai-completions', { best_of: 5 }, cfg({ maxChoices: 4 })).ok, false);
    assert.equal(enforceOutputCaps('anthropic-messages', { n: 5, max_tokens: 1 }, cfg()).ok, true, 'not a field Anthropic reads');
    assert.equal(outputChoices('openai-completions', { n: 2, best_of: 3 }), 3);
    assert.equal(outputChoices('openai-chat', { n: null }), 1);
    assert.equal(outputChoices('openai-chat', { n: 2, best_of: 3 }), 3, 'vLLM reads best_of on chat too');
  });
});
