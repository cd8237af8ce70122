import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createStore } from './create-store.js';

describe('createStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-create-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds a memory store', async () => {
    const store = createStore({ store: 'memory' });
    assert.equal(store.kind, 'memory');
    await store.close();
  });

  it('builds a sqlite store at state.sqlite.path', async () => {
    const store = createStore({ store: 'sqlite', sqlite: { path: join(dir, 'state.db') } });
    assert.equal(store.kind, 'sqlite');
    await store.set('k', 'v');
    assert.equal(await store.get('k'), 'v');
    await store.close();
  });

  it('requires state.sqlite.path for sqlite', () => {
    assert.throws(() => createStore({ store: 'sqlite' }), /state\.sqlite\.path is required/);
  });

  it('requires state.redis.url for redis, and builds a redis store from it', async () => {
    assert.throws(() => createStore({ store: 'redis' }), /state\.redis\.url is required/);
    const store = createStore({ store: 'redis', redis: { url: 'redis://127.0.0.1:6379', prefix: 'bulwark-test:create:' } });
    assert.equal(store.kind, 'redis');
    await store.close();
  });
});
