import type { Severity } from '../../events/event.js';
import type { Snapshot } from './scan-snapshot.js';

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
