import type { Command } from 'commander';
import type { BulwarkConfig } from '../config/schema.js';
import type { RouteConfig } from '../config/schema-route.js';
import { findUnenforced } from '../config/unenforced.js';
import { availableFeatures } from '../gateway/features.js';
import { DEFAULT_CONFIG_FILE, loadOrExit } from './load-or-exit.js';

/** One row of the attack-surface inventory. */
export interface RouteSurface {
  name: string;
  methods: string[];
  path: string;
  kind: string;
  mode: string;
  upstream: string;
  auth: string;
  roles: string[];
  limits: string[];
  input: string[];
  output: string[];
  /** Settings of this route that this version does not enforce (start refuses them). */
  unenforced: string[];
}

export function describeRoutes(config: BulwarkConfig): RouteSurface[] {
  const only = Object.keys(config.upstreams).length === 1 ? Object.keys(config.upstreams)[0] : undefined;
  const missing = findUnenforced(config, availableFeatures());
  return config.routes.map((r, i) => ({
    name: r.name,
    methods: r.match.methods,
    path: r.match.path,
    kind: r.kind,
    mode: r.mode,
    upstream: r.upstream ?? only ?? '?',
    auth: describeAuth(r),
    roles: r.auth?.roles ?? [],
    limits: (r.rateLimit ?? []).map((l) => (l.concurrent !== undefined ? `${l.by}: ${l.concurrent} concurrent` : `${l.by}: ${l.requests ?? l.tokens} ${l.tokens !== undefined ? 'tokens' : 'req'}/${formatMs(l.per ?? 0)}`)),
    input: describeInput(r),
    output: r.output ? [...(r.output.redact ?? []).map((c) => `redact ${c}`), ...(r.output.canary ? [`canary ${r.output.canary}`] : []), ...(r.output.watermark ? ['watermark'] : [])] : [],
    unenforced: missing.filter((m) => m.path.startsWith(`routes[${i}].`)).map((m) => m.path.slice(`routes[${i}].`.length)),
  }));
}

function describeAuth(r: RouteConfig): string {
  if (!r.auth) return 'none (open)';
  if (r.auth.public) return 'public';
  if (r.auth.all) return r.auth.all.join('+');
  return r.auth.any?.join('|') ?? 'any';
}

function describeInput(r: RouteConfig): string[] {
  const out: string[] = [];
  if (r.kind !== 'passthrough') out.push(`schema ${r.input?.schema ?? 'builtin'}`);
  if (r.input?.maxTokens !== undefined) out.push(`max_tokens<=${r.input.maxTokens}${r.input.clampTokens ? ' (clamp)' : ''}`);
  if (r.input?.promptInjection) out.push(`injection ${r.input.promptInjection.action}@${r.input.promptInjection.threshold}`);
  if (r.input?.deny?.length) out.push(`deny x${r.input.deny.length}`);
  if (r.input?.canary) out.push('canary');
  return out;
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function formatRouteTable(rows: readonly RouteSurface[]): string {
  const header = ['ROUTE', 'METHODS', 'PATH', 'KIND', 'MODE', 'UPSTREAM', 'AUTH', 'ROLES', 'LIMITS', 'INPUT', 'OUTPUT', 'NOT ENFORCED'];
  const cells = rows.map((r) => [r.name, r.methods.join(','), r.path, r.kind, r.mode, r.upstream, r.auth, r.roles.join(',') || '-', r.limits.join('; ') || '-', r.input.join('; ') || '-', r.output.join('; ') || '-', r.unenforced.join(', ') || '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) => c.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

export function registerRoutes(program: Command): void {
  program
    .command('routes')
    .description('The attack surface: every route with its methods, auth, roles, limits, guards and upstream.')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  bulwark routes -c bulwark.yaml --json | jq ".[].path"')
    .action((opts: { config: string; json?: boolean }) => {
      const { config } = loadOrExit(opts.config);
      const rows = describeRoutes(config);
      if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else process.stdout.write(rows.length ? formatRouteTable(rows) : 'no routes: every request is refused (default deny)\n');
    });
}
