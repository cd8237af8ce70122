import type { RouteKind } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';
import { deny, type Deny } from '../../core/verdict.js';
import type { Unscreenable } from './message-walk.js';
import { NORMALIZED_SLACK, prepareTexts, textSet, type TextSet } from './prepared.js';
import { extractTexts, type Extraction } from './texts.js';
import { decodeTokenIds, idBudget, type DecodeFailure, type TokenEncoding } from './token-ids.js';

export type RequestTexts = { ok: true; set: TextSet; unscreenable: readonly Unscreenable[] } | { ok: false; verdict: Deny };

const LOCAL = 'input-guard.texts';

const tooLarge = (detail: string, reason: string, details?: Record<string, unknown>): RequestTexts => ({
  ok: false,
  verdict: deny('INVALID_INPUT', detail, { status: 413, event: { reason, ...(details ? { details } : {}) } }),
});

function decodeFailed(f: DecodeFailure): RequestTexts {
  if (f.reason === 'unknown_token_id') return { ok: false, verdict: deny('INVALID_INPUT', f.detail, { event: { reason: f.reason } }) };
  return tooLarge(f.detail, f.reason);
}

function finish(ex: Extraction, decoded: Extraction['texts']): RequestTexts {
  const prepared = prepareTexts(decoded.length > 0 ? [...ex.texts, ...decoded] : ex.texts);
  if (!prepared.ok) {
    return tooLarge('The text of the request is larger than the request once normalized (NFKC expands some characters).', 'normalized_size', { chars: prepared.normalizedChars, budget: prepared.budget });
  }
  return { ok: true, set: textSet(prepared.texts), unscreenable: ex.unscreenable };
}

/**
 * The request's screened texts, each normalized once, shared by every stage of the request that
 * reads them (input guard, poisoning guard): computed on first use and kept in `ctx.locals`.
 * Synchronous unless the prompt is token ids (the decoder loads lazily).
 */
export function requestTexts(ctx: RequestContext, kind: RouteKind, body: Record<string, unknown>, fields: readonly string[] | undefined, tokenIds: TokenEncoding | 'refuse' = 'cl100k_base'): RequestTexts | Promise<RequestTexts> {
  const memo = ctx.locals.get(LOCAL) as RequestTexts | Promise<RequestTexts> | undefined;
  if (memo !== undefined) return memo;
  const ex = extractTexts(kind, body, fields);
  let result: RequestTexts | Promise<RequestTexts>;
  if (ex.tokenIds.length === 0) result = finish(ex, []);
  else if (tokenIds === 'refuse') {
    // The route's model reads ids of a tokenizer the gateway does not have: decoding them with
    // another would screen unrelated text, so they are not accepted at all.
    result = { ok: false, verdict: deny('INVALID_INPUT', 'This route does not accept prompts given as token ids.', { event: { reason: 'token_ids_refused' } }) };
  } else {
    let budget = NORMALIZED_SLACK;
    for (const t of ex.texts) budget += Buffer.byteLength(t.text, 'utf8');
    for (const t of ex.tokenIds) for (const id of t.ids) budget += idBudget(id);
    result = decodeTokenIds(ex.tokenIds, budget, tokenIds).then((d) => (d.ok ? finish(ex, d.texts) : decodeFailed(d)));
  }
  ctx.locals.set(LOCAL, result);
  return result;
}
