import { Redis } from 'ioredis';
import { assertIncrementStep, expiresAtFor, notACounter } from './expiry.js';
import type { Store } from './store.js';

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key, so several gateways (or tenants) can share one Redis. */
  prefix: string;
  /** How long one command may take before it fails (ms). */
  commandTimeoutMs?: number;
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

/**
 * The Store contract on Redis (ioredis), so several gateway instances share keys, bans, counters
 * and inventory. Commands fail fast instead of queueing while Redis is away (no offline queue,
 * one retry, a command timeout): the caller's failure policy decides, never a hung request.
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const redis = new Redis(options.url, {
    keyPrefix: options.prefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    lazyConnect: false,
  });
  // Connection errors are reported through failing commands; an unhandled 'error' event would
  // crash the process.
  redis.on('error', () => undefined);
  const ready = new Promise<void>((resolve) => {
    if (redis.status === 'ready') resolve();
    else redis.once('ready', () => resolve());
    setTimeout(resolve, 2_000).unref();
  });
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    await ready;
    return fn();
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
          const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
          cursor = next;
          // Sliding-window logs live under a NUL-led name: not part of the key listing.
          for (const k of batch) if (k.charCodeAt(options.prefix.length) !== 0) found.add(k.slice(options.prefix.length));
        } while (cursor !== '0');
        return [...found].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))).slice(0, Math.max(0, Math.floor(limit)));
      }),
    async close() {
      redis.disconnect();
    },
  };
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
