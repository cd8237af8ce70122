import type { BulwarkConfig } from '../../config/schema.js';
import { createUpstream } from '../../proxy/upstream.js';
import type { QuarantinedItem } from './quarantine.js';

export interface ReleaseResult {
  status: number;
}

/**
 * Sends a quarantined item to its route's upstream, as the gateway would have: the screened body,
 * the gateway's own headers (identity) and the upstream's injected headers; never a client
 * credential (none was kept). `X-Bulwark-Released` names the item for the upstream's logs.
 */
export async function releaseItem(config: BulwarkConfig, item: QuarantinedItem): Promise<ReleaseResult> {
  const route = config.routes.find((r) => r.name === item.route);
  if (!route) throw new Error(`route ${item.route} is not in this config`);
  const names = Object.keys(config.upstreams);
  const upstreamName = route.upstream ?? (names.length === 1 ? names[0] : undefined);
  const cfg = upstreamName !== undefined ? config.upstreams[upstreamName] : undefined;
  if (!upstreamName || !cfg) throw new Error(`route ${item.route} has no upstream in this config`);
  const upstream = createUpstream(upstreamName, cfg);
  try {
    const res = await upstream.pool.request({
      path: upstream.basePath + item.target,
      method: item.method as 'POST',
      headers: {
        ...item.gatewayHeaders,
        ...upstream.injectHeaders,
        'content-type': 'application/json',
        'x-request-id': item.requestId,
        'x-bulwark-released': item.id,
      },
      body: item.body,
    });
    await res.body.dump();
    return { status: res.statusCode };
  } finally {
    await upstream.close();
  }
}
