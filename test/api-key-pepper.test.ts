import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ConfigError } from '../src/config/config-error.js';
import { parseConfigText } from '../src/config/load.js';
import { createSqliteStore } from '../src/stores/sqlite-store.js';
import { apiKeyStoreFor } from '../src/stages/auth/api-key-pepper.js';
import { ApiKeyStore } from '../src/stages/auth/api-key-store.js';
import { runCli } from './helpers/cli.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

// The HMAC pepper of API keys lives in the state store by default (every instance sharing the
// store verifies the same keys, nothing to configure). `auth.apiKeys.pepper` (from the
// environment) or `pepperFile` takes it out of the store: a store that comes back empty and has
// the key records restored keeps the keys valid, and the pepper never sits in Redis.

const REDIS = 'redis://127.0.0.1:6379';
const routes = [{ name: 'chat', match: { methods: ['POST' as const], path: '/v1/chat/completions' }, kind: 'openai-chat' as const, auth: { any: ['apiKey' as const] } }];
const call = async (f: Fixture, key: string) => {
  const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: chatBody() });
  await r.arrayBuffer();
  return r.status;
};

/** Every string value under a prefix, read with a client of our own (the store API hides its prefix). */
async function redisStrings(prefix: string): Promise<Map<string, string>> {
  const redis = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const out = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const k of found) if ((await redis.type(k)) === 'string') out.set(k.slice(prefix.length), (await redis.get(k)) ?? '');
    } while (cursor !== '0');
    return out;
  } finally {
    redis.disconnect();
  }
}

/** A Redis that restarted empty, and then had the key records restored (from a backup, an export). */
async function restartEmptyAndRestore(f: Fixture, keep: readonly string[]): Promise<void> {
  const saved = new Map<string, string>();
  for (const k of keep) saved.set(k, (await f.gw.store.get(k)) as string);
  for (const k of await f.gw.store.keys('', 100_000)) await f.gw.store.delete(k);
  for (const [k, v] of saved) await f.gw.store.set(k, v);
}

