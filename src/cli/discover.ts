import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { createCliEventBus } from './cli-events.js';
import { parseDuration } from '../config/units.js';
import { normalizeRoutePath, normalizeSpecPath, type ShadowEndpoint } from '../inventory/discover/compare.js';
import { draftRoutes, renderDraft, type DraftSelection } from '../inventory/discover/draft.js';
import { runDiscovery, type DiscoveryRun, type SourceResult } from '../inventory/discover/drift.js';
import { createStore } from '../stores/create-store.js';
import { DEFAULT_CONFIG_FILE, loadOrExit } from './load-or-exit.js';

interface DiscoverOptions {
  config: string;
  openapi: string[];
  upstream?: string;
  basePath: boolean;
  json?: boolean;
  write?: string;
  only: string[];
  force?: boolean;
  timeout: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `--only METHOD:PATH` (PATH as in the spec `{id}`, as a route `:id`, or normalized `{}`; METHOD may be `*`). */
function parseOnly(spec: string): { method: string; path: string } {
  const i = spec.indexOf(':');
  const method = i > 0 ? spec.slice(0, i).toUpperCase() : '';
  const path = i > 0 ? spec.slice(i + 1) : '';
  if (!/^([A-Z]+|\*)$/.test(method) || !path.startsWith('/')) throw new Error(`--only: expected METHOD:PATH such as GET:/v1/users/{id}, got ${spec}`);
  return { method, path: normalizeSpecPath(normalizeRoutePath(path)) };
}

/** Spec text is untrusted: no control characters (terminal escapes, line breaks) reach the terminal. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function formatSource(r: SourceResult): string {
  const lines: string[] = [];
  const what = [r.format.replace('openapi-', 'OpenAPI ').replace('swagger-', 'Swagger '), r.title ? `"${r.title}"` : '', r.version ?? ''].filter(Boolean).join(' ');
  lines.push(`${r.display}  (${what}; ${r.endpoints.length} endpoint${r.endpoints.length === 1 ? '' : 's'}${r.upstream ? `; upstream ${r.upstream}` : ''})`);
  const rep = r.report;
  lines.push(`  Shadow endpoints — in the spec, published by no route: ${rep.shadow.length}`);
  for (const e of rep.shadow) lines.push(`    ${pad(e.method, 7)} ${e.template}${e.operationId ? `  (${e.operationId})` : ''}`);
  lines.push(`  Stale routes — no endpoint in the spec: ${rep.stale.length}`);
  for (const s of rep.stale) lines.push(`    ${pad(s.route, 20)} ${s.methods.join(',')} ${s.path}`);
  lines.push(`  Method mismatches: ${rep.methodMismatch.length}`);
  for (const m of rep.methodMismatch) {
    const parts = [m.specOnly.length ? `spec only: ${m.specOnly.join(',')}` : '', m.routeOnly.length ? `routes only: ${m.routeOnly.join(',')}` : ''].filter(Boolean);
    lines.push(`    ${m.path}  ${parts.join('; ')}  (route${m.routes.length === 1 ? '' : 's'} ${m.routes.join(', ')})`);
  }
  lines.push(`  Traffic to endpoints in neither the spec nor the routes: ${rep.unknownTraffic.length}`);
  for (const t of rep.unknownTraffic) lines.push(`    ${pad(t.method, 7)} ${t.path}  ${t.count} request${t.count === 1 ? '' : 's'}, last ${t.lastSeen}`);
  if (r.changes.length > 0) lines.push(`  ${r.firstScan ? 'First scan' : 'Changes since the last scan'}: ${r.changes.length} (sent as inventory.drift events)`);
  for (const w of r.warnings.slice(0, 5)) lines.push(`  warning: ${w}`);
  return lines.map(printable).join('\n');
}

function jsonOf(run: DiscoveryRun) {
  return {
    sources: run.results.map((r) => ({
      source: r.display,
      format: r.format,
      ...(r.title !== undefined ? { title: r.title } : {}),
      ...(r.version !== undefined ? { version: r.version } : {}),
      ...(r.upstream !== undefined ? { upstream: r.upstream } : {}),
      endpoints: r.endpoints.length,
      ...r.report,
      changes: r.changes,
      firstScan: r.firstScan,
      warnings: r.warnings,
    })),
    errors: run.errors.map((e) => ({ source: e.display, message: e.message })),
  };
}

/** `bulwark discover`: compare upstream OpenAPI/Swagger specs and observed traffic with the routes. */
export function registerDiscover(program: Command): void {
  program
    .command('discover')
    .description('Compare upstream OpenAPI/Swagger specs and observed traffic with the routes: shadow endpoints, stale routes, method mismatches, unknown traffic.')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--openapi <source>', 'spec file (JSON/YAML) or http(s) URL; repeatable; without it, inventory.openapi of the config', collect, [])
    .option('--upstream <name>', 'the upstream the specs describe (default: the upstream with the spec URL\'s origin)')
    .option('--no-base-path', 'do not prefix the spec\'s server base path (servers[0].url / basePath)')
    .option('--json', 'machine-readable output')
    .option('--write <file>', 'draft routes (mode: monitor) for shadow endpoints into a YAML file')
    .option('--only <method:path>', 'with --write: only this shadow endpoint; repeatable (METHOD may be *)', collect, [])
    .option('--force', 'with --write: replace an existing file')
    .option('--timeout <duration>', 'per spec document', '15s')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  bulwark discover -c bulwark.yaml',
        '  bulwark discover -c bulwark.yaml --openapi http://model-svc.internal/openapi.json --json',
        '  bulwark discover -c bulwark.yaml --openapi ./upstream-openapi.yaml --write drafts.yaml --only GET:/v1/models/{id}',
        '',
        'Specs are loaded without following $refs to other hosts (URL specs) or outside the spec\'s',
        'directory (file specs). Changes since the last scan are sent as inventory.drift events.',
        'Exit 0 with a report; exit 1 when a spec cannot be loaded.',
      ].join('\n'),
    )
    .action(async (opts: DiscoverOptions) => {
      const loaded = loadOrExit(opts.config);
      const { config } = loaded;
      const fromCli = opts.openapi.length > 0;
      const sources = fromCli ? opts.openapi : config.inventory?.openapi ?? [];
      if (sources.length === 0) throw new Error('no spec to compare: pass --openapi FILE|URL or set inventory.openapi in the config');
      const timeoutMs = parseDuration(opts.timeout);
      if (timeoutMs === undefined || timeoutMs <= 0) throw new Error(`--timeout: expected a duration such as 15s, got ${opts.timeout}`);
      const only = opts.only.map(parseOnly);
      if (only.length > 0 && !opts.write) throw new Error('--only selects endpoints for --write');
      if (opts.upstream !== undefined && !Object.hasOwn(config.upstreams, opts.upstream)) {
        throw new Error(`--upstream: unknown upstream "${opts.upstream}" (defined: ${Object.keys(config.upstreams).join(', ') || 'none'})`);
      }
      const progress = process.stderr.isTTY && !opts.json ? (m: string) => process.stderr.write(`discover: ${m}\n`) : undefined;

      const store = createStore(config.state);
      const events = createCliEventBus(config);
      let run: DiscoveryRun;
      try {
        run = await runDiscovery({
          config,
          store,
          events,
          sources,
          baseDir: fromCli ? process.cwd() : dirname(loaded.file),
          fetch: { timeoutMs },
          ...(opts.basePath === false ? { basePath: false } : {}),
          ...(opts.upstream !== undefined ? { upstream: opts.upstream } : {}),
          ...(progress ? { onProgress: progress } : {}),
        });
      } finally {
        await store.close();
        await events.close();
      }

      let draftInfo: { file: string; routes: number; skipped: Array<{ method: string; path: string; reason: string }>; notes: string[] } | undefined;
      if (opts.write) {
        const selections: DraftSelection[] = [];
        const matchedOnly = new Set<number>();
        for (const r of run.results) {
          const summaries = new Map(r.endpoints.map((e) => [`${e.method} ${e.path}`, e.summary]));
          for (const e of r.report.shadow) {
            if (only.length > 0) {
              const hit = only.findIndex((o) => (o.method === '*' || o.method === e.method) && o.path === e.path);
              if (hit < 0) continue;
              only.forEach((o, i) => {
                if ((o.method === '*' || o.method === e.method) && o.path === e.path) matchedOnly.add(i);
              });
            }
            const summary = summaries.get(`${e.method} ${e.path}`);
            selections.push({ endpoint: e as ShadowEndpoint, source: r.display, ...(r.upstream !== undefined ? { upstream: r.upstream } : {}), ...(summary ? { summary } : {}) });
          }
        }
        const draft = draftRoutes(config, selections);
        const unmatched = opts.only.filter((_, i) => !matchedOnly.has(i));
        const file = resolve(opts.write);
        const text = renderDraft(draft, { sources: run.results.map((r) => r.display), at: new Date() });
        try {
          writeFileSync(file, text, { flag: opts.force ? 'w' : 'wx', mode: 0o644 });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          throw new Error(code === 'EEXIST' ? `--write: ${file} exists (use --force to replace it)` : `--write: cannot write ${file} (${code ?? String(err)})`);
        }
        draftInfo = { file, routes: draft.routes.length, skipped: draft.skipped, notes: [...draft.notes, ...unmatched.map((o) => `--only ${o}: no such shadow endpoint`)] };
      }

      if (opts.json) {
        process.stdout.write(JSON.stringify({ ...jsonOf(run), ...(draftInfo ? { draft: draftInfo } : {}) }, null, 2) + '\n');
      } else {
        const blocks = run.results.map(formatSource);
        if (blocks.length > 0) process.stdout.write(blocks.join('\n\n') + '\n');
        if (draftInfo) {
          process.stdout.write(`\nDrafted ${draftInfo.routes} route${draftInfo.routes === 1 ? '' : 's'} (mode: monitor) into ${draftInfo.file}\n`);
          for (const s of draftInfo.skipped) process.stdout.write(printable(`  skipped ${s.method} ${s.path}: ${s.reason}`) + '\n');
          for (const n of draftInfo.notes) process.stdout.write(printable(`  note: ${n}`) + '\n');
        }
      }
      for (const e of run.errors) process.stderr.write(printable(`bulwark discover: cannot load spec ${e.display}: ${e.message}`) + '\n');
      if (run.errors.length > 0) process.exitCode = 1;
    });
}
