/** Tokens an upstream billed for one exchange; the total is input + output. */
export interface Usage {
  input: number;
  output: number;
}

export interface UsageResult {
  /** What the upstream reported, or undefined when it reported nothing readable. */
  usage: Usage | undefined;
  /**
   * Whether `usage` is the upstream's final count: a JSON answer's, or a stream's closing report
   * (OpenAI's include_usage chunk, Anthropic message_delta, Responses response.completed). A
   * stream cut before it shows only a running count (Anthropic message_start says output 1).
   */
  final: boolean;
  /** Tokens of the generated text seen (0 without a counter): the fallback when usage is undefined. */
  estimatedOutput: number;
}

/** Watches an upstream response body as it streams past; it never changes or holds back bytes. */
export interface UsageObserver {
  onChunk(chunk: Buffer): void;
  onEnd(): UsageResult;
}

export interface UsageObserverOptions {
  contentType: string | undefined;
  count?: (text: string) => number;
  /** JSON answers are parsed whole; above this many bytes they are not buffered (usage undefined). */
  maxJsonBytes?: number;
}

const DEFAULT_MAX_JSON_BYTES = 4 * 1024 * 1024;
/** Usage and text deltas are small; an event this large is not one we need, so memory stays bounded. */
const MAX_EVENT_BYTES = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const tokenCount = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * Usage fields seen so far. Each keeps its largest value: streamed counters are cumulative (the
 * latest is the largest), and the max also ignores a provider's zero placeholder in a later event.
 */
class UsageTally {
  private readonly fields = new Map<string, number>();
  /** A closing report was read (see UsageResult.final). */
  final = false;

  add(u: unknown, final = false): void {
    if (!isRecord(u)) return;
    if (final) this.final = true;
    for (const key of ['prompt_tokens', 'completion_tokens', 'input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'total_tokens']) this.set(key, u[key]);
    // Reasoning tokens: OpenAI counts them inside completion_tokens / output_tokens, but they are
    // billed output whatever a compatible server does with them, so output is never below them.
    for (const details of [u.completion_tokens_details, u.output_tokens_details]) if (isRecord(details)) this.set('reasoning_tokens', details.reasoning_tokens);
  }

  private set(key: string, v: unknown): void {
    const n = tokenCount(v);
    if (n !== undefined) this.fields.set(key, Math.max(n, this.fields.get(key) ?? 0));
  }

  result(): Usage | undefined {
    if (this.fields.size === 0) return undefined;
    const f = (k: string): number => this.fields.get(k) ?? 0;
    // OpenAI chat/completions/embeddings say prompt/completion; Anthropic and the OpenAI Responses
    // API say input/output. Anthropic bills cache writes and reads apart from input_tokens (OpenAI's
    // cached_tokens are a subset of input_tokens, so they are not added).
    const usesInputNames = this.fields.has('input_tokens') || this.fields.has('cache_creation_input_tokens') || this.fields.has('cache_read_input_tokens');
    const input = usesInputNames ? f('input_tokens') + f('cache_creation_input_tokens') + f('cache_read_input_tokens') : f('prompt_tokens');
    let output = Math.max(this.fields.has('output_tokens') ? f('output_tokens') : f('completion_tokens'), f('reasoning_tokens'));
    // A total above the parts counts something the parts left out (reasoning reported apart).
    if (f('total_tokens') > input + output) output = f('total_tokens') - input;
    return { input, output };
  }
}

/** Counts generated text piece by piece; a token split across two pieces counts twice (slight overcount). */
class OutputCounter {
  total = 0;
  constructor(private readonly count: ((text: string) => number) | undefined) {}

  add(v: unknown): void {
    if (this.count === undefined || typeof v !== 'string' || v.length === 0) return;
    try {
      const n = this.count(v);
      if (Number.isFinite(n) && n > 0) this.total += Math.ceil(n);
    } catch {
      // an estimate is optional; never fail the response over it
    }
  }
}

/** OpenAI-style choices, streamed (`delta`) or whole (`message`), plus completions' `text`. */
function addChoices(out: OutputCounter, choices: unknown): void {
  if (!Array.isArray(choices)) return;
  for (const c of choices) {
    if (!isRecord(c)) continue;
    out.add(c.text);
    for (const m of [c.delta, c.message]) {
      if (!isRecord(m)) continue;
      out.add(m.content);
      out.add(m.refusal);
      out.add(m.reasoning_content); // reasoning models served through OpenAI-compatible APIs
      if (Array.isArray(m.tool_calls)) {
        for (const call of m.tool_calls) if (isRecord(call) && isRecord(call.function)) out.add(call.function.arguments);
      }
      if (isRecord(m.function_call)) out.add(m.function_call.arguments);
    }
  }
}

/** Responses API stream events whose `delta` is generated text. */
const RESPONSES_TEXT_DELTAS = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.reasoning_text.delta',
  'response.reasoning_summary_text.delta',
]);

