import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { createSqliteStore } from '../src/stores/sqlite-store.js';
import { chatBody, startFixture } from './helpers/fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-sqlite-outage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Another process (a separate node with better-sqlite3 on the same file) holds an exclusive
 * write transaction until it is killed or `holdMs` passes: a backup tool, a migration, a
 * misbehaving sibling worker.
 */
async function holdExclusiveLock(path: string, holdMs: number) {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(${JSON.stringify(path)});
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN EXCLUSIVE');
    db.prepare("INSERT OR REPLACE INTO store_values (key, value, expires_at) VALUES ('held', '1', NULL)").run();
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, ${holdMs});
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      out += c;
      if (out.includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  return {
    async release() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

it('SQLite locked by another process: /healthz and routes that need no write answer; store calls fail fast as store_unavailable', async () => {
  const path = join(dir, 'locked.db');
  const f = await startFixture({
    state: { store: 'sqlite', sqlite: { path } },
    routes: [
      { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, rateLimit: [{ by: 'ip', requests: 100, per: '1m' }] },
      { name: 'models', match: { methods: ['GET'], path: '/v1/models' }, auth: { public: true } },
    ],
  });
  const chat = () => fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() }).then(async (r) => ({ status: r.status, body: await r.text() }));
  const timed = async <T>(p: () => Promise<T>) => {
    const t0 = Date.now();
    const value = await p();
    return { value, ms: Date.now() - t0 };
  };
  try {
    assert.equal((await chat()).status, 200, 'the store works before the lock');
    const lock = await holdExclusiveLock(path, 10_000);
    try {
      const t0 = Date.now();
      const [chats, health, models] = await Promise.all([
        Promise.all([chat(), chat(), chat()]),
        timed(() => fetch(`${f.url}/healthz`).then(async (r) => (await r.arrayBuffer(), r.status))),
        fetch(`${f.url}/v1/models`).then(async (r) => (await r.arrayBuffer(), r.status)),
      ]);
      const allMs = Date.now() - t0;
      // Generous bounds: a blocked write used to hold the whole process for 5 s (busy_timeout).
      assert.ok(health.ms < 2000, `/healthz answered after ${health.ms} ms`);
      assert.ok(allMs < 4000, `all answered after ${allMs} ms`);
      assert.equal(health.value, 200);
      assert.equal(models, 200, 'a route that needs no write is served (WAL readers are not blocked)');
      for (const c of chats) {
        assert.equal(c.status, 500, 'the limiter cannot count: the route fails closed (onError deny)');
        assert.equal((JSON.parse(c.body) as { code: string }).code, 'INTERNAL_ERROR');
      }
      assert.ok(f.events.some((e) => e.event.action === 'stage.error' && e.bulwark.stage === 'rate-limit-ip' && e.event.reason === 'store_unavailable'), 'the failure names the store');
      assert.equal(f.mock.requests.filter((q) => q.url.startsWith('/v1/chat')).length, 1, 'nothing forwarded on a refusal');

      const direct = createSqliteStore({ path, sweepIntervalMs: 0 });
      try {
        const err = await direct.increment('k').then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof Error && err.name === 'StoreUnavailableError', String(err));
        assert.equal(await direct.get('nothing'), undefined, 'reads still work');
      } finally {
        await direct.close();
      }
    } finally {
      await lock.release();
    }
    assert.equal((await chat()).status, 200, 'served again once the lock is gone');
  } finally {
    await f.close();
  }
});
