import { createHash } from 'node:crypto';
import type { BulwarkConfig } from '../../config/schema.js';
import type { EventBus } from '../../events/bus.js';
import type { Severity } from '../../events/event.js';
import type { Store } from '../../stores/store.js';
import { listInventory, type InventoryEntry } from '../inventory-store.js';
import { byCodePoint, compare, compareMethods, normalizeSpecPath, type DiscoveryReport, type RouteLike, type SpecEndpoint } from './compare.js';
import { displaySource, loadSpec, resolveSource, SpecLoadError, type SpecFetchOptions, type SpecFormat } from './load-spec.js';

/**
 * Discovery runs: load each spec, compare it with the routes and the inventory, keep the report
 * in the state store (`inventory:spec:<sha256 of the source>`) and turn what changed since the
 * last scan of that source into `inventory.drift` events. Used by `bulwark discover` and by the
 * scheduler the gateway starts for `inventory.openapi`.
 */

export const SPEC_STATE_PREFIX = 'inventory:spec:';
/** Drift events per source and scan; past this one `truncated` event says how many were left out. */
export const MAX_DRIFT_EVENTS = 100;

export type DriftKind =
  | 'shadow.added'
  | 'shadow.resolved'
  | 'endpoint.added'
  | 'endpoint.removed'
  | 'stale.added'
  | 'stale.resolved'
  | 'mismatch.added'
  | 'mismatch.resolved';

export interface DriftChange {
  change: DriftKind;
  severity: Severity;
  /** One method, or the route's methods joined by "," for stale routes. */
  method: string;
  path: string;
  route?: string;
  /** Method mismatches: which side has the method. */
  side?: 'spec_only' | 'route_only';
}

export interface SourceResult {
  /** Canonical source (absolute path or URL); the state key is derived from it. */
  source: string;
  /** For output and events: no URL credentials or query. */
  display: string;
  kind: 'file' | 'url';
  format: SpecFormat;
  title?: string;
  version?: string;
  /** The upstream the spec describes (given, or the upstream whose URL has the spec's origin). */
  upstream?: string;
  /** The spec's endpoints as compared (gateway paths). */
  endpoints: SpecEndpoint[];
  warnings: string[];
  report: DiscoveryReport;
  /** Changes since the last stored scan (on the first scan: every finding). */
  changes: DriftChange[];
  firstScan: boolean;
}

export interface DiscoveryError {
  source: string;
  display: string;
  message: string;
}

export interface DiscoveryRun {
  results: SourceResult[];
  errors: DiscoveryError[];
}

export interface DiscoveryOptions {
  config: BulwarkConfig;
  store: Store;
  /** Where drift events go; without one no events are emitted (the report is still stored). */
  events?: EventBus;
  /** Spec sources (file paths or http(s) URLs); default `config.inventory.openapi`. */
  sources?: readonly string[];
  /** Relative file sources are resolved against this directory (the config file's, for config sources). */
  baseDir?: string;
  fetch?: SpecFetchOptions;
  /** false: do not prefix the spec's server base path. */
  basePath?: boolean;
  /** The upstream every source describes (overrides matching by origin). */
  upstream?: string;
  /** false: compare only; keep no report and emit nothing. Default true. */
  record?: boolean;
  /** Progress lines (the CLI shows them on a terminal). */
  onProgress?: (message: string) => void;
  now?: () => Date;
}

interface Snapshot {
  v: 1;
  at: string;
  endpoints: string[];
  shadow: string[];
  stale: Array<[route: string, methods: string, path: string]>;
  mismatch: Array<[path: string, side: 'spec_only' | 'route_only', method: string]>;
}

export function specStateKey(source: string): string {
  return SPEC_STATE_PREFIX + createHash('sha256').update(source).digest('hex');
}

const stripSlash = (p: string) => p.replace(/\/+$/, '');

