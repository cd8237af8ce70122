import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../../stores/memory-store.js';
import type { Store } from '../../../stores/store.js';
import { CLIENT_PREFIX, WATERMARK_KEY, identifyWithStore, lookupClient, lookupClients, rememberClient, watermarkKey } from './registry.js';
import { ENGLISH_ANSWER } from './test-fixtures.js';
import { seededRandom } from '../../../util/seeded-random.js';
import {
  TAG_LENGTH,
  TAG_SYMBOLS,
  TAG_SYNC,
  clientTagOf,
  createTextWatermarker,
  encodeTag,
  extractTags,
  identify,
  stripTags,
  tagHex,
  verifyTag,
  watermarkText,
  type WatermarkKey,
} from './text.js';

const key = (name: string): Buffer => createHash('sha256').update('test-key:' + name).digest();
const KEY = key('a');
const OTHER_KEY = key('b');
const AT = Date.UTC(2025, 2, 4, 10, 7, 33);
const opts = { key: KEY, clientId: 'alice', now: AT };

/** A registry that knows alice and bob under `k`. */
const registry = (k: WatermarkKey) => {
  const m = new Map([['alice', tagHex(clientTagOf(k, 'alice'))], ['bob', tagHex(clientTagOf(k, 'bob'))]].map(([id, hex]) => [hex!, id!]));
  return (hex: string) => m.get(hex);
};

const rng = seededRandom;

/** Raw index of every visible code unit of a marked text (tags skipped). */
function visibleIndex(marked: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < marked.length; ) {
    if (marked.startsWith(TAG_SYNC, i)) i += TAG_LENGTH;
    else out.push(i++);
  }
  return out;
}

/** The excerpt of `n` visible characters starting at visible position `start`, as a copy would take it. */
function excerpt(marked: string, vis: number[], start: number, n: number): string {
  return marked.slice(vis[start], start + n < vis.length ? vis[start + n] : marked.length);
}

describe('text watermark: round trip', () => {
  it('names the client and the minute on a whole 2,000-character answer', () => {
    assert.ok(ENGLISH_ANSWER.length >= 2000);
    const marked = watermarkText(ENGLISH_ANSWER, opts);
    const tags = extractTags(marked);
    assert.ok(tags.length >= 9, `one tag early and then about every 200 characters, got ${tags.length}`);
    assert.equal(marked.length, ENGLISH_ANSWER.length + tags.length * TAG_LENGTH);
    assert.equal(stripTags(marked), ENGLISH_ANSWER);
    const r = identify(marked, { key: KEY, clients: registry(KEY) });
    assert.equal(r.found, true);
    assert.equal(r.clientId, 'alice');
    assert.equal(r.clientTag, tagHex(clientTagOf(KEY, 'alice')));
    assert.equal(r.time, '2025-03-04T10:07Z');
    assert.equal(r.tagsFound, tags.length);
    assert.equal(r.verified, tags.length);
    assert.match(r.confidence, /agreeing tags.*2\^-32/);
  });

  it('the first tag comes after about 20 characters, then one about every `every` characters, each after a word', () => {
    const marked = watermarkText(ENGLISH_ANSWER, opts);
    const vis = visibleIndex(marked);
    const positions: number[] = []; // visible position each tag precedes
    for (let i = 0, v = 0; i < marked.length; ) {
      if (marked.startsWith(TAG_SYNC, i)) {
        positions.push(v);
        assert.match(marked[i - 1]!, /\S/, 'after a word');
        assert.match(marked[i + TAG_LENGTH]!, /\s/, 'before the space');
        i += TAG_LENGTH;
      } else (i++, v++);
    }
    assert.ok(positions[0]! >= 20 && positions[0]! <= 40, `first at ${positions[0]}`);
    const gaps = positions.slice(1).map((p, i) => p - positions[i]!);
    assert.ok(gaps.every((g) => g >= 200 && g <= 230), gaps.join(','));
    assert.equal(vis.length, ENGLISH_ANSWER.length);
  });

  it('an excerpt of 250 visible characters from anywhere in the answer identifies the client (every offset); 200 is not enough', () => {
    // Tags are at most every + (distance to the next word end) apart: 207 characters in this text, so
    // 208 is the smallest excerpt that always holds a complete tag here. 250 leaves room for long words.
    const marked = watermarkText(ENGLISH_ANSWER, opts);
    const vis = visibleIndex(marked);
    const clients = registry(KEY);
    const hits = (n: number) => {
      let ok = 0;
      let total = 0;
      for (let s = 0; s + n <= vis.length; s++, total++) {
        const r = identify(excerpt(marked, vis, s, n), { key: KEY, clients });
        if (r.found && r.clientId === 'alice' && r.time === '2025-03-04T10:07Z') ok++;
      }
      return { ok, total };
    };
    const n250 = hits(250);
    assert.equal(n250.ok, n250.total, `${n250.total - n250.ok} of ${n250.total} excerpts of 250 missed`);
    const n208 = hits(208);
    assert.equal(n208.ok, n208.total, 'smallest length that works for every offset of this text');
    const n200 = hits(200);
    assert.ok(n200.ok < n200.total, 'a window shorter than the tag spacing can fall between two tags');
  });

  it('a short answer still carries one tag (placed at the end)', () => {
    for (const text of ['Yes.', 'No, it does not.', 'Paris']) {
      const marked = watermarkText(text, opts);
      assert.equal(extractTags(marked).length, 1, text);
      assert.ok(marked.startsWith(text) && marked.length === text.length + TAG_LENGTH);
      assert.equal(identify(marked, { key: KEY, clients: registry(KEY) }).clientId, 'alice');
    }
    assert.equal(watermarkText('', opts), '');
  });
});

