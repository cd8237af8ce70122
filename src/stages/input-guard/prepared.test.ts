import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeCleaned, normalizeText } from './detector/normalize.js';
import { cleanLengthBound, joinPrepared, normalizer, prepareTexts } from './prepared.js';

// Letters the normalization treats specially: Latin, Cyrillic and Greek look-alikes, accents,
// invisible characters, fullwidth forms, expanding ligatures, leetspeak digits, spacing
// separators, line breaks, escapes and tag characters.
const ALPHABET = [
  'a', 'e', 'i', 'o', 'g', 'n', 'r', 'S', 'Y', ' ', '  ', '\n', '\n\n', '\t', '.', '-', '_', '0', '1', '3', '4', '@', '$',
  'а', 'е', 'о', 'р', 'с', 'Б', 'ж', 'α', 'ο', 'Σ', 'λ', 'é', 'ü', '\u0301', '\u200b', '\u00ad', 'Ｉ', 'ｇ', '\uFB01', '\uFDFA', '½', '\\u0049', '\u{E0069}',
];
const piece = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 24 }).map((xs) => xs.join(''));

describe('prepared texts: one normalization per text, the same result as normalizing the whole', () => {
  it('joining prepared pieces equals normalizing the joined text', () => {
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 6 }), (pieces) => {
        const prepared = prepareTexts(pieces.map((text, i) => ({ at: `m${i}`, text })));
        assert.ok(prepared.ok);
        const whole = joinPrepared(prepared.texts);
        const joined = pieces.join('\n');
        assert.equal(whole.raw, joined);
        assert.equal(whole.clean, normalizer.clean(joined));
        assert.equal(whole.lines, normalizeCleaned(normalizer.clean(joined), { keepLines: true }));
        for (const p of prepared.texts) assert.equal(p.lines.replace(/\n/g, ' '), normalizeText(p.raw));
      }),
      { numRuns: 2000 },
    );
  });

  it('the length bound is never below the normalized length', () => {
    fc.assert(
      fc.property(piece, (text) => {
        assert.ok(cleanLengthBound(text, Number.MAX_SAFE_INTEGER) >= normalizer.clean(text).length);
      }),
      { numRuns: 2000 },
    );
  });

  it('the bound stops counting past its limit without expanding the text', () => {
    assert.equal(cleanLengthBound('\uFDFA'.repeat(1_000_000), 1000), 1001);
  });
});
