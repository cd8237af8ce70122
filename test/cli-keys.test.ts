import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { runCli } from './helpers/cli.js';
import { startGatewayProcess } from './helpers/gateway-process.js';

it('bulwark keys create/list/rotate/revoke act on the store a running gateway uses', async () => {
  const g = await startGatewayProcess({ name: 'keys-cli', routes: '  - name: models\n    match: { methods: [GET], path: /v1/models }\n    auth: { any: [apiKey], roles: [reader] }\n', extra: 'auth:\n  apiKeys: { header: x-api-key }\n' });
  const { url, file } = g;
  try {
    const created = runCli(['keys', 'create', '--name', 'ci', '--roles', 'reader', '--expires', '30d', '-c', file, '--json']);
    assert.equal(created.status, 0, created.stderr);
    const k = JSON.parse(created.stdout) as { id: string; key: string; roles: string[]; expiresAt: string };
    assert.match(k.key, /^bwk_[a-z2-7]{12}_[A-Za-z0-9]{38}$/);
    assert.deepEqual(k.roles, ['reader']);
    assert.ok(Date.parse(k.expiresAt) > Date.now() + 29 * 86_400_000);
    const get = (key: string) => fetch(`${url}/v1/models`, { headers: { 'x-api-key': key } }).then(async (r) => (await r.arrayBuffer(), r.status));
    assert.equal(await get(k.key), 200);

    const rotated = JSON.parse(runCli(['keys', 'rotate', k.id, '--grace', '1h', '-c', file, '--json']).stdout) as { key: string; id: string; replaces: string };
    assert.equal(rotated.replaces, k.id);
    assert.equal(await get(k.key), 200, 'old key valid during grace');
    assert.equal(await get(rotated.key), 200);

    const revoke = runCli(['keys', 'revoke', rotated.id, '-c', file]);
    assert.equal(revoke.status, 0, revoke.stderr);
    assert.equal(await get(rotated.key), 401, 'revoked at once in the running gateway');

    const list = JSON.parse(runCli(['keys', 'list', '-c', file, '--json']).stdout) as Array<{ id: string; revokedAt?: string; graceUntil?: string; hash?: string }>;
    assert.equal(list.length, 2);
    assert.ok(list.find((r) => r.id === rotated.id)?.revokedAt);
    assert.ok(list.find((r) => r.id === k.id)?.graceUntil);
    assert.ok(list.every((r) => r.hash === undefined), 'hashes are not printed');
    assert.ok(!runCli(['keys', 'list', '-c', file]).stdout.includes(k.key));
  } finally {
    await g.close();
  }
});

it('with the memory store, keys create prints the config entry to declare the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-keys-mem-'));
  const file = join(dir, 'b.yaml');
  writeFileSync(file, 'version: 1\nupstreams:\n  llm: { url: "http://127.0.0.1:9" }\nauth:\n  apiKeys: {}\nevents: { sinks: [] }\n');
  const r = runCli(['keys', 'create', '--name', 'm', '-c', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /state\.store is memory[\s\S]*"hash":"sha256:[0-9a-f]{64}"/);
  // A role that could not travel as one role in x-bulwark-roles is refused at creation.
  const bad = runCli(['keys', 'create', '--name', 'm', '--roles', 'user;admin', '-c', file]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /invalid role "user;admin"/);
});

it('bulwark bans add/list/remove act on the store a running gateway uses', async () => {
  const g = await startGatewayProcess({ name: 'bans-cli', routes: '  - name: models\n    match: { methods: [GET], path: /v1/models }\n    auth: { public: true }\n' });
  const { url, file } = g;
  try {
    const get = () => fetch(`${url}/v1/models`).then(async (r) => (await r.arrayBuffer(), r.status));
    assert.equal(await get(), 200);
    const added = runCli(['bans', 'add', 'ip:127.0.0.1', '--for', '10m', '--reason', 'test', '-c', file, '--json']);
    assert.equal(added.status, 0, added.stderr);
    // The gateway remembers a clear address for 1 s; a ban from another process applies after it.
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await get(), 403);
    const list = JSON.parse(runCli(['bans', 'list', '-c', file, '--json']).stdout) as Array<{ kind: string; value: string; reason: string }>;
    assert.deepEqual(list.map((b) => [b.kind, b.value, b.reason]), [['ip', '127.0.0.1', 'test']]);
    assert.equal(runCli(['bans', 'remove', 'ip:127.0.0.1', '-c', file]).status, 0);
    assert.equal(await get(), 200);
    assert.equal(runCli(['bans', 'add', 'nonsense', '-c', file]).status, 1);
  } finally {
    await g.close();
  }
});

it('with the memory store, keys list shows the keys the config declares, revoke says where they live, and bans/quarantine refuse instead of changing nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-keys-mem-'));
  const file = join(dir, 'b.yaml');
  const log = join(dir, 'security.jsonl');
  writeFileSync(file, `version: 1\nupstreams:\n  llm: { url: "http://127.0.0.1:9" }\nauth:\n  apiKeys:\n    keys:\n      - { id: declared1, name: ops, roles: [admin], hash: "sha256:${'a'.repeat(64)}" }\nevents: { sinks: [{ type: file, path: "${log}" }] }\n`);
  const list = runCli(['keys', 'list', '-c', file]);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /declared1\s+ops\s+roles=admin\s+declared in the config/);
  assert.ok(!list.stdout.includes('a'.repeat(16)), 'no hash printed');
  const revoke = runCli(['keys', 'revoke', 'declared1', '-c', file]);
  assert.notEqual(revoke.status, 0);
  assert.match(revoke.stderr, /declared in the config \(auth\.apiKeys\.keys\)/);
  for (const args of [['bans', 'add', 'ip:203.0.113.9', '--for', '5m'], ['bans', 'list'], ['quarantine', 'list']]) {
    const r = runCli([...args, '-c', file]);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, /state\.store is memory: .* cannot see or change them/, args.join(' '));
    assert.doesNotMatch(r.stdout, /banned|no bans/);
  }
  assert.ok(!existsSync(log) || !readFileSync(log, 'utf8').includes('ban.applied'), 'no audit event for a ban that would not be enforced');
});
