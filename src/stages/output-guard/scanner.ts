import type { Finding, Recognizers } from './recognizers/index.js';
import { isTokenChar } from './recognizers/index.js';

/** A decided redaction, in absolute offsets of one text stream. */
export interface Span {
  start: number;
  end: number;
  label: string;
  cls: string;
}

// Invisible characters an evasion puts between the characters of a secret: they continue a run.
const INVISIBLE = new Set([0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x00ad]);
const isRunChar = (c: number) => isTokenChar(c) || INVISIBLE.has(c);

// Released text kept as look-behind for recognizers that need context before a match (an AWS
// secret key next to its key id, a generic secret after its name, an SSN after "SSN"): the
// recognizers' longest span, at least this.
const MIN_CONTEXT_CHARS = 64;

/** Longest text held back while an open-ended secret (a PEM block, a long token) is unterminated. */
export const MAX_HOLD_CHARS = 64 * 1024;

/**
 * The text of one stream (a text body, or one SSE channel such as choice 0's content) scanned as
 * it arrives. `push` adds text and returns how far the stream is final: everything before `safe`
 * can be sent, with `spans` redacted. What could still become part of a secret is held back:
 * the trailing run of token characters (a key, a JWT, an e-mail being written) and whatever the
 * recognizers' `openPrefix` says may still grow (an unterminated PEM block, a number that can
 * still become a card or phone number, a secret's name whose value has not arrived). Prose is
 * released up to its last, unfinished word, numbers and all, as soon as nothing can grow.
 */
export class StreamScanner {
  readonly #rec: Recognizers;
  readonly #literals: ReadonlyArray<{ text: string; label: string; cls: string }>;
  /** Text not yet final, starting at absolute offset #base. */
  #pending = '';
  #base = 0;
  /** The last released characters (look-behind for context-dependent recognizers). */
  #context = '';

  constructor(rec: Recognizers, literals: ReadonlyArray<{ text: string; label: string; cls: string }> = []) {
    this.#rec = rec;
    this.#literals = literals;
  }

  /** Absolute offset of the end of the text pushed so far. */
  get end(): number {
    return this.#base + this.#pending.length;
  }

  /** Characters currently held back. */
  get held(): number {
    return this.#pending.length;
  }

  push(text: string): { safe: number; spans: Span[] } {
    this.#pending += text;
    return this.#settle(false);
  }

  /**
   * Adds text without deciding anything yet: several pieces that arrived together (the events of
   * one network read) are then scanned by one `settle`, which re-reads the look-behind once.
   */
  append(text: string): void {
    this.#pending += text;
  }

  /** Decides what `append`ed text is final, as `push` does. */
  settle(): { safe: number; spans: Span[] } {
    return this.#settle(false);
  }

  /** The stream ended: everything is final. */
  finish(): { safe: number; spans: Span[] } {
    return this.#settle(true);
  }

  #find(text: string): Finding[] {
    const found = this.#rec.find(text);
    for (const lit of this.#literals) {
      let at = text.indexOf(lit.text);
      while (at >= 0) {
        found.push({ start: at, end: at + lit.text.length, label: lit.label, cls: lit.cls });
        at = text.indexOf(lit.text, at + 1);
      }
    }
    return found;
  }

  #holdFrom(text: string): number {
    let hold = text.length;
    while (hold > 0 && isRunChar(text.charCodeAt(hold - 1))) hold--;
    // openPrefix reads the look-behind too (a name released earlier whose value is still coming).
    const ctx = this.#context;
    const open = this.#rec.openPrefix(ctx + text);
    if (open !== undefined) hold = Math.min(hold, Math.max(0, open - ctx.length));
    // A literal (the canary) split across pushes: hold its possible beginning.
    for (const lit of this.#literals) {
      for (let k = Math.min(lit.text.length - 1, text.length); k > 0; k--) {
        if (text.endsWith(lit.text.slice(0, k))) {
          hold = Math.min(hold, text.length - k);
          break;
        }
      }
    }
    return hold;
  }

  #settle(final: boolean): { safe: number; spans: Span[] } {
    const text = this.#pending;
    if (text.length === 0) return { safe: this.#base, spans: [] };
    let cut = final ? text.length : this.#holdFrom(text);
    // Past the bound an unterminated secret is decided as it stands (a PEM block without its end
    // is redacted to here by its recognizer); memory per stream stays bounded.
    if (!final && text.length - cut > MAX_HOLD_CHARS) cut = text.length;
    // Findings over look-behind + pending, in pending's offsets; what ended in released text is gone.
    const ctx = this.#context;
    const findings = this.#find(ctx + text)
      .map((f) => ({ ...f, start: Math.max(0, f.start - ctx.length), end: f.end - ctx.length }))
      .filter((f) => f.end > 0)
      .sort((a, b) => a.start - b.start || b.end - a.end);
    const spans: Span[] = [];
    let covered = 0;
    for (const f of findings) {
      if (f.start >= cut) break;
      if (f.start < covered) continue; // overlapping findings: the first (longest) one wins
      if (f.end > cut && !final && text.length - f.start <= MAX_HOLD_CHARS) {
        // Still growing: hold the whole match back.
        cut = f.start;
        break;
      }
      spans.push({ start: this.#base + f.start, end: this.#base + Math.min(f.end, text.length), label: f.label, cls: f.cls });
      covered = f.end;
      if (f.end > cut) cut = Math.min(f.end, text.length);
    }
    // Never cut inside a surrogate pair.
    if (cut > 0 && cut < text.length) {
      const c = text.charCodeAt(cut - 1);
      if (c >= 0xd800 && c <= 0xdbff) cut--;
    }
    this.#pending = text.slice(cut);
    this.#base += cut;
    if (cut > 0) this.#context = (ctx + text.slice(0, cut)).slice(-Math.max(MIN_CONTEXT_CHARS, this.#rec.maxSpan));
    return { safe: this.#base, spans };
  }
}

/** `text` (starting at absolute `from`) with the spans that fall in it replaced by markers. */
export function applySpans(text: string, from: number, spans: readonly Span[]): string {
  let out = '';
  let at = 0;
  for (const s of spans) {
    const a = Math.max(0, s.start - from);
    const b = Math.min(text.length, s.end - from);
    if (b <= 0 || a >= text.length) continue;
    out += text.slice(at, a);
    // The marker goes where the secret starts; pieces of it in later text just disappear.
    if (s.start >= from) out += `[REDACTED:${s.label}]`;
    at = b;
  }
  return out + text.slice(at);
}
