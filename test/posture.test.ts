import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CheckReport } from '../src/cli/check.js';
import type { RouteSurface } from '../src/cli/routes.js';
import { parseConfigText } from '../src/config/load.js';
import { lintPosture, locatorFromText, type FindingCode } from '../src/config/posture.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-posture-'));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// Every finding code, each marked on the line it must be reported at: `# expect: CODE/severity ...`.
// Keys that are missing are reported at the nearest key that is present (a route's `- name:` line).
const WEAK = `version: 1
server:
  listen: 0.0.0.0:8080                              # expect: PLAIN_HTTP_PUBLIC/high
  trustedProxies:
    - 10.0.0.0/8
    - 0.0.0.0/0                                     # expect: TRUSTED_PROXY_ANY/high
admin:                                              # expect: ADMIN_NO_AUTH/high
  listen: 0.0.0.0:9901                              # expect: ADMIN_PUBLIC/high
state:
  store: redis
  redis:
    url: redis://10.0.0.5:6379                      # expect: REDIS_PLAIN_TEXT/medium
    onError: allow                                  # expect: REDIS_FAIL_OPEN/medium
upstreams:
  llm:
    url: http://llm.example.com                     # expect: UPSTREAM_PLAIN_HTTP/high
  internal:
    url: http://10.1.2.3:8000                       # expect: UPSTREAM_PLAIN_HTTP/medium
  local:
    url: http://127.0.0.1:9
auth:
  apiKeys: { header: x-api-key }
  jwt:
    - issuer: https://auth.example.com
      audience: ai
      algorithms: [HS256]
      secret: "Zq3vN8xK2mP7wR4tY6uB1cD5eF9gH0jL"      # expect: WEAK_SECRET/low
    - issuer: https://keys.example.com
      audience: ai
      algorithms: [RS256]
      jwks: http://keys.example.com/jwks.json       # expect: JWKS_PLAIN_HTTP/high
routes:
  - name: open-chat                                 # expect: ROUTE_NO_AUTH/high
    match: { methods: [POST], path: /v1/chat/completions }
    upstream: local
    kind: openai-chat
    rateLimit:
      - { by: ip, requests: 60, per: 1m }
      - { by: ip, tokens: 100000, per: 1d }
    input: { maxTokens: 1024, promptInjection: { action: block } }
    output: { redact: [secrets, pii] }
  - name: public-chat
    match: { methods: [POST], path: /v1/completions }
    upstream: local
    kind: openai-completions
    auth: { public: true }                          # expect: ROUTE_PUBLIC/medium
    rateLimit: [{ by: ip, tokens: 100000, per: 1d }]
    input: { maxTokens: 1024, promptInjection: { action: flag } }
    output: { redact: [secrets] }
  - name: feedback                                  # expect: ROUTE_NO_RATE_LIMIT/medium
    match: { methods: [POST], path: /v1/feedback }
    upstream: local
    kind: json
    auth: { any: [apiKey] }
  - name: everything                                # (the path is on the next line)
    match: { methods: [GET], path: "/v1/:endpoint" }  # expect: CATCH_ALL_PATH/high
    upstream: internal
    auth: { any: [apiKey] }
    rateLimit: [{ by: identity, concurrent: 4 }]
  - name: trial
    match: { methods: [GET], path: /v1/models }
    upstream: local
    mode: monitor                                   # expect: MONITOR_MODE/medium
    onError: allow                                  # expect: ROUTE_FAIL_OPEN/medium
    auth: { any: [apiKey] }
    rateLimit: [{ by: identity, requests: 10, per: 1s }]
  - name: upload
    match: { methods: [PUT], path: /files/:id }
    upstream: internal
    kind: passthrough                               # expect: ROUTE_PASSTHROUGH_BODY/low
    auth: { any: [apiKey] }
    rateLimit: [{ by: identity, requests: 10, per: 1s }]
  - name: embed
    match: { methods: [POST], path: /v1/embeddings }
    upstream: llm
    kind: json                                      # expect: ROUTE_KIND_MISMATCH/medium
    auth: { any: [apiKey] }
    rateLimit: [{ by: identity, requests: 10, per: 1s }]
  - name: lax-chat
    match: { methods: [POST], path: /lax/chat/completions }
    upstream: llm
    kind: openai-chat
    auth: { any: [jwt] }
    rateLimit:                                      # expect: LLM_NO_TOKEN_BUDGET/low
      - { by: identity, requests: 60, per: 1m }
    input:                                          # expect: LLM_NO_MAX_TOKENS/low
      promptInjection:
        action: log                                 # expect: LLM_NO_INJECTION_SCREEN/medium
    output:
      redact: [secrets, pii]
      onMatch: log                                  # expect: LLM_NO_OUTPUT_REDACTION/medium
  - name: claude                                    # expect: LLM_NO_INJECTION_SCREEN/medium LLM_NO_MAX_TOKENS/low
    match: { methods: [POST], path: /v1/messages }
    upstream: llm
    kind: anthropic-messages
    auth: { any: [apiKey] }
    rateLimit: [{ by: identity, tokens: 50000, per: 1h }]
    output:
      redact: [pii]                                 # expect: LLM_NO_OUTPUT_REDACTION/low
events:
  includePrompts: true                              # expect: INCLUDE_PROMPTS/low
  sinks:
    - { type: stdout }
    - type: webhook
      url: http://alerts.example.com/hook           # expect: SINK_PLAIN_HTTP/high
      secret: "k3Y-9fQ-2mZ-7wXa"                    # expect: WEAK_SECRET/high
`;

