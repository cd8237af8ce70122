import safeRegex from 'safe-regex2';
import type { BulwarkConfig } from './schema.js';

export interface SemanticIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * Rules that span several keys (the schema checks each key alone). Every problem found is
 * reported, so one `bulwark check` run lists them all.
 */
export function checkSemantics(config: BulwarkConfig): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const upstreamNames = Object.keys(config.upstreams);
  const names = new Map<string, number>();
  const limits = config.server.limits;
  if (limits.headersTimeout > limits.requestTimeout) {
    issues.push({ path: ['server', 'limits', 'headersTimeout'], message: 'must not exceed server.limits.requestTimeout' });
  }
  const endpoints = new Map<string, number>();

  config.routes.forEach((route, i) => {
    const prev = names.get(route.name);
    if (prev !== undefined) issues.push({ path: ['routes', i, 'name'], message: `duplicate route name (also routes[${prev}])` });
    names.set(route.name, i);

    if (route.upstream === undefined) {
      if (upstreamNames.length !== 1) {
        issues.push({ path: ['routes', i], message: upstreamNames.length === 0 ? 'no upstream is defined in "upstreams"' : 'set "upstream": several upstreams are defined' });
      }
    } else if (!Object.hasOwn(config.upstreams, route.upstream)) {
      issues.push({ path: ['routes', i, 'upstream'], message: `unknown upstream "${route.upstream}" (defined: ${upstreamNames.join(', ') || 'none'})` });
    }

    for (const method of route.match.methods) {
      const key = `${method} ${route.match.path.replace(/:[^/]+/g, ':')}`;
      const other = endpoints.get(key);
      if (other !== undefined && other !== i) issues.push({ path: ['routes', i, 'match'], message: `${method} ${route.match.path} is already matched by routes[${other}]` });
      endpoints.set(key, i);
    }
    if (route.match.path === config.server.healthPath) {
      issues.push({ path: ['routes', i, 'match', 'path'], message: `conflicts with server.healthPath (${config.server.healthPath})` });
    }
    if (route.kind === 'passthrough' && route.input?.maxTokens !== undefined) {
      issues.push({ path: ['routes', i, 'input', 'maxTokens'], message: 'maxTokens needs a JSON route kind (passthrough bodies are not parsed)' });
    }
    route.input?.deny?.forEach((pattern, j) => {
      const msg = checkUserRegex(pattern);
      if (msg) issues.push({ path: ['routes', i, 'input', 'deny', j], message: msg });
    });
  });
  return issues;
}

/** User regexes are compiled once at load, and refused when they can backtrack catastrophically. */
export function checkUserRegex(pattern: string): string | undefined {
  if (pattern.length > 1000) return 'regex longer than 1000 characters';
  try {
    new RegExp(pattern, 'u');
  } catch (err) {
    return `invalid regex: ${(err as Error).message}`;
  }
  if (!safeRegex(pattern, { limit: 25 })) return 'regex may backtrack catastrophically (ReDoS); simplify nested or overlapping repetition';
  return undefined;
}
