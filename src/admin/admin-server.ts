import { listenOn } from '../server/listen.js';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { BulwarkConfig } from '../config/schema.js';
import type { EventBus } from '../events/bus.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import { bulwarkVersion } from '../metrics/version.js';
import { sendProblem } from '../server/respond.js';

export type AdminConfig = NonNullable<BulwarkConfig['admin']>;
type ServerTls = NonNullable<BulwarkConfig['server']['tls']>;

/** What /api/status reports beyond version and uptime; read on every call. */
export interface AdminStatus {
  routes: number;
}

export interface AdminServerOptions {
  config: AdminConfig;
  metrics: GatewayMetrics;
  /**
   * Certificate and key the admin listener presents: the data port's `server.tls`. Used (and
   * required) when `config.clientCa` is set; without a client CA the admin listener is plain HTTP.
   */
  tls?: ServerTls | undefined;
  /** Live figures for /api/status (the runtime changes on reload). */
  status?: () => AdminStatus;
  /** auth.failure events for refused admin calls (sampled: at most one every 10 s). */
  events?: EventBus;
  /** Default: package.json's. */
  version?: string;
}

export interface AdminServer {
  readonly server: http.Server;
  /** Base URL, e.g. http://127.0.0.1:9901. */
  readonly url: string;
  /** Re-reads certificate, key and client CA (rotation); false when plain HTTP or the files are bad. */
  reloadTls(): boolean;
  /**
   * Applies a reloaded `admin` section: a new token takes effect at once. Returns false (and
   * changes nothing) when `listen` or `clientCa` changed (restart needed) or nothing would
   * authenticate any more.
   */
  reload(next: AdminConfig): boolean;
  close(): Promise<void>;
}

/** A config the admin listener cannot run with; surfaced like a config error. */
export class AdminConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminConfigError';
  }
}

const REALM = 'Bearer realm="bulwark-admin"';
const AUTH_EVENT_EVERY_MS = 10_000;

/**
 * The admin listener (SPEC §6): every call needs `Authorization: Bearer <admin.token>` or a client
 * certificate that chains to `admin.clientCa`, checked before anything else, so an unauthenticated
 * caller learns nothing, not even which paths exist. The token is compared as SHA-256 digests in
 * constant time and never written anywhere.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { config, metrics } = options;
  if (config.token === undefined && config.clientCa === undefined) {
    throw new AdminConfigError('admin: set admin.token or admin.clientCa; every admin call must authenticate');
  }
  if (config.clientCa !== undefined && options.tls === undefined) {
    throw new AdminConfigError('admin.clientCa needs server.tls: the admin listener presents the server certificate');
  }
  let tokenDigest = config.token !== undefined ? sha256(config.token) : undefined;
  const startedAt = Date.now();
  const version = options.version ?? bulwarkVersion();
  let lastAuthEvent = 0;
  let suppressed = 0;

  const authorized = (req: http.IncomingMessage): boolean => {
    if (config.clientCa !== undefined && (req.socket as Partial<TLSSocket>).authorized === true) return true;
    if (tokenDigest === undefined) return false;
    const presented = bearerToken(req.rawHeaders);
    return presented !== undefined && timingSafeEqual(sha256(presented), tokenDigest);
  };

  const refuse = (req: http.IncomingMessage, res: http.ServerResponse, requestId: string) => {
    metrics.adminAuthFailed();
    const now = Date.now();
    if (options.events && now - lastAuthEvent >= AUTH_EVENT_EVERY_MS) {
      lastAuthEvent = now;
      const ip = req.socket.remoteAddress?.replace(/^::ffff:(?=\d)/, '');
      options.events.emit({
        action: 'auth.failure', severity: 'medium', outcome: 'failure', reason: 'admin_credentials', code: 'AUTH_REQUIRED', status: 401,
        requestId, method: req.method ?? 'GET', path: pathOf(req.url), ...(ip ? { sourceIp: ip } : {}),
        details: { listener: 'admin', suppressed },
      });
      suppressed = 0;
    } else {
      suppressed++;
    }
    sendProblem(res, { code: 'AUTH_REQUIRED', detail: 'An admin token or client certificate is required.', requestId, headers: { 'www-authenticate': REALM } });
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const requestId = randomUUID();
    if (!authorized(req)) return refuse(req, res, requestId);
    const method = req.method ?? 'GET';
    const path = pathOf(req.url);
    const head = method === 'HEAD';
    if (method === 'GET' || head) {
      if (path === '/metrics') {
        metrics.metrics().then(
          (text) => send(res, 200, metrics.contentType, text, head),
          () => sendProblem(res, { code: 'INTERNAL_ERROR', detail: 'The metrics could not be collected.', requestId }),
        );
        return;
      }
      if (path === '/api/status') {
        const body = JSON.stringify({ status: 'ok', version, uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000), ...options.status?.() });
        return send(res, 200, 'application/json', body, head);
      }
    }
    sendProblem(res, { code: 'ROUTE_NOT_FOUND', detail: 'No such admin endpoint.', requestId });
  };

  const limits: http.ServerOptions = {
    requestTimeout: 30_000,
    headersTimeout: 10_000,
    keepAliveTimeout: 5_000,
    maxHeaderSize: 16 * 1024,
    connectionsCheckingInterval: 1_000,
    insecureHTTPParser: false,
    joinDuplicateHeaders: false,
  };
  const tls = options.tls;
  const secure = config.clientCa !== undefined && tls !== undefined;
  const material = () => ({ cert: readFileSync((tls as ServerTls).cert), key: readFileSync((tls as ServerTls).key), ca: readFileSync(config.clientCa as string) });
  let server: http.Server;
  try {
    server = secure
      ? https.createServer(
          {
            ...limits,
            ...material(),
            minVersion: (tls as ServerTls).minVersion,
            requestCert: true,
            // With a token configured, token-only clients must still get through the handshake;
            // the certificate is then checked per request (socket.authorized). Without one, the
            // handshake itself refuses clients without a valid certificate.
            rejectUnauthorized: config.token === undefined,
          },
          handler,
        )
      : http.createServer(limits, handler);
  } catch (err) {
    throw new AdminConfigError(`admin TLS: ${err instanceof Error ? err.message : 'unreadable certificate, key or client CA'}`);
  }
  // The admin API is for a few operators and a scraper.
  server.maxConnections = 64;

  const url = await listenOn(server, config.listen, secure);

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    reloadTls() {
      if (!secure) return false;
      try {
        (server as https.Server).setSecureContext({ ...material(), minVersion: (tls as ServerTls).minVersion });
        return true;
      } catch {
        return false;
      }
    },
    reload(next) {
      if (next.listen !== config.listen || next.clientCa !== config.clientCa) return false;
      if (next.token === undefined && next.clientCa === undefined) return false;
      // Started certificate-only, the handshake refuses clients without one: a token alone could not connect.
      if (secure && config.token === undefined && next.token !== undefined) return false;
      tokenDigest = next.token !== undefined ? sha256(next.token) : undefined;
      return true;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}

/**
 * The token of the one Authorization header (`Bearer <token>`, scheme case-insensitive). Two
 * Authorization lines are refused rather than guessed between.
 */
export function bearerToken(rawHeaders: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() !== 'authorization') continue;
    if (value !== undefined) return undefined;
    value = rawHeaders[i + 1] ?? '';
  }
  if (value === undefined) return undefined;
  const m = /^Bearer +(\S(?:.*\S)?) *$/i.exec(value);
  return m?.[1];
}

function send(res: http.ServerResponse, status: number, type: string, body: string, head: boolean): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'content-type': type, 'content-length': bytes.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(head ? undefined : bytes);
}