describe('the API-key pepper can live outside the state store', () => {
  it('with auth.apiKeys.pepper, keys survive a Redis restarted empty whose records come back; the pepper is never stored', async () => {
    const pepper = randomBytes(32).toString('base64url');
    const prefix = `bulwark-test:${randomUUID()}:`;
    const config = { state: { store: 'redis' as const, redis: { url: REDIS, prefix } }, auth: { apiKeys: { header: 'x-api-key', pepper } }, routes };
    const a = await startFixture(config);
    let b: Fixture | undefined;
    try {
      const { key, record } = await apiKeyStoreFor(a.gw.runtime().config, a.gw.store).create({ name: 'survivor', roles: [] });
      assert.equal(await call(a, key), 200);
      const stored = await redisStrings(prefix);
      assert.ok(!stored.has('apikey-pepper'), 'no pepper entry in Redis');
      const hex = Buffer.from(pepper).toString('hex');
      for (const [k, v] of stored) assert.ok(!v.includes(pepper) && !v.includes(hex), `the pepper is not inside ${k}`);

      await restartEmptyAndRestore(a, [`apikey:${record.id}`]);
      // A fresh instance (nothing cached in memory) on the restored store.
      b = await startFixture(config);
      assert.equal(await call(b, key), 200, 'the restored record verifies with the configured pepper');
      assert.equal(await call(a, key), 200);
      assert.ok(!JSON.stringify([...a.events, ...b.events]).includes(pepper), 'no event carries the pepper');
    } finally {
      for (const k of await a.gw.store.keys('', 100_000)) await a.gw.store.delete(k);
      await a.close();
      await b?.close();
    }
  });

  it('with the store-held pepper (the default), the same restart makes the restored keys fail: the pepper went with the store; moving it into the config keeps them', async () => {
    const prefix = `bulwark-test:${randomUUID()}:`;
    const config = { state: { store: 'redis' as const, redis: { url: REDIS, prefix } }, auth: { apiKeys: { header: 'x-api-key' } }, routes };
    const a = await startFixture(config);
    let b: Fixture | undefined;
    try {
      const { key, record } = await new ApiKeyStore(a.gw.store).create({ name: 'lost', roles: [] });
      assert.equal(await call(a, key), 200);
      const held = (await redisStrings(prefix)).get('apikey-pepper');
      assert.match(held ?? '', /^[0-9a-f]{64}$/, 'the default keeps the pepper in the store');
      // The way out: the store's pepper, moved into the config, keeps the existing keys valid.
      const moved = await startFixture({ ...config, auth: { apiKeys: { header: 'x-api-key', pepper: held as string } } });
      try {
        assert.equal(await call(moved, key), 200);
      } finally {
        await moved.close();
      }
      await restartEmptyAndRestore(a, [`apikey:${record.id}`]);
      b = await startFixture(config);
      assert.equal(await call(b, key), 401);
    } finally {
      for (const k of await a.gw.store.keys('', 100_000)) await a.gw.store.delete(k);
      await a.close();
      await b?.close();
    }
  });

  it('pepperFile: the CLI and the gateway hash with the file\'s pepper; nothing of it reaches the SQLite store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-pepper-'));
    const pepperFile = join(dir, 'pepper');
    const pepper = randomBytes(32).toString('hex');
    writeFileSync(pepperFile, `${pepper}\n`, { mode: 0o600 });
    const db = join(dir, 'state.db');
    const file = join(dir, 'bulwark.yaml');
    writeFileSync(file, `version: 1\nupstreams:\n  llm: { url: "http://127.0.0.1:9" }\nstate: { store: sqlite, sqlite: { path: "${db}" } }\nauth:\n  apiKeys: { header: x-api-key, pepperFile: "${pepperFile}" }\nevents: { sinks: [] }\n`);
    const created = runCli(['keys', 'create', '--name', 'filed', '-c', file, '--json']);
    assert.equal(created.status, 0, created.stderr);
    assert.ok(!created.stdout.includes(pepper) && !created.stderr.includes(pepper));
    const { key } = JSON.parse(created.stdout) as { key: string };
    const f = await startFixture({ state: { store: 'sqlite', sqlite: { path: db } }, auth: { apiKeys: { header: 'x-api-key', pepperFile } }, routes });
    try {
      assert.equal(await call(f, key), 200);
    } finally {
      await f.close();
    }
    const store = createSqliteStore({ path: db });
    try {
      assert.equal(await store.get('apikey-pepper'), undefined);
      for (const k of await store.keys('', 10_000)) assert.ok(!((await store.get(k).catch(() => '')) ?? '').includes(pepper), k);
    } finally {
      await store.close();
    }
    // Another pepper: the same record no longer verifies (the pepper is what the hash is keyed with).
    const other = join(dir, 'other');
    writeFileSync(other, randomBytes(32).toString('hex'));
    const g = await startFixture({ state: { store: 'sqlite', sqlite: { path: db } }, auth: { apiKeys: { header: 'x-api-key', pepperFile: other } }, routes });
    try {
      assert.equal(await call(g, key), 401);
    } finally {
      await g.close();
    }
  });

  it('a short pepper, from the environment or a file, is a config error at its key that never shows the value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-pepper-cfg-'));
    const shortFile = join(dir, 'short');
    writeFileSync(shortFile, 'tooshort-pepper-value\n');
    const text = (apiKeys: string) => `version: 1\nupstreams:\n  llm: { url: "http://127.0.0.1:9" }\nauth:\n  apiKeys:\n    ${apiKeys}\n`;
    const error = (t: string, env: NodeJS.ProcessEnv = {}) => {
      try {
        parseConfigText(t, 'pepper.yaml', env);
      } catch (e) {
        if (e instanceof ConfigError) return e.message;
        throw e;
      }
      assert.fail('expected a config error');
    };
    const fromEnv = error(text('pepper: ${BULWARK_PEPPER}'), { BULWARK_PEPPER: 'tooshort-pepper-value' });
    assert.match(fromEnv, /^pepper\.yaml:6:13 auth\.apiKeys\.pepper: .*32/);
    const fromFile = error(text(`pepperFile: "${shortFile}"`));
    assert.match(fromFile, /^pepper\.yaml:6:17 auth\.apiKeys\.pepperFile: .*32/);
    const missing = error(text(`pepperFile: "${join(dir, 'absent')}"`));
    assert.match(missing, /^pepper\.yaml:6:17 auth\.apiKeys\.pepperFile: cannot read .*ENOENT/);
    const repeated = error(text(`pepper: "${'a'.repeat(40)}"`));
    assert.match(repeated, /auth\.apiKeys\.pepper: /);
    const both = error(`version: 1\nupstreams:\n  llm: { url: "http://127.0.0.1:9" }\nauth:\n  apiKeys:\n    pepper: "${randomBytes(24).toString('hex')}"\n    pepperFile: "${shortFile}"\n`);
    assert.match(both, /auth\.apiKeys.*pepper.*pepperFile|pepperFile.*pepper/);
    for (const m of [fromEnv, fromFile, repeated]) assert.ok(!m.includes('tooshort-pepper-value') && !m.includes('a'.repeat(40)), m);
    assert.doesNotThrow(() => parseConfigText(text('pepper: ${BULWARK_PEPPER}'), 'ok.yaml', { BULWARK_PEPPER: randomBytes(32).toString('base64') }));
  });
});
