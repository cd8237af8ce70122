import type { BulwarkConfig } from '../../config/schema.js';
import type { EventBus } from '../../events/bus.js';
import type { Store } from '../../stores/store.js';
import { listInventory, type InventoryEntry } from '../inventory-store.js';
import { compare, type DiscoveryReport, type RouteLike, type SpecEndpoint } from './compare.js';
import { diffSnapshots, type DriftChange } from './drift-changes.js';
import { emitChanges } from './drift-events.js';
import { displaySource, loadSpec, resolveSource, SpecLoadError, type SpecFetchOptions, type SpecFormat } from './load-spec.js';
import { parseSnapshot, snapshotOf, specStateKey } from './scan-snapshot.js';
import { gatewayPaths, routesOf, toGatewayPaths, upstreamForSource } from './spec-upstream.js';

/**
 * Discovery runs: load each spec, compare it with the routes and the inventory, keep the report
 * in the state store (`inventory:spec:<sha256 of the source>`) and turn what changed since the
 * last scan of that source into `inventory.drift` events. Used by `bulwark discover` and by the
 * scheduler the gateway starts for `inventory.openapi`.
 */

// The rest of a run's public surface, so importers need only this module.
export { diffSnapshots, type DriftChange, type DriftKind } from './drift-changes.js';
export { MAX_DRIFT_EVENTS } from './drift-events.js';
export { SPEC_STATE_PREFIX, specStateKey } from './scan-snapshot.js';
export { routesOf, upstreamForSource } from './spec-upstream.js';

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
