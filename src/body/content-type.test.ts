import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkJsonContentType } from './content-type.js';
import { BODY_REJECT_STATUS, MAX_ECHO_CHARS, echo, rejectTooLarge } from './body-result.js';

describe('checkJsonContentType: accepted', () => {
  const accepted: Array<string | string[]> = [
    'application/json',
    'APPLICATION/JSON',
    'Application/Json',
    'application/json; charset=utf-8',
    'application/json;charset=utf-8',
    'application/json ;charset=UTF-8',
    'application/json\t;\tCharset=Utf-8',
    'application/json; CHARSET=UTF-8',
    ' application/json ',
    'application/json;',
    'application/json; charset=utf-8;',
    ['application/json'],
  ];
  for (const ct of accepted) {
    it(`accepts ${JSON.stringify(ct)}`, () => {
      assert.deepEqual(checkJsonContentType(ct, undefined), { ok: true });
    });
  }

  it('accepts an absent or identity Content-Encoding', () => {
    for (const ce of [undefined, 'identity', 'IDENTITY', ' identity ', ['identity'], []]) {
      assert.deepEqual(checkJsonContentType('application/json', ce), { ok: true }, JSON.stringify(ce));
    }
  });
});

describe('checkJsonContentType: refused with 415 unsupported_media_type', () => {
  const refused: Array<[string, string | string[] | undefined]> = [
    ['missing', undefined],
    ['empty', ''],
    ['whitespace only', '  '],
    ['empty array', []],
    ['text/plain', 'text/plain'],
    ['form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['+json suffix', 'application/vnd.foo+json'],
    ['problem+json', 'application/problem+json'],
    ['json with other type', 'text/json'],
    ['latin1 charset', 'application/json; charset=iso-8859-1'],
    ['utf-16 charset', 'application/json; charset=utf-16'],
    ['utf8 without hyphen', 'application/json; charset=utf8'],
    ['other parameter', 'application/json; boundary=x'],
    ['extra parameter after charset', 'application/json; charset=utf-8; q=1'],
    ['duplicate charset', 'application/json; charset=utf-8; charset=utf-8'],
    ['quoted charset', 'application/json; charset="utf-8"'],
    ['space around =', 'application/json; charset = utf-8'],
    ['parameter without value', 'application/json; charset'],
    ['comma-joined values', 'application/json, text/plain'],
    ['comma-joined json twice', 'application/json,application/json'],
    ['multiple headers', ['application/json', 'application/json']],
    ['no subtype', 'application'],
    ['space inside type', 'application / json'],
    ['missing type before ;', '; charset=utf-8'],
    ['json with suffix junk', 'application/jsonx'],
    ['non-token char', 'application/json\u0000'],
    ['non-ASCII space is not OWS', '\u00a0application/json'],
  ];
  for (const [name, ct] of refused) {
    it(name, () => {
      const r = checkJsonContentType(ct, undefined);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.status, 415);
      assert.equal(r.reason, 'unsupported_media_type');
      assert.ok(r.detail.length > 0);
    });
  }

  it('names +json types specifically', () => {
    const r = checkJsonContentType('application/vnd.foo+json', undefined);
    assert.ok(!r.ok && /\+json/.test(r.detail));
  });

  it('checks the type before the encoding', () => {
    const r = checkJsonContentType('text/plain', 'gzip');
    assert.ok(!r.ok && r.reason === 'unsupported_media_type');
  });
});

describe('checkJsonContentType: refused with 415 unsupported_encoding', () => {
  const refused: Array<string | string[]> = [
    'gzip',
    'br',
    'deflate',
    'x-gzip',
    'identity, gzip',
    'gzip, identity',
    '',
    ['identity', 'identity'],
    ['gzip'],
  ];
  for (const ce of refused) {
    it(JSON.stringify(ce), () => {
      const r = checkJsonContentType('application/json', ce);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.status, 415);
      assert.equal(r.reason, 'unsupported_encoding');
    });
  }
});

describe('detail never echoes more than 40 characters of client input', () => {
  const long = 'x'.repeat(500);
  const cases: Array<[string | undefined, string | undefined]> = [
    [`application/${long}`, undefined],
    [`application/json; ${long}=1`, undefined],
    [`application/json; charset=${long}`, undefined],
    [`application/json; charset=utf-8; ${long}=y`, undefined],
    ['application/json', long],
  ];
  for (const [ct, ce] of cases) {
    it(`${String(ct).slice(0, 30)} / ${String(ce).slice(0, 10)}`, () => {
      const r = checkJsonContentType(ct, ce);
      assert.ok(!r.ok);
      assert.ok(!r.detail.includes('x'.repeat(MAX_ECHO_CHARS + 1)), r.detail);
      assert.ok(r.detail.includes('x'.repeat(MAX_ECHO_CHARS / 2)), 'still shows a useful prefix');
    });
  }

  it('escapes control characters instead of reflecting them', () => {
    const r = checkJsonContentType('text/plain', '\r\nX-Injected: 1');
    assert.ok(!r.ok);
    const r2 = checkJsonContentType('application/json', 'gz\r\nip');
    assert.ok(!r2.ok && !/[\r\n]/.test(r2.detail), r2.ok ? '' : r2.detail);
  });
});

describe('body-result helpers', () => {
  it('echo truncates to 40 characters without splitting a surrogate pair', () => {
    assert.equal(echo('abc'), '"abc"');
    assert.equal(echo('a'.repeat(41)), `"${'a'.repeat(40)}"…`);
    const tricky = 'a'.repeat(39) + '😀' + 'b';
    assert.equal(echo(tricky), `"${'a'.repeat(39)}"…`);
  });

  it('too_large is 413 with the limit in the detail', () => {
    const r = rejectTooLarge(1024);
    assert.deepEqual(r, { ok: false, status: 413, reason: 'too_large', detail: 'request body exceeds the 1024-byte limit' });
  });

  it('maps every reason to 400, 413 or 415', () => {
    for (const [reason, status] of Object.entries(BODY_REJECT_STATUS)) {
      const expected = reason === 'too_large' ? 413 : reason.startsWith('unsupported_') ? 415 : 400;
      assert.equal(status, expected, reason);
    }
  });
});
