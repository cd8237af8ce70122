// npm run bench: direct upstream vs a minimal node:http+undici proxy vs the gateway (no stages),
// in alternating rounds so machine noise hits all three alike. Prints medians and ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

const body = JSON.stringify({ model: 'bench', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'q'.repeat(900) }], max_tokens: 256 });
const streamBody = JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'q'.repeat(900) }] });

const children: ChildProcess[] = [];
function start(role: string, arg?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/servers.ts', role, ...(arg ? [arg] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    child.stdout?.on('data', (c: Buffer) => {
      const m = /PORT (\d+)/.exec(c.toString());
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`${role} exited ${code}`)));
  });
}

interface Sample { rps: number; p50: number; p99: number; errors: number }

async function drive(url: string, payload: string, connections: number): Promise<Sample> {
  const r = await autocannon({
    url: `${url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json' },
    body: payload, connections, duration: SECONDS, pipelining: 1,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main() {
  const upstream = await start('upstream');
  const targets = { direct: upstream, baseline: await start('baseline', upstream), gateway: await start('gateway', upstream) };
  const scenarios = [
    { name: `chat JSON 1 KB, ${CONNECTIONS} connections`, payload: body, connections: CONNECTIONS },
    { name: `chat SSE 20 events, ${CONNECTIONS} connections`, payload: streamBody, connections: CONNECTIONS },
    { name: 'chat JSON 1 KB, 1 connection (latency)', payload: body, connections: 1 },
  ];
  process.stdout.write(`bench: ${ROUNDS} alternating rounds of ${SECONDS}s per target and scenario (node ${process.version})\n`);
  const results: Record<string, Record<string, Sample[]>> = {};
  for (const s of scenarios) {
    results[s.name] = { direct: [], baseline: [], gateway: [] };
    for (const [name, url] of Object.entries(targets)) await drive(url, s.payload, s.connections).then((x) => void x); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, url] of Object.entries(targets)) (results[s.name] as Record<string, Sample[]>)[name]?.push(await drive(url, s.payload, s.connections));
    }
  }
  for (const s of scenarios) {
    const r = results[s.name] as Record<string, Sample[]>;
    const m = (name: string, k: keyof Sample) => median((r[name] ?? []).map((x) => x[k]));
    process.stdout.write(`\n${s.name}\n`);
    process.stdout.write(`  ${'target'.padEnd(9)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'errors'.padStart(7)}\n`);
    for (const name of ['direct', 'baseline', 'gateway']) {
      process.stdout.write(`  ${name.padEnd(9)} ${m(name, 'rps').toFixed(0).padStart(9)} ${m(name, 'p50').toFixed(2).padStart(7)} ${m(name, 'p99').toFixed(2).padStart(7)} ${String(m(name, 'errors')).padStart(7)}\n`);
    }
    process.stdout.write(`  gateway/baseline throughput ${(m('gateway', 'rps') / m('baseline', 'rps')).toFixed(3)}, gateway/direct ${(m('gateway', 'rps') / m('direct', 'rps')).toFixed(3)}\n`);
    process.stdout.write(`  p50 added: vs direct ${(m('gateway', 'p50') - m('direct', 'p50')).toFixed(2)} ms, vs baseline ${(m('gateway', 'p50') - m('baseline', 'p50')).toFixed(2)} ms\n`);
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill('SIGKILL');
  });
