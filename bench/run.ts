// npm run bench: direct upstream vs a minimal node:http+undici proxy vs the gateway (no stages),
// in alternating rounds so machine noise hits all three alike. Prints medians and ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { expandingTextBench } from './expanding-text.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

// A realistic ~900-character prompt (prose, not one repeated letter: the tokenizer and the
// injection screen cost what they cost on real text).
const PROMPT = 'Summarize the attached meeting notes for the team, keep the action items and owners, and flag anything that slipped from last week. '.repeat(7);
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: PROMPT }], max_tokens: 256 });
const streamBody = JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: PROMPT }] });

const children: ChildProcess[] = [];
/** Extra request headers per target (the credential of the auth targets). */
const credentials: Record<string, Record<string, string>> = {};

function start(role: string, arg?: string, env: Record<string, string> = {}, name = role): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bench/servers.mjs', role, ...(arg ? [arg] : [])], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const cred = /CRED (\S+) (.+)\n/.exec(out);
      if (cred) credentials[name] = { [cred[1] as string]: cred[2] as string };
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`${role} exited ${code}`)));
  });
}

interface Sample { rps: number; p50: number; p99: number; mean: number; errors: number }

async function drive(url: string, payload: string, connections: number, extraHeaders: Record<string, string> = {}): Promise<Sample> {
  const r = await autocannon({
    url: `${url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', ...extraHeaders },
    body: payload, connections, duration: SECONDS, pipelining: 1,
  });
  // autocannon's latency histogram has whole-millisecond buckets, too coarse for a proxy that
  // adds tenths of a millisecond. With a closed loop of `connections` clients the mean latency is
  // exactly connections / throughput (Little's law), so that is what `mean` reports.
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, mean: (connections * 1000) / r.requests.average, errors: r.errors + r.non2xx };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main() {
  const upstream = await start('upstream');
  const expanding = () => start('gateway', upstream, { BENCH_GUARD: '1', BENCH_BODY: '2mb' }, 'gateway-guard-2mb');
  if (process.env.BENCH_ONLY === 'expanding') return expandingTextBench(await expanding(), ROUNDS * 3);
  // A webhook receiver that accepts connections and never answers.
  const hanging = http.createServer(() => undefined);
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  hanging.unref();
  const hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hook`;
  // gateway: the chat route as users configure it (kind openai-chat: strict JSON decoding, the
  // chat schema, re-serialization). gateway-raw: the same gateway with a passthrough route, i.e.
  // the proxy core alone (framing, canonical path, routing, header policy, streaming).
  const targets: Record<string, string> = {
    direct: upstream,
    baseline: await start('baseline', upstream),
    gateway: await start('gateway', upstream),
    'gateway-raw': await start('gateway', upstream, { BENCH_KIND: 'passthrough' }),
  };
  // Auth cost: the same chat route requiring an ES256 JWT (cached key set) or an API key; measured
  // in the single-connection scenario only, beside the plain gateway of the same run.
  const authTargets: Record<string, string> = {
    'gateway-jwt': await start('gateway', upstream, { BENCH_AUTH: 'jwt' }, 'gateway-jwt'),
    'gateway-apikey': await start('gateway', upstream, { BENCH_AUTH: 'apikey' }, 'gateway-apikey'),
    'gateway-rl-mem': await start('gateway', upstream, { BENCH_LIMIT: 'memory' }, 'gateway-rl-mem'),
    'gateway-rl-redis': await start('gateway', upstream, { BENCH_LIMIT: 'redis' }, 'gateway-rl-redis'),
    'gateway-tk-mem': await start('gateway', upstream, { BENCH_LIMIT: 'tokens-memory' }, 'gateway-tk-mem'),
    'gateway-tk-redis': await start('gateway', upstream, { BENCH_LIMIT: 'tokens-redis' }, 'gateway-tk-redis'),
    'gateway-guard': await start('gateway', upstream, { BENCH_GUARD: '1' }, 'gateway-guard'),
    'gateway-sinks': await start('gateway', upstream, { BENCH_SINKS: '1', BENCH_HOOK_URL: hangingUrl }, 'gateway-sinks'),
  };
  const names = Object.keys(targets);
  const redactTarget = await start('gateway', upstream, { BENCH_REDACT: '1' }, 'gateway-redact');
  const scenarios = [
    { name: `chat JSON 1 KB, ${CONNECTIONS} connections`, payload: body, connections: CONNECTIONS },
    { name: `chat SSE 20 events, ${CONNECTIONS} connections`, payload: streamBody, connections: CONNECTIONS },
    { name: 'chat JSON 1 KB, 1 connection (latency)', payload: body, connections: 1 },
  ];
  process.stdout.write(`bench: ${ROUNDS} alternating rounds of ${SECONDS}s per target and scenario (node ${process.version})\n`);
  const results: Record<string, Record<string, Sample[]>> = {};
  for (const [i, s] of scenarios.entries()) {
    // The per-feature targets run in the 1-connection scenario: one request at a time, so the cost
    // each feature adds per request is what the mean latency difference shows.
    const here = i === 2 ? { ...targets, ...authTargets } : targets;
    results[s.name] = Object.fromEntries(Object.keys(here).map((n) => [n, []]));
    for (const [name, url] of Object.entries(here)) await drive(url, s.payload, s.connections, credentials[name]); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, url] of Object.entries(here)) (results[s.name] as Record<string, Sample[]>)[name]?.push(await drive(url, s.payload, s.connections, credentials[name]));
    }
  }
  process.stdout.write('\nmean ms: connections / req/s (Little\'s law); * autocannon percentiles, whole milliseconds only\n');
  for (const s of scenarios) {
    const r = results[s.name] as Record<string, Sample[]>;
    const m = (name: string, k: keyof Sample) => median((r[name] ?? []).map((x) => x[k]));
    process.stdout.write(`\n${s.name}\n`);
    process.stdout.write(`  ${'target'.padEnd(17)} ${'req/s'.padStart(9)} ${'mean ms'.padStart(8)} ${'p50 ms*'.padStart(7)} ${'p99 ms*'.padStart(7)} ${'errors'.padStart(7)}\n`);
    for (const name of Object.keys(r)) {
      process.stdout.write(`  ${name.padEnd(17)} ${m(name, 'rps').toFixed(0).padStart(9)} ${m(name, 'mean').toFixed(3).padStart(8)} ${m(name, 'p50').toFixed(0).padStart(7)} ${m(name, 'p99').toFixed(0).padStart(7)} ${String(m(name, 'errors')).padStart(7)}\n`);
    }
    for (const g of ['gateway', 'gateway-raw', ...(r['gateway-jwt'] ? ['gateway-jwt', 'gateway-apikey', 'gateway-rl-mem', 'gateway-rl-redis', 'gateway-tk-mem', 'gateway-tk-redis', 'gateway-guard', 'gateway-sinks'] : [])]) {
      if (g.startsWith('gateway-') && g !== 'gateway-raw') {
        process.stdout.write(`  ${g}: ${g.includes('-rl-') ? 'the request limiter' : g.includes('-tk-') ? 'the token budget' : g === 'gateway-guard' ? 'the injection screen' : g === 'gateway-sinks' ? 'every sink on (file with chain, syslog, webhook to a hanging receiver)' : 'auth'} adds ${((m(g, 'mean') - m('gateway', 'mean')) * 1000).toFixed(0)} us per request (mean latency vs gateway without auth)\n`);
      }
      process.stdout.write(`  ${g}: throughput ${(m(g, 'rps') / m('baseline', 'rps')).toFixed(3)} x baseline, ${(m(g, 'rps') / m('direct', 'rps')).toFixed(3)} x direct; mean latency added ${(m(g, 'mean') - m('direct', 'mean')).toFixed(3)} ms vs direct, ${(m(g, 'mean') - m('baseline', 'mean')).toFixed(3)} ms vs baseline\n`);
    }
  }
  await streamingBench({ direct: upstream, baseline: targets.baseline as string, gateway: targets.gateway as string, 'gateway-redact': redactTarget });
  await expandingTextBench(await expanding(), ROUNDS * 3);
}

