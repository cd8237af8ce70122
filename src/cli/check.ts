import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { loadConfigFile, type LoadedConfig } from '../config/load.js';
import { lintPosture, locatorFromText, parsePathString, severityAtLeast, sortFindings, SEVERITIES, type Finding, type Locate, type Severity } from '../config/posture.js';
import { findUnenforced } from '../config/unenforced.js';
import { availableFeatures } from '../gateway/features.js';
import { DEFAULT_CONFIG_FILE, loadOrExit } from './load-or-exit.js';

/** One reason the config cannot run: a load error (schema, semantics) or a setting no stage enforces. */
export interface CheckError {
  kind: 'invalid' | 'unenforced';
  path: string;
  line?: number;
  column?: number;
  message: string;
  /** For `unenforced`: the missing feature. */
  feature?: string;
}

export interface CheckReport {
  file: string;
  /** The config loads and every setting in it is enforced: `bulwark start` accepts it. */
  valid: boolean;
  /** valid, and no finding at or above `failOn`: the exit status is 0. */
  ok: boolean;
  failOn: Severity | 'none';
  routes: number;
  errors: CheckError[];
  findings: Finding[];
  counts: Record<Severity, number>;
}

type FailOn = Severity | 'none';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('Validate a config file and lint its security posture; exit 1 on errors or high-severity findings.')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output: { valid, ok, errors, findings, ... }')
    .addOption(new Option('--fail-on <severity>', 'lowest finding severity that makes the exit status 1').choices(['high', 'medium', 'low', 'none']).default('high'))
    .addHelpText('after', '\nExamples:\n  bulwark check -c bulwark.yaml\n  bulwark check -c bulwark.yaml --json --fail-on medium')
    .action((opts: { config: string; json?: boolean; failOn: FailOn }) => {
      const loaded = opts.json ? loadForJson(opts.config, opts.failOn) : loadOrExit(opts.config);
      if (!loaded) {
        process.exitCode = 1;
        return;
      }
      const report = buildReport(opts.config, loaded, opts.failOn);
      if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(formatReport(report));
      if (!report.ok) process.exitCode = 1;
    });
}

/** Loads the config; on a ConfigError prints the JSON report (valid: false) and returns undefined. */
function loadForJson(file: string, failOn: FailOn): LoadedConfig | undefined {
  try {
    return loadConfigFile(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const errors: CheckError[] = err.issues.map((i) => ({ kind: 'invalid', path: i.path, ...(i.line > 0 ? { line: i.line, column: i.column } : {}), message: i.message }));
    const report: CheckReport = { file, valid: false, ok: false, failOn, routes: 0, errors, findings: [], counts: { high: 0, medium: 0, low: 0 } };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return undefined;
  }
}

export function buildReport(file: string, loaded: LoadedConfig, failOn: FailOn): CheckReport {
  const { config } = loaded;
  let locate: Locate | undefined;
  try {
    locate = locatorFromText(readFileSync(loaded.file, 'utf8'));
  } catch {
    locate = undefined; // the file vanished since it was loaded: findings without positions
  }
  // A setting no stage enforces is an error, not a finding: `start` refuses it, so a green
  // `check` must mean the file can run.
  const errors: CheckError[] = findUnenforced(config, availableFeatures()).map((u) => {
    const at = locate?.(parsePathString(u.path));
    return { kind: 'unenforced', path: u.path, ...(at ? { line: at.line, column: at.column } : {}), message: `not enforced by this version (${u.feature}); \`bulwark start\` refuses this config`, feature: u.feature };
  });
  const findings = sortFindings(lintPosture(config, locate));
  const counts: Record<Severity, number> = { high: 0, medium: 0, low: 0 };
  for (const f of findings) counts[f.severity]++;
  const failing = countFailing(findings, failOn);
  const valid = errors.length === 0;
  return { file, valid, ok: valid && failing === 0, failOn, routes: config.routes.length, errors, findings, counts };
}

function countFailing(findings: readonly Finding[], failOn: FailOn): number {
  if (failOn === 'none') return 0;
  return findings.filter((f) => severityAtLeast(f.severity, failOn)).length;
}

export function formatReport(r: CheckReport): string {
  const lines: string[] = [];
  const where = (x: { line?: number; column?: number }) => (x.line !== undefined ? `${r.file}:${x.line}:${x.column ?? 1}` : r.file);
  // Errors lead with their position, like the findings below and like `bulwark start`'s config errors.
  const codeWidth = Math.max(0, ...r.findings.map((f) => f.code.length));
  for (const e of r.errors) lines.push(`error  ${where(e)}  ${e.path}: ${e.message}`);
  for (const f of r.findings) lines.push(`${f.severity.padEnd(6)} ${f.code.padEnd(codeWidth)}  ${where(f)}  ${f.path}: ${f.message}`);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const total = r.findings.length;
  const summary = `${plural(r.routes, 'route')}, ${total === 0 ? 'no findings' : `${plural(total, 'finding')}: ${[...SEVERITIES].reverse().map((s) => `${r.counts[s]} ${s}`).join(', ')}`}`;
  if (!r.valid) lines.push(`invalid: ${r.file} has ${plural(r.errors.length, 'error')} (${summary})`);
  else if (!r.ok) {
    const failing = countFailing(r.findings, r.failOn);
    lines.push(`fail: ${r.file} is valid, but ${plural(failing, 'finding')} ${failing === 1 ? 'is' : 'are'} ${r.failOn === 'high' ? 'high' : `${r.failOn} or higher`} (${summary})`);
  } else lines.push(`ok: ${r.file} is valid (${summary})`);
  return lines.join('\n') + '\n';
}