const ALL_CODES: readonly FindingCode[] = [
  'ROUTE_NO_AUTH', 'ROUTE_PUBLIC', 'ROUTE_NO_RATE_LIMIT', 'CATCH_ALL_PATH', 'MONITOR_MODE', 'ROUTE_FAIL_OPEN', 'ROUTE_PASSTHROUGH_BODY',
  'ROUTE_KIND_MISMATCH', 'LLM_NO_INJECTION_SCREEN', 'LLM_NO_OUTPUT_REDACTION', 'LLM_NO_TOKEN_BUDGET', 'LLM_NO_MAX_TOKENS', 'PLAIN_HTTP_PUBLIC',
  'TRUSTED_PROXY_ANY', 'ADMIN_PUBLIC', 'ADMIN_NO_AUTH', 'WEAK_SECRET', 'UPSTREAM_PLAIN_HTTP', 'JWKS_PLAIN_HTTP', 'SINK_PLAIN_HTTP',
  'REDIS_PLAIN_TEXT', 'REDIS_FAIL_OPEN', 'INCLUDE_PROMPTS',
];

/** `line code severity` for every `# expect:` marker in the text, sorted. */
function expected(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /# expect: (.*)$/.exec(l);
    for (const item of m?.[1]?.trim().split(/\s+/) ?? []) {
      const [code, severity] = item.split('/');
      out.push(`${i + 1} ${code} ${severity}`);
    }
  });
  return out.sort();
}

const STRONG = `version: 1
server:
  listen: 127.0.0.1:8080
  trustedProxies: [127.0.0.1/32]
upstreams:
  openai:
    url: https://api.openai.com
    headers: { authorization: "Bearer sk-test" }
  local: { url: "http://127.0.0.1:9000" }
auth:
  apiKeys: { header: x-api-key }
routes:
  - name: chat
    match: { methods: [POST], path: /v1/chat/completions }
    upstream: openai
    kind: openai-chat
    auth: { any: [apiKey], roles: [ai-user] }
    rateLimit:
      - { by: identity, requests: 60, per: 1m }
      - { by: identity, tokens: 100000, per: 1d }
      - { by: identity, concurrent: 4 }
    input: { maxTokens: 1024, promptInjection: { action: block, threshold: 0.85 } }
    output: { redact: [secrets, pii] }
  - name: embeddings
    match: { methods: [POST], path: /v1/embeddings }
    upstream: openai
    kind: openai-embeddings
    auth: { any: [apiKey] }
    rateLimit: [{ by: identity, tokens: 1000000, per: 1d }]
  - name: model
    match: { methods: [GET], path: /v1/models/:model }
    upstream: local
    auth: { any: [apiKey] }
    rateLimit: [{ by: ip, requests: 600, per: 1m }]
`;

