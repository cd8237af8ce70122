import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GENESIS, headPath, parseChain, parseHead, selfHashMatches, sha256Hex, type ChainHead } from './format.js';
import { readLogLines } from './lines.js';

export interface BrokenLine {
  /** The file as found on disk (the live path, or `<path>.N`). */
  file: string;
  /** 1-based line number within `file`; 0 when the finding is about the file as a whole. */
  line: number;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Chained lines checked (up to the first broken one). */
  lines: number;
  /** The files of the set, oldest first (`<path>.N` … `<path>.1`, then `<path>`). */
  files: string[];
  firstSeq?: number;
  lastSeq?: number;
  /** Events the sink declared as dropped (`chain.dropped`): a known, recorded gap. */
  dropped: number;
  /** The head record, when there is a valid one. */
  head?: ChainHead;
  /** Findings that do not break the chain (head behind the log, head not required). */
  warnings: string[];
  firstBroken?: BrokenLine;
}

export interface VerifyOptions {
  /** Fail when `<path>.head` is missing (truncation at the end is then undetectable). Default true. */
  requireHead?: boolean;
  /** A longer line is reported as broken and reading stops. Default 4 MiB. */
  maxLineBytes?: number;
}

export interface RotatedSet {
  /** Oldest first; the live file last when it exists. */
  files: string[];
  /** `<path>.N` names missing between `.1` and the highest number found. */
  missing: string[];
}

const ROTATED = /^\.([1-9][0-9]{0,5})$/;

