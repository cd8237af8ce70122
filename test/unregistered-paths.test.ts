import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { Bans } from '../src/stages/ban/bans.js';
import { inBatches, junkName } from './helpers/junk-paths.js';
import { startFixture, type Fixture } from './helpers/fixture.js';

// 127.0.0.1 is a trusted proxy: each test picks its clients with X-Forwarded-For.
type ServerInput = NonNullable<BulwarkConfigInput['server']>;
const server = (extra: Partial<ServerInput> = {}): ServerInput => ({ trustedProxies: ['127.0.0.1/32'], ...extra });

async function get(f: Fixture, path: string, client: string): Promise<{ status: number; code: string | undefined; retryAfter: string | null }> {
  const r = await fetch(`${f.url}${path}`, { headers: { 'x-forwarded-for': client } });
  const text = await r.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  return { status: r.status, code, retryAfter: r.headers.get('retry-after') };
}

const overflowMetric = async (f: Fixture, bound: string) => {
  const m = new RegExp(`^bulwark_inventory_overflow_total\\{bound="${bound}"\\} (\\d+)$`, 'm').exec(await f.gw.metrics.metrics());
  return m ? Number(m[1]) : undefined;
};

describe('unregistered paths are not free', () => {
  it('a banned address gets the ban answer on unknown paths too (IPv6 by its /64)', async () => {
    const f = await startFixture({ server: server() });
    try {
      await new Bans(f.gw.store, f.gw.events, 64).add({ kind: 'ip', value: '198.51.100.7' }, 60_000, 'manual');
      await new Bans(f.gw.store, f.gw.events, 64).add({ kind: 'ip', value: '2001:db8:7:7::1' }, 60_000, 'manual');
      const banned = await get(f, '/debug/pprof', '198.51.100.7');
      assert.equal(banned.status, 403);
      assert.equal(banned.code, 'BANNED');
      assert.ok(Number(banned.retryAfter) > 0);
      assert.equal((await get(f, '/.env', '2001:db8:7:7:dead:beef:0:1')).code, 'BANNED');
      assert.equal((await get(f, '/debug/pprof', '198.51.100.8')).code, 'ROUTE_NOT_FOUND', 'others still get the 404');
      assert.equal(f.mock.requests.length, 0);
      assert.ok(!f.events.some((e) => e.event.action === 'route.unregistered' && e.source?.ip === '198.51.100.7'), 'a banned client is refused before routing');
    } finally {
      await f.close();
    }
  });

  it('server.unregistered limits unknown paths per client network: 429 with Retry-After, other clients unaffected', async () => {
    const f = await startFixture({ server: server({ unregistered: { requests: 3, per: '1m' } }) });
    try {
      const a = [];
      for (let i = 0; i < 5; i++) a.push(await get(f, `/probe/${junkName(i)}`, `2001:db8:9:9::${i + 1}`));
      assert.deepEqual(a.map((r) => r.status), [404, 404, 404, 429, 429], 'one budget for the /64');
      assert.equal(a[3]?.code, 'RATE_LIMITED');
      assert.ok(Number(a[3]?.retryAfter) > 0);
      assert.equal((await get(f, '/probe/other', '192.0.2.50')).status, 404, 'another client has its own budget');
      assert.equal(f.mock.requests.length, 0);
      const limited = f.events.filter((e) => e.event.action === 'ratelimit.exceeded');
      assert.equal(limited.length, 1, 'sampled: one event per client and window');
      assert.equal(limited[0]?.source?.ip, '2001:db8:9:9::4');
      assert.equal(limited[0]?.event.reason, 'unregistered');
    } finally {
      await f.close();
    }
  });

  it('route.unregistered events are sampled per client network: each path once, a bounded number of paths; a quiet client still gets its event', async () => {
    const f = await startFixture({ server: server() });
    try {
      for (let i = 0; i < 20; i++) assert.equal((await get(f, '/wp-login.php', `2001:db8:4:4::${(i + 1).toString(16)}`)).status, 404);
      for (let i = 0; i < 120; i++) assert.equal((await get(f, `/scan/${junkName(i)}`, `2001:db8:4:4::${(i + 1).toString(16)}`)).status, 404);
      assert.equal((await get(f, '/debug/pprof', '192.0.2.1')).status, 404);
      const seen = f.events.filter((e) => e.event.action === 'route.unregistered');
      const fromScanner = seen.filter((e) => e.source?.ip?.startsWith('2001:db8:4:4:'));
      assert.equal(fromScanner.filter((e) => e.url?.path === '/wp-login.php').length, 1, 'a path hammered is written once');
      assert.ok(fromScanner.some((e) => e.url?.path === `/scan/${junkName(0)}`), 'a new path is written');
      assert.ok(fromScanner.length <= 50, `the scanner writes a bounded number of events (${fromScanner.length} for 140 requests)`);
      assert.ok(seen.some((e) => e.source?.ip === '192.0.2.1' && e.url?.path === '/debug/pprof'), 'the other client is reported');
    } finally {
      await f.close();
    }
  });

  it('2,000 junk paths from one client cannot keep a later /debug/pprof probe from raising inventory.new_endpoint', async () => {
    const f = await startFixture({ server: server({ unregistered: { requests: 100_000, per: '1m' } }) });
    try {
      await inBatches(2000, 20, (i) => get(f, `/${junkName(i)}`, '203.0.113.66'));
      assert.equal((await get(f, '/debug/pprof', '198.51.100.20')).status, 404);
      // Closing flushes the inventory.
      await f.close();
      const fresh = f.events.filter((e) => e.event.action === 'inventory.new_endpoint').map((e) => e.bulwark.template);
      assert.ok(fresh.includes('/debug/pprof'), 'the real probe is announced');
      assert.ok(fresh.length <= 200, `one client adds a bounded number of templates (${fresh.length})`);
      const overflow = f.events.filter((e) => e.event.action === 'inventory.overflow');
      assert.ok(overflow.length >= 1 && overflow.length <= 3, `announced, not flooded (${overflow.length})`);
      assert.equal(overflow[0]?.source?.ip, '203.0.113.66');
      assert.equal(overflow[0]?.bulwark.bound, 'client');
      assert.ok(((await overflowMetric(f, 'client')) ?? 0) > 1000, 'the dropped templates are counted');
    } finally {
      await f.close();
    }
  });

  it('one path prefix holds a bounded number of templates, however many clients fill it', async () => {
    const f = await startFixture({ server: server() });
    try {
      await inBatches(400, 20, (i) => get(f, `/cgi-bin/${junkName(i)}`, `10.${Math.floor(i / 250)}.${i % 250}.1`));
      assert.equal((await get(f, '/debug/pprof', '198.51.100.21')).status, 404);
      await f.close();
      const fresh = f.events.filter((e) => e.event.action === 'inventory.new_endpoint').map((e) => e.bulwark.template as string);
      assert.ok(fresh.includes('/debug/pprof'));
      const underPrefix = fresh.filter((t) => t.startsWith('/cgi-bin/')).length;
      assert.ok(underPrefix > 0 && underPrefix < 400, `bounded per prefix (${underPrefix})`);
      const overflow = f.events.find((e) => e.event.action === 'inventory.overflow' && e.bulwark.bound === 'prefix');
      assert.equal(overflow?.bulwark.prefix, '/cgi-bin');
      assert.ok(((await overflowMetric(f, 'prefix')) ?? 0) > 0);
    } finally {
      await f.close();
    }
  });
});