describe('text watermark: streaming', () => {
  const whole = watermarkText(ENGLISH_ANSWER, opts);
  const streamed = (chunks: string[]) => {
    const w = createTextWatermarker(opts);
    return chunks.map((c) => w.push(c)).join('') + w.end();
  };

  it('gives the same text when pushed one UTF-16 unit or one code point at a time', () => {
    assert.equal(streamed(ENGLISH_ANSWER.split('')), whole);
    const mixed = 'Привет, мир! 👨‍👩‍👧 family, café (cafe\u0301), 東京は大きい。とても、楽しい！ 🇫🇷 flags and more words to pass the first threshold quickly.';
    const mixedWhole = watermarkText(mixed.repeat(8), { ...opts, every: 60 });
    assert.ok(extractTags(mixedWhole).length >= 10);
    const w = createTextWatermarker({ ...opts, every: 60 });
    assert.equal(mixed.repeat(8).split('').map((c) => w.push(c)).join('') + w.end(), mixedWhole);
    const w2 = createTextWatermarker({ ...opts, every: 60 });
    assert.equal([...mixed.repeat(8)].map((c) => w2.push(c)).join('') + w2.end(), mixedWhole);
  });

  it('gives the same text for random chunk sizes (and empty chunks)', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const rand = rng(seed);
      const chunks: string[] = [];
      for (let i = 0; i < ENGLISH_ANSWER.length; ) {
        const n = Math.floor(rand() * 24);
        chunks.push(ENGLISH_ANSWER.slice(i, i + n));
        i += n;
      }
      assert.equal(streamed(chunks), whole, `seed ${seed}`);
    }
  });

  it('end() returns nothing when the last tag is recent', () => {
    const w = createTextWatermarker(opts);
    const out = w.push(ENGLISH_ANSWER.slice(0, 60));
    assert.equal(extractTags(out).length, 1);
    assert.equal(w.end(), '');
    assert.equal(w.tags, 1);
  });
});

