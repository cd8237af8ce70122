import type { RouteConfig } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';
import type { Store } from '../../stores/store.js';

/**
 * With route `adaptive`, a client with recent offences on the route (recorded by the `adaptive`
 * stage) gets `penalty` x its limits. 1 when not penalised, or when the store cannot say: the
 * limits themselves still apply, with their own failure policy.
 */
export async function penaltyFactor(route: RouteConfig, store: Store, ctx: RequestContext): Promise<number> {
  if (route.adaptive === undefined) return 1;
  const offences = await store.get(`offence:ip:${route.name}:${ctx.clientIp}`).catch(() => undefined);
  return Number(offences ?? 0) > 0 ? route.adaptive.penalty : 1;
}
