import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compileUserRegex } from './user-regex.js';
import { ConfigError } from './config-error.js';
import { loadConfigFile, parseConfigText } from './load.js';

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}) {
  try {
    parseConfigText(text, 'bulwark.yaml', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('expected a ConfigError');
}

const BASE = `version: 1
upstreams:
  llm:
    url: http://127.0.0.1:9
`;

describe('config loader', () => {
  it('accepts the full SPEC §2 example, parsing durations and sizes once', () => {
    const text = `version: 1
server:
  listen: 0.0.0.0:8443
  tls: { cert: certs/server.pem, key: certs/server-key.pem, clientCa: certs/ca.pem, requireClientCert: false, minVersion: TLSv1.2 }
  trustedProxies: [127.0.0.1/32]
  limits: { bodyBytes: 1mb, headerBytes: 16kb, jsonDepth: 32, requestTimeout: 60s, headersTimeout: 10s }
admin:
  listen: 127.0.0.1:9901
  token: \${BULWARK_ADMIN_TOKEN}
state:
  store: memory
  sqlite: { path: .bulwark/state.db }
  redis: { url: redis://127.0.0.1:6379, prefix: "bulwark:", onError: local }
upstreams:
  llm:
    url: https://api.openai.com
    headers: { authorization: "Bearer \${OPENAI_API_KEY}" }
    tls: { ca: certs/upstream-ca.pem, cert: certs/gw-client.pem, key: certs/gw-client-key.pem }
    timeout: 60s
    integrity: { manifest: models/manifest.json, publicKey: keys/model-signing.pub, every: 1h, onFailure: block }
auth:
  jwt:
    - issuer: https://auth.example.com
      audience: ai-api
      jwks: https://auth.example.com/.well-known/jwks.json
      algorithms: [RS256, ES256, EdDSA]
      maxTokenAge: 15m
      clockSkew: 30s
      rolesClaim: roles
  apiKeys: { header: x-api-key }
  mtls: { identity: san-uri, roles: { "spiffe://corp/agent-runner": [agent] } }
  tokenEndpoint: { path: /oauth/token, ttl: 5m, rotateKeys: 24h }
routes:
  - name: chat
    match: { methods: [POST], path: /v1/chat/completions }
    upstream: llm
    kind: openai-chat
    mode: enforce
    auth: { any: [jwt, apiKey, mtls], roles: [ai-user] }
    rateLimit:
      - { by: identity, requests: 60, per: 1m }
      - { by: ip, requests: 600, per: 1m }
      - { by: identity, tokens: 100000, per: 1m }
      - { by: identity, concurrent: 4 }
    adaptive: { onSignals: [auth.failure, prompt.injection, extraction.suspected], penalty: 0.5, ban: 15m }
    input:
      schema: builtin
      maxPromptChars: 16000
      maxMessages: 64
      maxTokens: 4096
      promptInjection: { action: block, threshold: 0.85 }
      deny: ["-----BEGIN [A-Z ]*PRIVATE KEY-----"]
      canary: true
    output:
      redact: [secrets, pii]
      onMatch: redact
      canary: block
      watermark: { text: true, numbers: round4 }
    extraction: { monitor: true, action: throttle }
  - name: ingest-feedback
    match: { methods: [POST], path: /v1/feedback }
    kind: json
    input: { fields: ["/text"], poisoning: { action: quarantine } }
events:
  sinks:
    - { type: stdout }
    - { type: file, path: logs/security.jsonl, rotate: 100mb, keep: 10, chain: true }
    - { type: syslog, address: udp://127.0.0.1:514 }
    - { type: webhook, url: "https://security.example.com/alert", secret: "\${ALERT_SECRET}", minSeverity: high }
  alerts:
    - name: auth-failure-spike
      when: { event: auth.failure, count: 20, within: 1m, by: source.ip }
      then: [notify, { ban: 15m }]
    - name: extraction
      when: { event: extraction.suspected }
      then: [notify, { revokeKey: false, throttle: 0.1 }]
inventory:
  openapi: [http://model-svc.internal/openapi.json]
  every: 1h
`;
    const cfg = parseConfigText(text, 'spec.yaml', { BULWARK_ADMIN_TOKEN: 'a'.repeat(32), OPENAI_API_KEY: 'sk-test', ALERT_SECRET: 's'.repeat(32) });
    assert.equal(cfg.server.limits.bodyBytes, 1024 * 1024);
    assert.equal(cfg.server.limits.headerBytes, 16 * 1024);
    assert.equal(cfg.server.limits.requestTimeout, 60_000);
    assert.equal(cfg.upstreams.llm?.headers.authorization, 'Bearer sk-test');
    assert.equal(cfg.routes[0]?.rateLimit?.[0]?.per, 60_000);
    assert.equal(cfg.routes[1]?.upstream, undefined);
    assert.equal(cfg.auth.jwt?.[0]?.maxTokenAge, 15 * 60_000);
  });

  it('names file, line, column and key path for a bad value', () => {
    const issues = issuesOf(`${BASE}routes:\n  - name: chat\n    match: { methods: [POST], path: v1/x }\n`);
    assert.equal(issues.length, 1);
    assert.deepEqual({ file: issues[0]?.file, line: issues[0]?.line, column: issues[0]?.column, path: issues[0]?.path }, { file: 'bulwark.yaml', line: 7, column: 37, path: 'routes[0].match.path' });
  });

  it('points at an unknown key itself', () => {
    const issues = issuesOf(`${BASE}routes:\n  - name: chat\n    match: { methods: [POST], path: /a }\n    bogus: true\n`);
    assert.deepEqual([issues[0]?.line, issues[0]?.column, issues[0]?.path, issues[0]?.message], [8, 5, 'routes[0].bogus', 'unknown key']);
  });

  it('suggests the key a typo meant, at its level or one level down', () => {
    const issues = issuesOf(`${BASE}routes:\n  - name: chat\n    path: /a\n    match: { methds: [POST], path: /a }\n    ratelimit: []\n    upstream: llm\n`);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    assert.equal(byPath['routes[0].match.methds'], 'unknown key (did you mean "methods"?)');
    assert.equal(byPath['routes[0].ratelimit'], 'unknown key (did you mean "rateLimit"?)');
    assert.equal(byPath['routes[0].path'], 'unknown key (did you mean "match.path"?)');
    const far = issuesOf(`${BASE}routes: []\nzzzqqq: 1\n`);
    assert.equal(far[0]?.message, 'unknown key');
  });

  it('names the allowed value a wrongly cased one meant', () => {
    const issues = issuesOf(`${BASE}routes:\n  - name: chat\n    match: { methods: [post], path: /a }\n    upstream: llm\n`);
    assert.match(issues[0]?.message ?? '', /\(did you mean "POST"\?\)$/);
    const other = issuesOf(`${BASE}routes:\n  - name: chat\n    match: { methods: [FETCH], path: /a }\n    upstream: llm\n`);
    assert.doesNotMatch(other[0]?.message ?? '', /did you mean/);
  });

  it('deny patterns: inline (?i) is accepted; other invalid syntax names the RE2 engine', () => {
    const route = (deny: string) => `${BASE}routes:\n  - name: chat\n    kind: openai-chat\n    match: { methods: [POST], path: /a }\n    upstream: llm\n    input: { deny: ["${deny}"] }\n`;
    const ok = parseConfigText(route('(?i)project falcon'), 'b.yaml', {});
    assert.deepEqual(ok.routes[0]?.input?.deny, ['(?i)project falcon']);
    const bad = issuesOf(route('(?<x)oops'));
    assert.match(bad[0]?.message ?? '', /^not a valid regex \(config regexes run on RE2, a linear-time engine; /);
  });

  it('a near-miss enum value names the allowed one', () => {
    const issues = issuesOf(`${BASE}routes:\n  - name: chat\n    kind: openai_chat\n    match: { methods: [POST], path: /a }\n    upstream: llm\n`);
    assert.match(issues[0]?.message ?? '', /\(did you mean "openai-chat"\?\)$/);
  });

  it('says a required key is missing rather than "received undefined"', () => {
    const issues = issuesOf('upstreams: {}\nroutes:\n  - match: { path: /a }\n');
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    assert.equal(byPath['version'], 'required key is missing (expected 1)');
    assert.equal(byPath['routes[0].name'], 'required key is missing (expected string)');
    const wrong = issuesOf(`${BASE.replace('version: 1', 'version: 2')}routes: []\n`);
    assert.doesNotMatch(wrong[0]?.message ?? '', /missing/);
  });

  it('reports every issue at once, including cross-key ones', () => {
    const issues = issuesOf(`${BASE}routes:\n  - name: a\n    match: { methods: [POST], path: /a }\n    upstream: nope\n  - name: a\n    match: { methods: [POST], path: /a }\n`);
    const paths = issues.map((i) => i.path).sort();
    assert.deepEqual(paths, ['routes[0].upstream', 'routes[1].match', 'routes[1].name']);
  });

  it('refuses an unset environment variable, with its location, and honours defaults', () => {
    const issues = issuesOf(`${BASE}    headers: { authorization: "Bearer \${NOPE}" }\n`);
    assert.match(issues[0]?.message ?? '', /NOPE is not set/);
    assert.equal(issues[0]?.path, 'upstreams.llm.headers.authorization');
    assert.equal(issues[0]?.line, 5);
    const cfg = parseConfigText(`${BASE}    headers: { x-a: "\${NOPE:-fallback}", x-b: "$\${LITERAL}" }\n`, 'b.yaml', {});
    assert.equal(cfg.upstreams.llm?.headers['x-a'], 'fallback');
    assert.equal(cfg.upstreams.llm?.headers['x-b'], '${LITERAL}');
  });

  it('never lets a variable inject YAML structure', () => {
    const cfg = parseConfigText(`${BASE}    headers: { x-a: "\${EVIL}" }\n`, 'b.yaml', { EVIL: 'v\nroutes: []\nadmin: {}' });
    assert.equal(cfg.upstreams.llm?.headers['x-a'], 'v\nroutes: []\nadmin: {}');
    assert.equal(cfg.admin, undefined);
  });

  it('refuses duplicate keys and YAML syntax errors with a position', () => {
    const dup = issuesOf(`${BASE}routes: []\nroutes: []\n`);
    assert.equal(dup[0]?.line, 6);
    const syntax = issuesOf('version: 1\nroutes: [\n');
    assert.ok((syntax[0]?.line ?? 0) >= 2);
  });

  it('refuses bad durations, sizes, regexes RE2 cannot run and out-of-range skew', () => {
    const issues = issuesOf(`version: 1
server:
  limits: { bodyBytes: lots, requestTimeout: soon }
upstreams:
  llm: { url: "http://127.0.0.1:9" }
auth:
  jwt:
    - { issuer: i, audience: a, algorithms: [RS256], clockSkew: 5m }
routes:
  - name: chat
    match: { methods: [POST], path: /a }
    kind: openai-chat
    input: { deny: ["(?<=a)b", "ok[0-9]+"] }
`);
    const paths = issues.map((i) => i.path);
    assert.ok(paths.includes('server.limits.bodyBytes'));
    assert.ok(paths.includes('server.limits.requestTimeout'));
    assert.ok(paths.includes('auth.jwt[0].clockSkew'));
    const bad = parseConfigError(`${BASE}routes:\n  - name: chat\n    match: { methods: [POST], path: /a }\n    kind: openai-chat\n    input: { deny: ["(?<=a)b", "ok[0-9]+"] }\n`);
    assert.deepEqual(bad.map((i) => i.path), ['routes[0].input.deny[0]']);
    assert.match(bad[0]?.message ?? '', /lookahead and lookbehind are not supported/);
  });

  it('refuses a duration without a unit (60 would silently mean 60 ms)', () => {
    const issues = issuesOf(`${BASE}    timeout: 60\n`);
    assert.equal(issues[0]?.path, 'upstreams.llm.timeout');
    assert.match(issues[0]?.message ?? '', /with a unit/);
  });

  it('refuses algorithm "none" (it is not in the schema at all)', () => {
    const issues = issuesOf(`${BASE}auth:\n  jwt:\n    - { issuer: i, audience: a, algorithms: [none] }\n`);
    assert.equal(issues[0]?.path, 'auth.jwt[0].algorithms[0]');
  });

  it('reads JSON files too, and reports an unreadable file without a stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-cfg-'));
    const file = join(dir, 'b.json');
    writeFileSync(file, JSON.stringify({ version: 1, upstreams: { llm: { url: 'http://127.0.0.1:9' } }, routes: [{ name: 'x', match: { methods: ['GET'], path: '/x' } }] }));
    assert.equal(loadConfigFile(file).config.routes.length, 1);
    assert.throws(() => loadConfigFile(join(dir, 'missing.yaml')), (e: unknown) => e instanceof ConfigError && /ENOENT/.test(e.message));
  });
});

