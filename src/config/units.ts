import { z } from 'zod';

// Durations and sizes are parsed once at load so no stage ever re-parses "60s" per request.

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "1m" → 60000; a bare number is milliseconds. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : undefined;
  const m = DURATION_RE.exec(input.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_MS[m[2] as keyof typeof DURATION_MS]);
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i;
const SIZE_BYTES: Record<string, number> = {
  b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3,
};

/** "1mb" → 1048576 (binary units: operators expect 16kb to be Node's 16 KiB header limit). */
export function parseSize(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isInteger(input) && input >= 0 ? input : undefined;
  const m = SIZE_RE.exec(input.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * (SIZE_BYTES[(m[2] ?? 'b').toLowerCase()] ?? 1));
}

/** A field written as a number or a string with a unit, parsed once to a number with bounds. */
function unitField(parse: (v: string | number) => number | undefined, expected: string, unit: string, opts: { min?: number; max?: number }) {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = parse(v);
    const problem =
      n === undefined ? `expected ${expected} (got ${JSON.stringify(v).slice(0, 40)})`
      : opts.min !== undefined && n < opts.min ? `must be at least ${opts.min} ${unit}`
      : opts.max !== undefined && n > opts.max ? `must be at most ${opts.max} ${unit}`
      : undefined;
    if (problem !== undefined || n === undefined) {
      ctx.addIssue({ code: 'custom', message: problem ?? 'invalid' });
      return z.NEVER;
    }
    return n;
  });
}

/**
 * A duration field: `"60s"`, `"1m"`, `"500ms"`. Output: ms. A bare number is refused: `timeout: 60`
 * reads as a minute to a person and as 60 ms to a parser, and that gap is a production outage.
 */
export function duration(opts: { min?: number; max?: number } = {}) {
  return unitField((v) => (typeof v === 'number' ? undefined : parseDuration(v)), 'a duration with a unit, such as "500ms", "30s", "1m", "1h"', 'ms', opts);
}

/** A size field: `"1mb"`, `"16kb"`, or a number of bytes. Output: bytes. */
export function size(opts: { min?: number; max?: number } = {}) {
  return unitField(parseSize, 'a size such as "16kb" or "1mb"', 'bytes', opts);
}

/** `host:port` or `[v6]:port` or `:port`. */
export const listenAddress = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8080');

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  let host = listen.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host: host || '0.0.0.0', port: Number(listen.slice(i + 1)) };
}
