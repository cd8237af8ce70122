import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the mock upstream received it: what "reached the upstream" means in tests. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export interface MockLlm {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Resolves when the SSE stream of a request was torn down early by the caller (client abort). */
  readonly aborted: Promise<void>;
  close(): Promise<void>;
}

export interface MockLlmOptions {
  port?: number;
  host?: string;
  /** Gap between SSE events, ms (default 25). */
  sseDelayMs?: number;
  /** SSE content events to send: the answer's words, cycled to reach this many (default: one per word). */
  sseEvents?: number;
}

/**
 * A small OpenAI- and Anthropic-compatible upstream for the demo, the tests and the benchmark.
 * It also serves endpoints a real model server should not expose (`/debug`, `/admin`), which is
 * what the gateway's default deny keeps away from clients.
 */
export async function startMockLlm(options: MockLlmOptions = {}): Promise<MockLlm> {
  const requests: RecordedRequest[] = [];
  const sseDelayMs = options.sseDelayMs ?? 25;
  const sseEvents = options.sseEvents;
  let markAborted: () => void = () => {};
  const aborted = new Promise<void>((resolve) => {
    markAborted = resolve;
  });

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body });
    const path = (req.url ?? '').split('?')[0];
    let parsed: Record<string, unknown> = {};
    try {
      parsed = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      parsed = {};
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      const text = answerFor(parsed);
      if (parsed.stream === true) return streamChat(res, text, sseDelayMs, sseEvents, markAborted);
      return json(res, 200, chatCompletion(text, parsed));
    }
    if (req.method === 'POST' && path === '/v1/completions') return json(res, 200, { id: `cmpl-${randomUUID()}`, object: 'text_completion', choices: [{ index: 0, text: 'ok', finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } });
    if (req.method === 'POST' && path === '/v1/embeddings') return json(res, 200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.0123, -0.0456, 0.0789] }], usage: { prompt_tokens: 2, total_tokens: 2 } });
    if (req.method === 'POST' && path === '/v1/messages') return json(res, 200, { id: `msg_${randomUUID()}`, type: 'message', role: 'assistant', content: [{ type: 'text', text: answerFor(parsed) }], usage: { input_tokens: 5, output_tokens: 7 } });
    // An ingestion endpoint (feedback, RAG uploads): what the poisoning guard protects.
    if (req.method === 'POST' && path === '/v1/feedback') return json(res, 201, { stored: true });
    if (req.method === 'GET' && path === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: 'mock-gpt', object: 'model' }] });
    if (path === '/debug' || path === '/admin') return json(res, 200, { internal: true, note: 'a shadow endpoint that should never be reachable through the gateway' });
    return json(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    aborted,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: unknown; content?: unknown }>) : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === 'user' && typeof m.content === 'string') return m.content;
  }
  return '';
}

function answerFor(body: Record<string, unknown>): string {
  const said = lastUserText(body).slice(0, 200);
  return said ? `Mock answer to: ${said}` : 'Mock answer.';
}

function chatCompletion(text: string, body: Record<string, unknown>) {
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : 'mock-gpt',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
  };
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream-secret-header': 'internal', 'set-cookie': 'upstream=1' });
  res.end(body);
}

function streamChat(res: http.ServerResponse, text: string, delayMs: number, eventCount: number | undefined, onAbort: () => void): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const id = `chatcmpl-${randomUUID()}`;
  const words = text.split(/(?<= )/);
  const events = eventCount ?? words.length;
  const pieces: string[] = [];
  for (let i = 0; i < events; i++) pieces.push(words[i % words.length] ?? '');
  let i = 0;
  let finished = false;
  const timer = setInterval(() => {
    if (i < pieces.length) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: pieces[i] } }] })}\n\n`);
      i++;
      return;
    }
    clearInterval(timer);
    finished = true;
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 12, completion_tokens: events, total_tokens: 12 + events } })}\n\n`);
    res.end('data: [DONE]\n\n');
  }, delayMs);
  res.on('close', () => {
    clearInterval(timer);
    if (!finished) onAbort();
  });
}
