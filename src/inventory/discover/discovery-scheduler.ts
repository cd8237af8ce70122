import type { BulwarkConfig } from '../../config/schema.js';
import type { EventBus } from '../../events/bus.js';
import type { Store } from '../../stores/store.js';
import { runDiscovery } from './drift.js';
import type { SpecFetchOptions } from './load-spec.js';

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
