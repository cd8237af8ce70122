import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the greedy upstream received and what it billed for it. */
export interface GreedyExchange {
  path: string;
  body: Record<string, unknown>;
  /** prompt + completion tokens it reported (or would have, for a stream without usage). */
  billed: number;
}

export interface GreedyLlmOptions {
  /** Output tokens per choice when the request carries no cap: the model's own limit. */
  uncapped?: number;
  /** Prompt tokens it bills: keep it at or under the gateway's estimate of the test prompt. */
  promptTokens?: number;
  /**
   * Report no usage, whatever the request asked (a non-compliant upstream). `final`: Anthropic
   * streams still open with message_start's usage (output 1), but the final count never comes.
   */
  withholdUsage?: boolean | 'final';
  /** The visible answer (default: three words). */
  text?: string;
}

export interface GreedyLlm {
  readonly url: string;
  readonly exchanges: GreedyExchange[];
  /** Tokens billed over every exchange: what the operator pays. */
  billed(): number;
  close(): Promise<void>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/**
 * An OpenAI/Anthropic-shaped upstream that always spends everything it is allowed: each choice
 * uses the whole cap it received (or `uncapped` without one), `n` and `best_of` multiply, and it
 * reports usage like the real APIs (a stream carries the usage chunk only when
 * `stream_options.include_usage` asked for it, with `usage: null` on the other chunks). Most of
 * what it bills is hidden reasoning (OpenAI `reasoning_tokens`, an Anthropic thinking block):
 * the visible text is three words.
 */
export async function startGreedyLlm(options: GreedyLlmOptions = {}): Promise<GreedyLlm> {
  const uncapped = options.uncapped ?? 2000;
  const promptTokens = options.promptTokens ?? 5;
  const exchanges: GreedyExchange[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    const body = isRecord(parsed) ? parsed : {};
    const path = (req.url ?? '').split('?')[0] ?? '';
    const cap = num(body.max_completion_tokens) ?? num(body.max_tokens) ?? uncapped;
    const choices = Math.max(num(body.n) ?? 1, num(body.best_of) ?? 1);
    const completion = cap * choices;
    exchanges.push({ path, body, billed: promptTokens + completion });
    const anthropic = path === '/v1/messages';
    const usage = anthropic
      ? { input_tokens: promptTokens, output_tokens: completion }
      : { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion, completion_tokens_details: { reasoning_tokens: completion - 3 } };
    const visible = options.text ?? 'three visible words';
    if (body.stream === true) return stream(res, anthropic, usage, body, options.withholdUsage ?? false);
    const answer = anthropic
      ? { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: visible }], ...(options.withholdUsage ? {} : { usage }) }
      : { id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: visible }, finish_reason: 'length' }], ...(options.withholdUsage ? {} : { usage }) };
    const text = JSON.stringify(answer);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    billed: () => exchanges.reduce((s, e) => s + e.billed, 0),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function stream(res: http.ServerResponse, anthropic: boolean, usage: Record<string, unknown>, body: Record<string, unknown>, withhold: boolean | 'final'): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const send = (v: unknown, event?: string) => res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(v)}\n\n`);
  if (anthropic) {
    send({ type: 'message_start', message: { id: 'msg_1', usage: withhold === true ? undefined : { input_tokens: usage.input_tokens, output_tokens: 1 } } }, 'message_start');
    send({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think.' } }, 'content_block_delta');
    send({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'three visible words' } }, 'content_block_delta');
    if (!withhold) send({ type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: usage.output_tokens } }, 'message_delta');
    send({ type: 'message_stop' }, 'message_stop');
    res.end();
    return;
  }
  const opts = body.stream_options;
  const withUsage = withhold === false && isRecord(opts) && opts.include_usage === true;
  for (const word of ['three ', 'visible ', 'words']) send({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: word } }], ...(withUsage ? { usage: null } : {}) });
  if (withUsage) send({ id: 'c1', object: 'chat.completion.chunk', choices: [], usage });
  res.end('data: [DONE]\n\n');
}
