import http from 'node:http';
import assert from 'node:assert/strict';
import type { Fixture } from './fixture.js';
import type { RecordedRequest } from '../../src/demo/mock-llm.js';

export interface NodeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  text: string;
}

export interface NodeRequestOptions {
  method?: string;
  /** Sent as is (node:http only refuses characters that are illegal in a request line). */
  path?: string;
  /** Exactly the headers to send: node:http adds Host and, for a body, Content-Length only. */
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/**
 * One request through node:http with full control over the headers: unlike fetch it adds no
 * Content-Type, and it lets a test send Connection, TE, Trailer, Cookie, Proxy and friends.
 */
export function nodeRequest(port: number, options: NodeRequestOptions = {}): Promise<NodeResponse> {
  const headers: Record<string, string | string[]> = { ...options.headers };
  const names = Object.keys(headers).map((h) => h.toLowerCase());
  const body = options.body;
  if (body !== undefined && !names.includes('content-length') && !names.includes('transfer-encoding')) {
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'POST', path: options.path ?? '/v1/chat/completions', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** The upstream requests recorded since `before` (a length taken earlier). */
export function reachedSince(f: Pick<Fixture, 'mock'>, before: number): RecordedRequest[] {
  return f.mock.requests.slice(before);
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  requestId: string;
  error?: { message: string; type: string; code: string };
}

/** Asserts an RFC 9457 problem document with the given code, and that it names the response's request id. */
export function assertProblem(res: NodeResponse, code: string, statuses: readonly number[] = [res.status]): Problem {
  assert.ok(statuses.includes(res.status), `status ${res.status} not in ${statuses.join('/')}: ${res.text.slice(0, 300)}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const p = JSON.parse(res.text) as Problem;
  assert.equal(p.code, code, res.text);
  assert.equal(p.status, res.status);
  assert.equal(typeof p.type, 'string');
  assert.equal(typeof p.title, 'string');
  assert.equal(typeof p.detail, 'string');
  const rid = res.headers['x-request-id'];
  assert.equal(typeof rid, 'string', 'refusal carries X-Request-Id');
  assert.equal(p.requestId, rid);
  return p;
}
