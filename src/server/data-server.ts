import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { BulwarkConfig } from '../config/schema.js';
import { ERROR_CODES, problemType, type ErrorCode } from '../core/errors.js';

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
    requireHostHeader: true,
    joinDuplicateHeaders: false,
    noDelay: true,
  };
}

export function createDataServer(config: BulwarkConfig, handler: http.RequestListener): http.Server {
  const tls = config.server.tls;
  const opts = serverOptions(config.server.limits);
  const server = tls
    ? https.createServer(
        {
          ...opts,
          cert: readFileSync(tls.cert),
          key: readFileSync(tls.key),
          minVersion: tls.minVersion,
          ...(tls.clientCa ? { ca: readFileSync(tls.clientCa), requestCert: true, rejectUnauthorized: tls.requireClientCert } : {}),
        },
        handler,
      )
    : http.createServer(opts, handler);
  server.on('clientError', onClientError);
  // CONNECT is never tunnelled; Node would otherwise drop the socket without an answer.
  server.on('connect', (_req: http.IncomingMessage, socket: Socket) => writeRawProblem(socket, 501, 'INVALID_REQUEST', 'CONNECT is not supported.'));
  return server;
}

/** Applies limits that Node lets us change on a running server (config reload). */
export function applyServerLimits(server: http.Server, limits: Limits): void {
  server.requestTimeout = limits.requestTimeout;
  server.headersTimeout = limits.headersTimeout;
  server.keepAliveTimeout = limits.keepAliveTimeout;
}

function onClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') return writeRawProblem(socket, 431, 'INVALID_REQUEST', 'Request headers are too large.');
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return writeRawProblem(socket, 408, 'REQUEST_TIMEOUT', 'The request did not arrive in time.');
  writeRawProblem(socket, 400, 'INVALID_REQUEST', 'The request could not be parsed.');
}

const REASON: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 501: 'Not Implemented' };

/** For errors before Node built a request object: a problem document, then the connection closes. */
function writeRawProblem(socket: Socket, status: number, code: ErrorCode, detail: string): void {
  const body = JSON.stringify({ type: problemType(code), title: ERROR_CODES[code].title, status, code, detail });
  socket.end(
    `HTTP/1.1 ${status} ${REASON[status]}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  socket.destroySoon?.();
}
