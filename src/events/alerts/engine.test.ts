import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEventBus, type EventBus } from '../bus.js';
import type { EventInput, SecurityEvent } from '../event.js';
import { createMemoryStore } from '../../stores/memory-store.js';
import type { Store } from '../../stores/store.js';
import { Bans } from '../../stages/ban/bans.js';
import { ApiKeyStore } from '../../stages/auth/api-key-store.js';
import { throttleFactor } from '../../stages/rate-limit/penalty.js';
import { createAlertEngine, type AlertEngine } from './engine.js';
import { alertRuleProblem, compileRule, groupOf, matchActions, type AlertRule } from './rules.js';
import { buildEvent } from '../event.js';

interface Rig {
  bus: EventBus;
  store: Store;
  engine: AlertEngine;
  seen: SecurityEvent[];
  emit(input: EventInput): void;
  fired(): SecurityEvent[];
  close(): Promise<void>;
}

function rig(rules: AlertRule[], opts: { store?: Store; now?: () => number } = {}): Rig {
  const bus = createEventBus();
  const store = opts.store ?? createMemoryStore();
  const seen: SecurityEvent[] = [];
  bus.subscribe((e) => seen.push(e));
  const engine = createAlertEngine({ rules, events: bus, store, ...(opts.now ? { now: opts.now } : {}) });
  return {
    bus, store, engine, seen,
    emit: (input) => void bus.emit(input),
    fired: () => seen.filter((e) => e.event.action === 'alert.fired'),
    async close() {
      await engine.close();
      if (!opts.store) await store.close();
    },
  };
}

const fail = (ip: string, extra: Partial<EventInput> = {}): EventInput => ({ action: 'auth.failure', severity: 'medium', outcome: 'failure', sourceIp: ip, route: 'chat', ...extra });

describe('rules', () => {
  it('matches exact actions and * prefixes; wildcards never match alert events', () => {
    assert.deepEqual(matchActions('auth.failure'), ['auth.failure']);
    assert.deepEqual(matchActions('auth.*').sort(), ['auth.failure', 'auth.success']);
    assert.ok(!matchActions('*').includes('alert.fired'));
    assert.ok(!matchActions('*').includes('alert.delivery_failed'));
    assert.ok(matchActions('*').includes('ban.applied'));
    assert.deepEqual(matchActions('alert.*'), []);
    assert.deepEqual(matchActions('alert.fired'), ['alert.fired']);
    assert.deepEqual(matchActions('auth.failur'), []);
    assert.deepEqual(matchActions('a*b*'), []);
  });

  it('applies defaults and refuses what cannot run', () => {
    const r = compileRule({ name: 'x', when: { event: 'auth.failure' }, then: ['notify'] });
    assert.equal(r.count, 1);
    assert.equal(r.withinMs, 60_000);
    assert.equal(r.cooldownMs, 60_000);
    assert.equal(r.severity, 'high');
    assert.equal(r.perClient, true);
    assert.match(alertRuleProblem({ name: 'x', when: { event: 'nope' }, then: ['notify'] }) ?? '', /names no event/);
    assert.match(alertRuleProblem({ name: 'x', when: { event: 'auth.failure', count: 3, spike: {} }, then: ['notify'] }) ?? '', /exclude/);
    assert.match(alertRuleProblem({ name: 'x', when: { event: 'auth.failure', within: 60_000, spike: { baseline: 60_000 } }, then: ['notify'] }) ?? '', /baseline/);
    assert.match(alertRuleProblem({ name: 'x', when: { event: 'auth.failure', by: 'source ip' }, then: ['notify'] }) ?? '', /field path/);
    assert.throws(() => createAlertEngine({ rules: [{ name: 'a', when: { event: 'auth.failure' }, then: ['notify'] }, { name: 'a', when: { event: 'auth.failure' }, then: ['notify'] }], events: createEventBus(), store: createMemoryStore() }), /twice/);
  });

  it('groups by a field path; events without it are not counted; count-1 rules group by the client', () => {
    const byUser = compileRule({ name: 'u', when: { event: 'auth.*', count: 2, by: 'user.id' }, then: ['notify'] });
    assert.equal(groupOf(byUser, buildEvent(fail('1.1.1.1'))), undefined);
    assert.deepEqual(groupOf(byUser, buildEvent(fail('1.1.1.1', { userId: 'alice' }))), { field: 'user.id', value: 'alice' });
    const byRoute = compileRule({ name: 'r', when: { event: 'auth.*', count: 2, by: 'bulwark.route' }, then: ['notify'] });
    assert.deepEqual(groupOf(byRoute, buildEvent(fail('1.1.1.1'))), { field: 'bulwark.route', value: 'chat' });
    const global = compileRule({ name: 'g', when: { event: 'auth.*', count: 2 }, then: ['notify'] });
    assert.deepEqual(groupOf(global, buildEvent(fail('1.1.1.1'))), { field: '*', value: '*' });
    const perClient = compileRule({ name: 'c', when: { event: 'auth.*' }, then: ['notify'] });
    assert.deepEqual(groupOf(perClient, buildEvent(fail('1.1.1.1'))), { field: 'source.ip', value: '1.1.1.1' });
    assert.deepEqual(groupOf(perClient, buildEvent(fail('1.1.1.1', { userId: 'bob' }))), { field: 'user.id', value: 'bob' });
  });
});

