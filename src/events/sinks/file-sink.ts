import { mkdirSync } from 'node:fs';
import { open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname } from 'node:path';
import { chainLine, formatHead, GENESIS, headPath, type ChainHead } from '../audit/format.js';
import type { SecurityEvent, Severity } from '../event.js';
import { severityAtLeast } from '../event.js';
import type { EventSink, SinkStats } from '../sink.js';
import { acquireFileLock } from './file-lock.js';
import { headOfTail, readHeadFile, readTail, readTailOf, resumePoint } from './file-tail.js';

export interface FileSinkOptions {
  path: string;
  minSeverity?: Severity | undefined;
  /** Rotate when the live file would grow past this many bytes (`path` → `path.1` → … `path.keep`). */
  rotate?: number | undefined;
  /** Rotated files kept; the oldest beyond this is deleted. Default 10. */
  keep?: number | undefined;
  /** Hash-chain every line (see ../audit/format.ts) and keep `<path>.head`. Default false. */
  chain?: boolean | undefined;
  /** Lines accepted but not yet written; beyond this, events are dropped and counted. Default 10,000. */
  maxQueuedLines?: number | undefined;
  /** Same bound in characters of JSON. Default 16 MiB. */
  maxQueuedBytes?: number | undefined;
}

/** Test seam: awaited before each write batch (lets a test hold the "disk" still). */
export interface FileSinkHooks {
  beforeWrite?: () => Promise<void>;
}

export interface FileSink extends EventSink {
  stats(): SinkStats;
  /** Resolves once every line accepted so far is written (or dropped). */
  flush(): Promise<void>;
}

const DEFAULT_MAX_LINES = 10_000;
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
/** Bytes handed to one write call. */
const CHUNK_BYTES = 1024 * 1024;
/** After a failed write, events are dropped (and counted) for this long before the next attempt. */
const RETRY_MS = 5_000;
/**
 * Pause between batches of a chained or rotating log: events coalesce into fewer, larger writes,
 * and other writers of the same file (a CLI command) get the lock between two batches.
 */
const BATCH_GAP_MS = 10;
/** Longest line looked at when finding where an existing chain ends. */
const MAX_TAIL_LINE = 4 * 1024 * 1024;

const GENESIS_HEAD: ChainHead = { seq: 0, hash: GENESIS };

