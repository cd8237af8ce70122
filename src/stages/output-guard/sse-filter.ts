import { ResponseRefused, type ResponseFilter } from '../../core/stage.js';
import { deny } from '../../core/verdict.js';
import type { OutputPolicy } from './policy.js';
import { applySpans, StreamScanner, type Span } from './scanner.js';
import { SseSplitter, type SseEvent } from './sse-events.js';
import { otherStrings, piecesOf, setAt, type Piece } from './sse-pieces.js';

/** Events waiting for their text to be final may hold at most this much; past it the stream ends. */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

interface Channel {
  scanner: StreamScanner;
  /** Absolute offset up to which this channel's text is final. */
  safe: number;
  /** Redactions decided and not yet written. */
  spans: Span[];
}

interface Queued {
  ev: SseEvent;
  obj: unknown;
  pieces: Array<Piece & { start: number; end: number }>;
  /** Other strings of the event, already redacted on their own (path -> new text). */
  replaced: Array<{ path: ReadonlyArray<string | number>; text: string }>;
  /** Non-data lines (comments, event:, id:) redacted on their own (line index -> new line). */
  lines: Map<number, string>;
}

const DATA = /^data: ?/;
const dataPayload = (line: string): string => line.slice(line.charCodeAt(5) === 32 ? 6 : 5);

/** Whole-string check, nothing held (event names, ids, a final full text, comments). */
function spansIn(policy: OutputPolicy, text: string): Span[] {
  const s = new StreamScanner(policy.recognizers, policy.literals);
  return [...s.push(text).spans, ...s.finish().spans];
}

// Every chunk of a stream repeats the same ids, model names and object types: a string already
// found clean in this stream is not checked again (bounded; cleared when full).
const MAX_CLEAN_CACHE = 256;
// Nothing a recognizer matches is shorter than this (an e-mail address like a@b.io).
const MIN_CHECKED_CHARS = 6;

/**
 * An SSE answer redacted on the stream itself. The text that counts is each channel's
 * concatenation across events (choice content, each tool call's argument fragments, Anthropic
 * content blocks); an event is sent once all its text is final, unchanged byte for byte when
 * nothing in it was redacted, rewritten otherwise. On `block` the stream ends with an error event
 * in the API's format. Memory is bounded by the scanners' hold-back and MAX_QUEUED_BYTES.
 */
