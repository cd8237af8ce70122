import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_CANONICAL_PATH_LENGTH,
  TARGET_REJECT_REASONS,
  canonicalizeTarget,
  describeTargetReject,
  type TargetRejectReason,
} from './canonical-path.js';

type Expected = { path: string; query?: string } | TargetRejectReason;

// Each row is an input an attacker (or a confused client) could send, and the one outcome allowed.
const TABLE: ReadonlyArray<readonly [string, Expected]> = [
  // Plain and normalised paths.
  ['/', { path: '/' }],
  ['/v1/chat/completions', { path: '/v1/chat/completions' }],
  ['/v1/chat/completions/', { path: '/v1/chat/completions' }],
  ['//v1//chat///completions', { path: '/v1/chat/completions' }],
  ['//', { path: '/' }],
  ['/v1/./chat/./completions', { path: '/v1/chat/completions' }],
  ['/v1/chat/completions/.', { path: '/v1/chat/completions' }],
  // Two `..` remove `completions` and `chat`, so this stays under /v1 (RFC 3986 §5.2.4).
  ['/v1/chat/completions/../../admin', { path: '/v1/admin' }],
  ['/v1/chat/completions/../../../admin', { path: '/admin' }],
  ['/v1/chat/completions/..', { path: '/v1/chat' }],
  ['/v1/chat/completions/../', { path: '/v1/chat' }],
  ['/a//..', { path: '/' }],
  ['/v1/.../models', { path: '/v1/.../models' }],
  ['/v1/..../models', { path: '/v1/..../models' }],
  ['/v1/.hidden/..x', { path: '/v1/.hidden/..x' }],
  ['/v1/models/ft:gpt-4o:acme::abc123', { path: '/v1/models/ft:gpt-4o:acme::abc123' }],
  ['/v1/files/file-abc@2x!$&\'()*+,=', { path: '/v1/files/file-abc@2x!$&\'()*+,=' }],
  // Query handling.
  ['/v1/chat/completions?x=1', { path: '/v1/chat/completions', query: 'x=1' }],
  ['/v1/chat/completions?', { path: '/v1/chat/completions', query: '' }],
  ['/v1/models?a=%2F..%2F&b=%00', { path: '/v1/models', query: 'a=%2F..%2F&b=%00' }],
  ['/v1/models?next=/a?b', { path: '/v1/models', query: 'next=/a?b' }],
  ['/v1/x/..?q', { path: '/v1', query: 'q' }],
  ['/?', { path: '/', query: '' }],
  ['/v1/models?q=a b', 'invalid_character'],
  ['/v1/models?q=\r\nX-Injected: 1', 'invalid_character'],
  ['/v1/models?q=caf\u00e9', 'invalid_character'],
  // Unreserved percent-encodings are decoded, then resolved.
  ['/v1/%63hat/completions', { path: '/v1/chat/completions' }],
  ['/v1/%43hat/%7Euser/%2d%2E%5f', { path: '/v1/Chat/~user/-._' }],
  ['/v1/chat/completions/%2E%2E/%2e%2e/admin', { path: '/v1/admin' }],
  ['/v1/%2e/models', { path: '/v1/models' }],
  ['/%2E%2E/admin', 'path_traversal'],
  ['/.%2e/admin', 'path_traversal'],
  // Traversal above the root.
  ['/../admin', 'path_traversal'],
  ['/..', 'path_traversal'],
  ['/v1/../../admin', 'path_traversal'],
  ['/v1/chat/completions/../../../../admin', 'path_traversal'],
  ['//..//admin', 'path_traversal'],
  ['/./../etc/passwd', 'path_traversal'],
  // Not origin-form.
  ['*', 'not_origin_form'],
  ['http://evil.example/v1/chat/completions', 'not_origin_form'],
  ['HTTP://evil.example/', 'not_origin_form'],
  ['evil.example:443', 'not_origin_form'],
  ['', 'not_origin_form'],
  ['v1/chat/completions', 'not_origin_form'],
  ['?/v1/chat', 'not_origin_form'],
  [' /v1/chat/completions', 'not_origin_form'],
  // Fragments.
  ['/v1/chat/completions#x', 'fragment'],
  ['/v1/chat/completions?x=1#frag', 'fragment'],
  ['/#', 'fragment'],
  // Characters outside printable ASCII, or not legal in a URI path.
  ['/v1/chat completions', 'invalid_character'],
  ['/v1/chat/completions\t', 'invalid_character'],
  ['/v1/chat\u0000', 'invalid_character'],
  ['/v1/chat\x7f', 'invalid_character'],
  ['/v1/chat\r\nHost: evil', 'invalid_character'],
  ['/v1\uff0fchat/completions', 'invalid_character'],
  ['/v1/\uff0e\uff0e/admin', 'invalid_character'],
  ['/v1/caf\u00e9', 'invalid_character'],
  ['/v1/\u{1F600}', 'invalid_character'],
  ['/v1/<script>', 'invalid_character'],
  ['/v1/{id}', 'invalid_character'],
  ['/v1/a|b', 'invalid_character'],
  ['/v1/[::1]', 'invalid_character'],
  ['/v1/"x"', 'invalid_character'],
  ['/v1/a`b', 'invalid_character'],
  ['/v1/a^b', 'invalid_character'],
  // Backslash and matrix parameters.
  ['/v1\\..\\admin', 'backslash'],
  ['/\\evil.example/', 'backslash'],
  ['/v1/chat/completions;x=1', 'matrix_param'],
  ['/admin;/v1/chat/completions', 'matrix_param'],
  ['/v1/..;/admin', 'matrix_param'],
  // Percent-encodings that are refused.
  ['/v1/chat%2Fcompletions', 'encoded_separator'],
  ['/v1/chat%2fcompletions', 'encoded_separator'],
  ['/v1/chat%5Ccompletions', 'encoded_separator'],
  ['/..%2Fadmin', 'encoded_separator'],
  ['/v1/chat/completions%00', 'encoded_nul'],
  ['/v1/chat/completions%2500', 'double_encoding'],
  ['/v1/%252e%252e/admin', 'double_encoding'],
  ['/v1/chat/completions%', 'bad_percent_encoding'],
  ['/v1/chat/completions%2', 'bad_percent_encoding'],
  ['/v1/%G1', 'bad_percent_encoding'],
  ['/v1/%%32%65', 'bad_percent_encoding'],
  ['/v1/%u002e', 'bad_percent_encoding'],
  ['/%C0%AE%C0%AE/', 'encoded_reserved'],
  ['/%c0%af', 'encoded_reserved'],
  ['/%EF%BC%8F', 'encoded_reserved'],
  ['/v1/chat%20completions', 'encoded_reserved'],
  ['/v1/chat%3Bx=1', 'encoded_reserved'],
  ['/v1/chat%3Fx=1', 'encoded_reserved'],
  ['/v1/chat%23x', 'encoded_reserved'],
  ['/v1/chat%0D%0A', 'encoded_reserved'],
  ['/v1/%3A', 'encoded_reserved'],
  // Length.
  [`/${'a'.repeat(MAX_CANONICAL_PATH_LENGTH - 1)}`, { path: `/${'a'.repeat(MAX_CANONICAL_PATH_LENGTH - 1)}` }],
  [`/${'a'.repeat(MAX_CANONICAL_PATH_LENGTH)}`, 'too_long'],
  // Long raw input that is short once canonical is fine: the limit is on what we forward.
  [`/${'./'.repeat(2000)}v1`, { path: '/v1' }],
];

