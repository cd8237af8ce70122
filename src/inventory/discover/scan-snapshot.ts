import { createHash } from 'node:crypto';
import { byCodePoint, compareMethods, type DiscoveryReport, type SpecEndpoint } from './compare.js';

/**
 * What a scan of one spec source leaves in the state store (`inventory:spec:<sha256 of the
 * source>`): the findings as sorted keys, so the next scan can tell what changed.
 */

export const SPEC_STATE_PREFIX = 'inventory:spec:';

export interface Snapshot {
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

const byPathMethod = (a: { path: string; method: string }, b: { path: string; method: string }) => byCodePoint(a.path, b.path) || compareMethods(a.method, b.method);

export function snapshotOf(report: DiscoveryReport, endpoints: readonly SpecEndpoint[], at: Date): Snapshot {
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

export function parseSnapshot(raw: string | undefined): Snapshot | undefined {
  if (raw === undefined) return undefined;
  try {
    const s = JSON.parse(raw) as Partial<Snapshot>;
    if (s.v !== 1 || !Array.isArray(s.endpoints) || !Array.isArray(s.shadow) || !Array.isArray(s.stale) || !Array.isArray(s.mismatch)) return undefined;
    return s as Snapshot;
  } catch {
    return undefined;
  }
}
