import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { runStoreContract } from './contract.test-suite.js';
import { createMemoryStore } from './memory-store.js';
import { createSqliteStore, prefixUpperBound } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-sqlite-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

runStoreContract('sqlite :memory:', () => createSqliteStore({ path: ':memory:' }));
// A nested path also proves the parent directory is created on demand.
runStoreContract('sqlite file', () =>
  createSqliteStore({ path: join(dir, 'contract', 'nested', 'state.db') }),
);

describe('sqlite store shared by two connections', () => {
  const path = join(dir, 'shared.db');

  it('sees the other connection\'s values', async () => {
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    try {
      await a.set('shared:value', 'from-a', 60_000);
      assert.equal(await b.get('shared:value'), 'from-a');
      await b.setAdd('shared:set', ['x']);
      assert.deepEqual(await a.setMembers('shared:set'), ['x']);
      assert.equal(await b.delete('shared:value'), true);
      assert.equal(await a.get('shared:value'), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('counts 2×100 interleaved concurrent increments exactly', async () => {
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    try {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).increment('shared:counter')),
      );
      assert.equal(await a.get('shared:counter'), '200');
      assert.equal(await b.get('shared:counter'), '200');
      assert.equal(new Set(results).size, 200);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('lets one of two connections win setIfAbsent', async () => {
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    try {
      const wins = await Promise.all([
        a.setIfAbsent('shared:lock', 'a'),
        b.setIfAbsent('shared:lock', 'b'),
      ]);
      assert.deepEqual(wins, [true, false]);
      assert.equal(await b.get('shared:lock'), 'a');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/**
 * Runs `count` increments in a separate Node process once `go` is written to its stdin, and
 * resolves with the values it saw. Separate processes are the real deployment shape (several
 * gateway workers on one file), and unlike two connections in one thread they truly overlap.
 */
function incrementInChild(path: string, key: string, count: number) {
  const moduleUrl = new URL('./sqlite-store.ts', import.meta.url).href;
  const script = `
    const { createSqliteStore } = await import(${JSON.stringify(moduleUrl)});
    const store = createSqliteStore({ path: ${JSON.stringify(path)}, sweepIntervalMs: 0 });
    process.stdout.write('ready\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    const seen = [];
    for (let i = 1; i <= ${count}; i++) {
      seen.push(await store.increment(${JSON.stringify(key)}));
      // Pause now and then: a waiting writer sleeps in SQLite's busy handler, and without
      // gaps the lock holder would often finish its whole run before the other wakes.
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await store.close();
    process.stdout.write(JSON.stringify(seen) + '\\n');
    process.stdin.destroy();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  const done = new Promise<number[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`increment child exited with ${code}`));
      resolve(JSON.parse(output.slice('ready\n'.length)) as number[]);
    });
  });
  // A child that dies during start-up must fail the test, not leave it waiting for `ready`.
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.startsWith('ready\n')) resolve();
    });
    done.catch(reject);
  });
  return { ready, go: () => child.stdin.write('go\n'), done };
}

describe('sqlite store shared by two processes', () => {
  it('never loses or repeats an increment', async () => {
    const path = join(dir, 'processes.db');
    // Create the schema first so the children race on increments, not on setup.
    await createSqliteStore({ path }).close();
    const children = [
      incrementInChild(path, 'xproc', 500),
      incrementInChild(path, 'xproc', 500),
    ];
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const seen = (await Promise.all(children.map((c) => c.done))).flat();

    const store = createSqliteStore({ path });
    try {
      assert.equal(await store.get('xproc'), '1000');
      assert.deepEqual(
        seen.sort((x, y) => x - y),
        Array.from({ length: 1000 }, (_, i) => i + 1),
      );
    } finally {
      await store.close();
    }
  });
});

describe('sqlite store housekeeping', () => {
  it('sweeps expired rows out of the file', async () => {
    const path = join(dir, 'sweep.db');
    const store = createSqliteStore({ path, sweepIntervalMs: 10 });
    try {
      await store.set('sweep:value', 'v', 20);
      await store.increment('sweep:counter', 1, 20);
      await store.setAdd('sweep:set', ['a', 'b'], 20);
      await store.set('sweep:kept', 'v');
      await sleep(80);
      const raw = new Database(path, { readonly: true });
      try {
        const values = raw.prepare('SELECT key FROM store_values ORDER BY key').pluck().all();
        const members = raw.prepare('SELECT COUNT(*) FROM store_set_members').pluck().get();
        assert.deepEqual(values, ['sweep:kept']);
        assert.equal(members, 0);
      } finally {
        raw.close();
      }
    } finally {
      await store.close();
    }
  });
});

describe('prefixUpperBound', () => {
  it('bumps the last code point, stepping over surrogates and U+10FFFF', () => {
    assert.equal(prefixUpperBound(''), undefined);
    assert.equal(prefixUpperBound('ab'), 'ac');
    assert.equal(prefixUpperBound('a\uD7FF'), 'a\uE000');
    assert.equal(prefixUpperBound('a\u{10FFFF}'), 'b');
    assert.equal(prefixUpperBound('a\uFFFF'), 'a\u{10000}');
    assert.equal(prefixUpperBound('\u{10FFFF}\u{10FFFF}'), undefined);
  });

  // Boundary characters mixed with arbitrary ones, so the edges come up often.
  const char = fc.oneof(
    fc.constantFrom('a', 'b', '%', '_', '\u0000', '\uD7FF', '\uE000', '\uFFFF', '\u{10000}', '\u{10FFFF}'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  const key = fc.array(char, { maxLength: 4 }).map((chars) => chars.join(''));

  it('lists exactly the same keys in the same order as the memory store', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(key, { maxLength: 12 }), key, async (keys, prefix) => {
        const sqlite = createSqliteStore({ path: ':memory:', sweepIntervalMs: 0 });
        const memory = createMemoryStore({ sweepIntervalMs: 0 });
        try {
          for (const k of keys) {
            await sqlite.set(k, 'v');
            await memory.set(k, 'v');
          }
          const listed = await sqlite.keys(prefix);
          assert.deepEqual(listed, await memory.keys(prefix));
          assert.equal(listed.length, keys.filter((k) => k.startsWith(prefix)).length);
        } finally {
          await sqlite.close();
          await memory.close();
        }
      }),
      { numRuns: 200 },
    );
  });
});