export function sseFilter(policy: OutputPolicy, rewrite?: (channel: string, text: string) => string): ResponseFilter {
  const splitter = new SseSplitter();
  const channels = new Map<string, Channel>();
  const queue: Queued[] = [];
  let queuedBytes = 0;
  let eol = '\n';
  let out: Buffer[] = [];
  const finalBytes = () => Buffer.concat([...out, policy.errorEvent(eol)]);

  const clean = new Set<string>();
  const checkStandalone = (text: string): Span[] => {
    if (text.length < MIN_CHECKED_CHARS || clean.has(text)) return [];
    const spans = spansIn(policy, text);
    if (spans.length === 0) {
      if (clean.size >= MAX_CLEAN_CACHE) clean.clear();
      clean.add(text);
      return [];
    }
    return policy.decide(spans, finalBytes);
  };

  /** Channels with text appended since they were last settled. */
  const touched = new Set<Channel>();
  /**
   * Decides the text the events of one read added, one scan per channel. Before a finding is
   * acted on (a block ends the stream), the events entirely before it are released, as they
   * would have been had each event been scanned on its own.
   */
  const settle = (): void => {
    for (const ch of touched) {
      const r = ch.scanner.settle();
      const first = r.spans[0];
      if (first) {
        ch.safe = Math.min(r.safe, first.start);
        release(false);
      }
      ch.safe = r.safe;
      ch.spans.push(...policy.decide(r.spans, finalBytes));
    }
    touched.clear();
  };

  const channel = (name: string): Channel => {
    let ch = channels.get(name);
    if (!ch) channels.set(name, (ch = { scanner: new StreamScanner(policy.recognizers, policy.literals), safe: 0, spans: [] }));
    return ch;
  };

  let first = true;
  const accept = (ev: SseEvent) => {
    eol = ev.eol;
    // A byte-order mark before the first field: clients drop it and read the field, so must we.
    if (first) {
      first = false;
      const l0 = ev.lines[0];
      if (l0 !== undefined && l0.charCodeAt(0) === 0xfeff) ev.lines[0] = l0.slice(1);
    }
    // The usual event is one `data:` line: no arrays, no regex (this runs for every token of every stream).
    const only = ev.lines.length === 1 ? (ev.lines[0] as string) : undefined;
    const dataLines = only !== undefined ? (only.startsWith('data:') ? [dataPayload(only)] : []) : ev.lines.filter((l) => l.startsWith('data:')).map(dataPayload);
    const data = dataLines.length === 1 ? (dataLines[0] as string) : dataLines.join('\n');
    let obj: unknown;
    if (data.startsWith('{') || data.startsWith('[')) {
      try {
        obj = JSON.parse(data);
      } catch {
        obj = undefined;
      }
    }
    const q: Queued = { ev, obj, pieces: [], replaced: [], lines: new Map() };
    const found: Piece[] = obj !== undefined ? piecesOf(obj) : dataLines.length > 0 && data !== '[DONE]' ? [{ channel: 'data', path: [], text: data }] : [];
    for (const p of found) {
      const ch = channel(p.channel);
      const start = ch.scanner.end;
      ch.scanner.append(p.text);
      touched.add(ch);
      q.pieces.push({ channel: p.channel, path: p.path, text: p.text, start, end: start + p.text.length });
    }
    if (obj !== undefined) {
      otherStrings(obj, found.map((p) => p.path), (path, text) => {
        const redact = checkStandalone(text);
        if (redact.length > 0) q.replaced.push({ path, text: applySpans(text, 0, redact) });
      });
    }
    ev.lines.forEach((line, i) => {
      if (line.startsWith('data:')) return;
      const redact = checkStandalone(line);
      if (redact.length > 0) q.lines.set(i, applySpans(line, 0, redact));
    });
    queue.push(q);
    queuedBytes += ev.raw.length;
    if (queuedBytes > MAX_QUEUED_BYTES) throw new ResponseRefused(deny('OUTPUT_BLOCKED', 'The answer could not be inspected within bounds.', { quiet: true, event: { stage: 'output-guard' } }), finalBytes());
  };

  const render = (q: Queued): Buffer => {
    let dataText: string | undefined;
    let changed = q.replaced.length > 0 || q.lines.size > 0;
    for (const p of q.pieces) {
      const ch = channels.get(p.channel) as Channel;
      const hits = ch.spans.filter((s) => s.end > p.start && s.start < p.end);
      const redacted = hits.length === 0 ? p.text : applySpans(p.text, p.start, hits);
      // After redaction, in release order: the watermark marks exactly what is served.
      const text = rewrite ? rewrite(p.channel, redacted) : redacted;
      if (text === p.text) continue;
      changed = true;
      if (q.obj !== undefined) setAt(q.obj, p.path, text);
      else dataText = text;
    }
    if (!changed) return q.ev.raw;
    for (const r of q.replaced) setAt(q.obj, r.path, r.text);
    const data = q.obj !== undefined ? JSON.stringify(q.obj) : dataText;
    const lines: string[] = [];
    let wroteData = false;
    q.ev.lines.forEach((line, i) => {
      if (line.startsWith('data:')) {
        if (wroteData) return;
        wroteData = true;
        const payload = data ?? line.replace(DATA, '');
        for (const l of payload.split('\n')) lines.push(`data: ${l}`);
        return;
      }
      lines.push(q.lines.get(i) ?? line);
    });
    const e = q.ev.eol;
    return Buffer.from(lines.join(e) + (q.ev.terminated ? e + e : ''), 'utf8');
  };

  /** Moves every event whose text is final to `out`. */
  const release = (final: boolean): void => {
    while (queue.length > 0) {
      const q = queue[0] as Queued;
      if (!final && q.pieces.some((p) => p.end > (channels.get(p.channel) as Channel).safe)) break;
      out.push(render(q));
      queue.shift();
      queuedBytes -= q.ev.raw.length;
      for (const p of q.pieces) {
        const ch = channels.get(p.channel) as Channel;
        ch.spans = ch.spans.filter((s) => s.end > p.end);
      }
    }
  };
  const take = (): Buffer => {
    const bytes = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
    out = [];
    return bytes;
  };

  return {
    onChunk(chunk) {
      let events: SseEvent[];
      try {
        events = splitter.push(chunk);
      } catch {
        throw new ResponseRefused(deny('OUTPUT_BLOCKED', 'The answer could not be inspected within bounds.', { quiet: true, event: { stage: 'output-guard' } }), finalBytes());
      }
      for (const ev of events) accept(ev);
      settle();
      release(false);
      return take();
    },
    onEnd() {
      for (const ev of splitter.end()) accept(ev);
      touched.clear();
      for (const ch of channels.values()) {
        const r = ch.scanner.finish();
        ch.safe = r.safe;
        ch.spans.push(...policy.decide(r.spans, finalBytes));
      }
      release(true);
      return take();
    },
  };
}
