// npm run bench:regex (also the last part of npm run bench): the built-in recognizers that stay
// on V8's backtracking regexes, each shown linear on adversarial input up to 1 MB.
//
// Config regexes run on RE2 and cannot backtrack; ours are written with bounded gaps, and this is
// where that claim is measured rather than assumed. For every recognizer (each output-redaction
// class, each prompt-injection rule and its `unless` guard, the whole detector, the normalizer)
// and every adversarial input (runs of the characters and prefixes the patterns start on), the
// time on 1 MB is compared with the time on 256 KB of the same input. Linear means a ratio near
// 4; the report flags any ratio above 8 (twice linear) as superlinear and exits non-zero.
import { performance } from 'node:perf_hooks';
import { compileRecognizers, RECOGNIZER_CLASSES } from '../src/stages/output-guard/recognizers/index.js';
import { normalizeText } from '../src/stages/input-guard/detector/normalize.js';
import { loadPromptGuard } from '../src/stages/input-guard/detector/prompt-guard.js';
import { RULES } from '../src/stages/input-guard/detector/rule-table.js';

const SMALL = 256 * 1024;
const LARGE = 1024 * 1024;
const LIMIT = 8;

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

interface Row { name: string; worstUnit: string; ratio: number; msAt1MB: number; mbPerSec: number }

function measure(name: string, fn: (text: string) => void): Row {
  let worst: Row = { name, worstUnit: '', ratio: 0, msAt1MB: 0, mbPerSec: Infinity };
  for (const unit of UNITS) {
    const small = adversarial(unit, SMALL);
    const large = adversarial(unit, LARGE);
    fn(small); // warm-up (JIT, regex compilation)
    const ts = best(() => fn(small));
    const tl = best(() => fn(large));
    // Below a millisecond the ratio is timer noise, not complexity: floor both at 0.5 ms.
    const ratio = Math.max(tl, 0.5) / Math.max(ts, 0.5);
    if (ratio > worst.ratio || (ratio === worst.ratio && tl > worst.msAt1MB)) {
      worst = { name, worstUnit: JSON.stringify(unit), ratio, msAt1MB: tl, mbPerSec: 1000 / Math.max(tl, 0.001) };
    }
  }
  return worst;
}

function print(title: string, rows: Row[]): number {
  process.stdout.write(`\n${title}\n  ${'recognizer'.padEnd(34)} ${'1MB/256KB'.padStart(9)} ${'ms @1MB'.padStart(9)}  worst input\n`);
  let bad = 0;
  for (const r of rows) {
    const flag = r.ratio > LIMIT ? '  SUPERLINEAR' : '';
    if (flag) bad++;
    process.stdout.write(`  ${r.name.padEnd(34)} ${r.ratio.toFixed(2).padStart(9)} ${r.msAt1MB.toFixed(1).padStart(9)}  ${r.worstUnit}${flag}\n`);
  }
  return bad;
}

function main(): void {
  process.stdout.write(`regex linearity: time on 1 MB / time on 256 KB of each adversarial input (${UNITS.length} inputs); linear ≈ 4, flagged above ${LIMIT} (node ${process.version})\n`);
  let bad = 0;

  const classes = RECOGNIZER_CLASSES.filter((c) => c.includes('.'));
  bad += print('output recognizers (redaction classes)', classes.map((cls) => {
    const rec = compileRecognizers([cls]);
    return measure(cls, (t) => void rec.find(t));
  }));

  bad += print('prompt-injection rules (each regex alone, on normalized text)', RULES.flatMap((rule) => {
    const rows = [measure(rule.name, (t) => {
      rule.re.lastIndex = 0;
      rule.re.exec(t);
    })];
    if (rule.unless) rows.push(measure(`${rule.name} (unless)`, (t) => void rule.unless?.test(t)));
    return rows;
  }));

  const guard = loadPromptGuard();
  bad += print('whole paths', [
    measure('normalizeText', (t) => void normalizeText(t)),
    measure('prompt guard score (all rules, model)', (t) => void guard.score(t)),
    measure('output recognizers, all classes', (t) => void compileRecognizers(['secrets', 'pii']).find(t)),
  ]);

  process.stdout.write(bad ? `\n${bad} recognizer(s) superlinear\n` : '\nall recognizers linear on every adversarial input\n');
  if (bad) process.exitCode = 1;
}

main();
