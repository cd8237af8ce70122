import { open, readFile, type FileHandle } from 'node:fs/promises';
import { GENESIS, parseChain, parseHead, selfHashMatches, sha256Hex, type ChainHead } from '../audit/format.js';

/** The end of a log file: its last line and whether the file ends with a newline. */
export interface FileTail {
  size: number;
  /** False when the last bytes are a line without its newline (a torn write). */
  terminated: boolean;
  /** The last line (the unterminated fragment when `terminated` is false), without the newline. */
  last?: Buffer;
  /** The line before `last`, when `last` is an unterminated fragment. */
  beforeLast?: Buffer;
}

const FIRST_WINDOW = 8 * 1024;

/** Reads the end of a file by path; undefined when it does not exist. */
export async function readTail(path: string, maxLineBytes: number): Promise<FileTail | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return await readTailOf(fh, (await fh.stat()).size, maxLineBytes);
  } finally {
    await fh.close();
  }
}

/**
 * Reads backwards from `size` until the last two lines are whole (or `maxLineBytes` is reached).
 * Positional reads only, so `fh` may be the append handle the caller writes with.
 */
export async function readTailOf(fh: FileHandle, size: number, maxLineBytes: number): Promise<FileTail> {
  if (size === 0) return { size, terminated: true };
  let want = Math.min(size, FIRST_WINDOW);
  for (;;) {
    const start = size - want;
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const data = buf.subarray(0, got);
    const terminated = data[data.length - 1] === 0x0a;
    const end = terminated ? data.length - 1 : data.length;
    const cut1 = end > 0 ? data.lastIndexOf(0x0a, end - 1) : -1;
    const cut0 = cut1 > 0 ? data.lastIndexOf(0x0a, cut1 - 1) : -1;
    const whole = (terminated ? cut1 : cut0) >= 0 || start === 0;
    if (whole || want >= maxLineBytes * 2 + 2) {
      const tail: FileTail = { size, terminated };
      if (cut1 >= 0 || start === 0) tail.last = Buffer.from(data.subarray(cut1 + 1, end));
      if (!terminated && cut1 >= 0 && (cut0 >= 0 || start === 0)) tail.beforeLast = Buffer.from(data.subarray(cut0 + 1, cut1));
      return tail;
    }
    want = Math.min(size, want * 2);
  }
}

/** Where the chain ends in a tail: its last intact line (a torn fragment is skipped). */
export function headOfTail(tail: FileTail | undefined): ChainHead | undefined {
  if (!tail) return undefined;
  return headOfLine(tail.last) ?? (tail.terminated ? undefined : headOfLine(tail.beforeLast));
}

/** The chain position a line ends, when it is an intact chained line. */
export function headOfLine(line: Buffer | undefined): ChainHead | undefined {
  if (!line || line.length === 0) return undefined;
  const link = parseChain(line);
  if (!link || !selfHashMatches(line, link.hash)) return undefined;
  return { seq: link.seq, hash: sha256Hex(line) };
}

export async function readHeadFile(path: string): Promise<ChainHead | undefined> {
  try {
    return parseHead(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface ChainResume {
  /** Where the next line links to. */
  head: ChainHead;
  /** Why the chain does not continue from the file's own last line, when it does not. */
  discontinuity?: string;
}

/**
 * Where a chain continues after a restart (or after another process wrote): the last intact line
 * of the live file, or of `<path>.1` when the live file is empty, unless the head record is ahead
 * of it: then lines were removed while no writer looked, and continuing from the head keeps that
 * gap visible to `bulwark audit verify` instead of papering over it.
 */
export function resumePoint(tailHead: ChainHead | undefined, recorded: ChainHead | undefined): ChainResume {
  if (recorded && (!tailHead || recorded.seq > tailHead.seq || (recorded.seq === tailHead.seq && recorded.hash !== tailHead.hash))) {
    const discontinuity = tailHead
      ? `the log ends at seq ${tailHead.seq} but its head records seq ${recorded.seq}`
      : `the log has no intact last line but its head records seq ${recorded.seq}`;
    return { head: recorded, discontinuity };
  }
  return { head: tailHead ?? { seq: 0, hash: GENESIS } };
}
