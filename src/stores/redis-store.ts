import { randomBytes } from 'node:crypto';
import { Redis, ReplyError } from 'ioredis';
import { assertIncrementStep, expiresAtFor, notACounter, assertUnits, spendWindow } from './expiry.js';
import type { Store } from './store.js';
import { StoreUnavailableError } from './store-unavailable.js';

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key, so several gateways (or tenants) can share one Redis. */
  prefix: string;
  /** How long one command may take before it fails as unavailable (ms; `state.redis.commandTimeout`). */
  commandTimeoutMs?: number;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 100;
const STARTUP_WAIT_MS = 1_000;

// Replies that mean "Redis cannot serve now" (loading, a script running too long, a replica cut
// off from its primary, out of memory, read-only after a failover) rather than a misuse.
const OUTAGE_REPLY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|OOM|NOREPLICAS)\b/;

/**
 * `p`, or StoreUnavailableError once `ms` have passed. A loaded process must not mistake itself
 * for a hung Redis, so the verdict waits for one more I/O poll (setImmediate after the timer): a
 * reply that arrived while the event loop was busy (a long synchronous stage) is read first. And
 * when the timer itself fired late (the loop was blocked for a good part of the wait), the reply
 * may still be one read away (a relay, a descheduled Redis): it gets one more deadline. A hung
 * Redis therefore costs `ms`, or at most twice that in a lagging process.
 */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let armedAt = performance.now();
    let extended = false;
    let settled = false;
    const expire = () =>
      setImmediate(() => {
        if (settled) return;
        if (!extended && performance.now() - armedAt > ms * 1.5) {
          extended = true;
          armedAt = performance.now();
          timer = setTimeout(expire, ms);
          return;
        }
        reject(new StoreUnavailableError('redis', 'command timed out'));
      });
    let timer = setTimeout(expire, ms);
    p.then(
      (v) => {
        settled = true;
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        settled = true;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * The driver's failure as the Store contract's: an outage becomes StoreUnavailableError (so the
 * failure policy applies), a contract error (RangeError, TypeError) or a plain reply error (a bug)
 * stays what it is.
 */
function asStoreError(err: unknown): unknown {
  if (err instanceof RangeError || err instanceof TypeError) return err;
  const message = err instanceof Error ? err.message : '';
  const reply = err instanceof ReplyError;
  if (reply && !OUTAGE_REPLY.test(message)) return err;
  const what = /timed out/i.test(message) ? 'command timed out' : /writeable|closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|max retries/i.test(message) ? 'not connected' : reply ? (message.split(' ')[0] ?? 'reply') : 'error';
  return new StoreUnavailableError('redis', what, { cause: err });
}

// Atomic increment that sets the expiry only when the counter is created (the Store contract),
// and refuses to count on a value that is not a canonical integer.
const INCREMENT = `
local existed = redis.call('EXISTS', KEYS[1])
if existed == 1 then
  local v = redis.call('GET', KEYS[1])
  if not string.match(v, '^-?[1-9][0-9]*$') and v ~= '0' then return redis.error_reply('NOTCOUNTER') end
end
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 and ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`;

// Sliding-window log on a sorted set, timed by the Redis server's clock so instances with skewed
// clocks still share one window. Returns {allowed, count, oldest-age-ms}.
const HIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], window)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = 0
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, count, reset}`;

// Weighted sliding window: KEYS[1] a sorted set (member = entry id, score = when it was made, by
// the Redis server's clock), KEYS[2] a hash (entry id -> amount, plus '_sum', the running total
// of the live entries). Expired entries are trimmed oldest-first in batches (so a key idle with
// thousands of entries never unpacks too many arguments), each subtracted from '_sum' once: a
// call costs amortised O(1) instead of summing the window. Defines now, window and sum.
const SPEND_TRIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local sum = tonumber(redis.call('HGET', KEYS[2], '_sum') or '0')
local trimmed = false
while true do
  local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - window, 'LIMIT', 0, 500)
  if #gone == 0 then break end
  local amounts = redis.call('HMGET', KEYS[2], unpack(gone))
  for i = 1, #gone do sum = sum - (tonumber(amounts[i]) or 0) end
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('HDEL', KEYS[2], unpack(gone))
  trimmed = true
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  -- Nothing live: the total is 0 whatever '_sum' says (heals any drift).
  sum = 0
  redis.call('DEL', KEYS[2])
elseif trimmed then
  redis.call('HSET', KEYS[2], '_sum', sum)
end`;

