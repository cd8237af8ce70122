// Child processes for the benchmark: one role each, so the gateway, the baseline proxy and the
// upstream never share an event loop. Prints `PORT <n>` when listening.
// Plain JavaScript on purpose: a TypeScript loader (tsx) rewrites closures with name helpers, which
// would tax both proxies and hide the difference being measured. The gateway is the built dist/.
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';
import { configSchema, createGateway } from '../dist/index.js';
import { ApiKeyStore } from '../dist/stages/auth/api-key-store.js';

const [role, upstreamUrl] = process.argv.slice(2);
const benchDir = mkdtempSync(join(tmpdir(), 'bulwark-bench-'));

const ANSWER = JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 0, model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(900) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 200, total_tokens: 210 },
});
const SSE_EVENTS = 20;

function listen(server) {
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
}

if (role === 'upstream') {
  listen(
    http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        // The streaming-redaction bench: `bench_mb` MB of content deltas as fast as the client
        // reads them, or `bench_paced` events 20 ms apart (time to first token).
        const mb = /"bench_mb":(\d+)/.exec(body.toString())?.[1];
        const paced = body.includes('"bench_paced":true');
        if (mb || paced) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const ev = (t) => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(t)}}}]}\n\n`;
          if (paced) {
            for (let i = 0; i < 10; i++) {
              // Tokens as models stream them, the space leading: the last word of each event may
              // still be growing, so the redactor holds it until the next event (about 20 ms).
              res.write(ev(i === 0 ? 'Hello' : ` word${i}`));
              await new Promise((r) => setTimeout(r, 20));
            }
          } else {
            const chunk = ev('All work and no play makes a dull answer, again and again; the tide comes in at noon. '.repeat(4));
            const n = Math.ceil((Number(mb) * 1024 * 1024) / chunk.length);
            for (let i = 0; i < n; i++) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
          }
          res.end('data: [DONE]\n\n');
          return;
        }
        if (body.includes('"stream":true')) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          for (let i = 0; i < SSE_EVENTS; i++) res.write(`data: {"choices":[{"delta":{"content":"token${i} "}}]}\n\n`);
          res.end('data: [DONE]\n\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) });
        res.end(ANSWER);
      });
    }),
  );
} else if (role === 'baseline') {
  // The minimal proxy a gateway is measured against: node:http in, undici out, no checks at all.
  const url = new URL(upstreamUrl);
  const pool = new Pool(url.origin, { connections: 128, pipelining: 1 });
  listen(
    http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        try {
          const up = await pool.request({ path: req.url ?? '/', method: req.method, headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) });
          res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? '') });
          for await (const c of up.body) res.write(c);
          res.end();
        } catch {
          res.writeHead(502).end();
        }
      });
    }),
  );
} else if (role === 'gateway') {
  // BENCH_AUTH=jwt|apikey: the chat route requires that credential (ES256 JWT against a cached
  // key set, or an API key from the store); the credential is printed for the driver.
  const authMode = process.env.BENCH_AUTH;
  // BENCH_LIMIT=memory|redis: a per-IP request limit high enough never to refuse, so the cost of
  // counting is what is measured. BENCH_LIMIT=tokens-memory|tokens-redis: a token budget instead
  // (prompt estimate with the tokenizer, reservation, settlement from the answer's usage).
  const limitMode = process.env.BENCH_LIMIT;
  const limitStore = limitMode?.replace('tokens-', '');
  const limitRule = limitMode?.startsWith('tokens-') ? { by: 'ip', tokens: 100_000_000_000, per: '10s' } : { by: 'ip', requests: 100_000_000, per: '10s' };
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256' };
  const config = configSchema.parse({
    version: 1,
    // BENCH_BODY=2mb: a larger body limit (the 1 MB bodies of the expanding-text case).
    server: { listen: '127.0.0.1:0', ...(process.env.BENCH_BODY ? { limits: { bodyBytes: process.env.BENCH_BODY } } : {}) },
    upstreams: { llm: { url: upstreamUrl } },
    ...(authMode ? { auth: { jwt: [{ issuer: 'bench', audience: 'bench', jwks: { keys: [jwk] }, algorithms: ['ES256'] }], apiKeys: {} } } : {}),
    ...(limitStore === 'redis' ? { state: { store: 'redis', redis: { url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `bulwark-bench:${process.pid}:` } } } : {}),
    routes: [{
      name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: process.env.BENCH_KIND ?? 'openai-chat',
      ...(authMode ? { auth: { any: ['jwt', 'apiKey'], roles: ['user'] } } : {}),
      ...(limitStore ? { rateLimit: [limitRule] } : {}),
      // BENCH_REDACT=1: output redaction of every secret and PII class.
      ...(process.env.BENCH_REDACT ? { output: { redact: ['secrets', 'pii'] } } : {}),
      // BENCH_GUARD=1: the prompt-injection screen on every message (and their concatenation).
      ...(process.env.BENCH_GUARD ? { input: { promptInjection: { action: 'block' } } } : {}),
    }],
    // BENCH_SINKS=1: every sink on, each event to all of them: a hash-chained rotating file,
    // syslog over UDP, and a webhook whose receiver hangs (BENCH_HOOK_URL) — the data path must
    // not wait for any of them.
    events: process.env.BENCH_SINKS
      ? {
          sinks: [
            { type: 'file', path: join(benchDir, 'security.jsonl'), chain: true, rotate: '50mb', keep: 2 },
            { type: 'syslog', address: 'udp://127.0.0.1:9' },
            { type: 'webhook', url: process.env.BENCH_HOOK_URL, queue: { path: join(benchDir, 'webhook-queue.db') } },
          ],
        }
      : { sinks: [] },
  });
  const gw = await createGateway({ config });
  if (authMode === 'jwt') {
    const token = await new SignJWT({ roles: ['user'] }).setProtectedHeader({ alg: 'ES256', kid: 'bench' }).setIssuer('bench').setAudience('bench').setSubject('bench-user').setIssuedAt().setExpirationTime('2h').sign(privateKey);
    process.stdout.write(`CRED authorization Bearer ${token}\n`);
  } else if (authMode === 'apikey') {
    const { key } = await new ApiKeyStore(gw.store).create({ name: 'bench', roles: ['user'] });
    process.stdout.write(`CRED x-api-key ${key}\n`);
  }
  process.stdout.write(`PORT ${new URL(gw.url).port}\n`);
} else {
  process.stderr.write('usage: servers.mjs upstream | baseline URL | gateway URL\n');
  process.exit(2);
}

// Profilers (--cpu-prof) write their output on a normal exit.
process.on('SIGTERM', () => process.exit(0));
