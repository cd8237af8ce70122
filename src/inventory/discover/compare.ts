import { foldSegment } from '../template.js';

/**
 * Spec discovery, the pure part: what an upstream's OpenAPI spec exposes, what the routes
 * publish and what traffic reached, compared. Paths are compared as templates in one normal
 * form: every parameter is `{}` (`{id}` in a spec, `:id` in a route, `{id}` folded by the
 * inventory), no trailing slash.
 */

/** One operation of an upstream spec. */
export interface SpecEndpoint {
  /** Upper case: GET, POST, ... */
  method: string;
  /** Normal form: `/v1/users/{}`. */
  path: string;
  /** As the spec writes it (base path prefixed): `/v1/users/{userId}`. */
  template: string;
  operationId?: string;
  summary?: string;
}

/** What compare needs of a configured route. */
export interface RouteLike {
  name: string;
  match: { methods: readonly string[]; path: string };
}

/** What compare needs of an inventory entry (src/inventory/inventory-store.ts). */
export interface TrafficLike {
  method: string;
  template: string;
  count: number;
  lastSeen: string;
}

export interface ShadowEndpoint {
  method: string;
  path: string;
  template: string;
  operationId?: string;
}

export interface StaleRoute {
  route: string;
  methods: string[];
  /** The route's path as configured. */
  path: string;
}

export interface MethodMismatch {
  /** Normal form. */
  path: string;
  /** Methods the spec has on this path that no route publishes. */
  specOnly: string[];
  /** Methods routes publish on this path that the spec does not have. */
  routeOnly: string[];
  /** Routes publishing this path. */
  routes: string[];
}

export interface UnknownTraffic {
  method: string;
  /** The inventory template, as recorded. */
  path: string;
  count: number;
  lastSeen: string;
}

export interface DiscoveryReport {
  /** In the spec; the path is published by no route (shadow endpoints of the backend). */
  shadow: ShadowEndpoint[];
  /** Routes whose path is not in the spec at all. */
  stale: StaleRoute[];
  /** Path in both, methods differ. */
  methodMismatch: MethodMismatch[];
  /** Seen in traffic, in neither the spec nor the routes. */
  unknownTraffic: UnknownTraffic[];
}

export interface CompareInput {
  spec: readonly SpecEndpoint[];
  /** Routes to compare with the spec (those sending to the spec's upstream). */
  routes: readonly RouteLike[];
  /** Every route, for the traffic check (default: `routes`). */
  allRoutes?: readonly RouteLike[];
  traffic?: readonly TrafficLike[];
  /** Paths the gateway answers itself (health, token endpoint, JWKS): never unknown traffic. */
  ignorePaths?: readonly string[];
}

const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

/** Code-point order: the same on every machine and locale. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareMethods(a: string, b: string): number {
  const ia = METHOD_ORDER.indexOf(a);
  const ib = METHOD_ORDER.indexOf(b);
  if (ia !== ib) return (ia < 0 ? METHOD_ORDER.length : ia) - (ib < 0 ? METHOD_ORDER.length : ib);
  return byCodePoint(a, b);
}

export function sortMethods(methods: Iterable<string>): string[] {
  return [...new Set(methods)].sort(compareMethods);
}

function stripTrailingSlash(p: string): string {
  const s = p.replace(/\/+$/, '');
  return s === '' ? '/' : s;
}

/** OpenAPI path template to normal form: `{anything}` → `{}`, no trailing slash, no query. */
export function normalizeSpecPath(path: string): string {
  const q = path.indexOf('?');
  const p = q >= 0 ? path.slice(0, q) : path;
  return stripTrailingSlash((p.startsWith('/') ? p : `/${p}`).replace(/\{[^{}/]*\}/g, '{}'));
}

/**
 * find-my-way route path to normal form: `:name` (with an optional `(regex)`) → `{}`, `::` is a
 * literal colon, `*` → `{}`.
 */
