import { relative } from 'node:path';
import type { Command } from 'commander';
import type { BulwarkConfig } from '../config/schema.js';
import type { RouteConfig } from '../config/schema-route.js';
import { findUnenforced } from '../config/unenforced.js';
import { availableFeatures } from '../gateway/features.js';
import { DEFAULT_CONFIG_FILE, loadOrExit } from './load-or-exit.js';

type RateRule = NonNullable<RouteConfig['rateLimit']>[number];

/** One row of the attack-surface inventory (`bulwark routes --json` prints an array of these). */
export interface RouteSurface {
  name: string;
  methods: string[];
  path: string;
  kind: string;
  mode: string;
  onError: string;
  /** Upstream name and origin (scheme, host, port; never credentials or path). */
  upstream: { name: string; origin: string | null };
  auth: {
    /** e.g. `jwt|apiKey`, `mtls+jwt`, `any configured`, `public`, `none (open)`. */
    summary: string;
    /** Reachable without a credential (no auth, or auth.public). */
    open: boolean;
    public: boolean;
    /** How methods combine: any (one is enough), all (each required), configured (any the gateway has), or null when open. */
    require: 'any' | 'all' | 'configured' | null;
    methods: string[];
    roles: string[];
    scopes: string[];
  };
  /** Each rate-limit rule: `60 req/1m by ip`, `100k tokens/1d by identity`, `4 concurrent by identity`. */
  limits: string[];
  /** Input guards, one phrase each: `schema builtin`, `maxPromptChars 16000`, `injection block@0.85`, ... */
  input: string[];
  /** Output guards, one phrase each: `redact secrets,pii (redact)`, `canary block`, `watermark text`. */
  output: string[];
  /** Adaptive response, e.g. `x0.5 on auth.failure,prompt.injection; ban 15m`, or null. */
  adaptive: string | null;
  guards: {
    input: {
      schema: string | null;
      maxPromptChars: number | null;
      maxMessages: number | null;
      maxTokens: number | null;
      clampTokens: boolean;
      deny: number;
      promptInjection: { action: string; threshold: number } | null;
      canary: boolean;
      poisoning: { action: string; threshold: number | null } | null;
    };
    output: {
      redact: string[];
      onMatch: string | null;
      canary: string | null;
      watermark: { text: boolean; numbers: string; every: number } | null;
    };
  };
  /** Settings of this route that this version does not enforce (start refuses them). */
  unenforced: string[];
}

