import { InvalidArgumentError, type Command } from 'commander';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WEIGHTS_URL, loadPromptGuard } from '../stages/input-guard/detector/prompt-guard.js';
import { evaluate, formatReport, readEvalFile, readModelInfo } from '../stages/input-guard/eval/run-eval.js';

interface EvalPromptGuardOptions {
  threshold?: number;
  json?: boolean;
  weights?: string;
  minTpr?: number;
  maxFpr?: number;
  errors?: boolean;
}

/** Commander parser for a number in [0, 1]. */
function fraction(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) throw new InvalidArgumentError('expected a number between 0 and 1 (e.g. 0.8)');
  return x;
}

/** `bulwark eval`: offline quality and latency reports for the detectors. */
export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('Measure a detector on a labeled file (a report; exit 0 unless a gate such as --min-tpr fails).')
    .addHelpText('after', '\nExample:\n  bulwark eval prompt-guard labeled.jsonl --json');

  cmd
    .command('prompt-guard <file>')
    .summary('TPR/FPR, threshold sweep, AUC, per-kind/source rates and latency of the prompt-injection detector on a labeled JSONL file.')
    .description(
      'Score every text of a JSONL file ({"text", "label": 0|1, "source"?, "kind"?} per line) with the prompt-injection detector; ' +
        'print TPR/FPR/precision/F1 at the threshold, TPR at FPR <= 0.5/1/2 %, AUC, per-kind and per-source rates, and latency.',
    )
    .option('--threshold <x>', "decision threshold on the score (default: the model's recommended threshold)", fraction)
    .option('--weights <file>', 'model weights (default: the shipped models/prompt-guard.json)')
    .option('--json', 'one JSON object on stdout')
    .option('--min-tpr <x>', 'exit 1 when the TPR at the threshold is below x (CI gate)', fraction)
    .option('--max-fpr <y>', 'exit 1 when the FPR at the threshold is above y (CI gate)', fraction)
    .option('--errors', 'also list the rows decided wrongly (missed attacks, false alarms) with a preview')
    .addHelpText(
      'after',
      '\nLabel 1 = attack (prompt injection or jailbreak), 0 = benign. Progress goes to stderr only on a terminal.\n' +
        '\nExamples:\n' +
        '  bulwark eval prompt-guard labeled.jsonl --threshold 0.9 --json\n' +
        '  bulwark eval prompt-guard labeled.jsonl --errors          # which rows were missed or false alarms\n' +
        '  bulwark eval prompt-guard labeled.jsonl --min-tpr 0.8 --max-fpr 0.01   # CI gate',
    )
    .action((file: string, opts: EvalPromptGuardOptions) => {
      const rows = readEvalFile(file);
      const weights = opts.weights !== undefined ? resolve(opts.weights) : fileURLToPath(DEFAULT_WEIGHTS_URL);
      const guard = loadPromptGuard(weights);
      const tty = process.stderr.isTTY === true;
      let lastLen = 0;
      const report = evaluate(guard, rows, {
        file,
        weights: opts.weights ?? 'models/prompt-guard.json',
        modelInfo: readModelInfo(weights),
        ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
        ...(opts.minTpr !== undefined ? { minTpr: opts.minTpr } : {}),
        ...(opts.maxFpr !== undefined ? { maxFpr: opts.maxFpr } : {}),
        ...(opts.errors ? { errors: true } : {}),
        ...(tty
          ? {
              onProgress: (done: number, total: number) => {
                const msg = `scoring ${done}/${total}`;
                process.stderr.write(`\r${msg.padEnd(lastLen)}`);
                lastLen = msg.length;
              },
            }
          : {}),
      });
      if (tty) process.stderr.write(`\r${' '.repeat(lastLen)}\r`);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      if (!report.gates.passed) {
        for (const f of report.gates.failures) process.stderr.write(`bulwark eval: gate failed: ${f}\n`);
        process.exitCode = 1;
      }
    });
}