export function normalizeRoutePath(path: string): string {
  const segments = path.split('/').map((seg) => {
    let out = '';
    for (let i = 0; i < seg.length; i++) {
      const c = seg[i] as string;
      if (c === ':' && seg[i + 1] === ':') {
        out += ':';
        i++;
      } else if (c === ':') {
        // As find-my-way reads it: the name runs to "(" (a regex), "-" or "." (multi-parameter
        // segments) or the end of the segment.
        let j = i + 1;
        while (j < seg.length && !/[(.-]/.test(seg[j] as string)) j++;
        if (seg[j] === '(') {
          let depth = 0;
          for (; j < seg.length; j++) {
            if (seg[j] === '(') depth++;
            else if (seg[j] === ')' && --depth === 0) {
              j++;
              break;
            }
          }
        }
        out += '{}';
        i = j - 1;
      } else if (c === '*') out += '{}';
      else out += c;
    }
    return out;
  });
  return stripTrailingSlash(segments.join('/'));
}

/** Inventory template to normal form: `{id}` / `{rest}` → `{}`. */
export function normalizeTrafficPath(template: string): string {
  return stripTrailingSlash(template.replace(/\{[^{}/]*\}/g, '{}'));
}

const segmentRegexCache = new Map<string, RegExp>();
function segmentRegex(seg: string): RegExp {
  let re = segmentRegexCache.get(seg);
  if (!re) {
    const body = seg
      .split('{}')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]+');
    re = new RegExp(`^${body}$`);
    if (segmentRegexCache.size < 10_000) segmentRegexCache.set(seg, re);
  }
  return re;
}

/** Whether pattern segment `a` can match concrete segment `b` (b may be a `{}` pattern too). */
function segmentCovers(a: string, b: string): boolean {
  if (a === b || a === '{}') return true;
  if (b.includes('{}')) return false;
  return a.includes('{}') && segmentRegex(a).test(b);
}

/**
 * Two templates overlap when some request path matches both: segment by segment equal, or a
 * parameter on either side (a partial parameter such as `{}.json` against a literal it matches).
 */
export function pathsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const sa = a.split('/');
  const sb = b.split('/');
  if (sa.length !== sb.length) return false;
  for (let i = 0; i < sa.length; i++) {
    const x = sa[i] as string;
    const y = sb[i] as string;
    if (!segmentCovers(x, y) && !segmentCovers(y, x)) return false;
  }
  return true;
}

/**
 * Whether pattern (spec or route, normal form) matches an inventory template (normal form). The
 * inventory folds numbers, UUIDs, hex and opaque tokens to `{}`, so a traffic `{}` matches a
 * pattern parameter, or a literal the inventory would itself have folded (`/v1/items/2024`).
 */
export function patternMatchesTraffic(pattern: string, traffic: string): boolean {
  if (pattern === traffic) return true;
  const sp = pattern.split('/');
  const st = traffic.split('/');
  if (sp.length !== st.length) return false;
  for (let i = 0; i < sp.length; i++) {
    const p = sp[i] as string;
    const t = st[i] as string;
    if (p === t || p === '{}') continue;
    if (t === '{}') {
      if (p.includes('{}') || foldSegment(p) === '{id}') continue;
      return false;
    }
    if (p.includes('{}') && segmentRegex(p).test(t)) continue;
    return false;
  }
  return true;
}

interface PathGroup {
  path: string;
  methods: Set<string>;
}

function groupSpec(spec: readonly SpecEndpoint[]): Map<string, PathGroup & { endpoints: SpecEndpoint[] }> {
  const out = new Map<string, PathGroup & { endpoints: SpecEndpoint[] }>();
  for (const e of spec) {
    let g = out.get(e.path);
    if (!g) out.set(e.path, (g = { path: e.path, methods: new Set(), endpoints: [] }));
    if (!g.methods.has(e.method)) {
      g.methods.add(e.method);
      g.endpoints.push(e);
    }
  }
  return out;
}

