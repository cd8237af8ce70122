import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { BulwarkConfig } from '../config/schema.js';
import { ERROR_CODES, problemType, type ErrorCode } from '../core/errors.js';
import type { EventBus } from '../events/bus.js';

type Limits = BulwarkConfig['server']['limits'];

/** Server options that enforce G-1 and G-9; shared by the HTTP and HTTPS listeners. */
export function serverOptions(limits: Limits): http.ServerOptions {
  return {
    requestTimeout: limits.requestTimeout,
    headersTimeout: limits.headersTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    maxHeaderSize: limits.headerBytes,
    // Node checks the two timeouts on this interval (default 30 s): a slowloris connection would
    // otherwise live up to 30 s past its deadline.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeout / 4))),
    insecureHTTPParser: false,
    // checkFraming answers a missing Host (400 + problem body) itself. Node's own check answers
    // without calling the handler, so a request pipelined behind that 400 would still be processed
    // (see the closing-socket guard in handle-request.ts).
    requireHostHeader: false,
    joinDuplicateHeaders: false,
    noDelay: true,
  };
}

type TlsConfig = NonNullable<BulwarkConfig['server']['tls']>;

/** Certificate, key and client CA as read now: called at start and on every rotation. */
export function readTlsMaterial(tls: TlsConfig): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return { cert: readFileSync(tls.cert), key: readFileSync(tls.key), ...(tls.clientCa ? { ca: readFileSync(tls.clientCa) } : {}) };
}

export function createDataServer(config: BulwarkConfig, handler: http.RequestListener, events: EventBus): http.Server {
  const tls = config.server.tls;
  const opts = serverOptions(config.server.limits);
  const server = tls
    ? https.createServer(
        {
          ...opts,
          ...readTlsMaterial(tls),
          minVersion: tls.minVersion,
          ...(tls.clientCa ? { requestCert: true, rejectUnauthorized: tls.requireClientCert } : {}),
        },
        handler,
      )
    : http.createServer(opts, handler);
  if (tls) {
    server.on('tlsClientError', (err: Error & { code?: string }, socket: { remoteAddress?: string }) => {
      events.emit({ action: 'tls.client_rejected', severity: 'medium', outcome: 'failure', reason: err.code ?? 'handshake_failed', ...(socket.remoteAddress ? { sourceIp: socket.remoteAddress.replace(/^::ffff:(?=\d)/, '') } : {}) });
    });
  }
  const refuse = (socket: Socket, status: number, code: ErrorCode, detail: string, reason: string) => {
    const requestId = writeRawProblem(socket, status, code, detail);
    events.emit({
      action: 'input.invalid', severity: 'medium', outcome: 'failure', reason, code, status, requestId,
      ...(socket.remoteAddress ? { sourceIp: socket.remoteAddress.replace(/^::ffff:(?=\d)/, '') } : {}),
    });
  };
  // Expect: 100-continue goes through the normal handler, which sends 100 only once the request
  // passed every check that runs before the body (Node would otherwise invite any body at once).
  server.on('checkContinue', handler);
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // The parser can fail on bytes that follow a request the handler has already answered (a
    // refused Transfer-Encoding or an unknown route is answered at headers-complete, then llhttp
    // fails on the body). A second status line after that answer desynchronizes the client and any
    // pooling proxy in front: close once the answer is flushed instead (Node's default does the same).
    const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (inFlight?.headersSent) {
      socket.destroySoon();
      return;
    }
    if (err.code === 'HPE_HEADER_OVERFLOW') return refuse(socket, 431, 'INVALID_REQUEST', 'Request headers are too large.', 'header_overflow');
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return refuse(socket, 408, 'REQUEST_TIMEOUT', 'The request did not arrive in time.', 'request_timeout');
    refuse(socket, 400, 'INVALID_REQUEST', 'The request could not be parsed.', (err.code ?? 'parse_error').toLowerCase());
  });
  // CONNECT is never tunnelled; Node would otherwise drop the socket without an answer.
  server.on('connect', (_req: http.IncomingMessage, socket: Socket) => refuse(socket, 501, 'INVALID_REQUEST', 'CONNECT is not supported.', 'connect_not_supported'));
  return server;
}

/** Applies limits that Node lets us change on a running server (config reload). */
export function applyServerLimits(server: http.Server, limits: Limits): void {
  server.requestTimeout = limits.requestTimeout;
  server.headersTimeout = limits.headersTimeout;
  server.keepAliveTimeout = limits.keepAliveTimeout;
}

const REASON: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 501: 'Not Implemented' };

/** For errors before Node built a request object: a problem document, then the connection closes. */
function writeRawProblem(socket: Socket, status: number, code: ErrorCode, detail: string): string {
  const requestId = randomUUID();
  const body = JSON.stringify({ type: problemType(code), title: ERROR_CODES[code].title, status, code, detail, requestId });
  socket.end(
    `HTTP/1.1 ${status} ${REASON[status]}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    // The parser state is unknown after an error: nothing more is read from this connection.
    () => socket.destroy(),
  );
  return requestId;
}
