import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createEventBus } from './bus.js';
import { buildEvent } from './event.js';
import { createFileSink } from './sinks/file-sink.js';

describe('security events', () => {
  it('use ECS field names, nested as ECS JSON expects', () => {
    const e = buildEvent({ action: 'auth.failure', outcome: 'failure', severity: 'medium', sourceIp: '10.0.0.1', userId: 'u1', method: 'POST', path: '/v1/chat/completions', status: 401, rule: 'r', requestId: 'id-1', route: 'chat', code: 'AUTH_REQUIRED', reason: 'expired' }, new Date(0));
    assert.equal(e['@timestamp'], '1970-01-01T00:00:00.000Z');
    const { id, ...rest } = e.event;
    assert.match(id, /^[0-9a-f-]{36}$/, 'a unique id (receivers de-duplicate by it)');
    assert.deepEqual(rest, { kind: 'event', category: ['authentication'], action: 'auth.failure', outcome: 'failure', severity: 47, reason: 'expired' });
    assert.equal(e.source?.ip, '10.0.0.1');
    assert.equal(e.user?.id, 'u1');
    assert.equal(e.http?.request.method, 'POST');
    assert.equal(e.http?.response?.status_code, 401);
    assert.equal(e.url?.path, '/v1/chat/completions');
    assert.equal(e.trace?.id, 'id-1');
    assert.deepEqual(e.bulwark, { severity: 'medium', route: 'chat', code: 'AUTH_REQUIRED' });
  });

  it('never carry a query string, and CR/LF in request data cannot start a forged line', () => {
    const e = buildEvent({ action: 'input.invalid', path: '/v1/x?api_key=sk-secret', reason: 'bad\r\n{"event":{"action":"forged"}}', details: { header: 'a\nb' } });
    assert.equal(e.url?.path, '/v1/x');
    const line = JSON.stringify(e);
    assert.doesNotMatch(line, /sk-secret/);
    assert.equal(line.split('\n').length, 1);
    assert.doesNotMatch(e.event.reason ?? '', /[\r\n]/);
    assert.equal(e.bulwark.header, 'a\\x0ab');
  });

  it('bound every string field', () => {
    const e = buildEvent({ action: 'input.invalid', reason: 'x'.repeat(10_000) });
    assert.ok((e.event.reason ?? '').length <= 513);
  });

  it('the file sink appends one line per event, mode 0600, and the bus feeds subscribers and the recent ring', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-ev-'));
    const path = join(dir, 'logs', 'security.jsonl');
    const bus = createEventBus({ sinks: [createFileSink({ path, minSeverity: 'medium' })], recentSize: 2 });
    const seen: string[] = [];
    bus.subscribe((e) => seen.push(e.event.action), ['auth.failure']);
    bus.emit({ action: 'request.completed', severity: 'low' });
    bus.emit({ action: 'auth.failure', severity: 'medium' });
    bus.emit({ action: 'route.unregistered', severity: 'high' });
    assert.deepEqual(seen, ['auth.failure']);
    assert.deepEqual(bus.recent().map((e) => e.event.action), ['auth.failure', 'route.unregistered']);
    await bus.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: { action: string } });
    assert.deepEqual(lines.map((l) => l.event.action), ['auth.failure', 'route.unregistered']);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('a throwing subscriber or sink never breaks emit', () => {
    const bus = createEventBus({ sinks: [{ name: 'bad', write: () => { throw new Error('disk'); }, close: async () => {} }] });
    bus.subscribe(() => {
      throw new Error('listener');
    });
    assert.doesNotThrow(() => bus.emit({ action: 'auth.failure' }));
  });
});
