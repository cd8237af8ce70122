import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Invisible per-client text watermark (route `output.watermark.text`).
 *
 * A tag is 96 bits: a 32-bit minute timestamp (minutes since 2020-01-01 UTC), a 32-bit client tag
 * (truncated HMAC-SHA256(key, "client:" + clientId)) and a 32-bit MAC (truncated
 * HMAC-SHA256(key, "mac:" || ts || clientTag), ts and tag as 4-byte big-endian integers). It is
 * written as a 2-character sync marker (U+2062 U+2063) followed by 48 zero-width symbols, 2 bits
 * each (U+200B, U+200C, U+200D, U+2060): 50 invisible characters per tag.
 *
 * Tags go right after a word (before a space, tab, line break, ideographic space or CJK
 * punctuation), so they never sit inside a word, a surrogate pair or a base + combining-mark
 * grapheme, and removing them (`stripTags`) gives back the exact original text.
 */

/** Key material: 32 random bytes kept in the state store (see `watermarkKey`). */
export type WatermarkKey = Uint8Array;

/** The 4 data symbols, value 0..3. */
export const TAG_SYMBOLS = ['\u200B', '\u200C', '\u200D', '\u2060'] as const;
/** Sync marker that starts every tag (INVISIBLE TIMES, INVISIBLE SEPARATOR). */
export const TAG_SYNC = '\u2062\u2063';
const DATA_SYMBOLS = 48;
/** Characters in one tag (sync + 96 bits at 2 bits per symbol). */
export const TAG_LENGTH = TAG_SYNC.length + DATA_SYMBOLS;

/** 2020-01-01T00:00:00Z. */
export const WATERMARK_EPOCH_MS = Date.UTC(2020, 0, 1);
const MINUTE_MS = 60_000;

const TAG_RE = /\u2062\u2063([\u200B\u200C\u200D\u2060]{48})/g;

export interface TagPayload {
  /** Minutes since 2020-01-01 UTC. */
  ts: number;
  /** Truncated HMAC of the client id (uint32). */
  clientTag: number;
  /** Truncated HMAC of ts and clientTag (uint32). */
  mac: number;
}

function hmac32(key: WatermarkKey, data: string | Uint8Array): number {
  return createHmac('sha256', key).update(data).digest().readUInt32BE(0);
}

/** The 32-bit client tag of `clientId` under `key`. */
export function clientTagOf(key: WatermarkKey, clientId: string): number {
  return hmac32(key, 'client:' + clientId);
}

/** A client tag as 8 lowercase hex digits (the form used in the registry and in reports). */
export function tagHex(tag: number): string {
  return (tag >>> 0).toString(16).padStart(8, '0');
}

/** The 32-bit MAC over a timestamp and a client tag. */
export function macOf(key: WatermarkKey, ts: number, clientTag: number): number {
  const data = Buffer.alloc(12);
  data.write('mac:', 0, 'latin1');
  data.writeUInt32BE(ts >>> 0, 4);
  data.writeUInt32BE(clientTag >>> 0, 8);
  return hmac32(key, data);
}

/** Minutes since the watermark epoch for a time. */
export function minuteOf(at: Date | number): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.max(0, Math.min(0xffff_ffff, Math.floor((ms - WATERMARK_EPOCH_MS) / MINUTE_MS)));
}

/** ISO time of a tag's minute, minute precision (e.g. `2025-03-04T10:07Z`). */
export function minuteToIso(ts: number): string {
  return new Date(WATERMARK_EPOCH_MS + ts * MINUTE_MS).toISOString().slice(0, 16) + 'Z';
}

/** The invisible string for a payload. */
export function encodeTag(p: TagPayload): string {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(p.ts >>> 0, 0);
  bytes.writeUInt32BE(p.clientTag >>> 0, 4);
  bytes.writeUInt32BE(p.mac >>> 0, 8);
  let s = TAG_SYNC;
  for (const b of bytes) s += TAG_SYMBOLS[(b >> 6) & 3]! + TAG_SYMBOLS[(b >> 4) & 3]! + TAG_SYMBOLS[(b >> 2) & 3]! + TAG_SYMBOLS[b & 3]!;
  return s;
}

function symbolValue(ch: string): number {
  switch (ch) {
    case '\u200B': return 0;
    case '\u200C': return 1;
    case '\u200D': return 2;
    default: return 3;
  }
}

function decodeSymbols(symbols: string): TagPayload {
  const bytes = Buffer.alloc(12);
  for (let i = 0; i < 12; i++) {
    let b = 0;
    for (let j = 0; j < 4; j++) b = (b << 2) | symbolValue(symbols[i * 4 + j]!);
    bytes[i] = b;
  }
  return { ts: bytes.readUInt32BE(0), clientTag: bytes.readUInt32BE(4), mac: bytes.readUInt32BE(8) };
}

