import type { LocalResponse } from '../../core/stage.js';
import type { EventBus } from '../../events/bus.js';
import type { Store } from '../../stores/store.js';
import { clientNetwork } from '../../server/client-network.js';
import { Bans } from '../ban/bans.js';

/** Failed token requests one client network may make within a window; then it is refused for a window. */
export const TOKEN_FAILURES_PER_WINDOW = 10;
export const TOKEN_FAILURE_WINDOW_MS = 60_000;

const retryAfter = (untilMs: number) => String(Math.max(1, Math.ceil((untilMs - Date.now()) / 1000)));

function refusal(status: number, error: string, description: string, untilMs: number): LocalResponse {
  return { status, headers: { 'cache-control': 'no-store', 'retry-after': retryAfter(untilMs) }, body: JSON.stringify({ error, error_description: description }) };
}

/**
 * The token endpoint answers outside the routes' pipeline, so it does here what the ban and
 * rate-limit stages do for routes: a banned address is refused before its key is looked at, and
 * an address that keeps presenting bad credentials (a key being guessed) is refused for a window
 * once it has failed TOKEN_FAILURES_PER_WINDOW times within one. Both count by client network
 * (`clientNetwork`, `server.ipv6Prefix`): a guesser rotating addresses inside its IPv6 prefix is
 * one guesser. State lives in the store, so every instance sharing it counts together.
 */
export class TokenEndpointGuard {
  readonly #store: Store;
  readonly #events: EventBus;
  readonly #bans: Bans;
  readonly #ipv6Prefix: number;

  constructor(store: Store, events: EventBus, ipv6Prefix: number) {
    this.#store = store;
    this.#events = events;
    this.#ipv6Prefix = ipv6Prefix;
    this.#bans = new Bans(store, events, ipv6Prefix);
  }

  /** The answer for an address that may not try now, or undefined. */
  async refusal(ip: string): Promise<LocalResponse | undefined> {
    const ban = await this.#bans.get({ kind: 'ip', value: ip });
    if (ban) return refusal(403, 'access_denied', 'Too many security signals from this client; try again later.', Date.parse(ban.until));
    const blocked = await this.#store.get(blockKey(clientNetwork(ip, this.#ipv6Prefix)));
    if (blocked !== undefined && Number(blocked) > Date.now()) return refusal(429, 'slow_down', 'Too many failed attempts from this address; try again later.', Number(blocked));
    return undefined;
  }

  /** Counts a failed attempt; past the limit the address is refused until the window ends. */
  async failed(ip: string, subject: { requestId: string; method: string; path: string }): Promise<void> {
    const r = await this.#store.hit(`token-fail:ip:${clientNetwork(ip, this.#ipv6Prefix)}`, TOKEN_FAILURES_PER_WINDOW, TOKEN_FAILURE_WINDOW_MS);
    if (r.allowed && r.count < TOKEN_FAILURES_PER_WINDOW) return;
    // The failure that reaches the limit closes the door for a whole window.
    const until = Date.now() + TOKEN_FAILURE_WINDOW_MS;
    await this.#store.set(blockKey(clientNetwork(ip, this.#ipv6Prefix)), String(until), until - Date.now());
    this.#events.emit({
      action: 'ratelimit.exceeded', severity: 'medium', outcome: 'failure', reason: 'token_endpoint_failures', code: 'RATE_LIMITED', status: 429,
      ...subject, sourceIp: ip, details: { limit: TOKEN_FAILURES_PER_WINDOW, windowMs: TOKEN_FAILURE_WINDOW_MS, retryAfterMs: until - Date.now() },
    });
  }
}

const blockKey = (net: string) => `token-block:ip:${net}`;

