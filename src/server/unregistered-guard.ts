import type { BulwarkConfig } from '../config/schema.js';
import { deny, type Deny } from '../core/verdict.js';
import type { EventBus } from '../events/bus.js';
import { createIpBanCheck } from '../stages/ban/index.js';
import { createCounters } from '../stages/rate-limit/counters.js';
import { RefusalSampler } from '../stages/rate-limit/refusal.js';
import type { Store } from '../stores/store.js';

/**
 * What a request that matches no route meets before its 404: the ban of its client network, then
 * the gateway-wide limit `server.unregistered` for that network. Without it, probing unknown
 * paths costs a scanner nothing: no route's limits or bans ever see it.
 */
export interface UnregisteredGuard {
  /** BANNED or RATE_LIMITED for the client network, or undefined: answer the 404. */
  check(network: string): Deny | undefined | Promise<Deny | undefined>;
  /**
   * Whether this 404 is written as a `route.unregistered` event: sampled per client network, and
   * `suppressed` (events left out since the last one written) to carry in it.
   */
  report(network: string, target: string): { write: boolean; suppressed: number };
  close(): void;
}

// route.unregistered, per client network and window: each distinct method + path once (a repeat
// is left out), up to this many distinct ones; the rest is counted and said in the next event written.
// So every path a client probes leaves a record, and a flood of junk paths or one path hammered
// writes a bounded number of lines. Paths are remembered as 32-bit hashes (bounded memory).
export const UNREGISTERED_PATHS_PER_WINDOW = 50;
const EVENT_WINDOW_MS = 60_000;
const MAX_TRACKED = 5_000;

const POLICY = 'unregistered';

export function createUnregisteredGuard(config: BulwarkConfig, store: Store, events: EventBus): UnregisteredGuard {
  const { requests, per } = config.server.unregistered;
  const bans = createIpBanCheck(config, store, events);
  const counters = createCounters(config, store, events, 'unregistered');
  const limitSampler = new RefusalSampler();
  const seen = new Map<string, { until: number; paths: Set<number>; suppressed: number }>();

  const limited = (network: string, resetMs: number): Deny => {
    const resetS = Math.max(1, Math.ceil(resetMs / 1000));
    const windowS = Math.ceil(per / 1000);
    return deny('RATE_LIMITED', `Rate limit of ${requests} requests to unregistered paths per ${windowS} s reached; retry in ${resetS} s.`, {
      headers: { 'retry-after': String(resetS), 'ratelimit-policy': `"${POLICY}";q=${requests};w=${windowS}`, ratelimit: `"${POLICY}";r=0;t=${resetS}` },
      quiet: !limitSampler.shouldReport(network, per),
      event: { action: 'ratelimit.exceeded', severity: 'low', reason: POLICY, details: { unit: 'requests', limit: requests, windowMs: per } },
    });
  };

  const limit = async (network: string): Promise<Deny | undefined> => {
    try {
      const r = await counters.hit(`rl:(unregistered):${network}`, requests, per);
      return r === 'allow' || r.allowed ? undefined : limited(network, r.resetMs);
    } catch {
      // The store failed and the policy is deny: the answer is a refusal (the 404) either way.
      return undefined;
    }
  };

  return {
    check(network) {
      let ban;
      try {
        ban = bans.check(network);
      } catch {
        ban = undefined;
      }
      if (ban instanceof Promise) {
        return ban.then(
          (v) => (v.action === 'deny' ? v : limit(network)),
          () => limit(network),
        );
      }
      return ban?.action === 'deny' ? ban : limit(network);
    },
    report(network, target) {
      const now = Date.now();
      let w = seen.get(network);
      let carried = 0;
      if (!w || w.until <= now) {
        carried = w?.suppressed ?? 0;
        if (!w && seen.size >= MAX_TRACKED) {
          for (const [k, v] of seen) if (v.until <= now) seen.delete(k);
          if (seen.size >= MAX_TRACKED) seen.clear();
        }
        w = { until: now + EVENT_WINDOW_MS, paths: new Set(), suppressed: 0 };
        seen.set(network, w);
      }
      const h = pathHash(target);
      if (w.paths.has(h) || w.paths.size >= UNREGISTERED_PATHS_PER_WINDOW) {
        w.suppressed++;
        return { write: false, suppressed: 0 };
      }
      w.paths.add(h);
      const suppressed = carried + w.suppressed;
      w.suppressed = 0;
      return { write: true, suppressed };
    },
    close: bans.close,
  };
}

/** FNV-1a, 32 bits: enough to tell one client's paths apart within a window. */
function pathHash(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