/** The upstream a URL spec describes: same origin, the longest URL path that prefixes the spec's. */
export function upstreamForSource(source: string, config: BulwarkConfig): string | undefined {
  if (!/^https?:\/\//i.test(source)) return undefined;
  let src: URL;
  try {
    src = new URL(source);
  } catch {
    return undefined;
  }
  let best: { name: string; len: number } | undefined;
  const sameOrigin: string[] = [];
  for (const [name, u] of Object.entries(config.upstreams).sort(([a], [b]) => byCodePoint(a, b))) {
    if (!URL.canParse(u.url)) continue;
    const url = new URL(u.url);
    if (url.origin !== src.origin) continue;
    sameOrigin.push(name);
    const prefix = stripSlash(url.pathname);
    if (prefix === '' || src.pathname === prefix || src.pathname.startsWith(prefix + '/')) {
      if (!best || prefix.length > best.len) best = { name, len: prefix.length };
    }
  }
  return best?.name ?? (sameOrigin.length === 1 ? sameOrigin[0] : undefined);
}

/** The routes that send to `upstream` (a route without `upstream` uses the only one). */
export function routesOf(config: BulwarkConfig, upstream: string | undefined): BulwarkConfig['routes'] {
  if (upstream === undefined) return config.routes;
  const names = Object.keys(config.upstreams);
  const sole = names.length === 1 ? names[0] : undefined;
  return config.routes.filter((r) => (r.upstream ?? sole) === upstream);
}

/**
 * Spec paths are upstream paths; routes are gateway paths, appended to the upstream URL's path.
 * When the upstream is known and its URL has a path, that prefix is taken off the spec's paths.
 */
function toGatewayPaths(endpoints: readonly SpecEndpoint[], config: BulwarkConfig, upstream: string | undefined): SpecEndpoint[] {
  const u = upstream !== undefined ? config.upstreams[upstream] : undefined;
  const prefix = u && URL.canParse(u.url) ? stripSlash(new URL(u.url).pathname) : '';
  if (prefix === '') return [...endpoints];
  const out: SpecEndpoint[] = [];
  const seen = new Set<string>();
  for (const e of endpoints) {
    let template = e.template;
    if (template === prefix) template = '/';
    else if (template.startsWith(prefix + '/')) template = template.slice(prefix.length);
    const path = normalizeSpecPath(template);
    if (seen.has(`${e.method} ${path}`)) continue;
    seen.add(`${e.method} ${path}`);
    out.push({ ...e, template, path });
  }
  return out;
}

/** Paths the gateway answers itself; traffic to them is never "unknown". */
function gatewayPaths(config: BulwarkConfig): string[] {
  const te = config.auth.tokenEndpoint;
  return [config.server.healthPath, ...(te ? [te.path, te.jwksPath] : [])];
}

const byPathMethod = (a: { path: string; method: string }, b: { path: string; method: string }) => byCodePoint(a.path, b.path) || compareMethods(a.method, b.method);

function snapshotOf(report: DiscoveryReport, endpoints: readonly SpecEndpoint[], at: Date): Snapshot {
  return {
    v: 1,
    at: at.toISOString(),
    endpoints: [...endpoints].sort(byPathMethod).map((e) => `${e.method} ${e.path}`),
    shadow: report.shadow.map((e) => `${e.method} ${e.path}`),
    stale: report.stale.map((s): [string, string, string] => [s.route, s.methods.join(','), s.path]),
    mismatch: report.methodMismatch.flatMap((m) => [
      ...m.specOnly.map((x): [string, 'spec_only', string] => [m.path, 'spec_only', x]),
      ...m.routeOnly.map((x): [string, 'route_only', string] => [m.path, 'route_only', x]),
    ]),
  };
}

function parseSnapshot(raw: string | undefined): Snapshot | undefined {
  if (raw === undefined) return undefined;
  try {
    const s = JSON.parse(raw) as Partial<Snapshot>;
    if (s.v !== 1 || !Array.isArray(s.endpoints) || !Array.isArray(s.shadow) || !Array.isArray(s.stale) || !Array.isArray(s.mismatch)) return undefined;
    return s as Snapshot;
  } catch {
    return undefined;
  }
}

const splitKey = (k: string) => {
  const i = k.indexOf(' ');
  return { method: k.slice(0, i), path: k.slice(i + 1) };
};

/** What changed between two scans of one source. Without a previous scan, every finding is new. */
export function diffSnapshots(prev: Snapshot | undefined, cur: Snapshot): DriftChange[] {
  const changes: DriftChange[] = [];
  const low = 'low' as const;
  const curShadow = new Set(cur.shadow);
  const prevShadow = new Set(prev?.shadow ?? []);
  if (!prev) {
    for (const k of cur.shadow) changes.push({ change: 'shadow.added', severity: 'medium', ...splitKey(k) });
  } else {
    const prevEndpoints = new Set(prev.endpoints);
    const curEndpoints = new Set(cur.endpoints);
    for (const k of cur.endpoints) {
      if (!prevEndpoints.has(k)) changes.push(curShadow.has(k) ? { change: 'shadow.added', severity: 'medium', ...splitKey(k) } : { change: 'endpoint.added', severity: low, ...splitKey(k) });
      else if (curShadow.has(k) && !prevShadow.has(k)) changes.push({ change: 'shadow.added', severity: 'medium', ...splitKey(k) });
      else if (!curShadow.has(k) && prevShadow.has(k)) changes.push({ change: 'shadow.resolved', severity: low, ...splitKey(k) });
    }
    for (const k of prev.endpoints) if (!curEndpoints.has(k)) changes.push({ change: 'endpoint.removed', severity: low, ...splitKey(k) });
  }
  const staleKey = (s: [string, string, string]) => `${s[0]}\n${s[2]}`;
  const prevStale = new Map((prev?.stale ?? []).map((s) => [staleKey(s), s]));
  const curStale = new Map(cur.stale.map((s) => [staleKey(s), s]));
  for (const [k, s] of curStale) if (!prevStale.has(k)) changes.push({ change: 'stale.added', severity: low, method: s[1], path: s[2], route: s[0] });
  for (const [k, s] of prevStale) if (!curStale.has(k)) changes.push({ change: 'stale.resolved', severity: low, method: s[1], path: s[2], route: s[0] });
  const mmKey = (m: [string, string, string]) => m.join('\n');
  const prevMm = new Set((prev?.mismatch ?? []).map(mmKey));
  const curMm = new Set(cur.mismatch.map(mmKey));
  for (const m of cur.mismatch) if (!prevMm.has(mmKey(m))) changes.push({ change: 'mismatch.added', severity: low, method: m[2], path: m[0], side: m[1] });
  for (const m of prev?.mismatch ?? []) if (!curMm.has(mmKey(m))) changes.push({ change: 'mismatch.resolved', severity: low, method: m[2], path: m[0], side: m[1] });
  return changes;
}

const DESCRIBE: Record<DriftKind, string> = {
  'shadow.added': 'new shadow endpoint (in the spec, published by no route)',
  'shadow.resolved': 'shadow endpoint now published by a route',
  'endpoint.added': 'new endpoint in the spec',
  'endpoint.removed': 'endpoint removed from the spec',
  'stale.added': 'route with no endpoint in the spec',
  'stale.resolved': 'route now matches an endpoint in the spec',
  'mismatch.added': 'method mismatch between the spec and the routes',
  'mismatch.resolved': 'method mismatch resolved',
};

function emitChanges(events: EventBus, display: string, changes: readonly DriftChange[]): void {
  const shown = changes.slice(0, MAX_DRIFT_EVENTS);
  for (const c of shown) {
    events.emit({
      action: 'inventory.drift',
      severity: c.severity,
      outcome: 'unknown',
      message: `${DESCRIBE[c.change]}: ${c.method} ${c.path}${c.route ? ` (route ${c.route})` : ''}`,
      method: c.method,
      path: c.path,
      ...(c.route !== undefined ? { route: c.route } : {}),
      details: { source: display, change: c.change, method: c.method, path: c.path, ...(c.side ? { side: c.side } : {}) },
    });
  }
  if (changes.length > shown.length) {
    events.emit({
      action: 'inventory.drift',
      severity: 'low',
      outcome: 'unknown',
      message: `${changes.length - shown.length} more spec changes not shown`,
      details: { source: display, change: 'truncated', omitted: changes.length - shown.length },
    });
  }
}

/** Loads every source, compares, stores each report and emits the drift. One bad source does not stop the others. */
export async function runDiscovery(options: DiscoveryOptions): Promise<DiscoveryRun> {
  const { config, store } = options;
  const sources = options.sources ?? config.inventory?.openapi ?? [];
  const record = options.record !== false;
  const now = options.now ?? (() => new Date());
  const results: SourceResult[] = [];
  const errors: DiscoveryError[] = [];
  if (sources.length === 0) return { results, errors };
  let traffic: InventoryEntry[] | undefined;

  for (const raw of sources) {
    let canonical = raw;
    let display = displaySource(raw);
    try {
      const resolved = resolveSource(raw, options.baseDir);
      canonical = resolved.location;
      display = resolved.kind === 'url' ? displaySource(canonical) : canonical;
      const upstream = options.upstream ?? upstreamForSource(canonical, config);
      if (upstream !== undefined && !Object.hasOwn(config.upstreams, upstream)) throw new SpecLoadError(display, `unknown upstream "${upstream}"`);
      options.onProgress?.(`loading ${display}`);
      const spec = await loadSpec(canonical, { ...options.fetch, ...(options.basePath === false ? { basePath: false } : {}) });
      const endpoints = toGatewayPaths(spec.endpoints, config, upstream);
      traffic ??= await listInventory(store);
      const report = compare({
        spec: endpoints,
        routes: routesOf(config, upstream) as readonly RouteLike[],
        allRoutes: config.routes,
        traffic,
        ignorePaths: gatewayPaths(config),
      });
      const at = now();
      const snapshot = snapshotOf(report, endpoints, at);
      let changes: DriftChange[] = [];
      let firstScan = false;
      if (record) {
        const key = specStateKey(canonical);
        const prev = parseSnapshot(await store.get(key));
        firstScan = prev === undefined;
        changes = diffSnapshots(prev, snapshot);
        await store.set(key, JSON.stringify(snapshot));
        if (options.events) emitChanges(options.events, display, changes);
      }
      results.push({
        source: canonical,
        display,
        kind: spec.kind,
        format: spec.format,
        ...(spec.title !== undefined ? { title: spec.title } : {}),
        ...(spec.version !== undefined ? { version: spec.version } : {}),
        ...(upstream !== undefined ? { upstream } : {}),
        endpoints,
        warnings: spec.warnings,
        report,
        changes,
        firstScan,
      });
    } catch (err) {
      if (options.fetch?.signal?.aborted) throw err;
      errors.push({ source: canonical, display, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return { results, errors };
}

export interface DiscoverySchedulerOptions {
  config: BulwarkConfig;
  store: Store;
  events: EventBus;
  /** The config file's directory (relative spec paths). */
  baseDir?: string;
  /** First scan this long after start. Default 5 s. */
  initialDelayMs?: number;
  /** Default `inventory.every` (at least 10 s). */
  everyMs?: number;
  fetch?: Omit<SpecFetchOptions, 'signal'>;
}

export interface DiscoveryScheduler {
  /** Stops the timer and aborts a scan in flight; resolves once it has ended. */
  stop(): Promise<void>;
  /** Runs a scan now (or waits for the one in flight). */
  runNow(): Promise<void>;
}

/**
 * Scans `inventory.openapi` every `inventory.every`. Never throws: a failed source or scan is a
 * `stage.error` event (stage `inventory.discover`). The timer is unref'd, so it never keeps a
 * process alive.
 */
export function startDiscoveryScheduler(options: DiscoverySchedulerOptions): DiscoveryScheduler {
  const { config, store, events } = options;
  const sources = config.inventory?.openapi ?? [];
  const every = Math.max(10_000, options.everyMs ?? config.inventory?.every ?? 3_600_000);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = sources.length === 0;
  const abort = new AbortController();

  const reportError = (display: string | undefined, message: string) => {
    if (stopped) return;
    events.emit({
      action: 'stage.error',
      severity: 'medium',
      outcome: 'failure',
      stage: 'inventory.discover',
      reason: 'spec discovery failed',
      message: `spec discovery${display ? ` of ${display}` : ''} failed: ${message}`,
      details: display ? { source: display } : {},
    });
  };

  const scan = (): Promise<void> => {
    if (running) return running;
    running = (async () => {
      try {
        const run = await runDiscovery({ config, store, events, sources, ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}), fetch: { ...options.fetch, signal: abort.signal } });
        for (const e of run.errors) reportError(e.display, e.message);
      } catch (err) {
        if (!abort.signal.aborted) reportError(undefined, err instanceof Error ? err.message : String(err));
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void scan().then(() => schedule(every));
    }, delay);
    timer.unref();
  };
  schedule(options.initialDelayMs ?? 5000);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      abort.abort();
      await running;
    },
    async runNow() {
      if (stopped) return;
      await scan();
    },
  };
}