// ARGV: window, amount, limit, new entry id. Returns {allowed, total, resetMs}.
const SPEND = `${SPEND_TRIM}
local amount = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
if sum + amount <= limit then
  sum = sum + amount
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('HSET', KEYS[2], ARGV[4], ARGV[2], '_sum', sum)
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('PEXPIRE', KEYS[2], window)
  return {1, sum, 0}
end
local reset = window
if amount <= limit then
  local left = sum
  local start = 0
  local done = false
  while not done do
    local page = redis.call('ZRANGE', KEYS[1], start, start + 99, 'WITHSCORES')
    if #page == 0 then break end
    local ids = {}
    for i = 1, #page, 2 do ids[#ids + 1] = page[i] end
    local amounts = redis.call('HMGET', KEYS[2], unpack(ids))
    for i = 1, #ids do
      left = left - (tonumber(amounts[i]) or 0)
      if left + amount <= limit then
        reset = tonumber(page[i * 2]) + window - now
        done = true
        break
      end
    end
    start = start + 100
  end
end
return {0, sum, reset}`;

// ARGV: window, new amount, entry id. Returns the total after. Only a live entry (a member of the
// sorted set, which '_sum' never is) changes; one that left the window is not revived.
const SETTLE = `${SPEND_TRIM}
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  sum = sum - (tonumber(redis.call('HGET', KEYS[2], ARGV[3])) or 0) + tonumber(ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[2], '_sum', sum)
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('PEXPIRE', KEYS[2], window)
end
return sum`;

