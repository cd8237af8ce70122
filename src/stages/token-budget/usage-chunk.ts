import { ResponseRefused } from '../../core/stage.js';
import { deny } from '../../core/verdict.js';
import { SseSplitter } from '../output-guard/sse-events.js';

/** Kinds whose streams report usage only when `stream_options.include_usage` asks for it. */
const ASKS_FOR_USAGE = new Set(['openai-chat', 'openai-completions']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Makes a streamed request ask its upstream for usage. Returns true when the client had not asked
 * for it itself: the usage chunk is then the gateway's, and is removed from what the client gets.
 * The client's other stream options are kept.
 */
export function requestStreamUsage(kind: string, body: Record<string, unknown>): boolean {
  if (!ASKS_FOR_USAGE.has(kind) || body.stream !== true) return false;
  const opts = body.stream_options;
  if (isRecord(opts) && opts.include_usage === true) return false;
  body.stream_options = { ...(isRecord(opts) ? opts : {}), include_usage: true };
  return true;
}

// A usage object in an event's data; only such events are parsed.
const HAS_USAGE = /"usage"\s*:\s*\{/;

/** The chunk include_usage adds: usage, and no choices (OpenAI documents the array as empty). */
function isUsageChunk(lines: readonly string[]): boolean {
  const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n');
  if (!HAS_USAGE.test(data)) return false;
  try {
    const ev: unknown = JSON.parse(data);
    return isRecord(ev) && isRecord(ev.usage) && Array.isArray(ev.choices) && ev.choices.length === 0;
  } catch {
    return false;
  }
}

const refused = (): ResponseRefused =>
  new ResponseRefused(deny('OUTPUT_BLOCKED', 'The answer could not be inspected within bounds.', { quiet: true, event: { stage: 'rate-limit-tokens' } }));

/**
 * Passes an SSE stream event by event, minus the usage chunk the gateway asked for. An event is
 * held only until its blank line (bounded by the splitter: a larger event ends the stream, it
 * cannot be told apart from a usage chunk within bounds). The other events pass byte for byte;
 * their `"usage": null` fields, which include_usage also adds, are left as they are.
 */
export function usageChunkRemover(): { onChunk(chunk: Buffer): Buffer; onEnd(): Buffer } {
  const splitter = new SseSplitter();
  // A CRLF split across chunks: the splitter gives its LF to the next event's bytes. When the
  // event it ended was removed, that LF goes with it.
  let removedEndsInCr = false;
  const pass = (events: ReturnType<SseSplitter['push']>): Buffer => {
    const kept: Buffer[] = [];
    for (const ev of events) {
      let raw = ev.raw;
      if (removedEndsInCr && raw[0] === 0x0a) raw = raw.subarray(1);
      if (raw.length > 0) removedEndsInCr = false;
      if (isUsageChunk(ev.lines)) {
        removedEndsInCr = raw.at(-1) === 0x0d;
        continue;
      }
      kept.push(raw);
    }
    return kept.length === 1 ? kept[0]! : Buffer.concat(kept);
  };
  return {
    onChunk(chunk) {
      try {
        return pass(splitter.push(chunk));
      } catch (err) {
        if (err instanceof RangeError) throw refused();
        throw err;
      }
    },
    onEnd: () => pass(splitter.end()),
  };
}
