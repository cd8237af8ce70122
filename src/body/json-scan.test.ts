import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scanJson } from './json-scan.js';
import { MAX_ECHO_CHARS } from './body-result.js';
import { OPTS, expectOk, expectRefused } from './json-scan.test-helpers.js';

describe('scanJson: benign JSON', () => {
  const ok = [
    '{}',
    '[]',
    '{"a":1}',
    ' \t\n\r{"a" : [ 1 , 2 , { } , [ ] ] }\r\n ',
    '{"model":"gpt","messages":[{"role":"user","content":"hi \\"there\\"\\n\\t\\u00e9\\/"}],"stream":false,"n":null}',
    '"just a string"',
    'true',
    'false',
    'null',
    '0',
    '[true,false,null]',
    '{"a":"\\u0000 escaped control chars are fine \\u001f"}',
    '"DEL \u007f is not a control character in JSON"',
    '"raw pair 😀 and escaped pair \\uD83D\\uDE00 and lowercase \\ud83d\\ude00"',
    '"U+2028 \u2028 and U+2029 \u2029 are allowed raw"',
    '{"a":1,"A":2}',
    '{"e\u0301":1,"\u00e9":2}',
    '{"a":{"a":1},"b":{"a":2}}',
    '[{"a":1},{"a":1}]',
    '{"":1,"a":{"":2}}',
    '{"a":"__proto__","b":["__proto__"]}',
    '{"constructor":1}',
    '{"constructor":{"a":1}}',
    '{"constructor":[{"prototype":1}]}',
    '{"constructor":{"x":{"prototype":1}}}',
    '{"prototype":{"constructor":1}}',
    '{"a":{"prototype":1}}',
    '{"__proto":1,"_proto__":2,"__PROTO__":3}',
  ];
  for (const text of ok) {
    it(`accepts ${JSON.stringify(text).slice(0, 70)}`, () => expectOk(text));
  }

  it('accepts valid numbers', () => {
    for (const n of ['0', '-0', '1', '-1', '10', '1e5', '1E5', '1e+5', '1e-5', '1.5E-3', '-1.0e-0', '0.0',
      '0e0', '123456789012345678901234567890', '1e400', '-0.000001']) {
      expectOk(n);
      expectOk(`{"n":${n}}`);
      expectOk(`[${n},${n}]`);
    }
  });

  it('accepts whitespace after the value', () => {
    expectOk('{"a":1} ');
    expectOk('{"a":1}\n\r\t  ');
  });
});

describe('scanJson: invalid_json', () => {
  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['whitespace only', ' \n'],
    ['line comment', '{"a":1 // c\n}'],
    ['block comment', '/* c */{"a":1}'],
    ['trailing comment', '{"a":1}/* c */'],
    ['single-quoted string', "{\"a\":'b'}"],
    ['single-quoted key', "{'a':1}"],
    ['unquoted key', '{a:1}'],
    ['trailing comma in object', '{"a":1,}'],
    ['trailing comma in array', '[1,]'],
    ['leading comma', '[,1]'],
    ['double comma', '[1,,2]'],
    ['missing comma', '[1 2]'],
    ['missing comma in object', '{"a":1 "b":2}'],
    ['missing colon', '{"a" 1}'],
    ['missing value', '{"a":}'],
    ['NaN', '{"a":NaN}'],
    ['Infinity', '{"a":Infinity}'],
    ['-Infinity', '{"a":-Infinity}'],
    ['undefined', '{"a":undefined}'],
    ['True', 'True'],
    ['truncated literal', 'tru'],
    ['literal with suffix', 'nullx'],
    ['hex number', '0x10'],
    ['trailing data', '{"a":1}x'],
    ['two values', '{}{}'],
    ['two values with space', '{} []'],
    ['extra close', '{"a":1}}'],
    ['mismatched close', '{"a":[1}'],
    ['mismatched close 2', '[{"a":1]]'],
    ['unclosed array', '[1'],
    ['unclosed object', '{"a":1'],
    ['unclosed after key', '{"a"'],
    ['unclosed after colon', '{"a":'],
    ['unclosed after comma', '[1,'],
    ['unterminated string', '{"a":"b'],
    ['unterminated key', '{"a'],
    ['invalid escape', '"\\x41"'],
    ['uppercase U escape', '"\\U0041"'],
    ['short \\u escape', '"\\u12"'],
    ['non-hex \\u escape', '"\\u12G4"'],
    ['escaped single quote', '"\\\'"'],
    ['backslash at end', '"\\'],
    ['raw newline in string', '"a\nb"'],
    ['raw tab in string', '"a\tb"'],
    ['raw NUL in string', '"a\u0000b"'],
    ['raw NUL in key', '{"a\u0000":1}'],
    ['NBSP is not whitespace', '\u00a0{}'],
    ['BOM is not whitespace', '\ufeff{}'],
    ['vertical tab is not whitespace', '{}\u000b'],
    ['form feed is not whitespace', '[1,\u000c2]'],
    ['number key', '{1:1}'],
  ];
  for (const [name, text] of bad) {
    it(name, () => { expectRefused(text, 'invalid_json'); });
  }

  it('refuses every raw control character U+0000..U+001F inside strings', () => {
    for (let c = 0; c < 0x20; c++) {
      const detail = expectRefused(`{"a":"x${String.fromCharCode(c)}y"}`, 'invalid_json');
      assert.match(detail, /control character/);
    }
  });

  it('refuses malformed numbers', () => {
    for (const n of ['01', '00', '-01', '1.', '.5', '+1', '-', '1e', '1e+', '1E-', '1.e5', '-.5', '1_000', '0.5.1', '--1', '1e5.5', '٣']) {
      expectRefused(n, 'invalid_json');
      expectRefused(`{"n":${n}}`, 'invalid_json');
      expectRefused(`[${n}]`, 'invalid_json');
    }
  });

  it('reports the position of the problem', () => {
    assert.match(expectRefused('{"a":1}x', 'invalid_json'), /at character 7$/);
    assert.match(expectRefused('[1,]', 'invalid_json'), /at character 3$/);
    assert.match(expectRefused('[01]', 'invalid_json'), /leading zeros at character 1$/);
  });
});

