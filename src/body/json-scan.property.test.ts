import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scanJson } from './json-scan.js';
import type { BodyRejectReason } from './body-result.js';
import { OPTS, depthOf, hasForbiddenKey } from './json-scan.test-helpers.js';

describe('scanJson: properties', () => {
  const wrapped = (stringUnit?: 'grapheme' | 'binary') =>
    fc.jsonValue(stringUnit === undefined ? { maxDepth: 6 } : { maxDepth: 6, stringUnit })
      .map((value) => ({ value }))
      .filter((v) => !hasForbiddenKey(v));

  for (const unit of [undefined, 'grapheme', 'binary'] as const) {
    it(`JSON.stringify of any JSON value passes, with depth counted exactly (strings: ${unit ?? 'default'})`, () => {
      fc.assert(
        fc.property(wrapped(unit), (v) => {
          const text = JSON.stringify(v);
          const depth = depthOf(v);
          assert.deepEqual(scanJson(text, { maxDepth: depth }), { ok: true });
          const tighter = scanJson(text, { maxDepth: depth - 1 });
          assert.ok(!tighter.ok && tighter.reason === 'too_deep');
          // Pretty-printed output is equally valid.
          assert.deepEqual(scanJson(JSON.stringify(v, null, 2), { maxDepth: depth }), { ok: true });
        }),
        { numRuns: 300 },
      );
    });
  }

  it('agrees with JSON.parse on mutated documents, except for its extra rules', () => {
    const alphabet = [...'{}[]":,0123456789-+.eE \t\n\r\\/utrfalsnbx\'', '\u0000', '\u001f', '\ud800', '\udc00', '\u00a0'];
    const extraRules = new Set<BodyRejectReason>(['duplicate_key', 'forbidden_key', 'lone_surrogate', 'too_deep']);
    const mutation = fc.record({
      at: fc.nat(),
      op: fc.constantFrom('insert', 'delete', 'replace'),
      ch: fc.constantFrom(...alphabet),
    });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (v, muts) => {
        let text = JSON.stringify(v);
        for (const { at, op, ch } of muts) {
          const i = at % (text.length + 1);
          if (op === 'insert') text = text.slice(0, i) + ch + text.slice(i);
          else if (op === 'delete') text = text.slice(0, i) + text.slice(i + 1);
          else text = text.slice(0, i) + ch + text.slice(i + 1);
        }
        let nativeOk = true;
        try {
          JSON.parse(text);
        } catch {
          nativeOk = false;
        }
        const r = scanJson(text, { maxDepth: 1000 });
        if (r.ok) {
          assert.ok(nativeOk, `scanner accepted what JSON.parse refused: ${JSON.stringify(text)}`);
        } else if (nativeOk) {
          assert.ok(extraRules.has(r.reason), `scanner refused valid JSON ${JSON.stringify(text)}: ${r.detail}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('every detail stays short however large the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
        for (const text of [s, `{"${s}":1,"${s}":2}`, `{"a":${s}}`]) {
          const r = scanJson(text, OPTS);
          if (!r.ok) assert.ok(r.detail.length <= 400, r.detail);
        }
      }),
      { numRuns: 500 },
    );
  });
});