describe('threshold rules', () => {
  it('fire when count events of a group fall within the window, once, with the group and count', async () => {
    const r = rig([{ name: 'burst', when: { event: 'auth.failure', count: 3, within: 5_000, by: 'source.ip' }, then: ['notify'] }]);
    try {
      r.emit(fail('10.0.0.1'));
      r.emit(fail('10.0.0.1'));
      r.emit(fail('10.0.0.2'));
      await r.engine.idle();
      assert.equal(r.fired().length, 0);
      for (let i = 0; i < 5; i++) r.emit(fail('10.0.0.1'));
      await r.engine.idle();
      const fired = r.fired();
      assert.equal(fired.length, 1, 'one alert per cooldown');
      const a = fired[0] as SecurityEvent;
      assert.equal(a.event.kind, 'alert');
      assert.equal(a.event.severity, 73);
      assert.equal(a.bulwark.severity, 'high');
      assert.equal(a.rule?.name, 'burst');
      assert.equal(a.source?.ip, '10.0.0.1');
      assert.equal(a.bulwark['groupBy'], 'source.ip');
      assert.equal(a.bulwark['group'], '10.0.0.1');
      assert.equal(a.bulwark['count'], 3);
      assert.equal(a.bulwark['withinMs'], 5_000);
      assert.deepEqual(a.bulwark['actions'], [{ type: 'notify' }]);
    } finally {
      await r.close();
    }
  });

  it('slide: events older than the window no longer count', async () => {
    const r = rig([{ name: 'burst', when: { event: 'auth.failure', count: 3, within: 150, by: 'source.ip' }, then: ['notify'] }]);
    try {
      r.emit(fail('10.0.0.1'));
      r.emit(fail('10.0.0.1'));
      await r.engine.idle();
      await sleep(200);
      r.emit(fail('10.0.0.1'));
      await r.engine.idle();
      assert.equal(r.fired().length, 0);
      r.emit(fail('10.0.0.1'));
      r.emit(fail('10.0.0.1'));
      await r.engine.idle();
      assert.equal(r.fired().length, 1);
    } finally {
      await r.close();
    }
  });

  it('wildcards count every matching action together', async () => {
    const r = rig([{ name: 'auth', when: { event: 'auth.*', count: 2, by: 'source.ip' }, then: ['notify'] }]);
    try {
      r.emit(fail('10.0.0.1'));
      r.emit({ action: 'auth.success', sourceIp: '10.0.0.1' });
      r.emit({ action: 'ratelimit.exceeded', sourceIp: '10.0.0.1' });
      await r.engine.idle();
      assert.equal(r.fired().length, 1);
      assert.equal(r.bus.wants('ratelimit.exceeded'), true, 'the test subscriber wants everything');
    } finally {
      await r.close();
    }
  });

  it('subscribes only to the actions its rules name', async () => {
    const bus = createEventBus();
    const engine = createAlertEngine({ rules: [{ name: 'a', when: { event: 'auth.*' }, then: ['notify'] }], events: bus, store: createMemoryStore() });
    assert.equal(bus.wants('auth.failure'), true);
    assert.equal(bus.wants('request.completed'), false);
    await engine.close();
    assert.equal(bus.wants('auth.failure'), false);
  });

  it('cooldown: one alert per rule and group per cooldown; other groups are not muted', async () => {
    const r = rig([{ name: 'each', when: { event: 'auth.failure', by: 'source.ip' }, cooldown: 200, severity: 'critical', then: ['notify'] }]);
    try {
      for (let i = 0; i < 4; i++) r.emit(fail('10.0.0.1'));
      r.emit(fail('10.0.0.2'));
      await r.engine.idle();
      assert.deepEqual(r.fired().map((e) => e.source?.ip).sort(), ['10.0.0.1', '10.0.0.2']);
      assert.equal(r.fired()[0]?.event.severity, 99);
      await sleep(250);
      r.emit(fail('10.0.0.1'));
      await r.engine.idle();
      assert.equal(r.fired().length, 3, 'fires again after the cooldown');
    } finally {
      await r.close();
    }
  });

  it('count-1 rules without by alert per client (one client does not mute another)', async () => {
    const r = rig([{ name: 'extraction', when: { event: 'extraction.suspected' }, then: ['notify'] }]);
    try {
      r.emit({ action: 'extraction.suspected', sourceIp: '10.0.0.1', userId: 'alice' });
      r.emit({ action: 'extraction.suspected', sourceIp: '10.0.0.1', userId: 'alice' });
      r.emit({ action: 'extraction.suspected', sourceIp: '10.0.0.1', userId: 'bob' });
      await r.engine.idle();
      assert.deepEqual(r.fired().map((e) => e.user?.id).sort(), ['alice', 'bob']);
    } finally {
      await r.close();
    }
  });

  it('de-duplicates across instances sharing a store', async () => {
    const store = createMemoryStore();
    const rules: AlertRule[] = [{ name: 'burst', when: { event: 'auth.failure', count: 4, within: 5_000, by: 'source.ip' }, then: ['notify'] }];
    const a = rig(rules, { store });
    const b = rig(rules, { store });
    try {
      // Two failures on each instance: the shared window counts four.
      a.emit(fail('10.0.0.9'));
      b.emit(fail('10.0.0.9'));
      a.emit(fail('10.0.0.9'));
      b.emit(fail('10.0.0.9'));
      a.emit(fail('10.0.0.9'));
      b.emit(fail('10.0.0.9'));
      await Promise.all([a.engine.idle(), b.engine.idle()]);
      assert.equal(a.fired().length + b.fired().length, 1);
    } finally {
      await a.close();
      await b.close();
      await store.close();
    }
  });

  it('never feeds on its own alerts unless a rule names alert.fired', async () => {
    const r = rig([
      { name: 'all', when: { event: '*' }, then: ['notify'] },
      { name: 'meta', when: { event: 'alert.fired', count: 2, by: 'rule.name' }, then: ['notify'] },
    ]);
    try {
      r.emit(fail('10.0.0.1'));
      r.emit(fail('10.0.0.2'));
      await r.engine.idle();
      await r.engine.idle();
      const names = r.fired().map((e) => e.rule?.name).sort();
      assert.deepEqual(names, ['all', 'all', 'meta']);
    } finally {
      await r.close();
    }
  });

  it('keeps counting in process when the store fails, and says so', async () => {
    const good = createMemoryStore();
    const broken: Store = { ...good, kind: 'redis', hit: () => Promise.reject(new Error('down')), setIfAbsent: () => Promise.reject(new Error('down')) };
    const r = rig([{ name: 'burst', when: { event: 'auth.failure', count: 2, by: 'source.ip' }, then: ['notify'] }], { store: broken });
    try {
      r.emit(fail('10.0.0.1'));
      r.emit(fail('10.0.0.1'));
      await r.engine.idle();
      assert.equal(r.fired().length, 1);
      const err = r.seen.find((e) => e.event.action === 'stage.error');
      assert.equal(err?.bulwark.stage, 'alerts');
    } finally {
      await r.close();
      await good.close();
    }
  });

  it('alert.fired carries no secret from the triggering events', async () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LXNpZ25hdHVyZQ';
    const r = rig([{ name: 'burst', when: { event: 'auth.failure', count: 2, by: 'source.ip' }, then: ['notify', { ban: 60_000 }] }]);
    try {
      r.emit(fail('10.0.0.1', { details: { presented: token }, message: `bad ${token}` }));
      r.emit(fail('10.0.0.1', { details: { presented: token }, message: `bad ${token}` }));
      await r.engine.idle();
      const produced = r.seen.filter((e) => e.event.action !== 'auth.failure');
      assert.ok(produced.some((e) => e.event.action === 'alert.fired'));
      assert.ok(!JSON.stringify(produced).includes(token));
      assert.ok(!JSON.stringify(produced).includes('c2VjcmV0'));
    } finally {
      await r.close();
    }
  });
});