describe('scanJson: too_deep', () => {
  it('accepts exactly maxDepth and refuses maxDepth + 1', () => {
    for (const max of [1, 2, 5, 64]) {
      expectOk('['.repeat(max) + ']'.repeat(max), max);
      expectRefused('['.repeat(max + 1) + ']'.repeat(max + 1), 'too_deep', max);
      expectOk('{"a":'.repeat(max - 1) + '{}' + '}'.repeat(max - 1), max);
      expectRefused('{"a":'.repeat(max) + '{}' + '}'.repeat(max), 'too_deep', max);
      expectOk('[{"a":'.repeat(max / 2 | 0) + '1' + '}]'.repeat(max / 2 | 0), max);
    }
  });

  it('counts depth of open containers, not total containers', () => {
    expectOk('[[],[],{"a":[]},[[]]]', 3);
    expectRefused('[[],[],{"a":[[]]}]', 'too_deep', 3);
  });

  it('with maxDepth 0 only scalars pass', () => {
    expectOk('1', 0);
    expectOk('"s"', 0);
    expectRefused('{}', 'too_deep', 0);
    expectRefused('[]', 'too_deep', 0);
  });

  it('refuses 50,000-deep arrays and objects without recursion', () => {
    const n = 50_000;
    expectRefused('['.repeat(n), 'too_deep');
    expectRefused('['.repeat(n) + ']'.repeat(n), 'too_deep');
    expectRefused('{"a":'.repeat(n), 'too_deep');
    expectRefused('{"a":'.repeat(n) + '1' + '}'.repeat(n), 'too_deep');
    expectRefused('[{"a":'.repeat(n / 2) + '1' + '}]'.repeat(n / 2), 'too_deep');
  });

  it('walks 20,000 and 50,000 levels when the limit allows it (the scanner is iterative)', () => {
    for (const n of [20_000, 50_000]) {
      expectOk('['.repeat(n) + ']'.repeat(n), n);
      expectOk('{"a":'.repeat(n - 1) + '{}' + '}'.repeat(n - 1), n);
      expectRefused('['.repeat(n + 1) + ']'.repeat(n + 1), 'too_deep', n);
      // Deep and then malformed at the very end must still be reported, not crash.
      expectRefused('['.repeat(n) + ']'.repeat(n - 1) + '}', 'invalid_json', n);
    }
  });

  it('rejects a bad maxDepth as a programming error', () => {
    assert.throws(() => scanJson('{}', { maxDepth: -1 }), RangeError);
    assert.throws(() => scanJson('{}', { maxDepth: 1.5 }), RangeError);
    assert.throws(() => scanJson('{}', { maxDepth: Number.NaN }), RangeError);
  });
});

describe('scanJson: duplicate_key', () => {
  const dupes = [
    '{"a":1,"a":2}',
    '{"a":1,"b":2,"a":1}',
    '{"a":1,"\\u0061":2}',
    '{"\\u0061":1,"a":2}',
    '{"\\u0061":1,"\\u0061":2}',
    '{"/":1,"\\/":2}',
    '{"\u00e9":1,"\\u00e9":2}',
    '{"\\u00E9":1,"\\u00e9":2}',
    '{"😀":1,"\\ud83d\\ude00":2}',
    '{"a\\nb":1,"a\\u000ab":2}',
    '{"":1,"":2}',
    '{"x":{"a":1,"a":2}}',
    '[{"ok":1},{"a":{"b":1,"b":[]}}]',
  ];
  for (const text of dupes) {
    it(JSON.stringify(text), () => { expectRefused(text, 'duplicate_key'); });
  }

  it('names the key, clipped to 40 characters', () => {
    const key = 'k'.repeat(1000);
    const detail = expectRefused(`{"${key}":1,"${key}":2}`, 'duplicate_key');
    assert.ok(!detail.includes('k'.repeat(MAX_ECHO_CHARS + 1)), detail);
    assert.ok(detail.includes('k'.repeat(MAX_ECHO_CHARS)), detail);
    assert.ok(detail.length < 200);
  });

  it('escapes control characters in the echoed key', () => {
    const detail = expectRefused('{"a\\r\\nb":1,"a\\r\\nb":2}', 'duplicate_key');
    assert.ok(!/[\r\n]/.test(detail));
  });
});

