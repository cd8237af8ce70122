import type { Server } from 'node:http';
import { loadConfigFile } from '../config/load.js';
import { ConfigError } from '../config/config-error.js';
import type { BulwarkConfig } from '../config/schema.js';
import { createDecisionCounters, type DecisionCounters } from '../core/counters.js';
import type { StageDefinition } from '../core/stage.js';
import { createEventBus, type EventBus } from '../events/bus.js';
import { createSinks } from '../events/create-sinks.js';
import { createRequestHandler } from '../server/handle-request.js';
import { applyServerLimits, createDataServer, readTlsMaterial } from '../server/data-server.js';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Server as HttpsServer } from 'node:https';
import { createStore } from '../stores/create-store.js';
import type { Store } from '../stores/store.js';
import { createInflight } from './inflight.js';
import { buildRuntime, type Runtime } from './runtime.js';
import type { EventInput } from '../events/event.js';
import { listenOn } from '../server/listen.js';
import { createInventoryRecorder } from '../inventory/recorder.js';
import { startDiscoveryScheduler } from '../inventory/discover/index.js';
import { compileRule, createAlertEngine } from '../events/alerts/index.js';
import { BUILTIN_STAGES } from './builtin-stages.js';
import { GatewayMetrics } from '../metrics/metrics.js';
import type { EventSink } from '../events/sink.js';
import { startAdminServer, type AdminServer } from '../admin/admin-server.js';

export interface GatewayOptions {
  config: BulwarkConfig;
  /** The file the config came from; reload() re-reads it. */
  configFile?: string;
  /** Stage definitions; defaults to the built-in ones. */
  stages?: readonly StageDefinition[];
  /** Supply a bus to capture events (tests, library mode); otherwise sinks come from config. */
  events?: EventBus;
  store?: Store;
  /** Metrics to record into (library mode); otherwise a new GatewayMetrics. */
  metrics?: GatewayMetrics;
  /** Where the stdout sink writes (default process.stdout). */
  stdout?: NodeJS.WritableStream;
}

