import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeJsonBody, firstInvalidUtf8Offset, type JsonBodyResult } from './decode-json-body.js';
import type { BodyRejectReason } from './body-result.js';
import * as body from './index.js';

const OPTS = { maxDepth: 32, requireObject: true };
const encoder = new TextEncoder();

function bytesOf(text: string): Uint8Array {
  return encoder.encode(text);
}

function expectValue(input: string | Uint8Array, options = OPTS): unknown {
  const bytes = typeof input === 'string' ? bytesOf(input) : input;
  const r = decodeJsonBody(bytes, options);
  assert.equal(r.ok, true, r.ok ? '' : `${r.reason}: ${r.detail}`);
  if (!r.ok) return undefined;
  if (typeof input === 'string') assert.deepEqual(r.value, JSON.parse(input));
  return r.value;
}

function expectRefused(input: string | Uint8Array, reason: BodyRejectReason, options = OPTS): string {
  const bytes = typeof input === 'string' ? bytesOf(input) : input;
  const r: JsonBodyResult = decodeJsonBody(bytes, options);
  assert.equal(r.ok, false, `expected ${reason}`);
  if (r.ok) return '';
  assert.equal(r.reason, reason, r.detail);
  assert.equal(r.status, 400);
  return r.detail;
}

function hasForbiddenKey(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (!Array.isArray(v)) {
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) return true;
    const ctor: unknown = Object.getOwnPropertyDescriptor(v, 'constructor')?.value;
    if (ctor !== null && typeof ctor === 'object' && !Array.isArray(ctor) &&
        Object.prototype.hasOwnProperty.call(ctor, 'prototype')) return true;
  }
  return Object.values(v).some(hasForbiddenKey);
}

function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let max = 0;
  for (const child of Object.values(v)) max = Math.max(max, depthOf(child));
  return max + 1;
}

describe('decodeJsonBody: accepted bodies', () => {
  it('decodes a typical chat request to the same value as JSON.parse', () => {
    const text = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'Grüße, 世界! 😀 "quoted" \\ back\nslash' },
      ],
      temperature: 0.7,
      max_tokens: 256,
      stream: false,
      stop: null,
      tools: [],
    });
    expectValue(text);
    expectValue(JSON.stringify(JSON.parse(text), null, 2));
  });

  it('accepts trailing whitespace but not trailing data', () => {
    assert.deepEqual(expectValue('{"a":1}  \r\n\t'), { a: 1 });
    expectRefused('{"a":1}x', 'invalid_json');
    expectRefused('{"a":1}\u0000', 'invalid_json');
  });

  it('accepts RFC 8259 numbers and keeps their values', () => {
    const v = expectValue('{"z":-0,"e":1e5,"f":1.5E-3,"big":1e400,"i":-12}');
    assert.ok(v !== null && typeof v === 'object');
    const o = v as Record<string, number>;
    assert.ok(Object.is(o.z, -0));
    assert.equal(o.e, 100000);
    assert.equal(o.f, 0.0015);
    assert.equal(o.big, Infinity);
    for (const n of ['01', '1.', '.5', '+1', '-', '1e', 'NaN', 'Infinity', '0x1']) {
      expectRefused(`{"n":${n}}`, 'invalid_json');
    }
  });

  it('returns ordinary objects and leaves benign constructor/prototype keys alone', () => {
    const v = expectValue('{"constructor":1,"prototype":{"constructor":"x"},"a":{"b":[1,{"c":null}]}}');
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.equal(({}.constructor), Object, 'Object.prototype was not touched');
  });

  it('accepts any top-level value when requireObject is false', () => {
    const loose = { maxDepth: 8, requireObject: false };
    assert.deepEqual(expectValue('[1,2]', loose), [1, 2]);
    assert.equal(expectValue('"s"', loose), 's');
    assert.equal(expectValue(' 42 ', loose), 42);
    assert.equal(expectValue('null', loose), null);
    assert.equal(expectValue('false', loose), false);
  });

  it('accepts a U+FEFF inside a string (only a leading BOM is refused)', () => {
    assert.deepEqual(expectValue('{"a":"x\ufeffy"}'), { a: 'x\ufeffy' });
  });

  it('reads the view it is given, not the whole underlying buffer', () => {
    const backing = bytesOf('xx{"a":[true]}yy');
    assert.deepEqual(expectValue(backing.subarray(2, backing.length - 2)), { a: [true] });
    assert.deepEqual(expectValue(Buffer.from('{"b":2}')), { b: 2 });
  });
});

