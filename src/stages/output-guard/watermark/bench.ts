/**
 * Tiny bench: `npx tsx src/stages/output-guard/watermark/bench.ts`
 * The cost of the watermarks: accuracy of marked embeddings, and time per answer / per vector.
 */
import { randomBytes } from 'node:crypto';
import { vectorMatchesClient, watermarkVector } from './numbers.js';
import { ENGLISH_ANSWER } from './test-fixtures.js';
import { createTextWatermarker, identify, watermarkText } from './text.js';

const key = randomBytes(32);

function unitVector(dim: number): number[] {
  const v = Array.from({ length: dim }, () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random()));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const runs = 200;
let sumDelta = 0;
let maxDelta = 0;
let sumCos = 0;
let minCos = 1;
let t0 = performance.now();
for (let r = 0; r < runs; r++) {
  const x = unitVector(1536);
  const y = watermarkVector(x, { key, clientId: `c${r}`, input: `text ${r}` });
  let dot = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(y[i]! - x[i]!);
    sumDelta += d;
    maxDelta = Math.max(maxDelta, d);
    dot += x[i]! * y[i]!;
    nx += x[i]! ** 2;
    ny += y[i]! ** 2;
  }
  const c = dot / Math.sqrt(nx * ny);
  sumCos += c;
  minCos = Math.min(minCos, c);
}
const vecMs = (performance.now() - t0) / runs;
console.log(`numbers (round4), ${runs} random 1536-dim unit vectors:`);
console.log(`  mean |delta| ${(sumDelta / (runs * 1536)).toExponential(3)}   max |delta| ${maxDelta.toExponential(3)}`);
console.log(`  cosine(original, marked): mean ${(sumCos / runs).toFixed(9)}   min ${minCos.toFixed(9)}`);
console.log(`  ${vecMs.toFixed(3)} ms per vector (generation + marking)`);
const x = unitVector(1536);
const y = watermarkVector(x, { key, clientId: 'alice', input: 'q' });
t0 = performance.now();
for (let i = 0; i < 200; i++) vectorMatchesClient(y, { key, clientId: 'alice', input: 'q' });
console.log(`  vectorMatchesClient: ${((performance.now() - t0) / 200).toFixed(3)} ms per 1536-dim vector`);

t0 = performance.now();
for (let i = 0; i < 500; i++) watermarkText(ENGLISH_ANSWER, { key, clientId: 'alice' });
console.log(`text: ${((performance.now() - t0) / 500).toFixed(3)} ms per 2,000-character answer (whole)`);
t0 = performance.now();
for (let i = 0; i < 100; i++) {
  const w = createTextWatermarker({ key, clientId: 'alice' });
  for (let j = 0; j < ENGLISH_ANSWER.length; j += 4) w.push(ENGLISH_ANSWER.slice(j, j + 4));
  w.end();
}
console.log(`text: ${((performance.now() - t0) / 100).toFixed(3)} ms per 2,000-character answer streamed in 4-character deltas`);
const marked = watermarkText(ENGLISH_ANSWER, { key, clientId: 'alice' });
console.log(`text: +${marked.length - ENGLISH_ANSWER.length} UTF-16 units (+${Buffer.byteLength(marked) - Buffer.byteLength(ENGLISH_ANSWER)} UTF-8 bytes) on a ${ENGLISH_ANSWER.length}-character answer`);
t0 = performance.now();
for (let i = 0; i < 500; i++) identify(marked, { key, clients: () => 'alice' });
console.log(`identify: ${((performance.now() - t0) / 500).toFixed(3)} ms per marked answer`);
