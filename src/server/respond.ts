import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RouteKind } from '../config/schema-route.js';
import { ERROR_CODES, defaultStatus, problemType, type ErrorCode } from '../core/errors.js';
import { vendorEnvelope } from '../kinds/error-envelope.js';

export interface ProblemResponse {
  code: ErrorCode;
  status?: number | undefined;
  detail: string;
  requestId: string;
  kind?: RouteKind | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  /** Close the connection after the answer (framing errors, unread bodies). */
  close?: boolean;
  /** Extra fields of the problem document. */
  fields?: Readonly<Record<string, string | number>> | undefined;
}

/**
 * Connections answered with `Connection: close`. RFC 9112 §9.6: the server MUST NOT process
 * further requests on them; a request llhttp already parsed behind that answer (pipelined, or
 * smuggled behind a framing refusal) is dropped by the request handler.
 */
const closingSockets = new WeakSet<Socket>();

export function markClosing(res: ServerResponse): void {
  closingSockets.add(res.req.socket);
}

export function isClosing(socket: Socket): boolean {
  return closingSockets.has(socket);
}

/** Writes an RFC 9457 problem document (plus the vendor envelope on LLM kinds). Never a stack trace. */
export function sendProblem(res: ServerResponse, p: ProblemResponse): number {
  const allowed: readonly number[] = ERROR_CODES[p.code].status;
  const status = p.status !== undefined && allowed.includes(p.status) ? p.status : defaultStatus(p.code);
  if (res.headersSent) {
    // Mid-stream there is no way to send a status any more; cutting the connection is the only
    // signal that cannot be mistaken for a complete answer.
    res.destroy();
    return status;
  }
  const body = JSON.stringify({
    type: problemType(p.code),
    title: ERROR_CODES[p.code].title,
    status,
    code: p.code,
    detail: p.detail,
    requestId: p.requestId,
    ...p.fields,
    ...vendorEnvelope(p.kind, p.code, p.detail),
  });
  const headers: Record<string, string | number> = {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': p.requestId,
    ...p.headers,
  };
  if (p.close) {
    headers.connection = 'close';
    markClosing(res);
  }
  res.writeHead(status, headers);
  res.end(body);
  return status;
}
