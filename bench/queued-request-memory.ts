// What one request waiting for an upstream connection holds, as a multiple of its body size.
// `node --expose-gc --import tsx bench/queued-request-memory.ts` (env: QUEUED, BODY_KB, MODE).
//
// A gateway in this process in front of an upstream that accepts connections and never answers
// (MODE=queued, the default: 1 connection, so every later request waits in
// upstreams.<name>.queue; MODE=sent: a connection each, so every request has been sent). The
// clients and the upstream run in child processes, so their copies are not counted. The figure
// is the growth of heap + external memory (after a full GC) per request, over the body size.
import { spawn } from 'node:child_process';
import { configSchema } from '../src/config/schema.js';
import { createEventBus } from '../src/events/bus.js';
import { createGateway } from '../src/gateway/create-gateway.js';

const QUEUED = Number(process.env.QUEUED ?? 40);
const BODY_KB = Number(process.env.BODY_KB ?? 512);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const SENT = process.env.MODE === 'sent';
const UPSTREAM = `
const http = require('node:http');
const s = http.createServer((req) => { req.resume(); });
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));
`;
const upstream = spawn(process.execPath, ['-e', UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
const upstreamPort = await new Promise<number>((resolve) => upstream.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;

const config = configSchema.parse({
  version: 1,
  server: { listen: '127.0.0.1:0', limits: { bodyBytes: '8mb', maxInflight: QUEUED + 10 } },
  upstreams: { llm: { url: upstreamUrl, connections: SENT ? QUEUED + 1 : 1, timeout: '10m', queue: { max: QUEUED + 10, timeout: '10m' } } },
  routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', ...(process.env.SCREEN === '1' ? { input: { promptInjection: {} } } : {}) }],
  events: { sinks: [] },
});
const gw = await createGateway({ config, events: createEventBus() });
const gate = gw.runtime().routes[0]?.upstream.admission;
if (!gate) throw new Error('no route');

function heap(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 50));
}

// Prose of BODY_KB kilobytes (ASCII, so one byte per character in every representation).
const CLIENT = `
const net = require('node:net');
const [port, n, kb] = process.argv.slice(1).map(Number);
const sentence = 'The quarterly report lists every open item with its owner and due date. ';
const content = sentence.repeat(Math.ceil(kb * 1024 / sentence.length)).slice(0, kb * 1024 - 80);
const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] });
const head = 'POST /v1/chat/completions HTTP/1.1\\r\\nhost: x\\r\\ncontent-type: application/json\\r\\ncontent-length: ' + Buffer.byteLength(body) + '\\r\\n\\r\\n';
const sockets = [];
for (let i = 0; i < n; i++) { const s = net.connect(port, '127.0.0.1'); s.on('error', () => {}); s.write(head + body); sockets.push(s); }
process.stdout.write(String(Buffer.byteLength(body)) + '\\n');
setInterval(() => {}, 1000);
`;

const before = heap();
// MODE=queued: one request takes the only connection; the rest wait in the queue.
const port = Number(new URL(gw.url).port);
const client = spawn(process.execPath, ['-e', CLIENT, String(port), String(QUEUED + 1), String(BODY_KB)], { stdio: ['ignore', 'pipe', 'inherit'] });
const bodyBytes = await new Promise<number>((resolve) => client.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
await until(() => (SENT ? gate.active === QUEUED + 1 : gate.active === 1 && gate.queued === QUEUED));
// Let the bodies finish their way to the upstream.
await new Promise((r) => setTimeout(r, 1000));
const after = heap();
const perRequest = (after - before) / (QUEUED + 1);
console.log(JSON.stringify({ mode: SENT ? 'sent' : 'queued', requests: QUEUED + 1, bodyBytes, perRequestBytes: Math.round(perRequest), multipleOfBody: Math.round((perRequest / bodyBytes) * 100) / 100 }));

client.kill('SIGKILL');
await gw.close();
upstream.kill('SIGKILL');
