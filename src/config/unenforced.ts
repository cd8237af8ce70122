import type { BulwarkConfig } from './schema.js';

/**
 * Settings the schema accepts (all of SPEC §2) whose enforcing stage is not part of this build.
 * Starting with one of them would look protected while being open, so `bulwark start` refuses
 * (fail closed) and `bulwark check` lists them. Each later stage removes its entries by being
 * registered under the feature name below.
 */
export interface UnenforcedSetting {
  path: string;
  feature: string;
}

export function findUnenforced(config: BulwarkConfig, available: ReadonlySet<string>): UnenforcedSetting[] {
  const out: UnenforcedSetting[] = [];
  const need = (feature: string, path: string, present: unknown) => {
    if (present !== undefined && present !== false && !available.has(feature)) out.push({ path, feature });
  };
  need('auth', 'auth.jwt', config.auth.jwt);
  need('auth', 'auth.apiKeys', config.auth.apiKeys);
  need('admin', 'admin', config.admin);
  need('inventory', 'inventory', config.inventory);
  need('alerts', 'events.alerts', config.events.alerts.length > 0 ? config.events.alerts : undefined);
  config.events.sinks.forEach((s, i) => {
    if (s.type === 'syslog' || s.type === 'webhook') need(`sink-${s.type}`, `events.sinks[${i}]`, s);
    if (s.type === 'file' && (s.chain || s.rotate !== undefined)) need('audit-chain', `events.sinks[${i}].chain/rotate`, true);
  });
  for (const [name, u] of Object.entries(config.upstreams)) need('model-integrity', `upstreams.${name}.integrity`, u.integrity);
  config.routes.forEach((r, i) => {
    const at = `routes[${i}]`;
    need('auth', `${at}.auth`, r.auth && !r.auth.public ? r.auth : undefined);
    r.rateLimit?.forEach((rule, j) => {
      if (rule.tokens !== undefined) need('rate-limit-tokens', `${at}.rateLimit[${j}] (tokens)`, true);
      if (rule.concurrent !== undefined) need('rate-limit-concurrent', `${at}.rateLimit[${j}] (concurrent)`, true);
      if (rule.requests !== undefined) need('rate-limit', `${at}.rateLimit[${j}]`, true);
    });
    if (r.input) {
      const { maxTokens: _t, clampTokens: _c, maxTokensField: _f, maxChoices: _n, schema, ...rest } = r.input;
      need('input-guard', `${at}.input.schema`, schema !== 'builtin' ? schema : undefined);
      for (const [k, v] of Object.entries(rest)) need(k === 'canary' ? 'canary' : k === 'poisoning' ? 'poisoning' : 'input-guard', `${at}.input.${k}`, v);
    }
    if (r.output) {
      const { watermark, ...rest } = r.output;
      need('output-guard', `${at}.output`, Object.keys(rest).length > 0 ? rest : undefined);
      need('watermark', `${at}.output.watermark`, watermark);
    }
    need('extraction', `${at}.extraction`, r.extraction);
  });
  return out;
}
