import type { RouteKind } from '../config/schema-route.js';
import { CHOICE_FIELDS, FOREIGN_CAP_FIELDS, MAX_TOKEN_FIELDS } from './request-schemas.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The route's output settings (`input.*`), with their defaults applied. */
export interface OutputCapConfig {
  /** Ceiling of a request's output tokens, per choice; undefined: the route sets none. */
  maxTokens: number | undefined;
  clamp: boolean;
  /** openai-chat: the field the cap is written to when the request carries none. */
  field: 'max_tokens' | 'max_completion_tokens';
  maxChoices: number;
}

export type OutputCapCheck = { ok: true; clamped: boolean } | { ok: false; detail: string; reason: 'max_tokens' | 'max_choices' | 'schema' };

/**
 * Caps what one request may generate, in the body that is forwarded. The kind schema already
 * guaranteed non-negative integers or null (so NaN, floats, strings and 1e400 never get here).
 *
 * - Choices (`n`, `best_of`) above the route's `maxChoices` are refused: each is a whole answer.
 * - A cap above `maxTokens` is refused, or clamped; another server's length field (`n_predict`,
 *   ...) that would override it is refused.
 * - A request that leaves the cap out (absent or null) gets `maxTokens` written in: null means
 *   "the model's own limit" upstream, which no reservation could cover. Null fields are dropped,
 *   so the upstream reads exactly one cap.
 */
export function enforceOutputCaps(kind: RouteKind, body: Record<string, unknown>, cfg: OutputCapConfig): OutputCapCheck {
  for (const field of CHOICE_FIELDS[kind]) {
    const v = body[field];
    if (typeof v === 'number' && v > cfg.maxChoices) return { ok: false, detail: `${field} must be at most ${cfg.maxChoices}`, reason: 'max_choices' };
  }
  const fields = MAX_TOKEN_FIELDS[kind];
  if (fields.length === 0) return { ok: true, clamped: false };
  const limit = cfg.maxTokens;
  if (limit === undefined) {
    // Anthropic requires the cap; without a route cap to fill in, the request must carry it.
    if (kind === 'anthropic-messages' && typeof body.max_tokens !== 'number') return { ok: false, detail: 'max_tokens: a number is required', reason: 'schema' };
    return { ok: true, clamped: false };
  }
  const options = body.options;
  for (const field of FOREIGN_CAP_FIELDS) {
    if (Object.hasOwn(body, field) || (isRecord(options) && Object.hasOwn(options, field))) {
      return { ok: false, detail: `${field} is not accepted: the output cap is ${fields.join(' / ')}`, reason: 'max_tokens' };
    }
  }
  let clamped = false;
  let capped = false;
  const named: string[] = [];
  for (const field of fields) {
    if (!Object.hasOwn(body, field)) continue;
    const v = body[field];
    if (typeof v !== 'number') {
      named.push(field);
      delete body[field];
      continue;
    }
    capped = true;
    if (v <= limit) continue;
    if (!cfg.clamp) return { ok: false, detail: `${field} must be at most ${limit}`, reason: 'max_tokens' };
    body[field] = limit;
    clamped = true;
  }
  // The field the client named (with null) says which one its model reads; else the route's.
  if (!capped) body[named[0] ?? (kind === 'openai-chat' ? cfg.field : fields[0]!)] = limit;
  return { ok: true, clamped };
}

/**
 * How many whole answers the request asks for: the largest of its choice fields, at least 1,
 * times the prompts of a completions batch (`prompt` as several strings or several token-id
 * lists: each prompt gets its own choices, every one up to the cap).
 */
export function outputChoices(kind: RouteKind, body: Record<string, unknown>): number {
  let n = 1;
  for (const field of CHOICE_FIELDS[kind]) {
    const v = body[field];
    if (typeof v === 'number' && Number.isFinite(v) && v > n) n = Math.floor(v);
  }
  return n * promptBatch(kind, body);
}

/** The prompts of one completions request: 1 unless `prompt` is a list of texts or of token-id lists. */
function promptBatch(kind: RouteKind, body: Record<string, unknown>): number {
  if (kind !== 'openai-completions') return 1;
  const p = body.prompt;
  if (!Array.isArray(p) || p.length === 0 || typeof p[0] === 'number') return 1;
  return p.length;
}
