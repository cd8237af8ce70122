/**
 * Outcome types shared by the strict request-body checks.
 *
 * The reason is a closed union and the status is derived from it through one table, so a
 * caller (logs, metrics, the error response) can switch on `reason` exhaustively and two
 * call sites can never disagree about which status a reason maps to.
 */

export type BodyRejectReason =
  | 'unsupported_media_type'
  | 'unsupported_encoding'
  | 'too_large'
  | 'invalid_utf8'
  | 'byte_order_mark'
  | 'invalid_json'
  | 'too_deep'
  | 'duplicate_key'
  | 'forbidden_key'
  | 'lone_surrogate'
  | 'not_an_object';

export type BodyRejectStatus = 400 | 413 | 415;

export type BodyCheckFailure = {
  ok: false;
  status: BodyRejectStatus;
  reason: BodyRejectReason;
  detail: string;
};

export type BodyCheckResult = { ok: true } | BodyCheckFailure;

export const BODY_REJECT_STATUS: Readonly<Record<BodyRejectReason, BodyRejectStatus>> = {
  unsupported_media_type: 415,
  unsupported_encoding: 415,
  too_large: 413,
  invalid_utf8: 400,
  byte_order_mark: 400,
  invalid_json: 400,
  too_deep: 400,
  duplicate_key: 400,
  forbidden_key: 400,
  lone_surrogate: 400,
  not_an_object: 400,
};

/** Shared so the success path allocates nothing per request. */
export const BODY_OK: { readonly ok: true } = Object.freeze({ ok: true });

export function rejectBody(reason: BodyRejectReason, detail: string): BodyCheckFailure {
  return { ok: false, status: BODY_REJECT_STATUS[reason], reason, detail };
}

/**
 * The body is buffered by the gateway, which is where the byte limit is enforced (it must stop
 * reading early, so it cannot live in these pure functions); this keeps its rejection in the
 * same shape as every other body refusal.
 */
export function rejectTooLarge(limitBytes: number): BodyCheckFailure {
  return rejectBody('too_large', `request body exceeds the ${limitBytes}-byte limit`);
}

/** Hard cap on how much client-controlled text a `detail` may repeat back. */
export const MAX_ECHO_CHARS = 40;

/**
 * Quote client input for a `detail`. It is truncated so error responses and logs cannot be
 * used to reflect large payloads, and JSON-quoted so control characters, newlines and lone
 * surrogates cannot forge log lines or break whatever renders the message.
 */
export function echo(input: string): string {
  let cut = input.length > MAX_ECHO_CHARS ? input.slice(0, MAX_ECHO_CHARS) : input;
  // Never split a surrogate pair at the cut; a dangling half would be re-escaped as noise.
  const last = cut.charCodeAt(cut.length - 1);
  if (cut.length < input.length && last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return JSON.stringify(cut) + (cut.length < input.length ? '…' : '');
}