/**
 * The Store contract on Redis (ioredis), so several gateway instances share keys, bans, counters
 * and inventory. No call waits on Redis longer than its deadline: each command fails after
 * `commandTimeoutMs` (a hung or partitioned server answers nothing, and would otherwise hold the
 * request for as long as TCP takes to notice), and while Redis is away commands fail at once
 * instead of queueing (no offline queue). Either way the error is a StoreUnavailableError and
 * the caller's failure policy decides.
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const backstopMs = Math.max(1_000, 10 * timeoutMs);
  const redis = new Redis(options.url, {
    keyPrefix: options.prefix,
    enableOfflineQueue: false,
    // A command that timed out is never sent again after a reconnect: its caller already took
    // the onError path, and a late replay would count a request twice.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // The deadline callers see is withDeadline's; the driver's own timeout is only a backstop
    // that rejects its queued commands (and its ready check on a hung server) eventually.
    commandTimeout: backstopMs,
    // A connection that answers nothing for this long is dropped and redialled: timed-out
    // commands wait in the driver's queue for replies that never come, so this bounds that queue,
    // and while redialling every command fails at once instead of costing its timeout.
    socketTimeout: backstopMs,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    lazyConnect: false,
  });
  // Connection errors are reported through failing commands; an unhandled 'error' event would
  // crash the process.
  redis.on('error', () => undefined);
  // Only the first connection is waited for (calls made while the gateway starts), until it is
  // ready or has failed (refused, or a hung server's ready check timed out), at most 1 s; later
  // outages fail fast.
  const ready = new Promise<void>((resolve) => {
    if (redis.status === 'ready') return resolve();
    const done = () => {
      clearTimeout(timer);
      for (const e of ['ready', 'error', 'close'] as const) redis.off(e, done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(timeoutMs, STARTUP_WAIT_MS));
    timer.unref();
    for (const e of ['ready', 'error', 'close'] as const) redis.once(e, done);
  });
  // Every store call but `keys` is one round trip, and gets one deadline; `keys` gives one to
  // each SCAN page (a large keyspace takes many, each answered quickly).
  const call = async <T>(fn: () => Promise<T>, deadline = true): Promise<T> => {
    await ready;
    try {
      return await (deadline ? withDeadline(fn(), timeoutMs) : fn());
    } catch (err) {
      throw asStoreError(err);
    }
  };
  const ttlArg = (ttlMs: number | undefined) => {
    expiresAtFor(ttlMs, 0); // same validation as the other stores
    return ttlMs === undefined ? undefined : Math.ceil(ttlMs);
  };

  return {
    kind: 'redis',
    get: (key) => call(async () => (await redis.get(key)) ?? undefined),
    set: (key, value, ttlMs) =>
      call(async () => {
        const ttl = ttlArg(ttlMs);
        if (ttl === undefined) await redis.set(key, value);
        else await redis.set(key, value, 'PX', ttl);
      }),
    setIfAbsent: (key, value, ttlMs) =>
      call(async () => {
        const ttl = ttlArg(ttlMs);
        const r = ttl === undefined ? await redis.set(key, value, 'NX') : await redis.set(key, value, 'PX', ttl, 'NX');
        return r === 'OK';
      }),
    delete: (key) => call(async () => (await redis.del(key)) > 0),
    increment: (key, by = 1, ttlMs) =>
      call(async () => {
        assertIncrementStep(by);
        const ttl = ttlArg(ttlMs);
        try {
          return Number(await redis.eval(INCREMENT, 1, key, String(by), ttl === undefined ? '' : String(ttl)));
        } catch (err) {
          if (err instanceof Error && /NOTCOUNTER|not an integer/.test(err.message)) throw notACounter(key);
          throw err;
        }
      }),
    setAdd: (key, members, ttlMs) =>
      call(async () => {
        const ttl = ttlArg(ttlMs);
        if (members.length === 0) {
          if (ttl !== undefined) await redis.pexpire(key, ttl);
          return 0;
        }
        const multi = redis.multi().sadd(key, ...members);
        if (ttl !== undefined) multi.pexpire(key, ttl);
        const res = await multi.exec();
        return Number(res?.[0]?.[1] ?? 0);
      }),
    setRemove: (key, members) => call(async () => (members.length === 0 ? 0 : redis.srem(key, ...members))),
    setMembers: (key) => call(() => redis.smembers(key)),
    hit: (key, limit, windowMs) =>
      call(async () => {
        const member = `${Date.now()}:${Math.random().toString(36).slice(2)}`;
        const [allowed, count, reset] = (await redis.eval(HIT, 1, `\u0000hit:${key}`, String(limit), String(Math.ceil(windowMs)), member)) as [number, number, number];
        return { allowed: allowed === 1, count, resetMs: Math.max(0, reset) };
      }),
    spend: (key, amount, limit, windowMs) =>
      call(async () => {
        assertUnits('amount', amount);
        assertUnits('limit', limit);
        const window = spendWindow(windowMs);
        const entry = `${Date.now()}:${randomBytes(9).toString('base64url')}`;
        const [allowed, total, reset] = (await redis.eval(SPEND, 2, ...spendKeys(key), String(window), String(amount), String(limit), entry)) as [number, number, number];
        return allowed === 1 ? { allowed: true, total, resetMs: 0, entry } : { allowed: false, total, resetMs: Math.max(0, reset), entry: '' };
      }),
    settle: (key, entry, amount, windowMs) =>
      call(async () => {
        assertUnits('amount', amount);
        const window = spendWindow(windowMs);
        return Number(await redis.eval(SETTLE, 2, ...spendKeys(key), String(window), String(amount), entry));
      }),
    ttl: (key) =>
      call(async () => {
        const t = await redis.pttl(key);
        return t === -2 ? undefined : t === -1 ? Infinity : t;
      }),
    keys: (prefix, limit = 1000) =>
      call(async () => {
        // SCAN sees the full key (with the connection prefix), and MATCH is a glob: escape it.
        const pattern = `${escapeGlob(options.prefix + prefix)}*`;
        const found = new Set<string>();
        let cursor = '0';
        do {
          const [next, batch] = await withDeadline(redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500), timeoutMs);
          cursor = next;
          // Sliding-window logs live under a NUL-led name: not part of the key listing.
          for (const k of batch) if (k.charCodeAt(options.prefix.length) !== 0) found.add(k.slice(options.prefix.length));
        } while (cursor !== '0');
        return [...found].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))).slice(0, Math.max(0, Math.floor(limit)));
      }, false),
    async close() {
      redis.disconnect();
    },
  };
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * A spend window's sorted set and hash. NUL-led like hit logs, so `keys()` skips them and no
 * value key can collide; the fixed-length tags keep one key's pair apart from every other's.
 */
function spendKeys(key: string): [string, string] {
  return [`\u0000spend:z:${key}`, `\u0000spend:h:${key}`];
}

