import { Document, isMap, isSeq } from 'yaml';
import { HTTP_METHODS, routeSchema } from '../../config/schema-route.js';
import type { BulwarkConfig } from '../../config/schema.js';
import { byCodePoint, normalizeRoutePath, sortMethods, type ShadowEndpoint } from './compare.js';

/**
 * `bulwark discover --write`: route entries drafted for shadow endpoints, in `mode: monitor`, as
 * YAML a user pastes under `routes:`. Every draft is checked against the route schema and against
 * the config it joins (unique names, no path already matched, no gateway path), so the merged
 * config loads.
 */

export interface DraftSelection {
  endpoint: ShadowEndpoint;
  /** The upstream the spec describes, when known. */
  upstream?: string;
  /** Where the endpoint was found (display form). */
  source: string;
  summary?: string;
}

export interface DraftRoute {
  name: string;
  match: { methods: string[]; path: string };
  upstream?: string;
  kind: 'passthrough';
  mode: 'monitor';
  auth?: { any: Array<'jwt' | 'apiKey' | 'mtls'> };
}

export interface DraftResult {
  routes: DraftRoute[];
  /** One comment per route (where it came from), same order. */
  comments: string[];
  skipped: Array<{ method: string; path: string; reason: string }>;
  /** Things the user must look at (open routes, a guessed upstream). */
  notes: string[];
}

const ALLOWED_LITERAL = /^[A-Za-z0-9\-._~!$&'()+,=@]*$/;
const KNOWN_METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);

/** A single-line, bounded, printable string for a YAML comment (spec text is untrusted). */
function commentText(s: string, max = 160): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function kebab(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** `/v1/users/{userId}/files/{name}.{ext}` → `/v1/users/:userId/files/:name.:ext`; undefined when it cannot be a route path. */
export function toRoutePath(template: string): string | undefined {
  const used = new Set<string>();
  const param = (raw: string) => {
    let name = raw.replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+|_+$/g, '') || 'param';
    if (/^[0-9]/.test(name)) name = `p${name}`;
    let n = name;
    for (let i = 2; used.has(n); i++) n = `${name}${i}`;
    used.add(n);
    return `:${n}`;
  };
  const q = template.indexOf('?');
  const path = (q >= 0 ? template.slice(0, q) : template).replace(/\/+$/, '') || '/';
  if (!path.startsWith('/')) return undefined;
  const out: string[] = [];
  for (const seg of path.split('/').slice(1)) {
    if (seg === '' && path !== '/') return undefined;
    if (seg === '.' || seg === '..') return undefined;
    let res = '';
    let rest = seg;
    let lastWasParam = false;
    while (rest.length > 0) {
      const open = rest.indexOf('{');
      const literal = open < 0 ? rest : rest.slice(0, open);
      if (literal !== '') {
        const plain = literal.replace(/:/g, '');
        if (!ALLOWED_LITERAL.test(plain)) return undefined;
        // find-my-way: "::" is a literal colon; a parameter ends at "-" or "." only.
        if (lastWasParam && !/^[-.]/.test(literal)) return undefined;
        res += literal.replace(/:/g, '::');
        lastWasParam = false;
      }
      if (open < 0) break;
      const close = rest.indexOf('}', open);
      if (close < 0) return undefined;
      if (lastWasParam) return undefined; // `{a}{b}` cannot be split
      res += param(rest.slice(open + 1, close));
      lastWasParam = true;
      rest = rest.slice(close + 1);
    }
    out.push(res);
  }
  return `/${out.join('/')}`;
}

function routeName(path: string, taken: Set<string>): string {
  const parts = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => kebab(s.replace(/[{}]/g, '')))
    .filter((s) => s !== '');
  let base = parts.join('-') || 'root';
  if (!/^[a-z0-9]/.test(base)) base = `r-${base}`;
  base = base.slice(0, 56).replace(/-+$/, '');
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

function authFor(config: BulwarkConfig): DraftRoute['auth'] {
  const any: Array<'jwt' | 'apiKey' | 'mtls'> = [];
  if (config.auth.jwt?.length || config.auth.tokenEndpoint) any.push('jwt');
  if (config.auth.apiKeys) any.push('apiKey');
  if (any.length === 0 && config.server.tls?.clientCa) any.push('mtls');
  return any.length > 0 ? { any } : undefined;
}