type Queued = { event: SecurityEvent; line: string };

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Appends one JSON line per event, file mode 0600, without ever slowing the caller: `write` only
 * queues (bounded by lines and bytes; beyond that events are dropped and counted), and a single
 * writer drains the queue in batches. With `rotate` the live file is renamed to `path.1` (older
 * ones shift up to `path.keep`, the oldest is deleted) before it would grow past `rotate` bytes.
 * With `chain` every line carries a hash chain that continues across rotations and restarts;
 * `bulwark audit verify <path>` checks it. Writers of a chained or rotating log (the gateway, a
 * reload's new sink, CLI commands) take `<path>.lock` per batch and re-read the chain's end when
 * the file changed under them, so the chain never forks.
 */
export function createFileSink(options: FileSinkOptions, hooks: FileSinkHooks = {}): FileSink {
  const path = options.path;
  const keep = Math.max(1, Math.floor(options.keep ?? 10));
  const rotate = options.rotate !== undefined && options.rotate > 0 ? options.rotate : undefined;
  const chain = options.chain === true;
  const coordinated = chain || rotate !== undefined;
  const maxLines = options.maxQueuedLines ?? DEFAULT_MAX_LINES;
  const maxBytes = options.maxQueuedBytes ?? DEFAULT_MAX_BYTES;
  const hp = headPath(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch {
    // Reported by the first write.
  }

  let queue: Queued[] = [];
  let pendingLines = 0;
  let pendingBytes = 0;
  let dropped = 0;
  /** Drops not yet declared in a chained line (`chain.dropped`). */
  let undeclared = 0;
  let closed = false;
  let retryAt = 0;
  let failing = false;
  let running: Promise<void> | undefined;
  let plain: FileHandle | undefined;
  /** The last line this sink wrote: when the file still ends with it, no one else wrote since. */
  let known: ChainHead | undefined;
  let warnedResume = false;

  const drop = (n: number) => {
    dropped += n;
    undeclared += n;
  };

  /** The event's JSON object text: the bus's line, unless it is unfit to be one log line. */
  function bodyOf(item: Queued): string | undefined {
    const { line, event } = item;
    const fit = line.length >= 2 && line.charCodeAt(0) === 0x7b && line.charCodeAt(line.length - 1) === 0x7d && !/[\r\n]/.test(line);
    // The chain member is the sink's alone: a top-level `chain` in the event is left out.
    const foreignChain = chain && Object.prototype.hasOwnProperty.call(event, 'chain');
    if (fit && !foreignChain) return line;
    try {
      if (!foreignChain) return JSON.stringify(event);
      const { chain: _ignored, ...rest } = event as SecurityEvent & { chain?: unknown };
      return JSON.stringify(rest);
    } catch {
      return undefined;
    }
  }

  /**
   * Where the chain continues when the file's end is not this sink's last line (first batch,
   * another writer, or lines removed while no one wrote): the head record decides with the tail.
   */
  async function resume(tailHead: ChainHead | undefined, liveHasData: boolean): Promise<ChainHead> {
    const r = resumePoint(tailHead, await readHeadFile(hp));
    if (!warnedResume && (r.discontinuity || (!tailHead && liveHasData))) {
      warnedResume = true;
      const why = r.discontinuity ? `${r.discontinuity}; continuing from the head, so \`bulwark audit verify\` reports the gap` : 'its last line is not chained; the chain starts after it, and `bulwark audit verify` reports the unchained lines';
      process.stderr.write(`bulwark: security log ${path}: ${why}\n`);
    }
    return r.head;
  }

  async function rotateFiles(): Promise<void> {
    await rm(`${path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) await renameIfExists(`${path}.${i}`, `${path}.${i + 1}`);
    await rename(path, `${path}.1`);
  }

  /** One batch of the coordinated (chained and/or rotating) writer; `progress.written` counts lines on disk. */
  async function writeCoordinated(batch: Queued[], progress: { written: number }): Promise<void> {
    const release = await acquireFileLock(`${path}.lock`);
    try {
      // Read and append through one handle: the end of the file is checked, under the lock,
      // right where this batch continues it.
      let fh = await open(path, 'a+', 0o600);
      let size = 0;
      let head = GENESIS_HEAD;
      let needNewline = false;
      try {
        size = (await fh.stat()).size;
        const tail = size > 0 ? await readTailOf(fh, size, chain ? MAX_TAIL_LINE : 1) : undefined;
        needNewline = tail !== undefined && !tail.terminated;
        if (chain) {
          const onDisk = headOfTail(tail ?? (await readTail(`${path}.1`, MAX_TAIL_LINE)));
          head = known && onDisk && onDisk.seq === known.seq && onDisk.hash === known.hash ? known : await resume(onDisk, size > 0);
        }
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
      known = undefined;

      let parts: string[] = [];
      let partBytes = 0;
      let partLines = 0;
      let partDrops = 0;
      const flushParts = async () => {
        if (parts.length === 0) return;
        const buf = Buffer.from(parts.join(''), 'utf8');
        parts = [];
        partBytes = 0;
        await writeAll(fh, buf);
        progress.written += partLines;
        partLines = 0;
        partDrops = 0;
      };
      try {
        if (needNewline) {
          parts.push('\n');
          partBytes += 1;
          size += 1;
        }
        for (const item of batch) {
          const body = bodyOf(item);
          if (body === undefined) {
            progress.written++;
            drop(1);
            continue;
          }
          const declared = chain ? undeclared : 0;
          const build = (first: boolean) => {
            if (!chain) return { text: body, lineHash: '' };
            const c = chainLine(body, { seq: head.seq + 1, prev: head.hash, first, dropped: declared });
            return { text: c.line, lineHash: c.lineHash };
          };
          let built = build(size === 0);
          let bytes = Buffer.byteLength(built.text, 'utf8') + 1;
          if (rotate !== undefined && size > 0 && size + bytes > rotate) {
            await flushParts();
            await fh.close();
            await rotateFiles();
            fh = await open(path, 'a+', 0o600);
            size = 0;
            built = build(true);
            bytes = Buffer.byteLength(built.text, 'utf8') + 1;
          }
          parts.push(built.text + '\n');
          partBytes += bytes;
          partLines++;
          size += bytes;
          undeclared -= declared;
          partDrops += declared;
          if (chain) head = { seq: head.seq + 1, hash: built.lineHash };
          if (partBytes >= CHUNK_BYTES) await flushParts();
        }
        await flushParts();
        known = head;
      } catch (err) {
        // Drops declared in lines that never reached the disk are undeclared again.
        undeclared += partDrops;
        throw err;
      } finally {
        await fh.close().catch(() => undefined);
      }
      if (chain) {
        // Rename makes the update atomic; no fsync (a crash can leave the head behind the log,
        // which verify reports as a warning, never as a false break).
        await writeFile(`${hp}.tmp`, formatHead(head), { mode: 0o600 });
        await rename(`${hp}.tmp`, hp);
      }
    } finally {
      await release().catch(() => undefined);
    }
  }

  async function writePlain(batch: Queued[], progress: { written: number }): Promise<void> {
    let parts: string[] = [];
    let bytes = 0;
    let lines = 0;
    if (!plain) {
      plain = await open(path, 'a+', 0o600);
      // A line torn by a crash is ended, so the next event does not glue onto it.
      const { size } = await plain.stat();
      if (size > 0 && !(await readTailOf(plain, size, 1)).terminated) parts.push('\n');
    }
    const fh = plain;
    for (const item of batch) {
      const body = bodyOf(item);
      if (body === undefined) {
        progress.written++;
        drop(1);
        continue;
      }
      parts.push(body + '\n');
      bytes += body.length + 1;
      lines++;
      if (bytes >= CHUNK_BYTES) {
        await writeAll(fh, Buffer.from(parts.join(''), 'utf8'));
        progress.written += lines;
        parts = [];
        bytes = 0;
        lines = 0;
      }
    }
    if (parts.length > 0) await writeAll(fh, Buffer.from(parts.join(''), 'utf8'));
    progress.written += lines;
  }

  function failed(err: unknown): void {
    retryAt = Date.now() + RETRY_MS;
    known = undefined;
    const fh = plain;
    plain = undefined;
    void fh?.close().catch(() => undefined);
    if (!failing) {
      const code = (err as NodeJS.ErrnoException | undefined)?.code ?? (err instanceof Error ? err.message : 'error');
      process.stderr.write(`bulwark: security log ${path} is not writable (${code}); events to it are dropped and counted, next attempt in ${RETRY_MS / 1000}s\n`);
    }
    failing = true;
  }

  async function drain(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    let first = true;
    while (queue.length > 0) {
      if (!first && coordinated) await sleep(BATCH_GAP_MS);
      first = false;
      const batch = queue;
      queue = [];
      let chars = 0;
      for (const q of batch) chars += q.line.length;
      const progress = { written: 0 };
      try {
        if (hooks.beforeWrite) await hooks.beforeWrite();
        await (coordinated ? writeCoordinated(batch, progress) : writePlain(batch, progress));
        retryAt = 0;
        if (failing) {
          failing = false;
          process.stderr.write(`bulwark: security log ${path} is written again (${dropped} events dropped so far)\n`);
        }
      } catch (err) {
        drop(batch.length - progress.written);
        failed(err);
        // What queued up behind the failing batch would meet the same disk.
        const rest = queue;
        queue = [];
        drop(rest.length);
        pendingLines -= rest.length;
        for (const q of rest) pendingBytes -= q.line.length;
      } finally {
        pendingLines -= batch.length;
        pendingBytes -= chars;
      }
    }
  }

  function kick(): void {
    if (running) return;
    running = drain()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (queue.length > 0) kick();
      });
  }

  async function flush(): Promise<void> {
    while (running) await running;
  }

  return {
    name: `file:${path}`,
    write(event, line) {
      try {
        if (!severityAtLeast(event.bulwark.severity, options.minSeverity)) return;
        if (closed || pendingLines >= maxLines || pendingBytes + line.length > maxBytes || (retryAt !== 0 && Date.now() < retryAt)) {
          drop(1);
          return;
        }
        queue.push({ event, line });
        pendingLines++;
        pendingBytes += line.length;
        kick();
      } catch {
        drop(1);
      }
    },
    stats() {
      return { queued: pendingLines, dropped };
    },
    flush,
    async close() {
      closed = true;
      await flush();
      const fh = plain;
      plain = undefined;
      await fh?.close().catch(() => undefined);
    },
  };
}