/** A complete tag for `clientId` at time `at`. */
export function makeTag(key: WatermarkKey, clientId: string, at: Date | number): string {
  const ts = minuteOf(at);
  const clientTag = clientTagOf(key, clientId);
  return encodeTag({ ts, clientTag, mac: macOf(key, ts, clientTag) });
}

/** Every complete tag in `text`, in order (partial tags at the edges of an excerpt are skipped). */
export function extractTags(text: string): TagPayload[] {
  const out: TagPayload[] = [];
  for (const m of text.matchAll(TAG_RE)) out.push(decodeSymbols(m[1]!));
  return out;
}

/** `text` without its complete tags: the exact text before watermarking. */
export function stripTags(text: string): string {
  return text.replace(TAG_RE, '');
}

/** Whether the tag's MAC verifies under `key` (constant-time comparison). */
export function verifyTag(key: WatermarkKey, tag: TagPayload): boolean {
  const a = Buffer.alloc(4);
  const b = Buffer.alloc(4);
  a.writeUInt32BE(macOf(key, tag.ts, tag.clientTag));
  b.writeUInt32BE(tag.mac >>> 0);
  return timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------------------------
// Inserting tags

export interface TextWatermarkOptions {
  key: WatermarkKey;
  /** Who the answer is served to (the verified subject, API key id, ...). */
  clientId: string;
  /** Time stamped into the tags (taken once, at the first tag). Default: the current time. */
  now?: Date | number | (() => Date | number);
  /** Visible characters (code points) between tags, at least. Default 200. */
  every?: number;
  /** Visible characters before the first tag. Default min(20, every). */
  first?: number;
  /**
   * Leave code alone: nothing inside ``` fences or `inline code`, and nothing in an answer whose
   * first visible character is `{` or `[` (JSON), since zero-width characters break copied code
   * and JSON. Default true.
   */
  skipCode?: boolean;
}

export interface TextWatermarker {
  /** The delta with tags inserted. State carries across calls; nothing is held back. */
  push(text: string): string;
  /** Call once at the end of the answer: a final tag when none was placed yet (or one is due), else ''. */
  end(): string;
  /** Tags inserted so far. */
  readonly tags: number;
}

/** Where a tag may go: before one of these, when the previous character ends a word. */
function isBreak(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x3000 ||
    c === 0x3001 || c === 0x3002 || c === 0xff0c || c === 0xff01 || c === 0xff1f || c === 0xff1b || c === 0xff1a;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c || c === 0x3000 || c === 0xa0 || c === 0x85 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029;
}

function isTagChar(c: number): boolean {
  return c === 0x200b || c === 0x200c || c === 0x200d || c === 0x2060 || c === 0x2062 || c === 0x2063;
}

/**
 * A streaming watermarker: feed it the answer's text deltas in order; it returns each delta with
 * tags inserted after a word roughly every `every` visible characters (the first after about
 * `first`). It never buffers, so it adds no latency; call `end()` for the final piece.
 */
export function createTextWatermarker(opts: TextWatermarkOptions): TextWatermarker {
  const every = Math.max(1, Math.floor(opts.every ?? 200));
  const first = Math.max(1, Math.floor(opts.first ?? Math.min(20, every)));
  const skipCode = opts.skipCode ?? true;
  let tag: string | undefined;
  const tagString = (): string => {
    if (tag === undefined) {
      const n = opts.now;
      const at = n === undefined ? Date.now() : typeof n === 'function' ? n() : n;
      tag = makeTag(opts.key, opts.clientId, at);
    }
    return tag;
  };

  let tags = 0;
  let count = 0; // visible code points since the last tag (or the start)
  let due = false;
  let prev = -1; // last code unit seen, -1 at the start
  let structured: boolean | undefined = skipCode ? undefined : false; // JSON answer: never tag
  let fence = false;
  let inline = false;
  let ticks = 0;

  const closeTicks = () => {
    if (ticks >= 3) {
      fence = !fence;
      inline = false;
    } else if (!fence) inline = !inline;
    ticks = 0;
  };
  const inCode = () => skipCode && (fence || inline);

  return {
    get tags() {
      return tags;
    },
    push(text: string): string {
      let out = '';
      let last = 0;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (skipCode && ticks > 0 && c !== 0x60) closeTicks();
        if (due && structured === false && !inCode() && isBreak(c) && prev !== -1 && !isSpace(prev) && !isTagChar(prev)) {
          out += text.slice(last, i) + tagString();
          last = i;
          tags++;
          due = false;
          count = 0;
        }
        if (structured === undefined && !isSpace(c) && !isTagChar(c)) structured = c === 0x7b || c === 0x5b;
        if (skipCode) {
          if (c === 0x60) ticks++;
          else if (c === 0x0a && inline) inline = false;
        }
        // Count code points: a low surrogate belongs to the character already counted.
        if (!(c >= 0xdc00 && c <= 0xdfff) && !isTagChar(c)) {
          count++;
          if (count >= (tags === 0 ? first : every)) due = true;
        }
        prev = c;
      }
      return out === '' ? text : out + text.slice(last);
    },
    end(): string {
      if (skipCode && ticks > 0) closeTicks();
      // The text is over, so nothing can follow the last character: a tag at the very end splits nothing.
      const wanted = tags === 0 ? count > 0 : due;
      if (!wanted || structured !== false || inCode() || prev === -1 || isTagChar(prev)) return '';
      tags++;
      due = false;
      count = 0;
      return tagString();
    },
  };
}

