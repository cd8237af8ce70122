/**
 * Throughput of the output recognizers (all classes) on ~5 MB of mixed English prose with a few
 * secrets and PII in it: `find()` over the whole text, and over 512-character windows as a stream
 * redactor calls it. Prints MB/s (UTF-16 code units ≈ bytes for this ASCII-heavy text).
 * Usage: tsx src/stages/output-guard/recognizers/bench.ts [megabytes]
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { compileRecognizers } from './index.js';

const target = Number(process.argv[2] ?? 5) * 1024 * 1024;

const sentences = [
  'The city council met on Tuesday to discuss the new bicycle lanes, the library budget and the summer festival.',
  'In 2023, about 45 percent of residents said they used public transport at least twice a week.',
  'See https://example.org/docs/getting-started for details; version 2.4.1 fixed the login bug (issue #1234).',
  'Note: the meeting moved to 3:30 pm on 2024-05-17, room B-12, and lasted about 90 minutes.',
  'She wrote: "We should not rely on a single supplier," and the committee agreed after a short debate.',
  'Use `npm install --save-dev typescript@5.9.3` and run the tests with node --test; it takes 12.5 seconds.',
  'Temperatures ranged from -3 to 14 degrees, with 20 mm of rain expected over the weekend in the north.',
  'The report lists 1,250 households, 3 schools and 17 parks; the median rent rose 4.2% year over year.',
  'Commit 3f786850e387550fdab836ed7e6dc881de23001b updated the README and the CHANGELOG for release v1.8.0.',
  'Questions? Ask the front desk, or call the general line during office hours, Monday to Friday.',
];
const secrets = [
  () => `The key was sk-proj-${randomBytes(36).toString('base64url')} and it has been revoked.`,
  () => `Contact jane.${randomBytes(4).toString('hex')}@example.com for access.`,
  () => `AWS: AKIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)} in us-east-1.`,
  () => 'Card 4111 1111 1111 1111 was declined.',
  () => `password: "${randomBytes(18).toString('base64')}"`,
];

const parts: string[] = [];
let size = 0;
for (let i = 0; size < target; i++) {
  const s = i % 997 === 0 ? (secrets[(i / 997) % secrets.length] as () => string)() : (sentences[i % sentences.length] as string);
  parts.push(s);
  size += s.length + 1;
}
const text = parts.join(' ');
const rec = compileRecognizers(['secrets', 'pii']);
const mb = text.length / (1024 * 1024);

/** Median and best of several rounds (the machine may be shared). */
function timeIt(label: string, run: () => number): void {
  let findings = run(); // warm-up
  const secs: number[] = [];
  for (let k = 0; k < 7; k++) {
    const t0 = performance.now();
    findings = run();
    secs.push((performance.now() - t0) / 1000);
  }
  secs.sort((a, b) => a - b);
  const median = secs[3] as number;
  const best = secs[0] as number;
  console.log(JSON.stringify({ mode: label, megabytes: +mb.toFixed(2), medianSeconds: +median.toFixed(3), mbPerSecMedian: +(mb / median).toFixed(1), mbPerSecBest: +(mb / best).toFixed(1), findings }));
}

timeIt('whole text', () => rec.find(text).length);
timeIt('512-char windows', () => {
  let n = 0;
  for (let i = 0; i < text.length; i += 512) n += rec.find(text.slice(i, i + 512)).length;
  return n;
});
