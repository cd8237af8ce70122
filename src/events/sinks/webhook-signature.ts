import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of every webhook delivery. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-bulwark-signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'x-bulwark-timestamp';
export const WEBHOOK_DELIVERY_HEADER = 'x-bulwark-delivery';

/** How old (or how far in the future) a signed timestamp may be by default: 5 minutes. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. The timestamp is part of the signed
 * text so a captured delivery cannot be replayed later with a fresh `X-Bulwark-Timestamp`.
 */
export function signWebhook(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

/**
 * For receivers: whether `header` (the `X-Bulwark-Signature` value) is a valid signature of
 * `body` (the raw request body, byte for byte, before any JSON parsing) at `timestamp` (the
 * `X-Bulwark-Timestamp` value, unix seconds), and the timestamp is within `toleranceSeconds` of
 * now. Comparison is constant-time. `secret` may be a list, for a rotation window in which the
 * receiver accepts the old and the new secret. The header may carry several comma-separated
 * `sha256=` values; one match is enough. Never throws: anything malformed is `false`.
 *
 * The receiver must still deduplicate by `event.id`: delivery is at-least-once.
 */
export function verifyWebhookSignature(
  secret: string | readonly string[],
  timestamp: string | number | undefined,
  body: string | Uint8Array,
  header: string | readonly string[] | undefined,
  toleranceSeconds: number = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  nowMs: number = Date.now(),
): boolean {
  if (timestamp === undefined || header === undefined) return false;
  const tsText = String(timestamp).trim();
  if (!/^\d{1,12}$/.test(tsText)) return false;
  const ts = Number(tsText);
  if (!(toleranceSeconds >= 0) || Math.abs(nowMs / 1000 - ts) > toleranceSeconds) return false;
  const candidates: Buffer[] = [];
  for (const part of (typeof header === 'string' ? [header] : header).join(',').split(',')) {
    const m = /^\s*sha256=([0-9a-fA-F]{64})\s*$/.exec(part);
    if (m?.[1]) candidates.push(Buffer.from(m[1].toLowerCase(), 'hex'));
  }
  if (candidates.length === 0) return false;
  let ok = false;
  for (const s of typeof secret === 'string' ? [secret] : secret) {
    if (s.length === 0) continue;
    const expected = Buffer.from(signWebhook(s, tsText, body).slice('sha256='.length), 'hex');
    // No early exit: every candidate is compared, so timing says nothing about which one matched.
    for (const c of candidates) if (timingSafeEqual(c, expected)) ok = true;
  }
  return ok;
}
