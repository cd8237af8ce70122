// npm run bench, expanding-text case (alone: BENCH_ONLY=expanding npm run bench): a 1 MB chat body
// of characters that NFKC expands (U+FDFA: 18 characters each) against 1 MB of prose, through a
// gateway with the injection screen on. The expanding body must cost no more than 2x the prose.
import { performance } from 'node:perf_hooks';
import { BODIES } from '../src/stages/input-guard/detector/bench.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function once(url: string, body: string): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await r.arrayBuffer();
  return { ms: performance.now() - t0, status: r.status };
}

/** `guarded`: a gateway with promptInjection on and a body limit above 1 MB (BENCH_GUARD=1, BENCH_BODY=2mb). */
export async function expandingTextBench(guarded: string, rounds: number): Promise<void> {
  const bodies = Object.fromEntries(Object.entries(BODIES).map(([name, text]) => [name, JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: text }] })]));
  for (const b of Object.values(bodies)) await once(guarded, b); // warm-up
  const ms: Record<string, number[]> = {};
  const status: Record<string, number> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, b] of Object.entries(bodies)) {
      const x = await once(guarded, b);
      (ms[name] ??= []).push(x.ms);
      status[name] = x.status;
    }
  }
  const prose = median(ms.prose ?? []);
  process.stdout.write(`\nexpanding text: 1 MB chat bodies through the injection screen (median of ${rounds}, ms per request)\n`);
  for (const name of Object.keys(bodies)) {
    const m = median(ms[name] ?? []);
    process.stdout.write(`  ${name.padEnd(36)} ${m.toFixed(1).padStart(8)} ms  status ${status[name]}  ${(m / prose).toFixed(2)} x prose\n`);
  }
}
