// npm run bench:regex (also the last part of npm run bench): the built-in recognizers that stay
// on V8's backtracking regexes, each shown linear on adversarial input up to 1 MB.
//
// Config regexes run on RE2 and cannot backtrack; ours are written with bounded gaps, and this is
// where that claim is measured rather than assumed. For every recognizer (each output-redaction
// class, each prompt-injection rule and its `unless` guard, the whole detector, the normalizer)
// and every adversarial input (runs of the characters and prefixes the patterns start on), the
// time on 1 MB is compared with the time on 256 KB of the same input. Linear means a ratio near
// 4 (a little more where 1 MB leaves the CPU cache); an input is flagged superlinear, and the
// script exits non-zero, when each of the doublings 256 KB → 512 KB → 1 MB → 2 MB costs more
// than 2^1.5 (a quadratic pattern costs 4× per doubling).
import { performance } from 'node:perf_hooks';
import { compileRecognizers, RECOGNIZER_CLASSES } from '../src/stages/output-guard/recognizers/index.js';
import { normalizeText } from '../src/stages/input-guard/detector/normalize.js';
import { loadPromptGuard } from '../src/stages/input-guard/detector/prompt-guard.js';
import { RULES } from '../src/stages/input-guard/detector/rule-table.js';

// BENCH_REGEX_ONLY=markdown-role measures only the recognizers whose name contains it.
const ONLY = process.env.BENCH_REGEX_ONLY;
const SMALL = 256 * 1024;
const LARGE = 1024 * 1024;

// What a backtracking pattern chokes on: long runs of a character or prefix it can start a match
// on, ending in something that makes the match fail late.
const UNITS = [
  'a', 'A', '0', '1', ' ', '\n', '\t', '-', '.', '_', '@', '/', '+', '=', ':', '"', "'", '\\',
  'a ', 'a.', 'a@', 'a-', '0 ', '0-', '0.', '1 1', 'a1', 'A0', '=\n', 'ab.', 'a@b.',
  'sk-', 'sk-proj-', 'AKIA', 'ghp_', 'xoxb-', 'eyJ', 'eyJa.', '-----BEGIN ', 'AIza', 'sk_live_', 'rk_',
  'password: ', 'key=', 'token ', '4111 ', '4111-', '+1 ', '(555) ', '123-45-', 'DE89 ', '192.168.',
  'ignore ', 'ignore all ', 'previous ', 'instructions ', 'you are ', 'system prompt ', 'reveal ',
  'ignore all previous instructions and ', 'dan ', 'do anything ', 'developer mode ', '### ', '[system] ',
  '\u200b', 'ｉ', 'і', 'a\u0301', '\u{e0061}',
];

function adversarial(unit: string, size: number): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size) + '\u0001!';
}

