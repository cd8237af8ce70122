import { Worker } from 'node:worker_threads';

// Runs the pattern against every probe input in a worker and flags completion in shared memory;
// a pattern that backtracks catastrophically never gets there and the worker is terminated.
const WORKER = `
const { workerData } = require('node:worker_threads');
const { pattern, flags, inputs, done } = workerData;
const re = new RegExp(pattern, flags);
for (const s of inputs) re.test(s);
Atomics.store(done, 0, 1);
Atomics.notify(done, 0);
`;

/** Strings that make a backtracking engine show its worst case for this pattern. */
function probeInputs(pattern: string): string[] {
  // Line breaks (with `m`, `^` and `$` match at every one), and the letters whose case folding
  // reaches outside ASCII (K and the Kelvin sign, s and the long s) for `i`.
  const chars = new Set<string>(['a', 'A', '0', ' ', '_', '-', '.', '\t', 'x', '\r', '\n', 'k', 'K', '\u212A', 's', '\u017F']);
  // Characters written as escapes count as the characters they are.
  for (const m of pattern.matchAll(/\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})/g)) {
    const cp = parseInt((m[1] ?? m[2] ?? m[3]) as string, 16);
    if (cp <= 0x10ffff && chars.size < 32) chars.add(String.fromCodePoint(cp));
  }
  for (const c of pattern.replace(/\\[dDwWsSbB]|\\u\{?[0-9a-fA-F]+\}?|\\x[0-9a-fA-F]{2}|\\./g, '')) if (!'()[]{}|*+?^$\\'.includes(c) && chars.size < 32) chars.add(c);
  const alphabet = [...chars];
  const out: string[] = [];
  for (const c of alphabet) {
    // Short runs expose exponential patterns, long runs polynomial ones; the odd last character
    // makes the match fail late, which is where backtracking explodes.
    out.push(c.repeat(32) + '\u0001', c.repeat(20_000) + '\u0001');
  }
  for (let i = 0; i < alphabet.length; i++) {
    for (let j = i + 1; j < alphabet.length && out.length < 600; j++) out.push(((alphabet[i] as string) + (alphabet[j] as string)).repeat(16) + '\u0001');
  }
  return out;
}

/**
 * Whether a user regex stays fast on adversarial inputs, measured rather than guessed: static
 * checks (safe-regex2) miss overlapping alternatives such as `(x|x)*y` or `(a|aa)+$`, which are
 * exponential on a few dozen characters. Runs once per pattern at config load, off the main
 * thread, and waits at most `budgetMs`.
 */
export function regexRunsInTime(pattern: string, budgetMs = 1000, flags = 'u'): boolean {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER, { eval: true, workerData: { pattern, flags, inputs: probeInputs(pattern), done } });
  // Fails closed: no answer in time (or a worker that cannot start) counts as too slow.
  const result = Atomics.wait(done, 0, 0, budgetMs);
  void worker.terminate();
  return result !== 'timed-out' && Atomics.load(done, 0) === 1;
}