/** Watermark a whole answer. */
export function watermarkText(text: string, opts: TextWatermarkOptions): string {
  const w = createTextWatermarker(opts);
  return w.push(text) + w.end();
}

// ---------------------------------------------------------------------------------------------
// Identifying

export interface IdentifyOptions {
  key: WatermarkKey;
  /** Client id(s) registered for a client tag (8 hex digits); more than one on a 32-bit tag collision. */
  clients: (clientTagHex: string) => string | readonly string[] | undefined;
}

export interface IdentifyResult {
  found: boolean;
  /** The client the verified tags name, when the registry knows the tag. */
  clientId?: string;
  /** Every registered client sharing the tag, when there is more than one (a 32-bit collision). */
  candidates?: string[];
  /** The client tag (8 hex digits) of the verified tags; '' when none verified. */
  clientTag: string;
  /** Earliest tag time, ISO, minute precision. */
  time?: string;
  /** Complete tags in the text. */
  tagsFound: number;
  /** Tags whose MAC verifies under the key (for any client). */
  verified: number;
  /** Plain-language account of how sure the answer is. */
  confidence: string;
}

/** Who a (possibly excerpted) text was served to, from its verified tags. */
export function identify(text: string, opts: IdentifyOptions): IdentifyResult {
  const tags = extractTags(text);
  if (tags.length === 0) {
    return { found: false, clientTag: '', tagsFound: 0, verified: 0, confidence: 'no tag: the text carries no complete watermark (not served through the gateway with watermarking, too short an excerpt, or the invisible characters were stripped)' };
  }
  const good = tags.filter((t) => verifyTag(opts.key, t));
  if (good.length === 0) {
    return { found: false, clientTag: '', tagsFound: tags.length, verified: 0, confidence: `${tags.length} tag${tags.length === 1 ? '' : 's'} present but MAC does not verify (wrong key or altered)` };
  }
  const byClient = new Map<number, TagPayload[]>();
  for (const t of good) byClient.set(t.clientTag, [...(byClient.get(t.clientTag) ?? []), t]);
  const [best, bestTags] = [...byClient.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
  const hex = tagHex(best);
  const known = opts.clients(hex);
  const ids = known === undefined ? [] : typeof known === 'string' ? [known] : [...new Set(known)];
  const ts = Math.min(...bestTags.map((t) => t.ts));
  const n = bestTags.length;

  const parts: string[] = [];
  parts.push(n === 1
    ? 'MAC verified on 1 tag (32-bit MAC: the chance that unmarked or altered text verifies by accident is about 2^-32, 1 in 4.3 billion)'
    : `${n} agreeing tags with verified MACs (each 32-bit MAC matches by accident with probability about 2^-32; ${n} together about 2^-${32 * n})`);
  const failed = tags.length - good.length;
  if (failed > 0) parts.push(`${failed} other tag${failed === 1 ? '' : 's'} did not verify (altered)`);
  const others = good.length - n;
  if (others > 0) parts.push(`${others} verified tag${others === 1 ? '' : 's'} name${others === 1 ? 's' : ''} another client (text combined from several answers)`);
  if (ids.length === 0) parts.push(`client tag ${hex} is not in the registry (watermark:client:${hex})`);
  if (ids.length > 1) parts.push(`client tag ${hex} is shared by ${ids.length} registered clients (32-bit collision): ${ids.join(', ')}`);

  return {
    found: true,
    ...(ids.length > 0 ? { clientId: ids[0] } : {}),
    ...(ids.length > 1 ? { candidates: ids } : {}),
    clientTag: hex,
    time: minuteToIso(ts),
    tagsFound: tags.length,
    verified: good.length,
    confidence: parts.join('; '),
  };
}