describe('actions', () => {
  it('ban: the group address (or subject) through the ban list, reason alert:<rule>', async () => {
    const r = rig([
      { name: 'ip-burst', when: { event: 'auth.failure', count: 2, by: 'source.ip' }, then: ['notify', { ban: 60_000 }] },
      { name: 'user-burst', when: { event: 'authz.denied', count: 2, by: 'user.id' }, then: [{ ban: 30_000 }] },
      { name: 'global', when: { event: 'prompt.injection', count: 2 }, then: [{ ban: 30_000 }] },
    ]);
    try {
      r.emit(fail('10.0.0.5'));
      r.emit(fail('10.0.0.5'));
      r.emit({ action: 'authz.denied', sourceIp: '10.0.0.6', userId: 'mallory' });
      r.emit({ action: 'authz.denied', sourceIp: '10.0.0.7', userId: 'mallory' });
      r.emit({ action: 'prompt.injection', sourceIp: '10.0.0.8' });
      r.emit({ action: 'prompt.injection', sourceIp: '10.0.0.9' });
      await r.engine.idle();
      const bans = new Bans(r.store);
      assert.equal((await bans.get({ kind: 'ip', value: '10.0.0.5' }))?.reason, 'alert:ip-burst');
      assert.equal((await bans.get({ kind: 'identity', value: 'mallory' }))?.reason, 'alert:user-burst');
      assert.equal(await bans.get({ kind: 'ip', value: '10.0.0.9' }), undefined, 'an ungrouped count does not ban whoever came last');
      const applied = r.seen.filter((e) => e.event.action === 'ban.applied');
      assert.equal(applied.length, 2);
      const global = r.fired().find((e) => e.rule?.name === 'global');
      assert.match(JSON.stringify(global?.bulwark['actions']), /skipped/);
    } finally {
      await r.close();
    }
  });

  it('throttle: lowers the client\'s limit factor for the given time', async () => {
    const r = rig([
      { name: 'thr-ip', when: { event: 'extraction.suspected', by: 'source.ip' }, then: [{ revokeKey: false, throttle: 0.1, for: 150 }] },
      { name: 'thr-user', when: { event: 'prompt.injection', by: 'user.id' }, then: [{ throttle: 0.5 }] },
    ]);
    try {
      assert.equal(throttleFactor(r.store, '10.0.1.1', undefined), 1);
      r.emit({ action: 'extraction.suspected', sourceIp: '10.0.1.1', userId: 'carol' });
      r.emit({ action: 'prompt.injection', sourceIp: '10.0.1.2', userId: 'dave' });
      await r.engine.idle();
      assert.equal(throttleFactor(r.store, '10.0.1.1', undefined), 0.1);
      assert.equal(throttleFactor(r.store, '10.0.1.1', 'carol'), 0.1, 'not the identity: the rule grouped by address');
      assert.equal(throttleFactor(r.store, '10.0.1.9', 'carol'), 1);
      assert.equal(throttleFactor(r.store, '10.0.1.9', 'dave'), 0.5);
      assert.equal(throttleFactor(r.store, '10.0.1.1', 'dave'), 0.1, 'the strictest applies');
      assert.ok(await r.store.get('throttle:ip:10.0.1.1'));
      await sleep(200);
      assert.equal(throttleFactor(r.store, '10.0.1.1', undefined), 1, 'expired');
    } finally {
      await r.close();
    }
  });

  it('revokeKey: revokes the API key of the grouped identity; skipped for other subjects', async () => {
    const r = rig([{ name: 'abuse', when: { event: 'authz.denied', by: 'user.id' }, then: ['notify', { revokeKey: true }] }]);
    try {
      const keys = new ApiKeyStore(r.store);
      const { key, record } = await keys.create({ name: 'k', roles: [] });
      r.emit({ action: 'authz.denied', sourceIp: '10.0.2.1', userId: `apikey:${record.id}` });
      r.emit({ action: 'authz.denied', sourceIp: '10.0.2.1', userId: 'jwt-user' });
      await r.engine.idle();
      assert.deepEqual(await keys.check(key), { ok: false, reason: 'revoked' });
      const revoked = r.seen.filter((e) => e.event.action === 'key.revoked');
      assert.equal(revoked.length, 1);
      assert.equal(revoked[0]?.bulwark['keyId'], record.id);
      assert.equal(revoked[0]?.event.reason, 'alert:abuse');
      assert.ok(!JSON.stringify(r.seen).includes(key));
      const other = r.fired().find((e) => e.user?.id === 'jwt-user');
      assert.match(JSON.stringify(other?.bulwark['actions']), /not an API key/);
    } finally {
      await r.close();
    }
  });

  it('revokeKey of a key not in the store is reported, and the other actions still run', async () => {
    const r = rig([{ name: 'abuse', when: { event: 'authz.denied', by: 'user.id' }, then: [{ revokeKey: true, throttle: 0.5 }] }]);
    try {
      r.emit({ action: 'authz.denied', userId: 'apikey:unknownid' });
      await r.engine.idle();
      assert.ok(r.seen.some((e) => e.event.action === 'stage.error' && e.event.reason === 'action_failed_revokeKey'));
      assert.equal(throttleFactor(r.store, '0.0.0.0', 'apikey:unknownid'), 0.5);
    } finally {
      await r.close();
    }
  });
});