/** Compares a spec with the routes and the traffic. Deterministic: every list is sorted. */
export function compare(input: CompareInput): DiscoveryReport {
  const specByPath = groupSpec(input.spec);
  const routes = input.routes.map((r) => ({ name: r.name, path: r.match.path, norm: normalizeRoutePath(r.match.path), methods: new Set(r.match.methods.map((m) => m.toUpperCase())) }));
  const specPaths = [...specByPath.keys()];

  // Each path's counterparts: the equal paths when there are any, else every overlapping one.
  const routesFor = (specPath: string) => {
    const equal = routes.filter((r) => r.norm === specPath);
    return equal.length > 0 ? equal : routes.filter((r) => pathsOverlap(r.norm, specPath));
  };
  const specPathsFor = (routePath: string) => {
    if (specByPath.has(routePath)) return [routePath];
    return specPaths.filter((p) => pathsOverlap(p, routePath));
  };

  const shadow: ShadowEndpoint[] = [];
  const mismatches = new Map<string, { specOnly: Set<string>; routeOnly: Set<string>; routes: Set<string> }>();
  const mismatchAt = (path: string) => {
    let m = mismatches.get(path);
    if (!m) mismatches.set(path, (m = { specOnly: new Set(), routeOnly: new Set(), routes: new Set() }));
    return m;
  };

  for (const group of specByPath.values()) {
    const counterparts = routesFor(group.path);
    if (counterparts.length === 0) {
      for (const e of group.endpoints) shadow.push({ method: e.method, path: e.path, template: e.template, ...(e.operationId !== undefined ? { operationId: e.operationId } : {}) });
      continue;
    }
    const published = new Set(counterparts.flatMap((r) => [...r.methods]));
    const missing = [...group.methods].filter((m) => !published.has(m));
    if (missing.length > 0) {
      const m = mismatchAt(group.path);
      for (const x of missing) m.specOnly.add(x);
      for (const r of counterparts) m.routes.add(r.name);
    }
  }

  const stale: StaleRoute[] = [];
  for (const r of routes) {
    const counterparts = specPathsFor(r.norm);
    if (counterparts.length === 0) {
      stale.push({ route: r.name, methods: sortMethods(r.methods), path: r.path });
      continue;
    }
    const inSpec = new Set(counterparts.flatMap((p) => [...(specByPath.get(p)?.methods ?? [])]));
    const extra = [...r.methods].filter((m) => !inSpec.has(m));
    if (extra.length > 0) {
      const m = mismatchAt(r.norm);
      for (const x of extra) m.routeOnly.add(x);
      m.routes.add(r.name);
    }
  }

  const allRoutes = (input.allRoutes ?? input.routes).map((r) => ({ norm: normalizeRoutePath(r.match.path), methods: new Set(r.match.methods.map((m) => m.toUpperCase())) }));
  const ignore = new Set((input.ignorePaths ?? []).map(stripTrailingSlash));
  const unknownTraffic: UnknownTraffic[] = [];
  for (const t of input.traffic ?? []) {
    const method = t.method.toUpperCase();
    const norm = normalizeTrafficPath(t.template);
    if (ignore.has(norm)) continue;
    const inSpec = input.spec.some((e) => e.method === method && patternMatchesTraffic(e.path, norm));
    if (inSpec) continue;
    const routed = allRoutes.some((r) => r.methods.has(method) && patternMatchesTraffic(r.norm, norm));
    if (routed) continue;
    unknownTraffic.push({ method, path: t.template, count: t.count, lastSeen: t.lastSeen });
  }

  const byPathMethod = (a: { path: string; method: string }, b: { path: string; method: string }) => byCodePoint(a.path, b.path) || compareMethods(a.method, b.method);
  return {
    shadow: shadow.sort(byPathMethod),
    stale: stale.sort((a, b) => byCodePoint(a.path, b.path) || byCodePoint(a.route, b.route)),
    methodMismatch: [...mismatches.entries()]
      .map(([path, m]) => ({ path, specOnly: sortMethods(m.specOnly), routeOnly: sortMethods(m.routeOnly), routes: [...m.routes].sort(byCodePoint) }))
      .sort((a, b) => byCodePoint(a.path, b.path)),
    unknownTraffic: dedupeTraffic(unknownTraffic).sort(byPathMethod),
  };
}

function dedupeTraffic(list: UnknownTraffic[]): UnknownTraffic[] {
  const seen = new Map<string, UnknownTraffic>();
  for (const t of list) {
    const k = `${t.method} ${t.path}`;
    const prev = seen.get(k);
    if (!prev) seen.set(k, { ...t });
    else {
      prev.count += t.count;
      if (t.lastSeen > prev.lastSeen) prev.lastSeen = t.lastSeen;
    }
  }
  return [...seen.values()];
}
