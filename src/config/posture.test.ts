import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from './load.js';
import { catchAllReason, hostScope, lintPosture, locatorFromText, parsePathString, sortFindings } from './posture.js';

describe('posture lint helpers', () => {
  it('catch-all paths: wildcards, params at the root or right under a version prefix', () => {
    for (const p of ['/*', '*', '/:x*', '/:path', '/:a/:b', '/v1/*', '/v1/:endpoint', '/api/v2/:x/:y', '/openai/v1/:x(.+)', '/v1/models/*']) {
      assert.ok(catchAllReason(p), `${p} is a catch-all`);
    }
    for (const p of ['/', '/v1/chat/completions', '/v1/models/:model', '/users/:id', '/v1/files/:id/content', '/healthz']) {
      assert.equal(catchAllReason(p), undefined, `${p} is not a catch-all`);
    }
  });

  it('host scopes: loopback, private networks, every interface, public', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'api.localhost', '::ffff:127.0.0.1']) assert.equal(hostScope(h), 'loopback', h);
    for (const h of ['10.1.2.3', '172.16.0.1', '192.168.1.1', 'fd00::1', 'redis', 'model-svc', 'db.internal', 'x.svc.cluster.local']) assert.equal(hostScope(h), 'private', h);
    for (const h of ['0.0.0.0', '::', '']) assert.equal(hostScope(h), 'any', h);
    for (const h of ['8.8.8.8', '2001:db8::1', 'api.openai.com', '172.32.0.1']) assert.equal(hostScope(h), 'public', h);
  });

  it('path strings from findUnenforced become key paths', () => {
    assert.deepEqual(parsePathString('routes[0].rateLimit[1] (tokens)'), ['routes', 0, 'rateLimit', 1]);
    assert.deepEqual(parsePathString('events.sinks[2].chain/rotate'), ['events', 'sinks', 2, 'chain']);
    assert.deepEqual(parsePathString('upstreams.llm.integrity'), ['upstreams', 'llm', 'integrity']);
  });

  it('the locator finds keys, items, and the nearest ancestor of a missing key', () => {
    const text = 'version: 1\nroutes:\n  - name: a\n    mode: monitor\n    match: { methods: [GET], path: /a }\n';
    const locate = locatorFromText(text);
    assert.deepEqual(locate(['routes', 0, 'mode']), { line: 4, column: 5 });
    assert.deepEqual(locate(['routes', 0, 'match', 'path']), { line: 5, column: 30 });
    assert.deepEqual(locate(['routes', 0, 'auth']), { line: 3, column: 5 }, 'missing key: the route item');
    assert.deepEqual(locate(['routes', 3]), { line: 2, column: 1 }, 'missing item: the sequence key');
    assert.equal(locatorFromText('a: [')(['a']), undefined, 'unparseable text locates nothing');
  });

  it('secrets are judged, never quoted', () => {
    const secret = 'k3Y-9fQ-2mZ-7wXa';
    const config = parseConfigText(
      `version: 1\nevents:\n  sinks:\n    - { type: webhook, url: "https://hooks.example.com/x", secret: "${secret}" }\nadmin: { token: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }\n`,
      'x.yaml',
      {},
    );
    const findings = lintPosture(config);
    assert.deepEqual(findings.filter((f) => f.code === 'WEAK_SECRET').map((f) => [f.path, f.severity]), [['admin.token', 'high'], ['events.sinks[0].secret', 'high']]);
    for (const f of findings) {
      assert.ok(!f.message.includes(secret) && !f.message.includes('aaaaaaaa'), f.message);
      assert.equal(f.line, undefined, 'no locator, no position');
    }
  });

  it('sorts highest severity first, then by line', () => {
    const sorted = sortFindings([
      { code: 'MONITOR_MODE', severity: 'medium', path: 'a', line: 1, message: '' },
      { code: 'ROUTE_NO_AUTH', severity: 'high', path: 'b', line: 9, message: '' },
      { code: 'ROUTE_NO_AUTH', severity: 'high', path: 'c', line: 3, message: '' },
      { code: 'INCLUDE_PROMPTS', severity: 'low', path: 'd', line: 2, message: '' },
    ]);
    assert.deepEqual(sorted.map((f) => f.path), ['c', 'b', 'a', 'd']);
  });
});
