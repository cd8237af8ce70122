import type { EventBus } from '../../events/bus.js';
import type { DriftChange, DriftKind } from './drift-changes.js';

/** Drift events per source and scan; past this one `truncated` event says how many were left out. */
export const MAX_DRIFT_EVENTS = 100;

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

export function emitChanges(events: EventBus, display: string, changes: readonly DriftChange[]): void {
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
