import { ResponseRefused } from '../../core/stage.js';
import { deny } from '../../core/verdict.js';
import type { OutputPolicy } from './policy.js';
import { applySpans, StreamScanner, type Span } from './scanner.js';
import { ndjsonFilter } from './ndjson-filter.js';
import { sseFilter } from './sse-filter.js';

/** The largest answer read whole (JSON, or a body whose media type says nothing); larger ones are refused. */
export const MAX_WHOLE_BYTES = 32 * 1024 * 1024;

type Json = unknown;

/** The refusal of an answer the guard cannot read: never passed on unchecked (fail closed). */
export function uninspectable(detail: string): ResponseRefused {
  return new ResponseRefused(deny('OUTPUT_BLOCKED', detail, { quiet: true, event: { stage: 'output-guard' } }));
}

/** Every span to act on in one complete text. */
export function findAll(policy: OutputPolicy, text: string): Span[] {
  // push() may already decide spans before finish(); collect both.
  const scanner = new StreamScanner(policy.recognizers, policy.literals);
  const first = scanner.push(text).spans;
  return [...first, ...scanner.finish().spans];
}

/** Each string of a parsed JSON value, with a setter, depth-bounded. */
function eachString(v: Json, visit: (s: string, set: (next: string) => void) => void, depth = 0): void {
  if (typeof v !== 'object' || v === null) return;
  // Deeper than any API answer nests: it cannot be walked within bounds, so it is not passed on.
  if (depth > 256) throw uninspectable('The answer nests deeper than the output guard inspects.');
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      if (typeof x === 'string') visit(x, (n) => (v[i] = n));
      else eachString(x, visit, depth + 1);
    });
    return;
  }
  const o = v as Record<string, Json>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (typeof x === 'string') visit(x, (n) => (o[k] = n));
    else eachString(x, visit, depth + 1);
  }
}

/**
 * A parsed JSON answer: every string after JSON decoding (so `\u` escapes hide nothing), then
 * re-serialized only when something changed (otherwise the original bytes pass unchanged).
 */
export function redactJson(policy: OutputPolicy, raw: Buffer, doc: Json, transform?: (doc: unknown) => boolean): Buffer {
  if (typeof doc === 'string') {
    const redact = policy.decide(findAll(policy, doc));
    return redact.length === 0 ? raw : Buffer.from(JSON.stringify(applySpans(doc, 0, redact)), 'utf8');
  }
  let changed = false;
  eachString(doc, (s, set) => {
    const redact = policy.decide(findAll(policy, s));
    if (redact.length > 0) {
      set(applySpans(s, 0, redact));
      changed = true;
    }
  });
  // After redaction: watermarks mark what is actually served.
  if (transform?.(doc)) changed = true;
  return changed ? Buffer.from(JSON.stringify(doc), 'utf8') : raw;
}

// An event stream starts with a field line (`data:`, `event:`, any `name:` a client ignores) or a
// comment. Plain text may start the same way ("Note: …"): such a body is also scanned as text
// after the stream pass, so reading it as a stream loses nothing.
const SSE_START = /^\uFEFF?(?:[ \t]*\r?\n)*(?:[A-Za-z][\w-]*[ \t]*:|:|(?:data|event|id|retry)\r?\n)/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const JSON_LINES = /^\s*\{[^\n]*\}\r?\n\s*\{/;

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function strictText(raw: Buffer): string | undefined {
  try {
    const text = STRICT_UTF8.decode(raw);
    // NUL never occurs in text an API answers with; it does in binary formats.
    return text.includes('\u0000') ? undefined : text;
  } catch {
    return undefined;
  }
}

/**
 * A complete answer that is not the JSON its media type promised, or whose media type says
 * nothing: read as what it is. JSON is checked string by string; an event stream (an SSE answer
 * labelled as JSON, or not labelled) has its deltas concatenated across events like any stream,
 * so a secret split over events is still one secret; other UTF-8 text is checked as text.
 * Bytes that are not UTF-8 text cannot be read, so they are refused rather than passed on.
 */
export function redactUnlabelled(policy: OutputPolicy, raw: Buffer): Buffer {
  const text = strictText(raw);
  if (text === undefined) throw uninspectable('The answer is not text the output guard can inspect.');
  const start = text.trimStart();
  if (start.startsWith('{') || start.startsWith('[') || start.startsWith('"')) {
    let doc: Json;
    let parsed = true;
    try {
      doc = JSON.parse(text);
    } catch {
      parsed = false; // not JSON after all: read on
    }
    if (parsed) return redactJson(policy, raw, doc);
  }
  if (JSON_LINES.test(text) && text.split('\n').every((l) => l.trim() === '' || isJson(l))) {
    // JSON lines (an Ollama stream without its media type): one stream of events, like SSE.
    const nd = ndjsonFilter(policy);
    try {
      return redactText(policy, Buffer.concat([nd.onChunk(raw), nd.onEnd()]));
    } catch (err) {
      if (err instanceof ResponseRefused) throw new ResponseRefused(err.verdict);
      throw err;
    }
  }
  if (SSE_START.test(text)) {
    const sse = sseFilter(policy);
    let streamed: Buffer;
    try {
      streamed = Buffer.concat([sse.onChunk(raw), sse.onEnd()]);
    } catch (err) {
      // A block mid-stream: nothing has been sent yet, so the whole answer is refused.
      if (err instanceof ResponseRefused) throw new ResponseRefused(err.verdict);
      throw err;
    }
    return redactText(policy, streamed);
  }
  return redactText(policy, raw);
}

/** `raw` as UTF-8 text, with every finding acted on. */
function redactText(policy: OutputPolicy, raw: Buffer): Buffer {
  const text = raw.toString('utf8');
  const redact = policy.decide(findAll(policy, text));
  return redact.length === 0 ? raw : Buffer.from(applySpans(text, 0, redact), 'utf8');
}
