import type { ServerResponse } from 'node:http';
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
  if (p.close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
  return status;
}