/** Responses API events that close a response, with its usage. */
const RESPONSES_CLOSING = new Set(['response.completed', 'response.incomplete', 'response.failed']);

function observeEvent(ev: Record<string, unknown>, eventName: string, tally: UsageTally, out: OutputCounter): void {
  const type = typeof ev.type === 'string' ? ev.type : eventName;
  // OpenAI's include_usage chunk has no choices; a chunk with choices carries a running count
  // (vLLM continuous_usage_stats). Anthropic's message_delta closes the message.
  const closing = (Array.isArray(ev.choices) && ev.choices.length === 0) || type === 'message_delta';
  tally.add(ev.usage, closing);
  if (isRecord(ev.message)) tally.add(ev.message.usage); // Anthropic message_start: output is a placeholder
  if (type.startsWith('response.') && isRecord(ev.response)) tally.add(ev.response.usage, RESPONSES_CLOSING.has(type));
  addChoices(out, ev.choices);
  if (type === 'content_block_delta' && isRecord(ev.delta)) {
    out.add(ev.delta.text);
    out.add(ev.delta.partial_json);
    out.add(ev.delta.thinking);
  }
  if (RESPONSES_TEXT_DELTAS.has(type)) out.add(ev.delta);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

export function createUsageObserver(opts: UsageObserverOptions): UsageObserver {
  const type = mediaType(opts.contentType);
  const out = new OutputCounter(opts.count);
  if (type === 'text/event-stream') return sseObserver(out);
  if (type === 'application/json' || type.endsWith('+json')) return jsonObserver(out, opts.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES);
  return { onChunk() {}, onEnd: () => ({ usage: undefined, final: false, estimatedOutput: 0 }) };
}

function jsonObserver(out: OutputCounter, maxBytes: number): UsageObserver {
  let chunks: Buffer[] = [];
  let size = 0;
  let oversize = false;
  let result: UsageResult | undefined;
  return {
    onChunk(chunk) {
      if (oversize || result) return;
      size += chunk.length;
      if (size > maxBytes) {
        oversize = true;
        chunks = []; // release what was held; the answer is too large to parse
        return;
      }
      chunks.push(chunk);
    },
    onEnd() {
      if (result) return result;
      if (oversize) return (result = { usage: undefined, final: false, estimatedOutput: 0 });
      const doc = parseJson(Buffer.concat(chunks).toString('utf8'));
      chunks = [];
      const tally = new UsageTally();
      if (isRecord(doc)) {
        tally.add(doc.usage);
        // Reported usage settles the budget: counting the answer's text would be wasted work.
        const reported = tally.result();
        if (reported) return (result = { usage: reported, final: true, estimatedOutput: 0 });
        addChoices(out, doc.choices);
        if (Array.isArray(doc.content)) {
          // Anthropic: text and tool_use blocks
          for (const b of doc.content) {
            if (!isRecord(b)) continue;
            out.add(b.text);
            if (b.type === 'tool_use' && b.input !== undefined) out.add(JSON.stringify(b.input));
          }
        }
        if (Array.isArray(doc.output)) {
          // Responses API: output items holding output_text parts
          for (const item of doc.output) {
            if (!isRecord(item) || !Array.isArray(item.content)) continue;
            for (const part of item.content) if (isRecord(part)) out.add(part.text);
          }
        }
      }
      return (result = { usage: tally.result(), final: true, estimatedOutput: out.total });
    },
  };
}

/**
 * An incremental text/event-stream parser. It splits lines on bytes (CR, LF and CRLF are ASCII
 * and never occur inside a multi-byte UTF-8 sequence), so a chunk may end anywhere, even inside a
 * character, and only whole lines are decoded.
 */
function sseObserver(out: OutputCounter): UsageObserver {
  const tally = new UsageTally();
  let line: Buffer[] = [];
  let lineBytes = 0;
  let skippingLine = false; // the current line outgrew the bound: drop it up to its end
  let afterCR = false; // a chunk ended in CR: an LF opening the next one belongs to it
  let data: string[] = [];
  let dataBytes = 0;
  let skippingEvent = false;
  let eventName = '';
  let firstLine = true;
  let result: UsageResult | undefined;

  const dispatch = (): void => {
    const skipped = skippingEvent;
    const payload = data.join('\n');
    const name = eventName;
    data = [];
    dataBytes = 0;
    skippingEvent = false;
    eventName = '';
    if (skipped || payload === '' || payload.trim() === '[DONE]') return;
    const ev = parseJson(payload);
    if (!isRecord(ev)) return;
    try {
      observeEvent(ev, name, tally, out);
    } catch {
      // observing must never break the proxied stream
    }
  };

  const onLine = (raw: string): void => {
    if (raw === '') return dispatch();
    if (raw.startsWith(':')) return; // comment / keep-alive
    const colon = raw.indexOf(':');
    const field = colon < 0 ? raw : raw.slice(0, colon);
    let value = colon < 0 ? '' : raw.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') eventName = value;
    else if (field === 'data' && !skippingEvent) {
      dataBytes += raw.length + 1;
      if (dataBytes > MAX_EVENT_BYTES) {
        skippingEvent = true;
        data = [];
      } else data.push(value);
    }
    // id, retry and unknown fields carry nothing about usage
  };

  const endLine = (): void => {
    if (skippingLine) {
      skippingLine = false;
      skippingEvent = true; // the dropped line may have been part of this event's data
    } else {
      const text = Buffer.concat(line, lineBytes).toString('utf8');
      onLine(firstLine && text.startsWith('\uFEFF') ? text.slice(1) : text); // the spec allows a leading BOM
    }
    firstLine = false;
    line = [];
    lineBytes = 0;
  };

  const appendToLine = (part: Buffer): void => {
    if (skippingLine || part.length === 0) return;
    lineBytes += part.length;
    if (lineBytes > MAX_EVENT_BYTES) {
      skippingLine = true;
      line = [];
      lineBytes = 0;
      return;
    }
    line.push(part);
  };

  return {
    onChunk(chunk) {
      if (result) return;
      let pos = 0;
      if (afterCR && chunk.length > 0) {
        afterCR = false;
        if (chunk[0] === LF) pos = 1;
      }
      // Cached positions keep the scan linear even when CRs are absent.
      let nextLF = chunk.indexOf(LF, pos);
      let nextCR = chunk.indexOf(CR, pos);
      while (pos < chunk.length) {
        if (nextLF >= 0 && nextLF < pos) nextLF = chunk.indexOf(LF, pos);
        if (nextCR >= 0 && nextCR < pos) nextCR = chunk.indexOf(CR, pos);
        const end = nextLF < 0 ? nextCR : nextCR < 0 ? nextLF : Math.min(nextLF, nextCR);
        if (end < 0) {
          appendToLine(chunk.subarray(pos));
          break;
        }
        appendToLine(chunk.subarray(pos, end));
        endLine();
        pos = end + 1;
        if (chunk[end] === CR) {
          if (pos === chunk.length) afterCR = true;
          else if (chunk[pos] === LF) pos++;
        }
      }
    },
    onEnd() {
      if (result) return result;
      // An unterminated last line and event still count: the stream may be cut after the usage.
      if (lineBytes > 0 || skippingLine) endLine();
      dispatch();
      return (result = { usage: tally.result(), final: tally.final, estimatedOutput: out.total });
    },
  };
}
