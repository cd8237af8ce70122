import type { RouteKind } from '../config/schema-route.js';
import { MAX_TOKEN_FIELDS } from './request-schemas.js';

export type MaxTokensCheck = { ok: true; clamped: boolean } | { ok: false; detail: string };

/**
 * Caps the requested output budget. The kind schema already guaranteed a non-negative integer
 * (so NaN, floats, strings and 1e400 never get here); this enforces the route's ceiling.
 */
export function enforceMaxTokens(kind: RouteKind, body: Record<string, unknown>, limit: number | undefined, clamp: boolean): MaxTokensCheck {
  if (limit === undefined) return { ok: true, clamped: false };
  let clamped = false;
  for (const field of MAX_TOKEN_FIELDS[kind]) {
    const v = body[field];
    if (typeof v !== 'number' || v <= limit) continue;
    if (!clamp) return { ok: false, detail: `${field} must be at most ${limit}` };
    body[field] = limit;
    clamped = true;
  }
  return { ok: true, clamped };
}
