import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-cli-'));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const GOOD = `version: 1
upstreams:
  llm: { url: "http://127.0.0.1:9" }
routes:
  - name: chat
    match: { methods: [POST], path: /v1/chat/completions }
    kind: openai-chat
    input: { maxTokens: 512 }
  - name: models
    match: { methods: [GET], path: /v1/models }
`;

describe('bulwark CLI', () => {
  it('check: a broken config prints file:line:col and the key path, exit 1', () => {
    const file = write('broken.yaml', GOOD.replace('kind: openai-chat', 'kind: openai-chatt').replace('maxTokens: 512', 'maxTokens: -5'));
    const r = runCli(['check', '-c', file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:11 routes\\[0\\]\\.kind: `));
    assert.match(r.stderr, /:8:25 routes\[0\]\.input\.maxTokens: /);
    assert.match(r.stderr, /2 errors in /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('check: a valid config is valid, with posture findings; high ones fail unless --fail-on none', () => {
    const file = write('good.yaml', GOOD.replace('version: 1', 'version: 1\nserver: { listen: 0.0.0.0:8080 }'));
    const r = runCli(['check', '-c', file]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /high +PLAIN_HTTP_PUBLIC +\S+good\.yaml:2:11 +server\.listen: plain HTTP on 0\.0\.0\.0/);
    assert.match(r.stdout, /high +ROUTE_NO_AUTH +\S+:6:5 +routes\[0\]\.auth: no auth: anyone who reaches the gateway can call/);
    assert.match(r.stdout, /high +ROUTE_NO_AUTH +\S+:10:5 +routes\[1\]\.auth: /);
    assert.match(r.stdout, /fail: .* is valid, but 3 findings are high \(2 routes/);
    const lenient = runCli(['check', '-c', file, '--fail-on', 'none']);
    assert.equal(lenient.status, 0, lenient.stderr);
    assert.match(lenient.stdout, /ok: .* is valid \(2 routes/);
  });

  it('check: settings this version does not enforce are errors, routes marks them, and start refuses them', () => {
    const file = write('unenforced.yaml', GOOD.replace('    input: { maxTokens: 512 }', '    input: { maxTokens: 512 }\n    extraction: { monitor: true }'));
    const check = runCli(['check', '-c', file]);
    assert.equal(check.status, 1);
    assert.match(check.stdout, /error  \S+\.yaml:\d+:\d+  routes\[0\]\.extraction: not enforced by this version/);
    assert.match(check.stdout, /invalid: .* has 1 error/);
    const routes = JSON.parse(runCli(['routes', '-c', file, '--json']).stdout) as Array<{ unenforced: string[] }>;
    assert.deepEqual(routes[0]?.unenforced, ['extraction']);
    assert.match(runCli(['routes', '-c', file]).stdout, /NOT ENFORCED[\s\S]*extraction/);
    const start = runCli(['start', '-c', file, '--no-watch']);
    assert.equal(start.status, 1);
    assert.match(start.stderr, /refusing to start[\s\S]*routes\[0\]\.extraction \(extraction\)/);
  });

  it('check: a missing file is a clear error', () => {
    const r = runCli(['check', '-c', join(dir, 'nope.yaml')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /nope\.yaml: cannot read config file \(ENOENT\)/);
  });

  it('routes: the attack surface as a table and as JSON', () => {
    const file = write('routes.yaml', GOOD);
    const table = runCli(['routes', '-c', file]);
    assert.equal(table.status, 0);
    assert.match(table.stdout, /^ROUTE\s+METHODS\s+PATH/m);
    assert.match(table.stdout, /chat\s+POST\s+\/v1\/chat\/completions\s+openai-chat\s+enforce\s+llm\s+none \(open\)/);
    const json = runCli(['routes', '-c', file, '--json']);
    const rows = JSON.parse(json.stdout) as Array<{ name: string; path: string; input: string[] }>;
    assert.deepEqual(rows.map((r) => r.path), ['/v1/chat/completions', '/v1/models']);
    assert.ok(rows[0]?.input.includes('max_tokens<=512'));
  });

  it('start: --port is refused without --demo', () => {
    const r = runCli(['start', '-c', write('port.yaml', GOOD), '--port', '9999']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--port is for --demo/);
  });

  it('every command has --help with an example', () => {
    for (const cmd of ['start', 'check', 'routes']) {
      const r = runCli([cmd, '--help']);
      assert.equal(r.status, 0);
      assert.match(r.stdout, /Example/);
    }
  });
});