export interface Gateway {
  readonly server: Server;
  readonly events: EventBus;
  readonly counters: DecisionCounters;
  readonly metrics: GatewayMetrics;
  /** The admin listener, when `admin` is configured. */
  readonly admin: AdminServer | undefined;
  readonly store: Store;
  /** The data-port base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  runtime(): Runtime;
  /**
   * Re-reads the config file (or takes `next`), builds a new runtime and swaps it in. An invalid
   * config is rejected (config.rejected) and the running one stays. Returns whether it applied.
   */
  reload(next?: BulwarkConfig): Promise<boolean>;
  /**
   * Re-reads the TLS certificate, key and client CA and serves them to new connections (rotation
   * without restart). Runs by itself when those files change. Returns whether it applied.
   */
  reloadTls(): boolean;
  /** Stops accepting, lets in-flight requests finish (up to server.drainTimeout), releases everything. */
  close(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  // The sinks this gateway made (none when the caller supplied the bus), for the sink metrics.
  // Webhooks report failed deliveries through the bus (only ever later, asynchronously).
  const sinkOptions = (c: BulwarkConfig) => ({ ...(options.stdout ? { stdout: options.stdout } : {}), emit: (i: EventInput) => events.emit(i), queueDir: dirname(c.state.sqlite.path) });
  let sinks: readonly EventSink[] = options.events ? [] : createSinks(config.events, sinkOptions(config));
  const events = options.events ?? createEventBus({ sinks });
  const ownsEvents = options.events === undefined;
  const store = options.store ?? createStore(config.state);
  const counters = createDecisionCounters();
  const stages = options.stages ?? BUILTIN_STAGES;
  let runtime = buildRuntime(config, { events, counters, store, stages });
  // Alert rules on the event stream: notify, ban, revokeKey, throttle (same store as the stages).
  const alerts = createAlertEngine({ rules: config.events.alerts, events, store, ipv6Prefix: config.server.ipv6Prefix });
  const inflight = createInflight();

  // Upstream OpenAPI specs compared with the routes every inventory.every (inventory.drift events).
  const discovery = config.inventory && config.inventory.openapi.length > 0
    ? startDiscoveryScheduler({ config, store, events, ...(options.configFile ? { baseDir: dirname(options.configFile) } : {}) })
    : undefined;
  const metrics = options.metrics ?? new GatewayMetrics({ processMetrics: config.admin !== undefined });
  metrics.setRoutes(config.routes.map((r) => r.name));
  metrics.trackDecisions(counters);
  metrics.trackInflight(inflight);
  metrics.trackSinks(() => sinks);
  metrics.trackUpstreams(function* () {
    const seen = new Set<string>();
    for (const { upstream } of runtime.routes) {
      if (seen.has(upstream.name)) continue;
      seen.add(upstream.name);
      yield { name: upstream.name, active: upstream.admission.active, queued: upstream.admission.queued };
    }
  });
  metrics.watchEvents(events);

  // Every request, routed or not, as method + path template (shadow-API inventory).
  const inventory = config.inventory?.record === false ? undefined : createInventoryRecorder({ store, events });
  if (inventory) metrics.trackInventoryOverflow(() => inventory.overflow());
  const handler = createRequestHandler({ runtime: () => runtime, events, inflight, secure: config.server.tls !== undefined, metrics, ...(inventory ? { inventory } : {}) });
  const server = createDataServer(config, handler, events);
  const url = await listenOn(server, config.server.listen, config.server.tls !== undefined);
  let admin: AdminServer | undefined;
  if (config.admin) {
    try {
      admin = await startAdminServer({ config: config.admin, metrics, tls: config.server.tls, events, status: () => ({ routes: runtime.routes.length }) });
    } catch (err) {
      server.close();
      server.closeAllConnections();
      throw err;
    }
  }
  events.emit({ action: 'gateway.started', severity: 'low', outcome: 'success', message: `listening on ${url}`, details: { routes: config.routes.length } });

  const tls = config.server.tls;
  const reloadTls = (): boolean => {
    if (!tls) return false;
    try {
      (server as HttpsServer).setSecureContext({ ...readTlsMaterial(tls), minVersion: tls.minVersion });
      admin?.reloadTls();
      events.emit({ action: 'config.reloaded', severity: 'medium', outcome: 'success', details: { tls: 'certificate' } });
      return true;
    } catch (err) {
      // A half-written or mismatched pair is refused; the previous certificate keeps serving.
      events.emit({ action: 'config.rejected', severity: 'high', outcome: 'failure', reason: err instanceof Error ? err.message.slice(0, 200) : 'tls reload failed', details: { tls: 'certificate' } });
      return false;
    }
  };
  const tlsWatchers: FSWatcher[] = [];
  if (tls) {
    const files = [tls.cert, tls.key, ...(tls.clientCa ? [tls.clientCa] : [])];
    let timer: NodeJS.Timeout | undefined;
    for (const dir of new Set(files.map((f) => dirname(f)))) {
      const names = new Set(files.filter((f) => dirname(f) === dir).map((f) => basename(f)));
      tlsWatchers.push(
        watch(dir, (_e, name) => {
          if (name !== null && !names.has(name)) return;
          clearTimeout(timer);
          // A certificate and its key are usually replaced one after the other: wait for both.
          timer = setTimeout(reloadTls, 300);
        }),
      );
    }
  }

  let closing: Promise<void> | undefined;
  return {
    reloadTls,
    server,
    events,
    counters,
    metrics,
    admin,
    store,
    url,
    runtime: () => runtime,
    async reload(next) {
      let cfg: BulwarkConfig;
      let built: Runtime;
      try {
        if (next) cfg = next;
        else if (options.configFile) cfg = loadConfigFile(options.configFile).config;
        else return false;
        cfg.events.alerts.forEach(compileRule);
        built = buildRuntime(cfg, { events, counters, store, stages });
      } catch (err) {
        const issues = err instanceof ConfigError ? err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`) : [err instanceof Error ? err.message : 'unknown error'];
        events.emit({ action: 'config.rejected', severity: 'high', outcome: 'failure', reason: issues[0] ?? 'invalid config', details: { issues: issues.slice(0, 20), file: options.configFile ?? '<inline>' } });
        return false;
      }
      const old = runtime;
      runtime = built;
      alerts.update(cfg.events.alerts);
      applyServerLimits(server, cfg.server.limits);
      if (ownsEvents) {
        const next = createSinks(cfg.events, sinkOptions(cfg));
        sinks = next;
        await events.setSinks(next);
      }
      metrics.setRoutes(cfg.routes.map((r) => r.name));
      const adminApplied = cfg.admin === undefined ? old.config.admin === undefined : admin !== undefined && admin.reload(cfg.admin);
      const restartNeeded = !adminApplied || cfg.server.listen !== old.config.server.listen || JSON.stringify(cfg.server.tls) !== JSON.stringify(old.config.server.tls) || cfg.state.store !== old.config.state.store;
      events.emit({ action: 'config.reloaded', severity: 'medium', outcome: 'success', details: { routes: cfg.routes.length, restartNeeded } });
      // Old pools close once their in-flight requests finish (undici's close waits for them).
      void old.close();
      return true;
    },
    close() {
      closing ??= (async () => {
        for (const w of tlsWatchers) w.close();
        server.close();
        server.closeIdleConnections();
        const drained = await inflight.drain(runtime.config.server.drainTimeout);
        server.closeAllConnections();
        events.emit({ action: 'gateway.stopped', severity: 'low', outcome: 'success', details: { drained } });
        await runtime.close();
        await inventory?.close();
        await discovery?.stop();
        await alerts.close();
        await admin?.close();
        metrics.close();
        if (!options.store) await store.close();
        if (ownsEvents) await events.close();
      })();
      return closing;
    },
  };
}