describe('canonicalizeTarget: hostile target table', () => {
  it('has at least 40 rows', () => {
    assert.ok(TABLE.length >= 40, `only ${TABLE.length} rows`);
  });

  for (const [input, expected] of TABLE) {
    const label = JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input);
    it(`${label} → ${typeof expected === 'string' ? expected : expected.path}`, () => {
      const got = canonicalizeTarget(input);
      if (typeof expected === 'string') {
        assert.equal(got.ok, false, `expected refusal, got ${JSON.stringify(got)}`);
        if (!got.ok) assert.equal(got.reason, expected, got.detail);
      } else {
        assert.deepEqual(got, { ok: true, path: expected.path, query: expected.query });
      }
    });
  }

  it('covers every reject reason', () => {
    const covered = new Set(TABLE.map(([, e]) => e).filter((e): e is TargetRejectReason => typeof e === 'string'));
    for (const reason of TARGET_REJECT_REASONS) assert.ok(covered.has(reason), `no row for ${reason}`);
  });
});

describe('describeTargetReject', () => {
  it('has a short sentence for every reason', () => {
    for (const reason of TARGET_REJECT_REASONS) {
      const text = describeTargetReject(reason);
      assert.ok(text.length > 10 && text.length < 160, `${reason}: ${text}`);
      assert.match(text, /\.$/);
    }
  });
});

describe('canonicalizeTarget: details', () => {
  it('never echo more than 40 characters of a long hostile target', () => {
    const marker = 'Z'.repeat(500);
    for (const input of [`http://${marker}`, `/${marker}#`, `/..${'/..'.repeat(1)}/${marker}`, `/${marker}%2F`]) {
      const got = canonicalizeTarget(input);
      assert.equal(got.ok, false);
      if (!got.ok) assert.ok(!got.detail.includes('Z'.repeat(41)), got.detail);
    }
  });

  it('escape control characters instead of echoing them', () => {
    const got = canonicalizeTarget('http://x/\r\nSet-Cookie: a=b');
    assert.equal(got.ok, false);
    if (!got.ok) assert.doesNotMatch(got.detail, /[\r\n]/);
  });
});