/** One streamed answer: total bytes, seconds, and ms until the first content byte. */
async function streamOnce(url: string, payload: string): Promise<{ bytes: number; seconds: number; ttftMs: number }> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
  const reader = (r.body as ReadableStream<Uint8Array>).getReader();
  let bytes = 0;
  let ttftMs = -1;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (ttftMs < 0 && Buffer.from(value).includes('"content"')) ttftMs = performance.now() - t0;
    bytes += value.length;
  }
  return { bytes, seconds: (performance.now() - t0) / 1000, ttftMs };
}

/** Streaming redaction: MB/s through the redactor and added time to first token, against redaction off. */
async function streamingBench(targets: Record<string, string>): Promise<void> {
  const big = JSON.stringify({ model: 'bench', stream: true, bench_mb: 20, messages: [{ role: 'user', content: 'go' }] });
  const paced = JSON.stringify({ model: 'bench', stream: true, bench_paced: true, messages: [{ role: 'user', content: 'go' }] });
  const mbps: Record<string, number[]> = {};
  const ttft: Record<string, number[]> = {};
  for (const name of Object.keys(targets)) {
    mbps[name] = [];
    ttft[name] = [];
    await streamOnce(targets[name] as string, big); // warm-up
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, url] of Object.entries(targets)) {
      const r = await streamOnce(url, big);
      mbps[name]?.push(r.bytes / 1024 / 1024 / r.seconds);
      for (let i = 0; i < 5; i++) ttft[name]?.push((await streamOnce(url, paced)).ttftMs);
    }
  }
  process.stdout.write('\nstreaming: 20 MB SSE answer (MB/s), and time to first token of a paced stream (10 events 20 ms apart)\n');
  for (const name of Object.keys(targets)) {
    process.stdout.write(`  ${name.padEnd(17)} ${median(mbps[name] ?? []).toFixed(1).padStart(7)} MB/s   first token ${median(ttft[name] ?? []).toFixed(2)} ms\n`);
  }
  const off = 'gateway';
  const on = 'gateway-redact';
  process.stdout.write(`  redaction: ${(median(mbps[on] ?? []) / median(mbps[off] ?? [])).toFixed(3)} x throughput of redaction off; first token +${(median(ttft[on] ?? []) - median(ttft[off] ?? [])).toFixed(2)} ms\n`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill('SIGKILL');
  });