describe('text watermark: no false identification', () => {
  it('unmarked text: not found, "no tag"', () => {
    for (const text of [ENGLISH_ANSWER, '', 'Zero\u200Bwidth\u200Dspaces\u2060 and\u2062\u2063 a stray marker']) {
      const r = identify(text, { key: KEY, clients: registry(KEY) });
      assert.equal(r.found, false);
      assert.equal(r.tagsFound, 0);
      assert.match(r.confidence, /^no tag/);
      assert.equal(r.clientId, undefined);
    }
  });

  it('text marked with another key: tags present, MAC does not verify, nobody named', () => {
    const marked = watermarkText(ENGLISH_ANSWER, { ...opts, key: OTHER_KEY });
    const r = identify(marked, { key: KEY, clients: registry(KEY) });
    assert.equal(r.found, false);
    assert.ok(r.tagsFound >= 9);
    assert.equal(r.verified, 0);
    assert.equal(r.clientId, undefined);
    assert.equal(r.clientTag, '');
    assert.match(r.confidence, /MAC does not verify \(wrong key or altered\)/);
  });

  it('a tag with any single flipped bit fails MAC verification', () => {
    const tag = extractTags(watermarkText('Hello there, world of tags.', opts))[0]!;
    assert.equal(verifyTag(KEY, tag), true);
    for (let bit = 0; bit < 96; bit++) {
      const t = { ...tag };
      if (bit < 32) t.ts = (t.ts ^ (1 << bit)) >>> 0;
      else if (bit < 64) t.clientTag = (t.clientTag ^ (1 << (bit - 32))) >>> 0;
      else t.mac = (t.mac ^ (1 << (bit - 64))) >>> 0;
      assert.equal(verifyTag(KEY, t), false, `bit ${bit}`);
      const r = identify('text ' + encodeTag(t) + ' more', { key: KEY, clients: registry(KEY) });
      assert.equal(r.found, false, `bit ${bit}`);
    }
    // The same, by editing one invisible symbol of the text (value XOR 1 flips its low bit).
    const marked = watermarkText('Hello there, world of tags.', opts);
    const at = marked.indexOf(TAG_SYNC) + TAG_SYNC.length + 30;
    const sym = TAG_SYMBOLS.indexOf(marked[at] as (typeof TAG_SYMBOLS)[number]);
    const altered = marked.slice(0, at) + TAG_SYMBOLS[sym ^ 1] + marked.slice(at + 1);
    const r = identify(altered, { key: KEY, clients: registry(KEY) });
    assert.equal(r.found, false);
    assert.equal(r.tagsFound, 1);
    assert.match(r.confidence, /does not verify/);
  });

  it('a verified tag of a client missing from the registry is reported as such', () => {
    const marked = watermarkText(ENGLISH_ANSWER, { ...opts, clientId: 'carol' });
    const r = identify(marked, { key: KEY, clients: registry(KEY) });
    assert.equal(r.found, true);
    assert.equal(r.clientId, undefined);
    assert.match(r.confidence, /not in the registry/);
  });

  it('text combined from two clients names the majority and mentions the other', () => {
    const a = watermarkText(ENGLISH_ANSWER, opts);
    const b = watermarkText(ENGLISH_ANSWER.slice(0, 300), { ...opts, clientId: 'bob' });
    const r = identify(a + '\n' + b, { key: KEY, clients: registry(KEY) });
    assert.equal(r.clientId, 'alice');
    assert.match(r.confidence, /another client/);
  });
});