function parseConfigError(text: string) {
  return issuesOf(text);
}

describe('JWT issuer config (G-2.6)', () => {
  const issuer = (extra: string) => `${BASE}auth:\n  jwt:\n    - { issuer: i, audience: a, ${extra} }\n`;
  it('refuses weak or placeholder HS secrets and mixed key families', () => {
    assert.match(issuesOf(issuer('algorithms: [HS256], secret: "your-256-bit-secret"'))[0]?.message ?? '', /placeholder/);
    assert.match(issuesOf(issuer('algorithms: [HS256], secret: "short-secret"'))[0]?.message ?? '', /at least 32 bytes/);
    assert.match(issuesOf(issuer(`algorithms: [HS512], secret: "${'k1'.repeat(20)}"`))[0]?.message ?? '', /at least 64 bytes/);
    assert.match(issuesOf(issuer(`algorithms: [HS256, RS256], secret: "${'k1x'.repeat(12)}"`))[0]?.message ?? '', /RS256 need jwks/);
    assert.match(issuesOf(issuer('algorithms: [RS256, HS256], jwks: "https://x/jwks.json"'))[0]?.message ?? '', /never verify HS\* with a public key/);
    assert.match(issuesOf(issuer('algorithms: [RS256]'))[0]?.message ?? '', /set jwks/);
    const ok = parseConfigText(issuer(`algorithms: [HS256], secret: "${'k1x'.repeat(12)}"`), 'b.yaml', {});
    assert.equal(ok.auth.jwt?.[0]?.algorithms[0], 'HS256');
  });
});

