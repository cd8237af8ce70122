import { createHash } from 'node:crypto';
import type { RouteConfig } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';

export type RuleBy = NonNullable<RouteConfig['rateLimit']>[number]['by'];

/**
 * The value a rule counts by; undefined when the rule does not apply to this request. Addresses
 * count by client network (`ctx.clientNetwork`: IPv6 per `server.ipv6Prefix`), so request limits,
 * concurrency slots and token budgets alike cannot be multiplied by rotating IPv6 addresses.
 */
export function subjectOf(by: RuleBy, ctx: RequestContext): string | undefined {
  switch (by) {
    case 'ip':
      return ctx.clientNetwork;
    case 'identity':
      // Never the credential string: re-minted tokens for one subject share one budget. An
      // anonymous caller (public route) is counted by network.
      return ctx.identity ? `id:${ctx.identity.subject}` : `ip:${ctx.clientNetwork}`;
    case 'apiKey':
      return ctx.identity?.method === 'apiKey' ? ctx.identity.subject : undefined;
    case 'route':
      return 'route';
    default: {
      const name = by.slice('header:'.length);
      const v = ctx.headers[name];
      const value = Array.isArray(v) ? v[0] : v;
      // Hashed: header values are client input of any length; a missing header is one shared bucket.
      return value === undefined ? '(none)' : createHash('sha256').update(value).digest('base64url');
    }
  }
}
