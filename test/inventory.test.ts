import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathTemplate } from '../src/inventory/template.js';
import { runCli } from './helpers/cli.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

const get = (f: Fixture, path: string) => fetch(`${f.url}${path}`).then(async (r) => (await r.arrayBuffer(), r.status));

describe('endpoint inventory from traffic', () => {
  it('folds ids, UUIDs, hex and opaque tokens into {id}', () => {
    assert.equal(pathTemplate('/v1/users/42/files/9f8e7d6c5b4a'), '/v1/users/{id}/files/{id}');
    assert.equal(pathTemplate('/v1/threads/550e8400-e29b-41d4-a716-446655440000/runs'), '/v1/threads/{id}/runs');
    assert.equal(pathTemplate('/v1/files/file-AbC123xYz789QwErTy'), '/v1/files/{id}');
    assert.equal(pathTemplate('/v1/chat/completions'), '/v1/chat/completions');
    assert.equal(pathTemplate('/v1/fine-tuning/jobs'), '/v1/fine-tuning/jobs');
    assert.equal(pathTemplate(`/${'a/'.repeat(40)}`).split('/').length, 18, 'bounded depth');
  });

  it('unknown paths become inventory entries with one inventory.new_endpoint per template; the inventory survives a restart on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-inventory-'));
    const db = join(dir, 'state.db');
    const state = { store: 'sqlite' as const, sqlite: { path: db } };
    const routes = [{ name: 'models', match: { methods: ['GET' as const], path: '/v1/models' }, auth: { public: true } }];
    const first = await startFixture({ state, routes });
    try {
      for (const p of ['/admin/123', '/admin/456', '/admin/789', '/debug/9f8e7d6c5b4a3210', '/.env', '/v1/users/550e8400-e29b-41d4-a716-446655440000/keys']) assert.equal(await get(first, p), 404);
      assert.equal(await get(first, '/v1/models'), 200);
    } finally {
      await first.close();
    }
    const fresh = first.events.filter((e) => e.event.action === 'inventory.new_endpoint').map((e) => e.bulwark.template).sort();
    assert.deepEqual(fresh, ['/.env', '/admin/{id}', '/debug/{id}', '/v1/users/{id}/keys'], 'one event per unregistered template, none for the routed one');
    const admin = first.events.find((e) => e.bulwark.template === '/admin/{id}');
    assert.equal(admin?.bulwark.count, 3);
    assert.equal(admin?.bulwark.severity, 'low', 'three requests from one client');

    // Restart on the same store: known templates are not announced again; counts accumulate.
    const second = await startFixture({ state, routes });
    try {
      assert.equal(await get(second, '/admin/999'), 404);
      assert.equal(await get(second, '/wp-login.php'), 404);
    } finally {
      await second.close();
    }
    assert.deepEqual(second.events.filter((e) => e.event.action === 'inventory.new_endpoint').map((e) => e.bulwark.template), ['/wp-login.php']);

    const file = join(dir, 'bulwark.yaml');
    writeFileSync(file, `version: 1\nstate: { store: sqlite, sqlite: { path: "${db}" } }\nupstreams: { llm: { url: "http://127.0.0.1:9" } }\nroutes:\n  - name: models\n    match: { methods: [GET], path: /v1/models }\n    auth: { public: true }\nevents: { sinks: [] }\n`);
    const listed = JSON.parse(runCli(['inventory', '-c', file, '--json']).stdout) as Array<{ method: string; template: string; route?: string; count: number; statuses: Record<string, number>; clients: number }>;
    const byTemplate = new Map(listed.map((e) => [e.template, e]));
    assert.equal(byTemplate.get('/admin/{id}')?.count, 4);
    assert.deepEqual(byTemplate.get('/admin/{id}')?.statuses, { '4xx': 4 });
    assert.equal(byTemplate.get('/admin/{id}')?.clients, 1);
    assert.equal(byTemplate.get('/v1/models')?.route, 'models');
    assert.equal(byTemplate.get('/v1/models')?.statuses['2xx'], 1);
    assert.equal(byTemplate.get('/admin/{id}')?.route, undefined);
    const table = runCli(['inventory', '-c', file, '--unregistered']).stdout;
    assert.match(table, /GET\s+\/wp-login\.php\s+UNREGISTERED/);
    assert.doesNotMatch(table, /\/v1\/models/);
  });

  it('a client probing many unknown paths is a signal for the adaptive limiter', async () => {
    const f = await startFixture({
      routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, rateLimit: [{ by: 'ip', requests: 4, per: '1m' }], adaptive: { onSignals: ['inventory.probe'], penalty: 0.5, ban: '1m' } }],
    });
    try {
      for (const p of ['/admin', '/debug', '/.git/config', '/.env', '/server-status', '/actuator', '/console', '/phpinfo.php', '/config.json', '/backup.zip']) await get(f, p);
      const probe = f.events.find((e) => e.event.action === 'inventory.probe');
      assert.equal(probe?.source?.ip, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 50));
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() });
        await r.arrayBuffer();
        statuses.push(r.status);
      }
      assert.deepEqual(statuses, [200, 200, 429], 'the prober gets half its limit (4 x 0.5)');
    } finally {
      await f.close();
    }
  });
});
