import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

// Red-team review 2, point 3: alert rules grouped by source.ip must count a client network, not an address.
type RouteInput = NonNullable<BulwarkConfigInput['routes']>[number];
const SERVER = { trustedProxies: ['127.0.0.1/32'] };
const chat = (extra: Partial<RouteInput>): RouteInput => ({ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, ...extra });
const ONE_NET = Array.from({ length: 30 }, (_, i) => `2001:db8:aa:bb:${(i * 2053 + 1).toString(16)}:${(i * 7).toString(16)}:0:${(i + 1).toString(16)}`);

async function post(f: Fixture, client: string, headers: Record<string, string> = {}): Promise<number> {
  const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': client, ...headers }, body: chatBody() });
  await r.arrayBuffer();
  return r.status;
}

describe('alert rules by source.ip key IPv6 clients by network', () => {
  it('an auth-failure burst alert (count 5, by source.ip, ban) fires for 5 failures from 5 addresses of one /64, and bans the /64', async () => {
    const f = await startFixture({
      server: SERVER,
      auth: { apiKeys: {} },
      events: { sinks: [], alerts: [{ name: 'auth-burst', when: { event: 'auth.failure', count: 5, within: '1m', by: 'source.ip' }, then: [{ ban: '1m' }] }] },
      routes: [chat({ auth: { any: ['apiKey'] } })],
    });
    try {
      for (const ip of ONE_NET.slice(0, 5)) assert.equal(await post(f, ip, { 'x-api-key': 'bwk_wrong' }), 401);
      let fired = false;
      // The alert follows the events through store writes: an upper bound, not a timing assert.
      for (let i = 0; i < 200 && !fired; i++) {
        fired = f.events.some((e) => e.event.action === 'alert.fired');
        if (!fired) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(fired, `5 auth failures from one /64 never fired the by-source.ip alert (counted per address): ${f.events.filter((e) => e.event.action === 'auth.failure').length} failures`);
      assert.equal(f.events.find((e) => e.event.action === 'alert.fired')?.source?.ip, ONE_NET[4], 'the alert names the address that tipped it (ECS source.ip is an address)');
      const after: number[] = [];
      for (const ip of ONE_NET.slice(10)) after.push(await post(f, ip, { 'x-api-key': 'bwk_wrong' }));
      assert.deepEqual(new Set(after), new Set([403]), `the /64 is banned: ${after.join(',')}`);
    } finally {
      await f.close();
    }
  });

  it('addresses of one /64 written with a dotted tail (2001:db8:aa:bb::10.0.0.N) share one by-ip limit', async () => {
    const f = await startFixture({ server: SERVER, routes: [chat({ rateLimit: [{ by: 'ip', requests: 5, per: '1m' }] })] });
    try {
      const statuses: number[] = [];
      for (let i = 1; i <= 12; i++) statuses.push(await post(f, `2001:db8:aa:bb::10.0.0.${i}`));
      assert.equal(statuses.filter((s) => s === 200).length, 5, `one budget for the network: ${statuses.join(',')}`);
      assert.equal(f.mock.requests.length, 5);
    } finally {
      await f.close();
    }
  });
});