/** Best of a few runs: the least noisy estimate of what the code itself costs. */
function best(run: () => void, rounds = 3): number {
  let t = Infinity;
  for (let k = 0; k < rounds; k++) {
    const t0 = performance.now();
    run();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

/** Time per call, repeating the call until at least `minMs` have passed (short calls are noise). */
function perCall(run: () => void, minMs = 20): number {
  let n = 0;
  const t0 = performance.now();
  let t = 0;
  do {
    run();
    n++;
    t = performance.now() - t0;
  } while (t < minMs);
  return t / n;
}

interface Row { name: string; worstUnit: string; ratio: number; msAt1MB: number; superlinear: boolean }

/**
 * The worst 1 MB / 256 KB time ratio over all inputs. A quick single pass screens every input;
 * an input whose ratio looks high (above 6) is measured again carefully (repeated calls, best of
 * three) at 256 KB, 512 KB, 1 MB and 2 MB. It is superlinear only when EACH of the three
 * doublings costs more than 2^1.5 ≈ 2.8×: a GC pause, a cache boundary or the other core's load
 * moves one step, while a quadratic pattern shows 4× on each.
 */
function measure(name: string, fn: (text: string) => void): Row {
  let worst: Row = { name, worstUnit: '', ratio: 0, msAt1MB: 0, superlinear: false };
  for (const unit of UNITS) {
    // A pre-screen on small inputs, so a quadratic recognizer is reported in seconds instead of
    // running for minutes on 1 MB: 4× the input at 16× the time (and not timer noise) is enough.
    const t16 = best(() => fn(adversarial(unit, 16 * 1024)), 2);
    const t64 = best(() => fn(adversarial(unit, 64 * 1024)), 2);
    if (t64 > 20 && t64 / Math.max(t16, 0.01) > 12) {
      worst = { name, worstUnit: `${JSON.stringify(unit)} (64 KB took ${t64.toFixed(0)} ms, 16 KB ${t16.toFixed(1)} ms)`, ratio: t64 / Math.max(t16, 0.01), msAt1MB: NaN, superlinear: true };
      break;
    }
    const small = adversarial(unit, SMALL);
    const large = adversarial(unit, LARGE);
    fn(small); // warm-up (JIT, regex compilation)
    let ts = best(() => fn(small), 2);
    let tl = best(() => fn(large), 2);
    let ratio = tl / Math.max(ts, 0.05);
    let superlinear = false;
    if (ratio > 6) {
      const careful = (text: string) => Math.min(...Array.from({ length: 3 }, () => perCall(() => fn(text))));
      ts = careful(small);
      const tm = careful(adversarial(unit, SMALL * 2));
      tl = careful(large);
      const t2 = careful(adversarial(unit, LARGE * 2));
      ratio = tl / Math.max(ts, 0.001);
      superlinear = Math.min(tm / Math.max(ts, 0.001), tl / Math.max(tm, 0.001), t2 / Math.max(tl, 0.001)) > 2 ** 1.5;
    }
    if (superlinear > worst.superlinear || (superlinear === worst.superlinear && ratio > worst.ratio)) worst = { name, worstUnit: JSON.stringify(unit), ratio, msAt1MB: tl, superlinear };
  }
  return worst;
}

/** Measures and prints one row at a time, so a long run shows its progress. */
function section(title: string, jobs: Array<[string, (text: string) => void]>): number {
  process.stdout.write(`\n${title}\n  ${'recognizer'.padEnd(34)} ${'1MB/256KB'.padStart(9)} ${'ms @1MB'.padStart(9)}  worst input\n`);
  let bad = 0;
  for (const [name, fn] of jobs) {
    if (ONLY && !name.includes(ONLY)) continue;
    const r = measure(name, fn);
    const flag = r.superlinear ? '  SUPERLINEAR' : '';
    if (flag) bad++;
    process.stdout.write(`  ${r.name.padEnd(34)} ${r.ratio.toFixed(2).padStart(9)} ${r.msAt1MB.toFixed(1).padStart(9)}  ${r.worstUnit}${flag}\n`);
  }
  return bad;
}

function main(): void {
  process.stdout.write(`regex linearity: time on 1 MB / time on 256 KB of each adversarial input (${UNITS.length} inputs); linear ≈ 4, flagged when each doubling costs > 2.8× (node ${process.version})\n`);
  let bad = 0;

  const classes = RECOGNIZER_CLASSES.filter((c) => c.includes('.'));
  bad += section('output recognizers (redaction classes)', classes.map((cls) => {
    const rec = compileRecognizers([cls]);
    return [cls, (t: string) => void rec.find(t)];
  }));

  bad += section('prompt-injection rules (each regex alone)', RULES.flatMap((rule): Array<[string, (text: string) => void]> => [
    [rule.name, (t) => {
      rule.re.lastIndex = 0;
      rule.re.exec(t);
    }],
    ...(rule.unless ? [[`${rule.name} (unless)`, (t: string) => void rule.unless?.test(t)] as [string, (text: string) => void]] : []),
  ]));

  const guard = loadPromptGuard();
  const all = compileRecognizers(['secrets', 'pii']);
  bad += section('whole paths', [
    ['normalizeText', (t) => void normalizeText(t)],
    ['prompt guard score (all rules, model)', (t) => void guard.score(t)],
    ['output recognizers, all classes', (t) => void all.find(t)],
  ]);

  process.stdout.write(bad ? `\n${bad} recognizer(s) superlinear\n` : '\nall recognizers linear on every adversarial input\n');
  if (bad) process.exitCode = 1;
}

main();
