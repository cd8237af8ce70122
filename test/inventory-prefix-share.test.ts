import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inBatches, junkName } from './helpers/junk-paths.js';
import { startFixture, type Fixture } from './helpers/fixture.js';

// Issue 12, point 4 (found by review): junk must not keep a real probe of /debug/pprof out of the inventory.
const SERVER = { trustedProxies: ['127.0.0.1/32'], unregistered: { requests: 100_000, per: '1m' } };
async function get(f: Fixture, path: string, client: string): Promise<number> {
  const r = await fetch(`${f.url}${path}`, { headers: { 'x-forwarded-for': client } });
  await r.arrayBuffer();
  return r.status;
}
const announced = (f: Fixture) => f.events.filter((e) => e.event.action === 'inventory.new_endpoint').map((e) => e.bulwark.template as string);

describe('inventory bounds cannot be used to hide a real probe', () => {
  it('one client filling the /debug prefix with 100 junk paths does not keep a later /debug/pprof from raising inventory.new_endpoint', async () => {
    const f = await startFixture({ server: SERVER });
    try {
      await inBatches(100, 20, (i) => get(f, `/debug/${junkName(i)}`, '203.0.113.66'));
      assert.equal(await get(f, '/debug/pprof', '198.51.100.20'), 404);
      await f.close();
      assert.ok(announced(f).includes('/debug/pprof'), `the real probe is dropped by the prefix bound: ${JSON.stringify(f.events.filter((e) => e.event.action === 'inventory.overflow').map((e) => e.bulwark.bound))}`);
    } finally {
      await f.close();
    }
  });

});
