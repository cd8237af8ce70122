import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { configSchema } from '../src/config/schema.js';
import { startMockLlm } from '../src/demo/mock-llm.js';
import { verifyWebhookSignature } from '../src/events/sinks/webhook-signature.js';
import { createGateway, type Gateway } from '../src/gateway/create-gateway.js';

const SECRET = 'alerts-webhook-test-secret-0123456789abcdef';
const HOOK_SECRET = 'webhook-signing-secret-0123456789';

interface Delivery {
  ids: string[];
  actions: string[];
  signatureOk: boolean;
  at: number;
}

/** A SIEM/alert receiver that can be down (503) or up, recording what it accepted. */
async function startReceiver() {
  const state = { up: false, deliveries: [] as Delivery[] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (!state.up) return void res.writeHead(503).end();
      const parsed = JSON.parse(body) as { events: Array<{ event: { id: string; action: string } }> };
      const signatureOk = verifyWebhookSignature(HOOK_SECRET, String(req.headers['x-bulwark-timestamp']), body, String(req.headers['x-bulwark-signature']));
      state.deliveries.push({ ids: parsed.events.map((e) => e.event.id), actions: parsed.events.map((e) => e.event.action), signatureOk, at: Date.now() });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

it('a burst of failed logins fires the alert and bans the source; the alert survives a receiver outage and a gateway restart and arrives once, signed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-alerts-'));
  const rx = await startReceiver();
  const mock = await startMockLlm();
  const config = configSchema.parse({
    version: 1,
    server: { listen: '127.0.0.1:0' },
    state: { store: 'sqlite', sqlite: { path: join(dir, 'state.db') } },
    upstreams: { llm: { url: mock.url } },
    auth: { jwt: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'] }] },
    routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt'] } }],
    events: {
      sinks: [{ type: 'webhook', url: rx.url, secret: HOOK_SECRET, minSeverity: 'high', batch: { wait: '100ms' }, retry: { initial: '200ms', max: '500ms' }, queue: { path: join(dir, 'queue.db') } }],
      alerts: [{ name: 'auth-burst', when: { event: 'auth.failure', count: 5, within: '10s', by: 'source.ip' }, then: ['notify', { ban: '1m' }] }],
    },
  });
  let gw: Gateway | undefined;
  try {
    gw = await createGateway({ config });
    const seen: string[] = [];
    gw.events.subscribe((e) => seen.push(e.event.action));
    const forged = async () => {
      const r = await fetch(`${(gw as Gateway).url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer forged.token.value' }, body: '{"model":"m","messages":[{"role":"user","content":"hi"}]}' });
      await r.arrayBuffer();
      return r.status;
    };
    const t0 = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await forged());
    const until = Date.now() + 5000;
    while (!seen.includes('ban.applied') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.includes('alert.fired') && Date.now() - t0 < 5000, 'the alert fires within 5 s');
    assert.ok(seen.includes('ban.applied'), 'and bans the source');
    assert.equal(await forged(), 403, 'the ban stops the burst');
    assert.ok(statuses.slice(0, 5).every((s) => s === 401));

    // The receiver is down; the gateway restarts; the alert waits in the durable queue.
    await gw.close();
    gw = await createGateway({ config });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.state.deliveries.length, 0);
    const upAt = Date.now();
    rx.state.up = true;
    const deadline = Date.now() + 10_000;
    while (!rx.state.deliveries.some((d) => d.actions.includes('alert.fired')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 700)); // room for a duplicate to show up, if there were one
    const alerts = rx.state.deliveries.flatMap((d) => d.ids.filter((_, i) => d.actions[i] === 'alert.fired'));
    assert.equal(alerts.length, 1, 'the alert arrives exactly once');
    assert.ok((rx.state.deliveries.find((d) => d.actions.includes('alert.fired'))?.at ?? Infinity) - upAt < 5000, 'within 5 s of the receiver coming back');
    const all = rx.state.deliveries.flatMap((d) => d.ids);
    assert.equal(new Set(all).size, all.length, 'no event delivered twice');
    assert.ok(rx.state.deliveries.every((d) => d.signatureOk), 'every delivery is signed');
  } finally {
    await gw?.close();
    await rx.close();
    await mock.close();
  }
});