export function describeRoutes(config: BulwarkConfig): RouteSurface[] {
  const names = Object.keys(config.upstreams);
  const only = names.length === 1 ? names[0] : undefined;
  const missing = findUnenforced(config, availableFeatures());
  return config.routes.map((r, i) => {
    const upstreamName = r.upstream ?? only ?? '?';
    const upstream = Object.hasOwn(config.upstreams, upstreamName) ? config.upstreams[upstreamName] : undefined;
    const prefix = `routes[${i}].`;
    return {
      name: r.name,
      methods: r.match.methods,
      path: r.match.path,
      kind: r.kind,
      mode: r.mode,
      onError: r.onError,
      upstream: { name: upstreamName, origin: upstream ? originOf(upstream.url) : null },
      auth: describeAuth(r),
      limits: (r.rateLimit ?? []).map(describeRule),
      input: describeInput(r),
      output: describeOutput(r),
      adaptive: r.adaptive ? `x${r.adaptive.penalty} on ${r.adaptive.onSignals.join(',')}${r.adaptive.ban !== undefined ? `; ban ${formatMs(r.adaptive.ban)}` : ''}` : null,
      guards: {
        input: {
          schema: r.kind === 'passthrough' ? null : displaySchema(r.input?.schema ?? 'builtin'),
          maxPromptChars: r.input?.maxPromptChars ?? null,
          maxMessages: r.input?.maxMessages ?? null,
          maxTokens: r.input?.maxTokens ?? null,
          clampTokens: r.input?.clampTokens ?? false,
          deny: r.input?.deny?.length ?? 0,
          promptInjection: r.input?.promptInjection ? { action: r.input.promptInjection.action, threshold: r.input.promptInjection.threshold } : null,
          canary: r.input?.canary === true,
          poisoning: r.input?.poisoning ? { action: r.input.poisoning.action, threshold: r.input.poisoning.threshold ?? null } : null,
        },
        output: {
          redact: r.output?.redact ?? [],
          onMatch: r.output ? r.output.onMatch : null,
          canary: r.output?.canary ?? (r.input?.canary === true ? 'block' : null),
          watermark: r.output?.watermark ? { text: r.output.watermark.text, numbers: r.output.watermark.numbers, every: r.output.watermark.every } : null,
        },
      },
      unenforced: missing.filter((m) => m.path.startsWith(prefix)).map((m) => m.path.slice(prefix.length)),
    };
  });
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function displaySchema(schema: string): string {
  if (schema === 'builtin') return schema;
  const rel = relative(process.cwd(), schema);
  return rel && !rel.startsWith('..') ? rel : schema;
}

function describeAuth(r: RouteConfig): RouteSurface['auth'] {
  const a = r.auth;
  if (!a) return { summary: 'none (open)', open: true, public: false, require: null, methods: [], roles: [], scopes: [] };
  if (a.public) return { summary: 'public', open: true, public: true, require: null, methods: [], roles: a.roles ?? [], scopes: a.scopes ?? [] };
  const require = a.all ? 'all' : a.any ? 'any' : 'configured';
  const methods = a.all ?? a.any ?? [];
  const summary = a.all ? a.all.join('+') : a.any ? a.any.join('|') : 'any configured';
  return { summary, open: false, public: false, require, methods, roles: a.roles ?? [], scopes: a.scopes ?? [] };
}

/** `60 req/1m by ip`, `100k tokens/1d by identity`, `4 concurrent by identity`. */
export function describeRule(rule: RateRule): string {
  if (rule.concurrent !== undefined) return `${rule.concurrent} concurrent by ${rule.by}`;
  const per = formatMs(rule.per ?? 0);
  if (rule.tokens !== undefined) return `${compact(rule.tokens)} tokens/${per} by ${rule.by}`;
  return `${compact(rule.requests ?? 0)} req/${per} by ${rule.by}`;
}

function describeInput(r: RouteConfig): string[] {
  const out: string[] = [];
  const i = r.input;
  if (r.kind !== 'passthrough') out.push(`schema ${displaySchema(i?.schema ?? 'builtin')}`);
  if (i?.maxPromptChars !== undefined) out.push(`maxPromptChars ${i.maxPromptChars}`);
  if (i?.maxMessages !== undefined) out.push(`maxMessages ${i.maxMessages}`);
  if (i?.maxTokens !== undefined) out.push(`max_tokens<=${i.maxTokens}${i.clampTokens ? ' (clamp)' : ''}`);
  if (i?.deny?.length) out.push(`deny x${i.deny.length}`);
  if (i?.promptInjection) out.push(`injection ${i.promptInjection.action}@${i.promptInjection.threshold}`);
  if (i?.canary) out.push('canary');
  if (i?.poisoning) out.push(`poisoning ${i.poisoning.action}`);
  return out;
}

function describeOutput(r: RouteConfig): string[] {
  const o = r.output;
  const out: string[] = [];
  if (o?.redact?.length) out.push(`redact ${o.redact.join(',')} (${o.onMatch})`);
  const canary = o?.canary ?? (r.input?.canary === true ? 'block' : undefined);
  if (canary !== undefined && canary !== 'off') out.push(`canary ${canary}`);
  if (o?.watermark) {
    const parts = [o.watermark.text ? 'text' : '', o.watermark.numbers !== 'off' ? o.watermark.numbers : ''].filter(Boolean);
    out.push(`watermark ${parts.join(',') || 'off'}`);
  }
  return out;
}

/** 100000 → 100k, 2000000 → 2M; other numbers as they are. */
function compact(n: number): string {
  if (n >= 1_000_000 && n % 100_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1000 && n % 100 === 0) return `${n / 1000}k`;
  return String(n);
}

function formatMs(ms: number): string {
  if (ms > 0 && ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms > 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function formatRouteTable(rows: readonly RouteSurface[]): string {
  const header = ['ROUTE', 'METHODS', 'PATH', 'KIND', 'MODE', 'UPSTREAM', 'AUTH', 'ROLES', 'LIMITS', 'INPUT', 'OUTPUT', 'ADAPTIVE', 'NOT ENFORCED'];
  const cells = rows.map((r) => [
    r.name,
    r.methods.join(','),
    r.path,
    r.kind,
    r.mode,
    r.upstream.name,
    r.auth.summary,
    [...r.auth.roles, ...r.auth.scopes.map((s) => `scope:${s}`)].join(',') || '-',
    r.limits.join('; ') || '-',
    r.input.join('; ') || '-',
    r.output.join('; ') || '-',
    r.adaptive ?? '-',
    r.unenforced.join(', ') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) => c.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

export function registerRoutes(program: Command): void {
  program
    .command('routes')
    .description('The attack surface: every route with its methods, upstream, auth, roles, limits, guards and mode.')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  bulwark routes -c bulwark.yaml\n  bulwark routes -c bulwark.yaml --json | jq \'.[] | select(.auth.open) | .path\'')
    .action((opts: { config: string; json?: boolean }) => {
      const { config } = loadOrExit(opts.config);
      const rows = describeRoutes(config);
      if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else process.stdout.write(rows.length ? formatRouteTable(rows) : 'no routes: every request is refused (default deny)\n');
    });
}
