import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXTRA_EXAMPLES } from './extra-examples.js';
import { normalizeText } from './normalize.js';
import { runRules, setRulePrefilter } from './rules.js';

test('the trigger-stem pre-filter never changes rule results', () => {
  const texts = EXTRA_EXAMPLES.map((e) => e.text);
  // word soup from the examples, with line breaks, to reach rule boundaries
  const words = texts.join(' ').split(/\s+/);
  for (let i = 0; i + 12 < words.length; i += 7) texts.push(words.slice(i, i + 12).join(i % 3 === 0 ? '\n' : ' '));
  try {
    for (const t of texts) {
      const lines = normalizeText(t, { keepLines: true });
      const flat = lines.replace(/\n/g, ' ');
      setRulePrefilter(true);
      const withFilter = runRules(flat, lines);
      setRulePrefilter(false);
      const without = runRules(flat, lines);
      assert.deepEqual(withFilter, without, t);
    }
  } finally {
    setRulePrefilter(true);
  }
});