/** Drafts one route per shadow path (its chosen methods together). */
export function draftRoutes(config: BulwarkConfig, selections: readonly DraftSelection[]): DraftResult {
  const upstreamNames = Object.keys(config.upstreams).sort(byCodePoint);
  const taken = new Set(config.routes.map((r) => r.name));
  const matched = new Map<string, string>();
  for (const r of config.routes) for (const m of r.match.methods) matched.set(`${m} ${normalizeRoutePath(r.match.path)}`, r.name);
  const te = config.auth.tokenEndpoint;
  const reserved = new Set([config.server.healthPath, ...(te ? [te.path, te.jwksPath] : [])]);
  const auth = authFor(config);

  const groups = new Map<string, { upstream?: string; template: string; path: string; methods: Set<string>; sources: Set<string>; summaries: string[] }>();
  const skipped: DraftResult['skipped'] = [];
  for (const s of selections) {
    const e = s.endpoint;
    if (!KNOWN_METHODS.has(e.method)) {
      skipped.push({ method: e.method, path: e.path, reason: `method ${e.method} cannot be routed` });
      continue;
    }
    const key = `${s.upstream ?? ''}\n${e.path}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ...(s.upstream !== undefined ? { upstream: s.upstream } : {}), template: e.template, path: e.path, methods: new Set(), sources: new Set(), summaries: [] }));
    g.methods.add(e.method);
    g.sources.add(s.source);
    if (s.summary) g.summaries.push(`${e.method}: ${s.summary}`);
  }

  const routes: DraftRoute[] = [];
  const comments: string[] = [];
  const notes = new Set<string>();
  const ordered = [...groups.values()].sort((a, b) => byCodePoint(a.path, b.path) || byCodePoint(a.upstream ?? '', b.upstream ?? ''));
  for (const g of ordered) {
    const methods = sortMethods(g.methods);
    const path = toRoutePath(g.template);
    if (path === undefined) {
      for (const m of methods) skipped.push({ method: m, path: g.path, reason: 'the path cannot be written as a route path' });
      continue;
    }
    if (reserved.has(path)) {
      for (const m of methods) skipped.push({ method: m, path: g.path, reason: 'the gateway answers this path itself' });
      continue;
    }
    const norm = normalizeRoutePath(path);
    const free = methods.filter((m) => {
      const other = matched.get(`${m} ${norm}`);
      if (other !== undefined) skipped.push({ method: m, path: g.path, reason: `already matched by route ${other}` });
      return other === undefined;
    });
    if (free.length === 0) continue;

    let upstream = g.upstream;
    if (upstream === undefined && upstreamNames.length > 1) {
      upstream = upstreamNames[0];
      notes.add(`the spec's upstream is unknown: drafts name "${upstream}"; check it (or pass --upstream)`);
    }
    if (upstreamNames.length === 0) notes.add('the config defines no upstream: add one before these routes load');
    const draft: DraftRoute = {
      name: routeName(path, taken),
      match: { methods: free, path },
      ...(upstream !== undefined ? { upstream } : {}),
      kind: 'passthrough',
      mode: 'monitor',
      ...(auth ? { auth: { any: [...auth.any] } } : {}),
    };
    const checked = routeSchema.safeParse(draft);
    if (!checked.success) {
      for (const m of free) skipped.push({ method: m, path: g.path, reason: `not a valid route: ${checked.error.issues[0]?.message ?? 'invalid'}` });
      continue;
    }
    for (const m of free) matched.set(`${m} ${norm}`, draft.name);
    routes.push(draft);
    comments.push(commentText(`${free.join(', ')} ${g.template} — from ${[...g.sources].join(', ')}${g.summaries.length ? ` — ${g.summaries.join('; ')}` : ''}`, 300));
  }
  if (!auth && routes.length > 0) notes.add('no credential kind (auth.jwt, auth.apiKeys, auth.tokenEndpoint, mTLS) is configured: the drafted routes are open; add auth before enforcing');
  return { routes, comments, skipped, notes: [...notes] };
}

/** The draft as YAML: a `routes:` list with a comment per route. */
export function renderDraft(result: DraftResult, meta: { sources: readonly string[]; at: Date }): string {
  const doc = new Document({ routes: result.routes });
  doc.commentBefore = [
    ` Drafted by \`bulwark discover\` on ${meta.at.toISOString()} from ${commentText(meta.sources.join(', '), 400)}.`,
    ' Routes for shadow endpoints (in the upstream spec, published by no route), in mode: monitor.',
    ' Review auth, kind and limits, paste under `routes:` in the config, then switch to mode: enforce.',
    ...result.notes.map((n) => ` NOTE: ${commentText(n, 300)}`),
  ].join('\n');
  const seq = doc.get('routes', true);
  if (isSeq(seq)) {
    seq.items.forEach((item, i) => {
      if (!isMap(item)) return;
      const c = result.comments[i];
      if (c) item.commentBefore = ` ${c}`;
      const methods = item.getIn(['match', 'methods'], true);
      if (isSeq(methods)) methods.flow = true;
      const any = item.getIn(['auth', 'any'], true);
      if (isSeq(any)) any.flow = true;
    });
  }
  return doc.toString({ lineWidth: 0 });
}
