import { createHash } from 'node:crypto';

/**
 * The hash-chain format of the security log (file sink with `chain: true`).
 *
 * Every line is the event's JSON object with one member appended last, written by the sink:
 *
 *   {...event...,"chain":{"seq":N,"prev":"<P>"[,"first":true][,"dropped":K],"hash":"<H>"}}
 *
 * - `seq`: 1, 2, 3, … across the whole log, rotated files included.
 * - `prev`: SHA-256 (hex) of the previous line's full text (its UTF-8 bytes without the newline);
 *   64 zeros (GENESIS) for seq 1.
 * - `first`: present on the first line written into a file (a new file, or the live file right
 *   after a rotation), so lines removed from the start of a file are noticed.
 * - `dropped`: events this sink dropped (queue full, disk failing) since the line before; a
 *   declared gap, not a silent one.
 * - `hash`: SHA-256 of this line with `,"hash":"<H>"` removed, i.e. of
 *   `{...event...,"chain":{"seq":N,"prev":"<P>"…}}`. It pins an edit to the line that was edited,
 *   where `prev` alone would only show it on the next line.
 *
 * `<path>.head` holds `{"seq":N,"hash":"<sha256 of line N>"}`, rewritten after each write batch
 * (atomically, by rename; not fsynced), so removing lines from the end is noticed too.
 */
export const GENESIS = '0'.repeat(64);

/** `,"hash":"` + 64 hex + `"}}` */
export const HASH_SUFFIX_LENGTH = 76;

/** The longest chain member (seq and dropped up to 16 digits); the suffix search looks no further. */
const MAX_CHAIN_SUFFIX = 256;

const CHAIN_RE = /,"chain":\{"seq":([1-9][0-9]{0,15}),"prev":"([0-9a-f]{64})"(,"first":true)?(?:,"dropped":([1-9][0-9]{0,15}))?,"hash":"([0-9a-f]{64})"\}\}$/;

export interface ChainLink {
  seq: number;
  prev: string;
  first: boolean;
  dropped: number;
  hash: string;
}

/** The last line written: where the next line links to. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Appends the chain member to `body` (a JSON object's text, as `JSON.stringify` writes it) and
 * returns the line plus its hash, which the next line records as `prev`.
 */
export function chainLine(body: string, link: { seq: number; prev: string; first: boolean; dropped: number }): { line: string; lineHash: string } {
  const open = body.length <= 2 ? '{' : body.slice(0, -1) + ',';
  const unsigned = `${open}"chain":{"seq":${link.seq},"prev":"${link.prev}"${link.first ? ',"first":true' : ''}${link.dropped > 0 ? `,"dropped":${link.dropped}` : ''}}}`;
  const line = `${unsigned.slice(0, -2)},"hash":"${sha256Hex(unsigned)}"}}`;
  return { line, lineHash: sha256Hex(line) };
}

/** The chain member at the end of a line (bytes or text), or undefined when there is none. */
export function parseChain(line: Uint8Array | string): ChainLink | undefined {
  const tail = typeof line === 'string' ? line.slice(-MAX_CHAIN_SUFFIX) : Buffer.from(line.buffer, line.byteOffset, line.byteLength).subarray(-MAX_CHAIN_SUFFIX).toString('latin1');
  const m = CHAIN_RE.exec(tail);
  if (!m) return undefined;
  const seq = Number(m[1]);
  const dropped = m[4] ? Number(m[4]) : 0;
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(dropped)) return undefined;
  return { seq, prev: m[2] as string, first: m[3] !== undefined, dropped, hash: m[5] as string };
}

/** Whether the line's own `hash` matches its content (the line was not edited). */
export function selfHashMatches(line: Uint8Array, hash: string): boolean {
  if (line.byteLength <= HASH_SUFFIX_LENGTH) return false;
  const h = createHash('sha256');
  h.update(line.subarray(0, line.byteLength - HASH_SUFFIX_LENGTH));
  h.update('}}');
  return h.digest('hex') === hash;
}

export function formatHead(head: ChainHead): string {
  return JSON.stringify({ seq: head.seq, hash: head.hash }) + '\n';
}

export function parseHead(text: string): ChainHead | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { seq, hash } = v as { seq?: unknown; hash?: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  return { seq, hash };
}

export function headPath(logPath: string): string {
  return `${logPath}.head`;
}