describe('scanJson: forbidden_key', () => {
  const forbidden = [
    '{"__proto__":{}}',
    '{"__proto__":1}',
    '{"a":[{"b":{"__proto__":{"x":1}}}]}',
    '{"\\u005f_proto__":1}',
    '{"\\u005F\\u005Fproto\\u005F\\u005F":1}',
    '{"constructor":{"prototype":{}}}',
    '{"constructor":{"prototype":null}}',
    '{"constructor":{"a":1,"prototype":1}}',
    '{"\\u0063onstructor":{"prototype":1}}',
    '{"constructor":{"\\u0070rototype":1}}',
    '[{"x":{"constructor":{"prototype":{"polluted":true}}}}]',
  ];
  for (const text of forbidden) {
    it(JSON.stringify(text), () => { expectRefused(text, 'forbidden_key'); });
  }
});

describe('scanJson: lone_surrogate', () => {
  const lone = [
    '"\\uD800"',
    '"\\udbff"',
    '"\\uDC00"',
    '"\\uDFFF"',
    '"\\uD800\\u0041"',
    '"\\uD800x"',
    '"\\uD800\\n"',
    '"\\uDE00\\uD83D"',
    '"\\uD83D\\uD83D"',
    '"\\uD83D\ude00"',
    '"\ud800"',
    '"\udc00"',
    '"a\ud800"',
    '"\ude00\ud83d"',
    '{"\\uD800":1}',
    '{"a":["ok","\\uDFFF"]}',
  ];
  for (const text of lone) {
    it(JSON.stringify(text), () => { expectRefused(text, 'lone_surrogate'); });
  }
});

describe('scanJson: string scanning fast paths', () => {
  // Short runs are scanned char by char and long ones by a sticky regex; every special
  // character must be caught at its exact position on either side of that switch.
  it('finds a special character at every position of plain runs up to 80 characters', () => {
    for (let len = 0; len <= 80; len++) {
      const plain = 'abcdefghij'.repeat(8).slice(0, len);
      expectOk(`"${plain}"`);
      expectOk(`{"${plain}":"${plain}"}`);
      for (let at = 0; at <= len; at++) {
        const head = plain.slice(0, at);
        const tail = plain.slice(at);
        const where = new RegExp(`at character ${at + 1}$`);
        assert.match(expectRefused(`"${head}\u0001${tail}"`, 'invalid_json'), where);
        assert.match(expectRefused(`"${head}\ud800${tail}"`, 'lone_surrogate'), where);
        assert.match(expectRefused(`"${head}\udc00${tail}"`, 'lone_surrogate'), where);
        expectOk(`"${head}😀${tail}"`);
        expectOk(`"${head}\\n\\u00e9${tail}"`);
        expectOk(`"${head}\\"${tail}"`);
        expectRefused(`"${head}\\x${tail}"`, 'invalid_json');
        // An unescaped quote ends the string early; the rest is then trailing garbage.
        if (tail.length > 0) expectRefused(`"${head}"${tail}"`, 'invalid_json');
      }
    }
  });

  it('agrees with JSON.parse on long strings with one injected character', () => {
    const hasLoneSurrogate = (s: string): boolean => /\p{Cs}/u.test(s);
    const injected = fc.constantFrom('\u0000', '\u001f', '\n', '\ud800', '\udbff', '\udc00', '"', '\\', '\\u', '\\ud800', '\\udc00', '\\uD83D\\uDE00', '\\n', '\\/', '\u007f', '\u2028', '😀');
    fc.assert(
      fc.property(fc.nat({ max: 60 }), fc.string({ unit: 'grapheme', maxLength: 80 }), fc.nat(), injected, (pad, s, at, bad) => {
        const inner = 'p'.repeat(pad) + s;
        const i = at % (inner.length + 1);
        const text = `"${inner.slice(0, i)}${bad}${inner.slice(i)}"`;
        let expected = true;
        try {
          const decoded: unknown = JSON.parse(text);
          expected = typeof decoded === 'string' && !hasLoneSurrogate(decoded) && !hasLoneSurrogate(text);
        } catch {
          expected = false;
        }
        const r = scanJson(text, OPTS);
        assert.equal(r.ok, expected, `${JSON.stringify(text)}: ${r.ok ? 'ok' : r.detail}`);
      }),
      { numRuns: 3000 },
    );
  });
});
