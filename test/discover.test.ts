import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseConfigText } from '../src/config/load.js';
import { createEventBus } from '../src/events/bus.js';
import type { SecurityEvent } from '../src/events/event.js';
import { compare, normalizeRoutePath, normalizeSpecPath, patternMatchesTraffic, type SpecEndpoint } from '../src/inventory/discover/compare.js';
import { toRoutePath } from '../src/inventory/discover/draft.js';
import { runDiscovery, specStateKey } from '../src/inventory/discover/drift.js';
import { startDiscoveryScheduler } from '../src/inventory/discover/discovery-scheduler.js';
import { loadSpec, SpecLoadError } from '../src/inventory/discover/load-spec.js';
import { createInventoryRecorder } from '../src/inventory/recorder.js';
import { createMemoryStore } from '../src/stores/memory-store.js';
import { createSqliteStore } from '../src/stores/sqlite-store.js';
import { runCli, runCliAsync } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-discover-'));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// The upstream's OpenAPI 3 spec (YAML file): server base path /v1.
const OPENAPI_YAML = `openapi: 3.0.3
info: { title: Model service, version: "1.0" }
servers:
  - url: http://model-svc.internal/v1
paths:
  /models:
    get: { operationId: listModels, responses: { "200": { description: ok } } }
  /models/{model}:
    parameters: [{ name: model, in: path, required: true, schema: { type: string } }]
    get: { responses: { "200": { description: ok, content: { application/json: { schema: { $ref: "#/components/schemas/Model" } } } } } }
    delete: { responses: { "204": { description: gone } } }
  /chat/completions/:
    post: { responses: { "200": { description: ok } } }
  /admin/users/{userId}:
    parameters: [{ name: userId, in: path, required: true, schema: { type: string } }]
    get: { operationId: getUser, summary: Read a user, responses: { "200": { description: ok } } }
    delete: { responses: { "204": { description: gone } } }
  /debug/vars:
    get: { responses: { "200": { description: ok } } }
components:
  schemas:
    Model: { type: object, properties: { id: { type: string } } }
`;

