/** One server-sent event as it came: its exact bytes and its decoded lines. */
export interface SseEvent {
  /** The exact bytes, including the blank line that ended it (absent on an unterminated last event). */
  raw: Buffer;
  /** Lines without their terminators (the blank line excluded). */
  lines: string[];
  /** The line terminator this event used, to write a rewritten event the same way. */
  eol: string;
  terminated: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits an SSE byte stream into events (WHATWG: lines end in CRLF, LF or CR; a blank line ends
 * an event), whatever the network chunking: a CRLF split across chunks, a multi-byte character
 * split across chunks (lines are decoded only once complete). One event larger than `maxEventBytes`
 * throws: it cannot be inspected within bounds.
 */
export class SseSplitter {
  readonly #max: number;
  #buf: Buffer = Buffer.alloc(0);
  /** Offset in #buf where the current event starts, and where the next line starts. */
  #lineStart = 0;
  #lines: string[] = [];
  #eol = '\n';
  /** A CR ended the previous chunk: an LF at the start of the next one belongs to it. */
  #pendingCr = false;

  constructor(maxEventBytes = 1024 * 1024) {
    this.#max = maxEventBytes;
  }

  push(chunk: Buffer): SseEvent[] {
    let data = chunk;
    let skip = 0;
    if (this.#pendingCr) {
      this.#pendingCr = false;
      if (data.length > 0 && data[0] === LF) {
        // Completes the CRLF whose CR ended the last chunk: it belongs to the previous line.
        this.#buf = Buffer.concat([this.#buf, data.subarray(0, 1)]);
        this.#lineStart = this.#buf.length;
        skip = 1;
        if (this.#eol === '\r') this.#eol = '\r\n';
      }
    }
    if (skip > 0) data = data.subarray(skip);
    const from = this.#buf.length;
    this.#buf = this.#buf.length === 0 ? Buffer.from(data) : Buffer.concat([this.#buf, data]);
    const out: SseEvent[] = [];
    let i = Math.max(from, this.#lineStart);
    const buf = this.#buf;
    let eventStart = 0;
    while (i < buf.length) {
      // Jump to the next line terminator (native search; CR is rare, LF usual).
      const lf = buf.indexOf(LF, i);
      const cr = buf.indexOf(CR, i);
      const at = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (at < 0) {
        i = buf.length;
        break;
      }
      i = at;
      const c = buf[i] as number;
      const line = buf.toString('utf8', this.#lineStart, i);
      let next = i + 1;
      let eol = c === LF ? '\n' : '\r';
      if (c === CR) {
        if (next < buf.length) {
          if (buf[next] === LF) {
            next++;
            eol = '\r\n';
          }
        } else {
          this.#pendingCr = true;
        }
      }
      if (line.length === 0) {
        out.push({ raw: buf.subarray(eventStart, next), lines: this.#lines, eol: this.#eol, terminated: true });
        this.#lines = [];
        eventStart = next;
      } else {
        this.#lines.push(line);
        this.#eol = eol;
      }
      this.#lineStart = next;
      i = next;
    }
    // Keep only the unfinished event.
    if (eventStart > 0) {
      this.#buf = Buffer.from(buf.subarray(eventStart));
      this.#lineStart -= eventStart;
    }
    if (this.#buf.length > this.#max) throw new RangeError('server-sent event too large to inspect');
    return out;
  }

  /** The stream ended: an unterminated last event (or line) is an event too. */
  end(): SseEvent[] {
    const buf = this.#buf;
    if (this.#lineStart < buf.length) this.#lines.push(buf.toString('utf8', this.#lineStart));
    this.#buf = Buffer.alloc(0);
    this.#lineStart = 0;
    if (this.#lines.length === 0 && buf.length === 0) return [];
    const lines = this.#lines;
    this.#lines = [];
    return [{ raw: buf, lines, eol: this.#eol, terminated: false }];
  }
}