describe('posture lint', () => {
  it('a deliberately weak config yields every finding code, each at its line', () => {
    const config = parseConfigText(WEAK, 'weak.yaml', {});
    const findings = lintPosture(config, locatorFromText(WEAK));
    assert.deepEqual(findings.map((f) => `${f.line} ${f.code} ${f.severity}`).sort(), expected(WEAK));
    assert.deepEqual([...new Set(findings.map((f) => f.code))].sort(), [...ALL_CODES].sort(), 'every code is exercised');
    const noAuth = findings.find((f) => f.code === 'ROUTE_NO_AUTH');
    assert.deepEqual({ path: noAuth?.path, line: noAuth?.line, column: noAuth?.column }, { path: 'routes[0].auth', line: 33, column: 5 });
    const catchAll = findings.find((f) => f.code === 'CATCH_ALL_PATH');
    assert.deepEqual({ path: catchAll?.path, line: catchAll?.line, column: catchAll?.column }, { path: 'routes[3].match.path', line: 56, column: 30 });
  });

  it('bulwark check --json on the weak config: findings with file positions, exit 1', () => {
    const file = write('weak.yaml', WEAK);
    const r = runCli(['check', '-c', file, '--json']);
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as CheckReport;
    assert.equal(report.ok, false);
    assert.deepEqual(report.findings.map((f) => `${f.line} ${f.code} ${f.severity}`).sort(), expected(WEAK));
    assert.equal(report.findings[0]?.severity, 'high', 'highest severity first');
    assert.equal(report.counts.high, report.findings.filter((f) => f.severity === 'high').length);
    // admin and webhook sinks may not be enforced by this build: those are errors, located too.
    for (const e of report.errors) {
      assert.equal(e.kind, 'unenforced');
      assert.ok(e.line !== undefined && e.line > 0, `${e.path} is located`);
    }
    assert.ok(!r.stdout.includes('k3Y-9fQ-2mZ-7wXa') && !r.stdout.includes('Zq3vN8xK2mP7wR4tY6uB1cD5eF9gH0jL'), 'secrets are never printed');

    const text = runCli(['check', '-c', file]);
    assert.equal(text.status, 1);
    assert.ok(text.stdout.includes(`high   PLAIN_HTTP_PUBLIC        ${file}:3:3  server.listen: plain HTTP on 0.0.0.0`), text.stdout);
    assert.match(text.stdout, new RegExp(`low    INCLUDE_PROMPTS +${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:101:3  events\\.includePrompts: `));
  });

  it('a tokens rule without input.maxTokens is a medium finding, except on Anthropic routes whose requests carry a cap', () => {
    const yaml = `version: 1
upstreams: { llm: { url: "https://llm.internal" } }
routes:
  - { name: chat, match: { methods: [POST], path: /v1/chat/completions }, kind: openai-chat, rateLimit: [{ by: identity, tokens: 1000, per: 1m }] }
  - { name: claude, match: { methods: [POST], path: /v1/messages }, kind: anthropic-messages, rateLimit: [{ by: identity, tokens: 1000, per: 1m }] }
`;
    const found = lintPosture(parseConfigText(yaml, 'budget.yaml', {})).filter((f) => f.code === 'LLM_NO_MAX_TOKENS');
    assert.deepEqual(found.map((f) => `${f.path} ${f.severity}`), ['routes[0].input.maxTokens medium', 'routes[1].input.maxTokens low']);
  });

  it('a strong config yields no findings and exit 0', () => {
    const config = parseConfigText(STRONG, 'strong.yaml', {});
    assert.deepEqual(lintPosture(config, locatorFromText(STRONG)), []);
    // Settings this build may not enforce yet, linted directly: strong admin and webhook settings are clean too.
    const extra = parseConfigText(
      STRONG.replace('upstreams:', `admin: { listen: "127.0.0.1:9901", token: "4f9c2a7e1b8d3f6a0c5e9b2d7a4f1c8e" }
events:
  sinks: [{ type: webhook, url: "https://siem.example.com/hook", secret: "Yh7-Kd2Q9zLm4Rt8Wp1Xv6Nc3Bf5Gj0S" }]
upstreams:`),
      'strong.yaml',
      {},
    );
    assert.deepEqual(lintPosture(extra), []);

    const r = runCli(['check', '-c', write('strong.yaml', STRONG), '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as CheckReport;
    assert.deepEqual({ valid: report.valid, ok: report.ok, errors: report.errors, findings: report.findings }, { valid: true, ok: true, errors: [], findings: [] });
    const text = runCli(['check', '-c', join(dir, 'strong.yaml')]);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /^ok: .*strong\.yaml is valid \(3 routes, no findings\)\n$/);
  });

  it('--fail-on: medium findings pass by default and fail with --fail-on medium; none never fails on findings', () => {
    const file = write('medium.yaml', STRONG.replace('    upstream: local\n', '    upstream: local\n    mode: monitor\n'));
    const byDefault = runCli(['check', '-c', file]);
    assert.equal(byDefault.status, 0, byDefault.stdout);
    assert.match(byDefault.stdout, /medium MONITOR_MODE  .*medium\.yaml:33:5  routes\[2\]\.mode: /);
    assert.match(byDefault.stdout, /ok: .* is valid \(3 routes, 1 finding: 0 high, 1 medium, 0 low\)/);
    const strict = runCli(['check', '-c', file, '--fail-on', 'medium']);
    assert.equal(strict.status, 1);
    assert.match(strict.stdout, /fail: .* is valid, but 1 finding is medium or higher/);
    const high = write('high.yaml', STRONG.replace('    auth: { any: [apiKey] }\n    rateLimit: [{ by: ip', '    rateLimit: [{ by: ip'));
    assert.equal(runCli(['check', '-c', high]).status, 1);
    assert.equal(runCli(['check', '-c', high, '--fail-on', 'none']).status, 0);
  });

  it('check --json on a config that does not load: valid false, located errors', () => {
    const r = runCli(['check', '-c', write('broken.yaml', STRONG.replace('kind: openai-chat', 'kind: openai-chatt')), '--json']);
    assert.equal(r.status, 1);
    const report = JSON.parse(r.stdout) as CheckReport;
    assert.equal(report.valid, false);
    assert.deepEqual(report.errors.map((e) => [e.kind, e.path, e.line]), [['invalid', 'routes[0].kind', 16]]);
    assert.deepEqual(report.findings, []);
  });
});

describe('bulwark routes', () => {
  it('--json describes a fully configured route: upstream, auth, limits, guards, adaptive, mode', () => {
    writeFileSync(join(dir, 'body.schema.json'), JSON.stringify({ type: 'object' }));
    const file = write('full.yaml', `version: 1
server: { tls: { cert: c.pem, key: k.pem, clientCa: ca.pem } }
upstreams:
  llm: { url: "https://user:pw@api.example.com:8443/base" }
auth:
  apiKeys: { header: x-api-key }
  jwt: [{ issuer: "https://auth.example.com", audience: ai, jwks: "https://auth.example.com/jwks.json", algorithms: [ES256] }]
routes:
  - name: chat
    match: { methods: [POST], path: /v1/chat/completions }
    kind: openai-chat
    mode: monitor
    auth: { any: [jwt, apiKey, mtls], roles: [ai-user, admin], scopes: [chat] }
    rateLimit:
      - { by: ip, requests: 60, per: 1m }
      - { by: identity, tokens: 100000, per: 1d }
      - { by: apiKey, tokens: 2000000, per: 1h }
      - { by: identity, concurrent: 4 }
    adaptive: { onSignals: [auth.failure, prompt.injection], penalty: 0.5, ban: 15m }
    input:
      schema: body.schema.json
      maxPromptChars: 16000
      maxMessages: 64
      maxTokens: 4096
      clampTokens: true
      promptInjection: { action: block, threshold: 0.9 }
      deny: ["-----BEGIN [A-Z ]*PRIVATE KEY-----", "internal-only"]
      canary: true
      poisoning: { action: quarantine }
    output:
      redact: [secrets, pii.email]
      onMatch: block
      canary: block
      watermark: { text: true }
  - name: all-factors
    match: { methods: [GET, HEAD], path: /v1/models }
    auth: { all: [mtls, jwt] }
`);
    const r = runCli(['routes', '-c', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const [chat, models] = JSON.parse(r.stdout) as RouteSurface[];
    assert.ok(chat && models);
    assert.ok(chat.guards.input.schema?.endsWith('body.schema.json'));
    const { unenforced: _u, guards, ...rest } = chat;
    assert.deepEqual(rest, {
      name: 'chat',
      methods: ['POST'],
      path: '/v1/chat/completions',
      kind: 'openai-chat',
      mode: 'monitor',
      onError: 'deny',
      upstream: { name: 'llm', origin: 'https://api.example.com:8443' },
      auth: { summary: 'jwt|apiKey|mtls', open: false, public: false, require: 'any', methods: ['jwt', 'apiKey', 'mtls'], roles: ['ai-user', 'admin'], scopes: ['chat'] },
      limits: ['60 req/1m by ip', '100k tokens/1d by identity', '2M tokens/1h by apiKey', '4 concurrent by identity'],
      input: [`schema ${guards.input.schema ?? ''}`, 'maxPromptChars 16000', 'maxMessages 64', 'max_tokens<=4096 (clamp)', 'deny x2', 'injection block@0.9', 'canary', 'poisoning quarantine'],
      output: ['redact secrets,pii.email (block)', 'canary block', 'watermark text'],
      adaptive: 'x0.5 on auth.failure,prompt.injection; ban 15m',
    });
    assert.deepEqual({ ...guards.input, schema: 'x' }, {
      schema: 'x', maxPromptChars: 16000, maxMessages: 64, maxTokens: 4096, clampTokens: true, deny: 2,
      promptInjection: { action: 'block', threshold: 0.9 }, canary: true, poisoning: { action: 'quarantine', threshold: null },
    });
    assert.deepEqual(guards.output, { redact: ['secrets', 'pii.email'], onMatch: 'block', canary: 'block', watermark: { text: true, numbers: 'off', every: 200 } });
    assert.ok(Array.isArray(chat.unenforced));
    assert.deepEqual(models.auth, { summary: 'mtls+jwt', open: false, public: false, require: 'all', methods: ['mtls', 'jwt'], roles: [], scopes: [] });
    assert.deepEqual([models.limits, models.input, models.output, models.adaptive], [[], [], [], null]);
    assert.ok(!r.stdout.includes('pw@'), 'upstream credentials are not shown');

    const table = runCli(['routes', '-c', file]);
    assert.equal(table.status, 0);
    assert.match(table.stdout, /^ROUTE\s+METHODS\s+PATH\s+KIND\s+MODE\s+UPSTREAM\s+AUTH\s+ROLES\s+LIMITS\s+INPUT\s+OUTPUT\s+ADAPTIVE\s+NOT ENFORCED$/m);
    assert.match(table.stdout, /chat\s+POST\s+\/v1\/chat\/completions\s+openai-chat\s+monitor\s+llm\s+jwt\|apiKey\|mtls\s+ai-user,admin,scope:chat\s+60 req\/1m by ip; 100k tokens\/1d by identity/);
  });
});