describe('spike rules', () => {
  it('fire on a rate well above the moving baseline, not on steady traffic, not while warming up', async () => {
    let t = 1_000_000;
    const r = rig([{ name: 'spike', when: { event: 'request.completed', within: 10_000, spike: { factor: 3, baseline: 100_000, min: 5 } }, then: ['notify'] }], { now: () => t });
    try {
      // Warm-up: a burst in the first window says nothing (no history yet).
      for (let i = 0; i < 8; i++) r.emit({ action: 'request.completed' });
      await r.engine.idle();
      assert.equal(r.fired().length, 0);
      // Steady traffic, about 8 per window, for two minutes.
      for (let s = 0; s < 120; s++) {
        t += 1_250;
        r.emit({ action: 'request.completed' });
      }
      await r.engine.idle();
      assert.equal(r.fired().length, 0, 'steady traffic is no spike');
      // 30 in two seconds: well over 3x the ~8 per window baseline.
      for (let i = 0; i < 30; i++) {
        t += 66;
        r.emit({ action: 'request.completed' });
      }
      await r.engine.idle();
      const fired = r.fired();
      assert.equal(fired.length, 1);
      assert.equal(fired[0]?.bulwark['alertType'], 'spike');
      const spike = fired[0]?.bulwark['spike'] as { expected: number };
      assert.ok(spike.expected > 5 && spike.expected < 12, `baseline ~8 per window, got ${spike.expected}`);
      assert.ok((fired[0]?.bulwark['count'] as number) > 24);
    } finally {
      await r.close();
    }
  });

  it('per group: a client silent for the baseline that sends min events at once is a spike', async () => {
    let t = 5_000_000;
    const r = rig([{ name: 'spike', when: { event: 'auth.failure', within: 1_000, by: 'source.ip', spike: { factor: 3, baseline: 60_000, min: 4 } }, then: ['notify'] }], { now: () => t });
    try {
      t += 2_000;
      for (let i = 0; i < 3; i++) r.emit(fail('10.0.3.1'));
      await r.engine.idle();
      assert.equal(r.fired().length, 0, 'under min');
      r.emit(fail('10.0.3.1'));
      await r.engine.idle();
      assert.equal(r.fired().length, 1);
      assert.equal(r.fired()[0]?.source?.ip, '10.0.3.1');
    } finally {
      await r.close();
    }
  });
});