/** The rotated set of `path`: `<path>.N` … `<path>.1` (by number, highest first) and `<path>`. */
export async function listRotatedSet(path: string): Promise<RotatedSet> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new Error(`${path}: cannot read ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const numbers: number[] = [];
  let live = false;
  for (const name of names) {
    if (name === base) live = true;
    else if (name.startsWith(base)) {
      const m = ROTATED.exec(name.slice(base.length));
      if (m) numbers.push(Number(m[1]));
    }
  }
  numbers.sort((a, b) => b - a);
  const have = new Set(numbers);
  const missing: string[] = [];
  for (let n = 1; n <= (numbers[0] ?? 0); n++) if (!have.has(n)) missing.push(join(dir, `${base}.${n}`));
  const files = numbers.map((n) => join(dir, `${base}.${n}`));
  if (live) files.push(join(dir, base));
  return { files, missing };
}

type HeadState = { kind: 'missing' } | { kind: 'invalid' } | { kind: 'ok'; head: ChainHead };

async function readHeadState(file: string): Promise<HeadState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  const head = parseHead(text);
  return head ? { kind: 'ok', head } : { kind: 'invalid' };
}

/**
 * Proves a chained security log complete and unmodified: walks the rotated set oldest to newest,
 * streaming, and checks every line's own hash, its sequence number and its link to the line
 * before, each file's start mark, and the head record at the end. Stops at the first broken line.
 *
 * What it cannot see: the oldest files removed (retention does that too, so the set's first line
 * may link to a line no longer present), and a rewrite of the whole chain and head by someone with
 * write access (no key is involved; ship lines or heads off the host for that).
 */
export async function verifyChain(path: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const maxLineBytes = options.maxLineBytes ?? 4 * 1024 * 1024;
  const requireHead = options.requireHead ?? true;
  const hp = headPath(path);
  // The head first: a writer appends lines before it rewrites the head, so a log being written
  // while it is verified has at least the lines the head names.
  const headState = await readHeadState(hp);
  const set = await listRotatedSet(path);
  if (set.files.length === 0) throw new Error(`${path}: no such file (nor rotated ${basename(path)}.N files)`);

  const result: VerifyResult = { ok: true, lines: 0, files: set.files, dropped: 0, warnings: [] };
  const head = headState.kind === 'ok' ? headState.head : undefined;
  if (head) result.head = head;
  const broken = (file: string, line: number, reason: string): VerifyResult => {
    result.ok = false;
    result.firstBroken = { file, line, reason };
    return result;
  };

  let prev: { seq: number; hash: string; file: string; line: number } | undefined;
  let lastFile = set.files[set.files.length - 1] as string;
  let lastFileLines = 0;
  for (const file of set.files) {
    let lineNo = 0;
    lastFile = file;
    for await (const item of readLogLines(file, maxLineBytes)) {
      lineNo++;
      if (item.kind === 'too-long') return broken(file, lineNo, `line longer than ${maxLineBytes} bytes (not written by the sink)`);
      const { bytes } = item;
      if (!item.terminated) return broken(file, lineNo, 'the last line is incomplete (no newline): a torn write or a truncated file');
      const link = parseChain(bytes);
      if (!link) return broken(file, lineNo, bytes.length === 0 ? 'empty line' : 'no chain member at the end of the line: not written by a chained sink, or edited');
      if (!selfHashMatches(bytes, link.hash)) return broken(file, lineNo, 'line was modified: its content does not match its hash');
      const hash = sha256Hex(bytes);
      if (!prev) {
        if (link.seq === 1 && link.prev !== GENESIS) return broken(file, lineNo, 'seq 1 does not start from the genesis value');
        result.firstSeq = link.seq;
      } else if (link.seq !== prev.seq + 1) {
        if (link.seq <= prev.seq) return broken(file, lineNo, `seq ${link.seq} after seq ${prev.seq}: lines were reordered or duplicated`);
        const gone = link.seq - prev.seq - 1;
        const hint = lineNo === 1 && set.missing.length > 0 ? `; missing from the set: ${set.missing.map((f) => basename(f)).join(', ')}` : '';
        return broken(file, lineNo, `seq ${link.seq} after seq ${prev.seq}: ${gone} line${gone === 1 ? '' : 's'} missing before this line (deleted, or lines reordered)${hint}`);
      } else if (link.prev !== prev.hash) {
        return broken(file, lineNo, `does not link to the line before it (${prev.file}:${prev.line}): that line was replaced`);
      }
      if (lineNo === 1 && !link.first) return broken(file, lineNo, 'first line of the file lacks the file-start mark: lines were removed from the start of this file, or files were cut differently');
      if (lineNo > 1 && link.first) return broken(file, lineNo, 'file-start mark in the middle of a file: files were joined, or the file was truncated while written');
      if (head && link.seq === head.seq && hash !== head.hash) return broken(file, lineNo, `differs from line seq ${head.seq} recorded in ${basename(hp)}: the line was replaced`);
      result.dropped += link.dropped;
      result.lines++;
      result.lastSeq = link.seq;
      prev = { seq: link.seq, hash, file, line: lineNo };
    }
    lastFileLines = lineNo;
  }

  if (headState.kind === 'invalid') return broken(hp, 0, 'the head record is not valid ({"seq":N,"hash":"<sha256>"})');
  if (headState.kind === 'missing') {
    if (result.lines > 0 && requireHead) return broken(hp, 0, `head record missing: lines removed from the end could not be noticed (--no-head skips this check)`);
    if (result.lines > 0) result.warnings.push(`no ${basename(hp)}: lines removed from the end would go unnoticed`);
    return result;
  }
  const h = headState.head;
  if (!prev) return h.seq > 0 ? broken(lastFile, 1, `the log is empty but ${basename(hp)} records seq ${h.seq}`) : result;
  if (h.seq > prev.seq) {
    const gone = h.seq - prev.seq;
    return broken(lastFile, lastFileLines + 1, `${gone} line${gone === 1 ? '' : 's'} missing at the end: the log ends at seq ${prev.seq}, ${basename(hp)} records seq ${h.seq}`);
  }
  if (h.seq < (result.firstSeq ?? 1)) return broken(hp, 0, `${basename(hp)} records seq ${h.seq}, before the first line of the set (seq ${result.firstSeq ?? 1})`);
  if (h.seq < prev.seq) result.warnings.push(`${basename(hp)} records seq ${h.seq}, the log continues to seq ${prev.seq}: the head is rewritten after each batch without fsync, so a crash can leave it behind`);
  return result;
}

