import FindMyWay from 'find-my-way';
import type { BulwarkConfig } from '../config/schema.js';
import type { RouteConfig } from '../config/schema-route.js';
import type { DecisionCounters } from '../core/counters.js';
import { createPipeline, type RoutePipeline } from '../core/pipeline.js';
import type { LocalEndpoint, StageDefinition } from '../core/stage.js';
import type { EventBus } from '../events/bus.js';
import { createUpstream, type Upstream } from '../proxy/upstream.js';
import { compileTrust, type TrustFn } from '../server/client-address.js';
import { createUnregisteredGuard, type UnregisteredGuard } from '../server/unregistered-guard.js';
import type { Store } from '../stores/store.js';

export interface CompiledRoute {
  readonly config: RouteConfig;
  readonly pipeline: RoutePipeline;
  readonly upstream: Upstream;
}

/**
 * Everything built from one validated config: routes, stages, upstream pools, trust. A reload
 * builds a new Runtime beside the old one and swaps a single reference, so a request always sees
 * one consistent config from start to finish.
 */
export interface Runtime {
  readonly config: BulwarkConfig;
  readonly routes: readonly CompiledRoute[];
  readonly trust: TrustFn | undefined;
  /** Bans and `server.unregistered` for requests that match no route. */
  readonly unregistered: UnregisteredGuard;
  find(method: string, path: string): RouteHit | undefined;
  close(): Promise<void>;
}

export type RouteHit =
  | { route: CompiledRoute; params: Record<string, string | undefined>; endpoint?: undefined }
  | { endpoint: LocalEndpoint; route?: undefined };

export function buildRuntime(config: BulwarkConfig, deps: { events: EventBus; counters: DecisionCounters; store: Store; stages: readonly StageDefinition[] }): Runtime {
  const upstreams = new Map<string, Upstream>();
  try {
    for (const [name, cfg] of Object.entries(config.upstreams)) upstreams.set(name, createUpstream(name, cfg));
  } catch (err) {
    for (const u of upstreams.values()) void u.close();
    throw err;
  }
  // Canonicalization already happened; the router must not re-interpret the path in any way.
  const router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 256 });
  const compiled: CompiledRoute[] = [];
  const fallbackUpstream = upstreams.size === 1 ? [...upstreams.values()][0] : undefined;
  for (const route of config.routes) {
    const upstream = route.upstream !== undefined ? upstreams.get(route.upstream) : fallbackUpstream;
    if (!upstream) throw new Error(`route ${route.name}: no upstream`);
    const stages = deps.stages.map((d) => d.build(route, { config, events: deps.events, store: deps.store })).filter((s) => s !== undefined);
    const entry: CompiledRoute = { config: route, upstream, pipeline: createPipeline(route, stages, deps) };
    compiled.push(entry);
    for (const method of route.match.methods) router.on(method, route.match.path, () => undefined, { entry });
  }
  const buildCtx = { config, events: deps.events, store: deps.store };
  for (const def of deps.stages) {
    for (const endpoint of def.endpoints?.(buildCtx) ?? []) {
      try {
        router.on(endpoint.method, endpoint.path, () => undefined, { endpoint });
      } catch {
        throw new Error(`${endpoint.method} ${endpoint.path} (${def.name}) is also a route`);
      }
    }
  }
  const unregistered = createUnregisteredGuard(config, deps.store, deps.events);
  return {
    config,
    routes: compiled,
    trust: compileTrust(config.server.trustedProxies),
    unregistered,
    find(method, path) {
      const hit = router.find(method as 'GET', path);
      if (!hit) return undefined;
      const store = hit.store as { entry?: CompiledRoute; endpoint?: LocalEndpoint } | undefined;
      if (store?.endpoint) return { endpoint: store.endpoint };
      if (!store?.entry) return undefined;
      return { route: store.entry, params: hit.params };
    },
    async close() {
      for (const r of compiled) for (const s of r.pipeline.stages) s.close?.();
      unregistered.close();
      await Promise.all([...upstreams.values()].map((u) => u.close()));
    },
  };
}
