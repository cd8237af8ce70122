import type { BulwarkConfig } from '../../config/schema.js';
import { byCodePoint, normalizeSpecPath, type SpecEndpoint } from './compare.js';

/**
 * Placing a spec in the gateway's config: which upstream it describes, the routes that send
 * there, and its paths as the gateway sees them.
 */

const stripSlash = (p: string) => p.replace(/\/+$/, '');

/** The upstream a URL spec describes: same origin, the longest URL path that prefixes the spec's. */
export function upstreamForSource(source: string, config: BulwarkConfig): string | undefined {
  if (!/^https?:\/\//i.test(source)) return undefined;
  let src: URL;
  try {
    src = new URL(source);
  } catch {
    return undefined;
  }
  let best: { name: string; len: number } | undefined;
  const sameOrigin: string[] = [];
  for (const [name, u] of Object.entries(config.upstreams).sort(([a], [b]) => byCodePoint(a, b))) {
    if (!URL.canParse(u.url)) continue;
    const url = new URL(u.url);
    if (url.origin !== src.origin) continue;
    sameOrigin.push(name);
    const prefix = stripSlash(url.pathname);
    if (prefix === '' || src.pathname === prefix || src.pathname.startsWith(prefix + '/')) {
      if (!best || prefix.length > best.len) best = { name, len: prefix.length };
    }
  }
  return best?.name ?? (sameOrigin.length === 1 ? sameOrigin[0] : undefined);
}

/** The routes that send to `upstream` (a route without `upstream` uses the only one). */
export function routesOf(config: BulwarkConfig, upstream: string | undefined): BulwarkConfig['routes'] {
  if (upstream === undefined) return config.routes;
  const names = Object.keys(config.upstreams);
  const sole = names.length === 1 ? names[0] : undefined;
  return config.routes.filter((r) => (r.upstream ?? sole) === upstream);
}

/**
 * Spec paths are upstream paths; routes are gateway paths, appended to the upstream URL's path.
 * When the upstream is known and its URL has a path, that prefix is taken off the spec's paths.
 */
export function toGatewayPaths(endpoints: readonly SpecEndpoint[], config: BulwarkConfig, upstream: string | undefined): SpecEndpoint[] {
  const u = upstream !== undefined ? config.upstreams[upstream] : undefined;
  const prefix = u && URL.canParse(u.url) ? stripSlash(new URL(u.url).pathname) : '';
  if (prefix === '') return [...endpoints];
  const out: SpecEndpoint[] = [];
  const seen = new Set<string>();
  for (const e of endpoints) {
    let template = e.template;
    if (template === prefix) template = '/';
    else if (template.startsWith(prefix + '/')) template = template.slice(prefix.length);
    const path = normalizeSpecPath(template);
    if (seen.has(`${e.method} ${path}`)) continue;
    seen.add(`${e.method} ${path}`);
    out.push({ ...e, template, path });
  }
  return out;
}

/** Paths the gateway answers itself; traffic to them is never "unknown". */
export function gatewayPaths(config: BulwarkConfig): string[] {
  const te = config.auth.tokenEndpoint;
  return [config.server.healthPath, ...(te ? [te.path, te.jwksPath] : [])];
}
