import { BUILTIN_STAGES } from './builtin-stages.js';

/** Feature names this build enforces: the registered stages plus features the core provides. */
export function availableFeatures(): ReadonlySet<string> {
  // Core features beside the stages: alert rules on the event bus, the endpoint inventory, the
  // scheduled spec discovery, the admin listener, the audit chain, the sinks, and watermarks
  // (applied by the output-guard stage).
  return new Set([...BUILTIN_STAGES.map((s) => s.name), 'alerts', 'inventory', 'admin', 'audit-chain', 'sink-syslog', 'sink-webhook', 'watermark']);
}
