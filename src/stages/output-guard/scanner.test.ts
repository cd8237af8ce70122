import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRecognizers } from './recognizers/index.js';
import { applySpans, StreamScanner } from './scanner.js';

const rec = compileRecognizers(['secrets', 'pii']);

/** Pushes `pieces`, returns what was released after each push (redacted) and the final text. */
function run(pieces: readonly string[]): { released: string[]; text: string } {
  const s = new StreamScanner(rec);
  let all = '';
  let from = 0;
  const released: string[] = [];
  const take = (r: { safe: number; spans: Parameters<typeof applySpans>[2] }) => {
    const out = applySpans(all.slice(from, r.safe), from, r.spans);
    from = r.safe;
    return out;
  };
  for (const p of pieces) {
    all += p;
    released.push(take(s.push(p)));
  }
  released.push(take(s.finish()));
  return { released, text: released.join('') };
}

describe('StreamScanner hold-back', () => {
  it('releases prose with numbers almost at once: only a number that could still grow waits', () => {
    const r = run(['Word0 ', 'Word1 ', 'Word2 ', 'in 2026 we ', 'had 3 ', 'cats']);
    // Each push releases at once what cannot be part of a secret: digits that end a word never
    // start a number; a number standing alone waits for the next piece (it could start a phone
    // or card number), never longer.
    assert.deepEqual(r.released.slice(0, 6), ['Word0 ', 'Word1 ', 'Word2 ', 'in 2026 we ', 'had ', '3 ']);
    assert.equal(r.text, 'Word0 Word1 Word2 in 2026 we had 3 cats');
  });

  it('holds what can still grow into a secret, then redacts it whole', () => {
    const key = `AKIA${'ABCDEFGHJKLMNPQR'}`;
    const r = run(['my key ', key.slice(0, 6), key.slice(6), ' ok']);
    assert.equal(r.released[1], '', 'AKIA.. is held');
    assert.equal(r.text, 'my key [REDACTED:aws_access_key] ok');
  });

  it('a card number right after digits that end a word is still held whole', () => {
    const r = run(['Pay with card v2 ', '4111', ' 1111', ' 1111', ' 1111', ' thanks']);
    assert.ok(!r.released.slice(0, 5).join('').includes('4111'), JSON.stringify(r.released));
    assert.equal(r.text, 'Pay with card v2 [REDACTED:card_number] thanks');
  });

  it('a card number split at its spaces is held until complete', () => {
    const r = run(['pay with 4111 ', '1111 ', '1111 ', '1111 thanks']);
    assert.ok(!r.released.slice(0, 3).join('').includes('4111'), JSON.stringify(r.released));
    assert.equal(r.text, 'pay with [REDACTED:card_number] thanks');
  });

  it('context already released still counts: a secret value after its name arrives later', () => {
    const secret = 'Zq8Lw2Rt5Yp9Xc3Vb7Nm1Kd4Hg6Fj0Ss';
    const r = run(['password', ': ', secret, '\nnext']);
    assert.ok(!r.text.includes(secret), r.text);
  });
});
