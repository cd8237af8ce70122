import { randomBytes } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * An exclusive lock file (`O_CREAT|O_EXCL`) that serializes the writers of one chained log: the
 * gateway, a second sink instance during a config reload, and CLI commands (`bulwark bans add`)
 * that log to the same file. Each holder re-reads the chain's tail under the lock, so the chain
 * never forks. A lock left by a dead process on this host, or older than `staleMs`, is taken over.
 */
export interface FileLockOptions {
  staleMs?: number;
  /** Longest pause between attempts (they start at 2 ms and back off). */
  maxPollMs?: number;
}

interface LockRecord {
  host: string;
  pid: number;
  token: string;
  at: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readRecord(lockPath: string): Promise<LockRecord | undefined> {
  try {
    const v = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockRecord>;
    if (typeof v.host === 'string' && typeof v.pid === 'number' && typeof v.token === 'string' && typeof v.at === 'number') return v as LockRecord;
  } catch {
    // Unreadable or half-written (the holder is between create and write): treated by age below.
  }
  return undefined;
}

/** Holders in this process queue here first (FIFO), so they never poll against each other. */
const local = new Map<string, Promise<void>>();
/** When this process last let go of a lock file. */
const releasedAt = new Map<string, number>();
/**
 * Between two holders from this process the lock file stays free this long, so another
 * process polling for it (a CLI command next to a busy gateway) is not starved by the handoff.
 */
const HANDOFF_GAP_MS = 5;

/**
 * Resolves with a release function once the lock is held: first this process's turn for
 * `lockPath`, then the lock file. Throws on errors other than contention.
 */
export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<() => Promise<void>> {
  const key = resolve(lockPath);
  const before = local.get(key) ?? Promise.resolve();
  let done!: () => void;
  const turnOver = new Promise<void>((r) => (done = r));
  const mine = before.then(() => turnOver);
  local.set(key, mine);
  const leave = () => {
    releasedAt.set(key, Date.now());
    done();
    if (local.get(key) === mine) local.delete(key);
  };
  await before;
  const since = Date.now() - (releasedAt.get(key) ?? 0);
  if (since < HANDOFF_GAP_MS) await sleep(HANDOFF_GAP_MS - since);
  try {
    const release = await acquireLockFile(lockPath, options);
    return async () => {
      try {
        await release();
      } finally {
        leave();
      }
    };
  } catch (err) {
    leave();
    throw err;
  }
}

async function acquireLockFile(lockPath: string, options: FileLockOptions): Promise<() => Promise<void>> {
  const staleMs = options.staleMs ?? 10_000;
  const maxPollMs = options.maxPollMs ?? 5;
  const me: LockRecord = { host: hostname(), pid: process.pid, token: randomBytes(12).toString('hex'), at: 0 };
  let pause = 2;
  let unreadableSince: number | undefined;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify({ ...me, at: Date.now() }));
      } finally {
        await fh.close();
      }
      return async () => {
        const held = await readRecord(lockPath);
        if (held?.token === me.token) await unlink(lockPath).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readRecord(lockPath);
    const now = Date.now();
    let stale: boolean;
    if (holder) {
      unreadableSince = undefined;
      stale = now - holder.at > staleMs || (holder.host === me.host && !alive(holder.pid));
    } else {
      unreadableSince ??= now;
      stale = now - unreadableSince > staleMs;
    }
    if (stale) {
      await unlink(lockPath).catch(() => undefined);
      unreadableSince = undefined;
      continue;
    }
    await sleep(pause + Math.floor(Math.random() * pause));
    pause = Math.min(pause * 2, maxPollMs);
  }
}
