import type { RouteConfig } from '../config/schema-route.js';

// Parameters that carry credentials or re-decide the method; never forwarded even with `query: forward`.
const NEVER_FORWARD_PARAMS = new Set(['_method', 'access_token', 'api_key', 'apikey', 'api-key', 'key', 'token', 'auth', 'password', 'jwt', 'id_token']);

export type QueryDecision = { ok: true; query: string | undefined } | { ok: false; detail: string };

/** Applies the route's `query` policy to the raw query string (undefined when absent). */
export function filterQuery(raw: string | undefined, policy: RouteConfig['query']): QueryDecision {
  if (raw === undefined || raw === '') return { ok: true, query: undefined };
  if (policy === 'deny') return { ok: false, detail: 'This route does not accept a query string.' };
  if (policy === 'drop') return { ok: true, query: undefined };
  const kept = raw.split('&').filter((pair) => {
    const name = (pair.split('=')[0] ?? '').toLowerCase();
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      return false;
    }
    return pair !== '' && !NEVER_FORWARD_PARAMS.has(decoded.toLowerCase());
  });
  return { ok: true, query: kept.length > 0 ? kept.join('&') : undefined };
}