// The same service's Swagger 2 spec (JSON, served over HTTP), split over two documents.
const SWAGGER = {
  swagger: '2.0',
  info: { title: 'Model service', version: '0.9' },
  basePath: '/v1',
  paths: {
    '/models': { get: { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Model' } } } } },
    '/models/{id}': { get: { parameters: [{ name: 'id', in: 'path', required: true, type: 'string' }], responses: { '200': { description: 'ok' } } } },
    '/chat/completions': { post: { responses: { '200': { description: 'ok', schema: { $ref: 'defs.json#/Completion' } } } } },
    '/files': { get: { responses: { '200': { description: 'ok' } } }, post: { responses: { '201': { description: 'made' } } } },
    '/files/{file_id}/content': { get: { parameters: [{ name: 'file_id', in: 'path', required: true, type: 'string' }], responses: { '200': { description: 'ok' } } } },
  },
  definitions: { Model: { type: 'object' } },
};
const SWAGGER_DEFS = { Completion: { type: 'object', properties: { id: { $ref: '#/Id' } } }, Id: { type: 'string' } };

const ROUTES = `routes:
  - name: models
    match: { methods: [GET], path: /v1/models }
  - name: model
    match: { methods: [GET, PUT], path: /v1/models/:id }
  - name: chat
    match: { methods: [POST], path: /v1/chat/completions }
    kind: openai-chat
  - name: legacy-completions
    match: { methods: [POST], path: /v1/completions }
`;

function configText(upstreamUrl: string, extra = ''): string {
  return `version: 1
state:
  store: sqlite
  sqlite: { path: ${JSON.stringify(join(dir, 'state.db'))} }
upstreams:
  model-svc: { url: ${JSON.stringify(upstreamUrl)} }
auth:
  apiKeys: { header: x-api-key }
events:
  sinks:
    - { type: file, path: ${JSON.stringify(join(dir, 'events.jsonl'))} }
${extra}${ROUTES}`;
}

interface SpecServer {
  url: string;
  server: Server;
  hits: string[];
  set(path: string, body: string): void;
}

async function startSpecServer(): Promise<SpecServer> {
  const docs = new Map<string, string>();
  const hits: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    hits.push(req.url ?? '');
    const body = docs.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    if (body.startsWith('REDIRECT ')) {
      res.writeHead(302, { location: body.slice('REDIRECT '.length) }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, hits, set: (p, b) => docs.set(p, b) };
}

const keyOf = (e: { method: string; path: string }) => `${e.method} ${e.path}`;

describe('discover: compare (pure)', () => {
  const spec = (method: string, template: string): SpecEndpoint => ({ method, template, path: normalizeSpecPath(template) });
  const route = (name: string, methods: string[], path: string) => ({ name, match: { methods, path } });

  it('normalizes spec, route and traffic paths to one form', () => {
    assert.equal(normalizeSpecPath('/v1/users/{userId}/'), '/v1/users/{}');
    assert.equal(normalizeSpecPath('/files/{name}.{ext}'), '/files/{}.{}');
    assert.equal(normalizeRoutePath('/v1/users/:id'), '/v1/users/{}');
    assert.equal(normalizeRoutePath('/geo/:lat-:lng/r'), '/geo/{}-{}/r');
    assert.equal(normalizeRoutePath('/a/::literal'), '/a/:literal');
    assert.equal(normalizeRoutePath('/static/*'), '/static/{}');
    assert.ok(patternMatchesTraffic('/v1/models/{}', '/v1/models/{}'));
    assert.ok(patternMatchesTraffic('/v1/models/{}', '/v1/models/gpt-4'));
    assert.ok(patternMatchesTraffic('/v1/items/2024', '/v1/items/{}'), 'a literal the inventory folds matches a folded segment');
    assert.ok(!patternMatchesTraffic('/v1/users/me', '/v1/users/{}'));
  });

  it('lists shadow, stale, mismatched and unknown endpoints exactly, in a stable order', () => {
    const report = compare({
      spec: [
        spec('GET', '/v1/models'), spec('GET', '/v1/models/{model}'), spec('DELETE', '/v1/models/{model}'),
        spec('POST', '/v1/chat/completions'), spec('DELETE', '/v1/admin/users/{userId}'), spec('GET', '/v1/admin/users/{userId}'),
        spec('GET', '/v1/debug/vars'), spec('GET', '/v1/users/me'),
      ],
      routes: [
        route('models', ['GET'], '/v1/models'), route('model', ['GET', 'PUT'], '/v1/models/:id'), route('chat', ['POST'], '/v1/chat/completions'),
        route('legacy', ['POST'], '/v1/completions'), route('user', ['GET'], '/v1/users/:id'),
      ],
      traffic: [
        { method: 'GET', template: '/v1/models/{id}', count: 5, lastSeen: 't' },
        { method: 'GET', template: '/v1/models/gpt-4', count: 1, lastSeen: 't' },
        { method: 'POST', template: '/v1/admin/users/{id}', count: 2, lastSeen: 't' },
        { method: 'GET', template: '/v1/internal/metrics', count: 3, lastSeen: 't' },
        { method: 'GET', template: '/healthz', count: 9, lastSeen: 't' },
      ],
      ignorePaths: ['/healthz'],
    });
    assert.deepEqual(report.shadow.map(keyOf), ['GET /v1/admin/users/{}', 'DELETE /v1/admin/users/{}', 'GET /v1/debug/vars']);
    assert.equal(report.shadow[0]?.template, '/v1/admin/users/{userId}');
    assert.deepEqual(report.stale, [{ route: 'legacy', methods: ['POST'], path: '/v1/completions' }]);
    // /v1/users/me is reached through the route /v1/users/:id: neither shadow nor stale.
    assert.deepEqual(report.methodMismatch, [{ path: '/v1/models/{}', specOnly: ['DELETE'], routeOnly: ['PUT'], routes: ['model'] }]);
    assert.deepEqual(report.unknownTraffic.map(keyOf), ['POST /v1/admin/users/{id}', 'GET /v1/internal/metrics']);
  });

  it('turns spec templates into route paths', () => {
    assert.equal(toRoutePath('/v1/users/{user-id}/files/{name}.{ext}'), '/v1/users/:user_id/files/:name.:ext');
    assert.equal(toRoutePath('/v1/a:b'), '/v1/a::b');
    assert.equal(toRoutePath('/v1/{a}{b}'), undefined);
    assert.equal(toRoutePath('/v1/{id}/{id}'), '/v1/:id/:id2');
  });
});

describe('discover: loading specs', () => {
  let srv: SpecServer;
  let other: SpecServer;
  before(async () => {
    srv = await startSpecServer();
    other = await startSpecServer();
    other.set('/x.json', JSON.stringify({ X: { type: 'string' } }));
    srv.set('/swagger.json', JSON.stringify(SWAGGER));
    srv.set('/defs.json', JSON.stringify(SWAGGER_DEFS));
    const evil = (ref: string) => JSON.stringify({ ...SWAGGER, paths: { '/x': { get: { responses: { '200': { description: 'ok', schema: { $ref: ref } } } } } } });
    srv.set('/evil-host.json', evil(`${other.url}/x.json#/X`));
    srv.set('/evil-file.json', evil('file:///etc/passwd'));
    srv.set('/evil-schemeless.json', evil(`//${other.url.slice('http://'.length)}/x.json`));
    srv.set('/evil-redirect.json', `REDIRECT ${other.url}/x.json`);
    srv.set('/moved.json', 'REDIRECT /swagger.json');
  });
  after(() => {
    srv.server.close();
    other.server.close();
  });

  it('reads an OpenAPI 3 YAML file: base path from servers[0].url, {param} and trailing slash normalized', async () => {
    const spec = await loadSpec(write('openapi.yaml', OPENAPI_YAML));
    assert.equal(spec.format, 'openapi-3.0');
    assert.equal(spec.basePath, '/v1');
    assert.deepEqual(spec.endpoints.map(keyOf), [
      'GET /v1/models', 'GET /v1/models/{}', 'DELETE /v1/models/{}', 'POST /v1/chat/completions',
      'GET /v1/admin/users/{}', 'DELETE /v1/admin/users/{}', 'GET /v1/debug/vars',
    ]);
    const noBase = await loadSpec(join(dir, 'openapi.yaml'), { basePath: false });
    assert.equal(noBase.endpoints[0]?.path, '/models');
  });

  it('reads a Swagger 2 spec over HTTP, following a same-origin $ref', async () => {
    const spec = await loadSpec(`${srv.url}/swagger.json`);
    assert.equal(spec.format, 'swagger-2.0');
    assert.deepEqual(spec.endpoints.map(keyOf).sort(), ['GET /v1/files', 'GET /v1/files/{}/content', 'GET /v1/models', 'GET /v1/models/{}', 'POST /v1/chat/completions', 'POST /v1/files'].sort());
    assert.ok(srv.hits.includes('/defs.json'));
  });

  it('refuses $refs to another host or to local files from a URL spec, and never fetches them', async () => {
    for (const [path, re] of [
      ['/evil-host.json', /another host/],
      ['/evil-file.json', /refused \$ref to file:/],
      ['/evil-schemeless.json', /another host/],
      ['/evil-redirect.json', /refused redirect to another origin/],
    ] as const) {
      await assert.rejects(loadSpec(`${srv.url}${path}`), (err: unknown) => err instanceof SpecLoadError && re.test(err.message));
    }
    assert.deepEqual(other.hits, []);
    // A redirect within the origin is followed.
    assert.equal((await loadSpec(`${srv.url}/moved.json`)).format, 'swagger-2.0');
  });

  it('refuses a file spec whose $ref leaves its directory; rejects what is not a spec', async () => {
    const sub = mkdtempSync(join(dir, 'sub-'));
    writeFileSync(join(sub, 'spec.yaml'), OPENAPI_YAML.replace('"#/components/schemas/Model"', '"../secret.yaml#/x"'));
    writeFileSync(join(dir, 'secret.yaml'), 'x: { type: string }\n');
    await assert.rejects(loadSpec(join(sub, 'spec.yaml')), /outside the spec's directory/);
    await assert.rejects(loadSpec(write('not-a-spec.yaml', 'hello: world\n')), /not an OpenAPI 3.0, 3.1 or Swagger 2.0 document/);
    await assert.rejects(loadSpec(write('invalid.yaml', 'openapi: 3.0.3\ninfo: { title: x }\npaths: {}\n')), /invalid spec/);
    await assert.rejects(loadSpec(join(dir, 'missing.yaml')), /cannot read/);
  });

  it('caps the size', async () => {
    srv.set('/big.json', JSON.stringify({ ...SWAGGER, 'x-pad': 'x'.repeat(50_000) }));
    await assert.rejects(loadSpec(`${srv.url}/big.json`, { maxBytes: 10_000 }), /larger than 10000 bytes/);
  });
});

describe('discover: drift', () => {
  it('keeps the last report per source and emits one inventory.drift per change', async () => {
    const store = createMemoryStore();
    const events = createEventBus();
    const seen: SecurityEvent[] = [];
    events.subscribe((e) => seen.push(e), ['inventory.drift']);
    const specFile = write('drift.yaml', OPENAPI_YAML);
    const config = parseConfigText(configText('http://model-svc.internal').replace(/state:\n.*\n.*\n/, ''), 'drift.yaml');
    const first = await runDiscovery({ config, store, events, sources: [specFile] });
    assert.deepEqual(first.errors, []);
    assert.ok(first.results[0]?.firstScan);
    assert.ok(await store.get(specStateKey(specFile)));
    const firstChanges = seen.map((e) => `${String(e.bulwark['change'])} ${String(e.bulwark['method'])} ${String(e.bulwark['path'])} ${e.bulwark.severity}`);
    assert.deepEqual(firstChanges, [
      'shadow.added GET /v1/admin/users/{} medium', 'shadow.added DELETE /v1/admin/users/{} medium', 'shadow.added GET /v1/debug/vars medium',
      'stale.added POST /v1/completions low', 'mismatch.added DELETE /v1/models/{} low', 'mismatch.added PUT /v1/models/{} low',
    ]);

    // The upstream adds /v1/audit (not routed) and drops /v1/debug/vars.
    seen.length = 0;
    writeFileSync(specFile, OPENAPI_YAML.replace('  /debug/vars:\n', '  /audit:\n'));
    const second = await runDiscovery({ config, store, events, sources: [specFile] });
    assert.equal(second.results[0]?.firstScan, false);
    assert.deepEqual(
      seen.map((e) => `${String(e.bulwark['change'])} ${String(e.bulwark['method'])} ${String(e.bulwark['path'])}`),
      ['shadow.added GET /v1/audit', 'endpoint.removed GET /v1/debug/vars'],
    );
    for (const e of seen) {
      assert.equal(e.event.action, 'inventory.drift');
      assert.equal(e.bulwark['source'], specFile);
      assert.ok(!JSON.stringify(e).includes('openapi: 3.0.3'), 'never the spec content');
    }

    // Nothing changed: nothing emitted.
    seen.length = 0;
    await runDiscovery({ config, store, events, sources: [specFile] });
    assert.deepEqual(seen, []);
    await store.close();
    await events.close();
  });

  it('the scheduler scans inventory.openapi and reports a failing source as stage.error, never throwing', async () => {
    const store = createMemoryStore();
    const events = createEventBus();
    const seen: SecurityEvent[] = [];
    events.subscribe((e) => seen.push(e));
    const config = parseConfigText(
      configText('http://model-svc.internal', `inventory:\n  openapi: [drift-sched.yaml, missing.yaml]\n  every: 1h\n`).replace(/state:\n.*\n.*\n/, ''),
      join(dir, 'bulwark.yaml'),
    );
    write('drift-sched.yaml', OPENAPI_YAML);
    const sched = startDiscoveryScheduler({ config, store, events, baseDir: dir, initialDelayMs: 60_000 });
    await sched.runNow();
    await sched.stop();
    assert.ok(seen.some((e) => e.event.action === 'inventory.drift' && e.bulwark['change'] === 'shadow.added'));
    const err = seen.find((e) => e.event.action === 'stage.error');
    assert.equal(err?.bulwark.stage, 'inventory.discover');
    assert.match(String(err?.message), /missing\.yaml/);
    await store.close();
    await events.close();
  });
});

describe('bulwark discover (CLI)', () => {
  let srv: SpecServer;
  let configFile: string;
  let specFile: string;
  before(async () => {
    srv = await startSpecServer();
    srv.set('/swagger.json', JSON.stringify(SWAGGER));
    srv.set('/defs.json', JSON.stringify(SWAGGER_DEFS));
    srv.set('/evil.json', JSON.stringify({ ...SWAGGER, paths: { '/x': { get: { responses: { '200': { description: 'ok', schema: { $ref: 'file:///etc/passwd' } } } } } } }));
    configFile = write('bulwark.yaml', configText(srv.url));
    specFile = write('model-svc.yaml', OPENAPI_YAML);
    // Traffic the gateway saw, recorded the way the gateway records it.
    const store = createSqliteStore({ path: join(dir, 'state.db') });
    const events = createEventBus();
    const rec = createInventoryRecorder({ store, events });
    rec.record('GET', '/v1/models/42', 'model', 200, { ip: '192.0.2.1', network: '192.0.2.1' });
    rec.record('POST', '/v1/admin/users/7', undefined, 404, { ip: '192.0.2.1', network: '192.0.2.1' });
    rec.record('GET', '/v1/internal/metrics', undefined, 404, { ip: '192.0.2.2', network: '192.0.2.2' });
    rec.record('GET', '/healthz', undefined, 200, { ip: '192.0.2.2', network: '192.0.2.2' });
    await rec.close();
    await store.close();
    await events.close();
  });
  after(() => srv.server.close());

  it('--json against an OpenAPI file: exact shadow, stale, mismatch and unknown-traffic lists', () => {
    const r = runCli(['discover', '-c', configFile, '--openapi', specFile, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { sources: Array<Record<string, unknown>>; errors: unknown[] };
    assert.deepEqual(out.errors, []);
    const s = out.sources[0] as { shadow: Array<{ method: string; path: string }>; stale: unknown; methodMismatch: unknown; unknownTraffic: Array<{ method: string; path: string }>; format: string };
    assert.equal(s.format, 'openapi-3.0');
    assert.deepEqual(s.shadow.map(keyOf), ['GET /v1/admin/users/{}', 'DELETE /v1/admin/users/{}', 'GET /v1/debug/vars']);
    assert.deepEqual(s.stale, [{ route: 'legacy-completions', methods: ['POST'], path: '/v1/completions' }]);
    assert.deepEqual(s.methodMismatch, [{ path: '/v1/models/{}', specOnly: ['DELETE'], routeOnly: ['PUT'], routes: ['model'] }]);
    assert.deepEqual(s.unknownTraffic.map(keyOf), ['POST /v1/admin/users/{id}', 'GET /v1/internal/metrics']);
  });

  it('--json against a Swagger 2 spec served over HTTP (upstream found by origin)', async () => {
    const r = await runCliAsync(['discover', '-c', configFile, '--openapi', `${srv.url}/swagger.json`, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = (JSON.parse(r.stdout) as { sources: Array<{ upstream: string; shadow: Array<{ method: string; path: string }>; stale: unknown; methodMismatch: unknown }> }).sources[0];
    assert.equal(s?.upstream, 'model-svc');
    assert.deepEqual(s?.shadow.map(keyOf), ['GET /v1/files', 'POST /v1/files', 'GET /v1/files/{}/content']);
    assert.deepEqual(s?.stale, [{ route: 'legacy-completions', methods: ['POST'], path: '/v1/completions' }]);
    assert.deepEqual(s?.methodMismatch, [{ path: '/v1/models/{}', specOnly: [], routeOnly: ['PUT'], routes: ['model'] }]);
  });

  it('--write drafts monitor-mode routes that load when merged into the config', () => {
    const out = join(dir, 'drafts.yaml');
    const r = runCli(['discover', '-c', configFile, '--openapi', specFile, '--write', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Shadow endpoints/);
    assert.match(r.stdout, /Drafted 2 routes/);
    const draftText = readFileSync(out, 'utf8');
    assert.match(draftText, /mode: monitor/);
    const draft = parseYaml(draftText) as { routes: Array<{ name: string; match: { methods: string[]; path: string }; upstream?: string; auth?: unknown }> };
    assert.deepEqual(draft.routes.map((d) => [d.match.methods, d.match.path]), [[['GET', 'DELETE'], '/v1/admin/users/:userId'], [['GET'], '/v1/debug/vars']]);
    assert.deepEqual(draft.routes[0]?.auth, { any: ['apiKey'] });

    const base = parseYaml(readFileSync(configFile, 'utf8')) as { routes: unknown[] };
    const merged = stringifyYaml({ ...base, routes: [...base.routes, ...draft.routes] });
    const config = parseConfigText(merged, 'merged.yaml');
    assert.equal(config.routes.length, 6);
    assert.ok(config.routes.slice(4).every((x) => x.mode === 'monitor'));
    // Appending the draft text under the existing `routes:` works as well.
    const appended = readFileSync(configFile, 'utf8') + draftText.replace(/^[\s\S]*?routes:\n/, '');
    assert.equal(parseConfigText(appended, 'appended.yaml').routes.length, 6);

  });

  it('--write --only picks endpoints; an existing file is not replaced without --force', () => {
    const out = join(dir, 'drafts.yaml');
    const again = runCli(['discover', '-c', configFile, '--openapi', specFile, '--write', out, '--only', 'GET:/v1/debug/vars']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists/);
    const forced = runCli(['discover', '-c', configFile, '--openapi', specFile, '--write', out, '--only', 'GET:/v1/debug/vars', '--force', '--json']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.deepEqual((parseYaml(readFileSync(out, 'utf8')) as { routes: Array<{ name: string; match: { path: string } }> }).routes.map((x) => x.match.path), ['/v1/debug/vars']);
  });

  it('a second run after the spec changed emits inventory.drift to the configured sink', async () => {
    const sinkFile = join(dir, 'events.jsonl');
    const before = existsSync(sinkFile) ? readFileSync(sinkFile, 'utf8').split('\n').filter(Boolean).length : 0;
    // The last scan, stored where the CLI keeps it (same state store, same source).
    const store = createSqliteStore({ path: join(dir, 'state.db') });
    const baseline = await runDiscovery({ config: parseConfigText(readFileSync(configFile, 'utf8'), configFile), store, sources: [`${srv.url}/swagger.json`] });
    assert.deepEqual(baseline.errors, []);
    await store.close();
    srv.set('/swagger.json', JSON.stringify({ ...SWAGGER, paths: { ...SWAGGER.paths, '/batches': { post: { responses: { '200': { description: 'ok' } } } } } }));
    const r = await runCliAsync(['discover', '-c', configFile, '--openapi', `${srv.url}/swagger.json`, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const lines = readFileSync(sinkFile, 'utf8').split('\n').filter(Boolean).slice(before).map((l) => JSON.parse(l) as SecurityEvent);
    const drift = lines.filter((e) => e.event.action === 'inventory.drift').map((e) => `${String(e.bulwark['change'])} ${String(e.bulwark['method'])} ${String(e.bulwark['path'])}`);
    assert.deepEqual(drift, ['shadow.added POST /v1/batches']);
  });

  it('exit 1 with a clear error when a spec cannot be loaded or names a file:// $ref', async () => {
    const missing = runCli(['discover', '-c', configFile, '--openapi', join(dir, 'nope.yaml')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot load spec .*nope\.yaml: cannot read/);
    const evil = await runCliAsync(['discover', '-c', configFile, '--openapi', `${srv.url}/evil.json`]);
    assert.equal(evil.status, 1);
    assert.match(evil.stderr, /refused \$ref to file:/);
  });

  it('--help shows an example', () => {
    const r = runCli(['discover', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Example/);
    assert.match(r.stdout, /--openapi/);
  });
});