describe('text watermark: characters stay intact', () => {
  const samples = {
    russian: 'Ограничение частоты запросов защищает интерфейс от перегрузки и злоупотреблений. Скользящее окно считает запросы каждого клиента за последнюю минуту, а бюджет токенов учитывает реальную стоимость ответа. '.repeat(4),
    emoji: 'Deploy 🚀 done! The family 👨‍👩‍👧‍👦 and the flags 🇫🇷🇩🇪 are fine 👍🏽 and the keycap 1️⃣ too; hearts ❤️‍🔥 burn. '.repeat(6),
    combining: 'Vie\u0323\u0302t Nam, cafe\u0301, n\u0303, Z\u0351\u0361a\u0306\u0302l\u0334go text, a\u030A ring, Hindi क्षत्रिय and Thai ภาษาไทย words follow here. '.repeat(6),
    cjk: '東京は日本の首都です。人口は多く、交通も便利です！観光客も多いです？はい、とても多いです。'.repeat(8),
    crlf: 'Line one has words\r\nLine two has more words\r\n  indented line with words\r\n'.repeat(8),
  };

  for (const [name, text] of Object.entries(samples)) {
    it(`${name}: stripping the tags gives back the exact original, tags sit on grapheme and word boundaries`, () => {
      const marked = watermarkText(text, { ...opts, every: 80 });
      const tags = extractTags(marked);
      assert.ok(tags.length >= 2, `${name}: ${tags.length} tags`);
      assert.equal(stripTags(marked), text);
      assert.equal(identify(marked, { key: KEY, clients: registry(KEY) }).clientId, 'alice');
      // Each tag's place in the original text is a grapheme boundary and a word boundary.
      const graphemes = new Set([...new Intl.Segmenter('und', { granularity: 'grapheme' }).segment(text)].map((s) => s.index));
      const words = new Set([...new Intl.Segmenter('und', { granularity: 'word' }).segment(text)].map((s) => s.index));
      let removed = 0;
      for (const m of marked.matchAll(new RegExp(TAG_SYNC + '[\u200B\u200C\u200D\u2060]{48}', 'g'))) {
        const at = m.index - removed;
        removed += TAG_LENGTH;
        assert.ok(graphemes.has(at) || at === text.length, `${name}: grapheme boundary at ${at}`);
        assert.ok(words.has(at) || at === text.length, `${name}: word boundary at ${at}`);
        assert.notEqual(text.slice(at - 1, at + 1), '\r\n', 'never inside CRLF');
      }
      // The graphemes (emoji ZWJ sequences included) come out the same.
      const seg = (s: string) => [...new Intl.Segmenter('und', { granularity: 'grapheme' }).segment(s)].map((g) => g.segment);
      assert.deepEqual(seg(stripTags(marked)), seg(text));
    });
  }
});

describe('text watermark: code and JSON are left alone', () => {
  it('nothing inside ``` fences or inline code; prose around them is tagged', () => {
    const code = '```python\nfor item in items:\n    print(item, file=sys.stderr)  # a long comment to pass the threshold\n    total += item.value * weight\n```\n';
    const text = 'Here is the loop you asked for, with the details explained below. ' + code + 'Then call `compute_total(items, weight)` and check the result against your expectations carefully.';
    const marked = watermarkText(text, { ...opts, every: 20 });
    const open = marked.indexOf('```');
    const close = marked.indexOf('```', open + 3) + 3;
    assert.equal(marked.slice(open, close), code.slice(0, code.lastIndexOf('```') + 3), 'fence untouched');
    assert.ok(marked.includes('`compute_total(items, weight)`'), 'inline code untouched');
    assert.ok(extractTags(marked).length >= 2);
    assert.equal(stripTags(marked), text);
  });

  it('an answer that is JSON gets no tag (it would no longer parse)', () => {
    const json = JSON.stringify({ answer: 'yes it is a long answer with many words', items: [1, 2, 3], ok: true }, null, 2);
    assert.equal(watermarkText(json, { ...opts, every: 10 }), json);
    assert.equal(watermarkText('  \n' + json, { ...opts, every: 10 }), '  \n' + json);
    assert.notEqual(watermarkText(json, { ...opts, every: 10, skipCode: false }), json, 'skipCode: false tags it anyway');
  });
});