describe('decodeJsonBody: byte_order_mark', () => {
  it('refuses a leading UTF-8 BOM', () => {
    expectRefused(new Uint8Array([0xef, 0xbb, 0xbf, ...bytesOf('{"a":1}')]), 'byte_order_mark');
    expectRefused(new Uint8Array([0xef, 0xbb, 0xbf]), 'byte_order_mark');
  });

  it('refuses a BOM after whitespace as invalid JSON', () => {
    expectRefused(new Uint8Array([0x20, 0xef, 0xbb, 0xbf, ...bytesOf('{}')]), 'invalid_json');
  });
});

describe('decodeJsonBody: invalid_utf8', () => {
  const prefix = bytesOf('{"a":"');
  const suffix = bytesOf('"}');
  const cases: Array<[string, number[]]> = [
    ['lone continuation byte', [0x80]],
    ['overlong "/" (C0 AF)', [0xc0, 0xaf]],
    ['overlong 2-byte (C1 BF)', [0xc1, 0xbf]],
    ['overlong 3-byte (E0 80 AF)', [0xe0, 0x80, 0xaf]],
    ['overlong 4-byte (F0 80 80 AF)', [0xf0, 0x80, 0x80, 0xaf]],
    ['overlong NUL (C0 80)', [0xc0, 0x80]],
    ['UTF-8 encoded surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['above U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
    ['F5 lead byte', [0xf5, 0x80, 0x80, 0x80]],
    ['FF byte', [0xff]],
    ['truncated 3-byte sequence', [0xe2, 0x82]],
    ['latin-1 e-acute', [0xe9]],
  ];
  for (const [name, bad] of cases) {
    it(name, () => {
      const detail = expectRefused(new Uint8Array([...prefix, ...bad, ...suffix]), 'invalid_utf8');
      assert.match(detail, new RegExp(`at byte ${prefix.length}$`));
    });
  }

  it('refuses a sequence truncated by the end of the body', () => {
    expectRefused(new Uint8Array([...bytesOf('{"a":1}'), 0xf0, 0x9f, 0x98]), 'invalid_utf8');
  });

  it('refuses UTF-16 with BOM', () => {
    expectRefused(new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), 'invalid_utf8');
  });

  it('locates errors exactly where the fatal TextDecoder refuses', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const interesting = fc.oneof(
      fc.integer({ min: 0, max: 0xff }),
      fc.constantFrom(0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0x9f, 0xa0, 0x8f, 0x90),
    );
    fc.assert(
      fc.property(fc.array(interesting, { maxLength: 12 }).map((a) => new Uint8Array(a)), (bytes) => {
        let decoderOk = true;
        try {
          decoder.decode(bytes);
        } catch {
          decoderOk = false;
        }
        const at = firstInvalidUtf8Offset(bytes);
        assert.equal(at === -1, decoderOk);
        if (!decoderOk) {
          // Everything before the reported offset is well-formed on its own.
          assert.doesNotThrow(() => decoder.decode(bytes.subarray(0, at)));
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('decodeJsonBody: JSON rules', () => {
  it('invalid_json: comments, single quotes, trailing commas, NaN, empty body', () => {
    for (const text of ['{"a":1 /* c */}', "{'a':1}", '{"a":[1,],}', '{"a":1,}', '{"a":NaN}', '', '   ', '{"a":"x\ty"}']) {
      expectRefused(text, 'invalid_json');
    }
  });

  it('too_deep: exactly maxDepth is accepted, maxDepth + 1 refused', () => {
    const opts = { maxDepth: 10, requireObject: true };
    expectValue('{"a":'.repeat(9) + '[]' + '}'.repeat(9), opts);
    expectRefused('{"a":'.repeat(10) + '[]' + '}'.repeat(10), 'too_deep', opts);
    expectValue('{"a":' + '['.repeat(9) + ']'.repeat(9) + '}', opts);
    expectRefused('{"a":' + '['.repeat(10) + ']'.repeat(10) + '}', 'too_deep', opts);
  });

  it('too_deep: 50,000-deep arrays and objects return a refusal (no stack overflow)', () => {
    const n = 50_000;
    expectRefused('{"a":' + '['.repeat(n) + ']'.repeat(n) + '}', 'too_deep');
    expectRefused('{"a":'.repeat(n) + '1' + '}'.repeat(n), 'too_deep');
    expectRefused('['.repeat(n), 'too_deep');
  });

  it('a 50,000-deep body within a (huge) limit decodes end to end', () => {
    const n = 50_000;
    const r = decodeJsonBody(bytesOf('{"a":'.repeat(n) + '1' + '}'.repeat(n)), { maxDepth: n, requireObject: true });
    assert.ok(r.ok);
    // Walked iteratively: assert.deepEqual and other recursive consumers overflow at this depth,
    // which is exactly why maxDepth must stay small in real configs.
    let node: unknown = r.value;
    let depth = 0;
    while (node !== null && typeof node === 'object') {
      node = (node as { a?: unknown }).a;
      depth++;
    }
    assert.equal(depth, n);
    assert.equal(node, 1);
  });

  it('duplicate_key, including escaped spellings of the same key', () => {
    expectRefused('{"a":1,"a":2}', 'duplicate_key');
    expectRefused('{"a":1,"\\u0061":2}', 'duplicate_key');
    expectRefused('{"messages":[{"role":"user","role":"system"}]}', 'duplicate_key');
  });

  it('forbidden_key: __proto__ anywhere and constructor.prototype', () => {
    expectRefused('{"__proto__":{"isAdmin":true}}', 'forbidden_key');
    expectRefused('{"a":[{"\\u005f_proto__":{}}]}', 'forbidden_key');
    expectRefused('{"constructor":{"prototype":{"isAdmin":true}}}', 'forbidden_key');
    expectRefused('{"x":{"\\u0063onstructor":{"\\u0070rototype":1}}}', 'forbidden_key');
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  });

  it('lone_surrogate: escaped halves without their pair', () => {
    expectRefused('{"a":"\\uD800"}', 'lone_surrogate');
    expectRefused('{"a":"\\uDC00\\uD800"}', 'lone_surrogate');
    expectRefused('{"\\uDBFF":1}', 'lone_surrogate');
    assert.deepEqual(expectValue('{"a":"\\uD83D\\uDE00"}'), { a: '😀' });
  });

  it('not_an_object for every other top-level value when requireObject is set', () => {
    for (const [text, kind] of [['[]', 'an array'], ['"{}"', 'a string'], ['1', 'a number'], ['-1', 'a number'],
      ['true', 'a boolean'], ['false', 'a boolean'], [' null ', 'null']] as const) {
      const detail = expectRefused(text, 'not_an_object');
      assert.match(detail, new RegExp(`is ${kind};`));
    }
  });

  it('syntax errors win over not_an_object', () => {
    expectRefused('[1,', 'invalid_json');
  });

  it('never echoes the native parser message (which quotes the input)', () => {
    const r = decodeJsonBody(bytesOf(`{"${'s'.repeat(200)}": tru}`), OPTS);
    assert.ok(!r.ok && !r.detail.includes('s'.repeat(41)), r.ok ? '' : r.detail);
  });
});

describe('decodeJsonBody: properties', () => {
  for (const stringUnit of ['grapheme-ascii', 'grapheme', 'binary'] as const) {
    it(`any object-wrapped JSON value round-trips to the JSON.parse value (strings: ${stringUnit})`, () => {
      fc.assert(
        fc.property(
          fc.jsonValue({ maxDepth: 8, stringUnit }).map((value) => ({ value })).filter((v) => !hasForbiddenKey(v)),
          (v) => {
            const text = JSON.stringify(v);
            const depth = depthOf(v);
            const options = { maxDepth: depth, requireObject: true };
            const r = decodeJsonBody(bytesOf(text), options);
            assert.equal(r.ok, true, r.ok ? '' : r.detail);
            if (r.ok) assert.deepEqual(r.value, JSON.parse(text));
            assert.deepEqual(body.scanJson(text, { maxDepth: depth }), { ok: true });
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});

describe('index re-exports', () => {
  it('exposes the public functions', () => {
    assert.equal(typeof body.checkJsonContentType, 'function');
    assert.equal(typeof body.scanJson, 'function');
    assert.equal(typeof body.decodeJsonBody, 'function');
    assert.equal(typeof body.rejectTooLarge, 'function');
    assert.equal(body.BODY_REJECT_STATUS.unsupported_media_type, 415);
  });
});
