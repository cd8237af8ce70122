import { request } from 'undici';
import {
  WEBHOOK_DELIVERY_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  signWebhook,
} from './webhook-signature.js';

/**
 * One POST of a webhook batch, and what its answer means for the batch: delivered, worth a retry
 * (network errors, timeouts, 408, 425, 429, 5xx, with `Retry-After` when the receiver sent one),
 * refused for good (any other answer), or cut short by the sink closing.
 */

export type WebhookOutcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; status?: number; error?: string; retryAfterMs?: number }
  | { kind: 'reject'; status: number }
  | { kind: 'aborted' };

export interface WebhookTarget {
  readonly url: string;
  /** HMAC key for `X-Bulwark-Signature`; without one the POST is unsigned. */
  readonly secret?: string | undefined;
  readonly timeoutMs: number;
}

/** A failed request is an outcome (`retry`), not a rejection; `closeSignal` aborting (not the timeout) gives `aborted`. */
export async function postWebhookBatch(target: WebhookTarget, body: string, deliveryId: string, closeSignal: AbortSignal): Promise<WebhookOutcome> {
  const { timeoutMs } = target;
  const ts = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'bulwark-webhook',
    [WEBHOOK_TIMESTAMP_HEADER]: String(ts),
    [WEBHOOK_DELIVERY_HEADER]: deliveryId,
  };
  if (target.secret) headers[WEBHOOK_SIGNATURE_HEADER] = signWebhook(target.secret, ts, body);
  const signal = AbortSignal.any([closeSignal, AbortSignal.timeout(timeoutMs)]);
  try {
    const res = await request(target.url, {
      method: 'POST', headers, body, signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
    });
    // The answer's body is not read beyond what it takes to reuse the connection.
    await res.body.dump({ limit: 64 * 1024, signal }).catch(() => undefined);
    const status = res.statusCode;
    if (status >= 200 && status < 300) return { kind: 'delivered' };
    if (status === 408 || status === 425 || status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
      return { kind: 'retry', status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    return { kind: 'reject', status };
  } catch (err) {
    if (closeSignal.aborted) return { kind: 'aborted' };
    return { kind: 'retry', error: errorText(err) };
  }
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : err.name;
  }
  return 'network error';
}