describe('config regexes run on RE2', () => {
  const base = (pattern: string) => `version: 1\nupstreams: { llm: { url: "http://127.0.0.1:9" } }\nroutes:\n  - name: chat\n    match: { methods: [POST], path: /v1/chat/completions }\n    kind: openai-chat\n    auth: { public: true }\n    input: { deny: [${JSON.stringify(pattern)}] }\n`;

  it('accepts patterns a backtracking engine would choke on: RE2 runs them in linear time', () => {
    // Each of these is exponential or quadratic in V8; on RE2 there is no worst case to probe for.
    for (const p of ['(x|x)*y', '(a|aa)+$', '[a-z]+@[a-z]+\\.com', '(?m)^\\s*x', '(?m)^(?:\\s|y)*z', '(?i)^(?:[a-z]|\\u212a)+$', '(?im)^project\\s+falcon\\b']) {
      assert.doesNotThrow(() => parseConfigText(base(p), 'r.yaml'), p);
    }
  });

  it('refuses syntax RE2 cannot run, naming file, line, column, key and reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['(?<=a)b', /lookahead and lookbehind are not supported/],
      ['a(?!b)', /lookahead and lookbehind are not supported/],
      ['(a)\\1', /backreferences are not supported/],
      ['(?<w>a)\\k<w>', /backreferences are not supported/],
      ['(?>ab)c', /atomic groups are not supported/],
      ['a++b', /possessive quantifiers are not supported/],
      ['[a-', /not a valid regex/],
    ];
    for (const [p, reason] of cases) {
      assert.throws(() => parseConfigText(base(p), 'r.yaml'), (e: unknown) => {
        const msg = (e as Error).message;
        assert.match(msg, /r\.yaml:8:\d+ routes\[0\]\.input\.deny\[0\]: /, p);
        assert.match(msg, reason, p);
        assert.match(msg, /RE2/, p);
        return true;
      }, p);
    }
    // An escaped parenthesis is a literal, not a lookahead.
    assert.doesNotThrow(() => parseConfigText(base('\\(\\?=x'), 'r.yaml'));
  });

  it('compiled deny patterns match as written: inline flags, Unicode classes, case', () => {
    assert.equal(compileUserRegex('(?i)project falcon').test('PROJECT FALCON'), true);
    assert.equal(compileUserRegex('project falcon').test('PROJECT FALCON'), false);
    assert.equal(compileUserRegex('(?m)^secret$').test('a\nsecret\nb'), true);
    assert.equal(compileUserRegex('^\\p{Lu}{3}$').test('ÄÖÜ'), true);
    assert.equal(compileUserRegex('-----BEGIN [A-Z ]*PRIVATE KEY-----').test('x -----BEGIN RSA PRIVATE KEY----- y'), true);
  });
});