describe('watermark key and client registry in the store', () => {
  /** A store that counts writes. */
  const counting = (inner: Store) => {
    const writes: string[] = [];
    const store: Store = Object.assign(Object.create(inner) as Store, {
      kind: inner.kind,
      get: (k: string) => inner.get(k),
      set: (k: string, v: string, ttl?: number) => (writes.push(k), inner.set(k, v, ttl)),
      setIfAbsent: (k: string, v: string, ttl?: number) => (writes.push(k), inner.setIfAbsent(k, v, ttl)),
      setAdd: (k: string, m: readonly string[], ttl?: number) => (writes.push(k), inner.setAdd(k, m, ttl)),
      setMembers: (k: string) => inner.setMembers(k),
      ttl: (k: string) => inner.ttl(k),
      close: () => inner.close(),
    });
    return { store, writes };
  };

  it('the key is 32 random bytes created once (setIfAbsent), shared by every user of the store', async () => {
    const inner = createMemoryStore({ sweepIntervalMs: 0 });
    try {
      const a = counting(inner);
      const b = counting(inner); // a second gateway instance on the same store
      const [k1, k2] = await Promise.all([watermarkKey(a.store), watermarkKey(b.store)]);
      assert.equal(k1.length, 32);
      assert.ok(k1.equals(k2));
      assert.ok(k1.equals(Buffer.from((await inner.get(WATERMARK_KEY))!, 'base64')));
      assert.equal(await inner.ttl(WATERMARK_KEY), Infinity);
      assert.ok((await watermarkKey(a.store)) === k1, 'cached per store');
      assert.equal(a.writes.length, 1);
      const other = createMemoryStore({ sweepIntervalMs: 0 });
      assert.ok(!(await watermarkKey(other)).equals(k1), 'another installation has another key');
      await other.close();
    } finally {
      await inner.close();
    }
  });

  it('rememberClient writes once per client per process; lookupClient and identifyWithStore read it', async () => {
    const inner = createMemoryStore({ sweepIntervalMs: 0 });
    try {
      const { store, writes } = counting(inner);
      const k = await watermarkKey(store);
      writes.length = 0;
      await Promise.all([rememberClient(store, k, 'alice'), rememberClient(store, k, 'alice'), rememberClient(store, k, 'bob')]);
      for (let i = 0; i < 50; i++) await rememberClient(store, k, 'alice');
      assert.equal(writes.length, 2, writes.join(','));
      const hex = tagHex(clientTagOf(k, 'alice'));
      assert.equal(await lookupClient(store, hex), 'alice');
      assert.equal(await inner.ttl(CLIENT_PREFIX + hex), Infinity, 'no TTL');
      assert.equal(await lookupClient(store, '00000000'), undefined);

      const leaked = watermarkText(ENGLISH_ANSWER, { key: k, clientId: 'bob', now: AT }).slice(900, 1500);
      const r = await identifyWithStore(leaked, store);
      assert.equal(r.found, true);
      assert.equal(r.clientId, 'bob');
      assert.equal(r.time, '2025-03-04T10:07Z');
      const none = await identifyWithStore(ENGLISH_ANSWER, store);
      assert.equal(none.found, false);
    } finally {
      await inner.close();
    }
  });

  it('a 32-bit client-tag collision keeps both clients', async () => {
    const store = createMemoryStore({ sweepIntervalMs: 0 });
    try {
      const k = await watermarkKey(store);
      const hex = tagHex(clientTagOf(k, 'alice'));
      await store.set(CLIENT_PREFIX + hex, 'mallory'); // as if mallory's tag were the same
      await rememberClient(store, k, 'alice');
      assert.deepEqual(await lookupClients(store, hex), ['mallory', 'alice']);
      const r = await identifyWithStore(watermarkText(ENGLISH_ANSWER, { key: k, clientId: 'alice', now: AT }), store);
      assert.deepEqual(r.candidates, ['mallory', 'alice']);
      assert.match(r.confidence, /collision/);
    } finally {
      await store.close();
    }
  });

  it('identifyWithStore on a store without a key writes nothing and finds nothing', async () => {
    const inner = createMemoryStore({ sweepIntervalMs: 0 });
    try {
      const { store, writes } = counting(inner);
      const r = await identifyWithStore(watermarkText(ENGLISH_ANSWER, opts), store);
      assert.equal(r.found, false);
      assert.ok(r.tagsFound > 0);
      assert.match(r.confidence, /no watermark key/);
      assert.equal(writes.length, 0);
    } finally {
      await inner.close();
    }
  });
});