// Inputs are built from fragments that exercise every rule, so the properties see many
// accepted paths as well as every kind of refusal.
const fragment = fc.constantFrom(
  '/', '/', '/', '//', '.', '..', '...', 'a', 'b', 'v1', '~', '-', '_', ':', '@',
  '%2e', '%2E', '%2F', '%5c', '%25', '%41', '%7e', '%00', '%C0', '%', '%g1', '%2',
  '?', '#', ';', '\\', ' ', '\t', '\u00ff', '\uff0f', '\u{1F600}', '<', '{', '|',
);
const target = fc
  .tuple(fc.boolean(), fc.array(fragment, { maxLength: 24 }))
  .map(([slashFirst, parts]) => (slashFirst ? '/' : '') + parts.join(''));
const anyString = fc.oneof(target, fc.string({ unit: 'binary', maxLength: 64 }), fc.string({ maxLength: 64 }));

describe('canonicalizeTarget: properties', () => {
  it('never throws and always returns a known shape', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        const got = canonicalizeTarget(input);
        if (got.ok) return typeof got.path === 'string';
        return (TARGET_REJECT_REASONS as readonly string[]).includes(got.reason);
      }),
      { numRuns: 3000 },
    );
  });

  it('is idempotent: a canonical path canonicalizes to itself', () => {
    fc.assert(
      fc.property(target, (input) => {
        const first = canonicalizeTarget(input);
        if (!first.ok) return true;
        const second = canonicalizeTarget(first.path);
        assert.deepEqual(second, { ok: true, path: first.path, query: undefined });
        return true;
      }),
      { numRuns: 3000 },
    );
  });

  it('output has no //, /./, /../, %, \\ and no trailing / except the root', () => {
    fc.assert(
      fc.property(target, (input) => {
        const got = canonicalizeTarget(input);
        if (!got.ok) return true;
        const p = got.path;
        assert.ok(p.startsWith('/'), p);
        assert.ok(!p.includes('//'), p);
        assert.ok(!`${p}/`.includes('/./'), p);
        assert.ok(!`${p}/`.includes('/../'), p);
        assert.ok(!p.includes('%'), p);
        assert.ok(!p.includes('\\'), p);
        assert.ok(!p.includes(';'), p);
        assert.ok(p === '/' || !p.endsWith('/'), p);
        assert.ok(p.length <= MAX_CANONICAL_PATH_LENGTH);
        return true;
      }),
      { numRuns: 3000 },
    );
  });

  it('a WHATWG URL parser (what undici and most upstreams use) reads the forwarded path unchanged', () => {
    fc.assert(
      fc.property(target, (input) => {
        const got = canonicalizeTarget(input);
        if (!got.ok) return true;
        assert.equal(new URL(got.path, 'http://upstream.invalid').pathname, got.path);
        return true;
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with WHATWG dot-segment resolution whenever there are no empty segments', () => {
    const segment = fc.constantFrom('.', '..', '%2e', '%2E%2e', 'a', 'b', '...', 'v1');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 10 }), (segments) => {
        const input = `/${segments.join('/')}`;
        const got = canonicalizeTarget(input);
        const whatwg = new URL(input, 'http://upstream.invalid').pathname;
        const trimmed = whatwg.length > 1 && whatwg.endsWith('/') ? whatwg.slice(0, -1) : whatwg;
        // WHATWG clamps `..` at the root where we refuse; otherwise both must agree.
        if (!got.ok) assert.equal(got.reason, 'path_traversal');
        else assert.equal(got.path, trimmed);
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('details never carry more than 40 consecutive characters of the input', () => {
    const longTarget = fc
      .tuple(fc.string({ minLength: 41, maxLength: 120 }), target)
      .map(([noise, t]) => `${t}${noise}`);
    fc.assert(
      fc.property(fc.oneof(longTarget, anyString), (input) => {
        const got = canonicalizeTarget(input);
        if (got.ok) return true;
        for (let i = 0; i + 41 <= input.length; i++) {
          const window = input.slice(i, i + 41);
          // An input `"` is always escaped in a detail, so a window holding one can only match by
          // colliding with the quote that closes an excerpt; such windows prove nothing.
          if (!window.includes('"')) assert.ok(!got.detail.includes(window), got.detail);
        }
        return true;
      }),
      { numRuns: 1000 },
    );
  });
});
