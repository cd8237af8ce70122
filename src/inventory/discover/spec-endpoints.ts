import { normalizeSpecPath, type SpecEndpoint } from './compare.js';
import type { SpecFormat } from './load-spec.js';

/**
 * Reading the operations out of a spec document that is already combined (every `$ref`
 * internal): its format, the server base path, and each method + normalized path.
 */

export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const MAX_WARNINGS = 20;

function decodePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  try {
    return pointer
      .slice(1)
      .split('/')
      .map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~'));
  } catch {
    return undefined;
  }
}

/** Follows internal `$ref`s of a value (path items may be references). */
function deref(root: Json, value: unknown): unknown {
  let v = value;
  for (let hops = 0; hops < 16 && isObject(v) && typeof v['$ref'] === 'string'; hops++) {
    const ref = v['$ref'];
    if (!ref.startsWith('#')) return undefined;
    const tokens = decodePointer(ref.slice(1));
    if (!tokens) return undefined;
    let cur: unknown = root;
    for (const t of tokens) {
      if (Array.isArray(cur)) cur = cur[Number(t)];
      else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
      else return undefined;
    }
    v = cur;
  }
  return v;
}

function formatOf(doc: Json): SpecFormat | undefined {
  if (doc['swagger'] === '2.0') return 'swagger-2.0';
  const v = doc['openapi'];
  if (typeof v === 'string') {
    if (/^3\.0(\.|$)/.test(v)) return 'openapi-3.0';
    if (/^3\.1(\.|$)/.test(v)) return 'openapi-3.1';
  }
  return undefined;
}

function stripSlash(p: string): string {
  return p.replace(/\/+$/, '');
}

/** The path part of an OpenAPI 3 server URL, variables replaced by their defaults ('' for `/`). */
export function serverBasePath(servers: unknown, specUrl?: string): string {
  if (!Array.isArray(servers) || servers.length === 0) return '';
  const server = servers[0];
  if (!isObject(server) || typeof server['url'] !== 'string') return '';
  const vars = isObject(server['variables']) ? server['variables'] : {};
  const url = server['url'].replace(/\{([^{}]*)\}/g, (_, name: string) => {
    const v = vars[name];
    return isObject(v) && typeof v['default'] === 'string' ? v['default'] : '';
  });
  try {
    const u = new URL(url, specUrl && /^https?:/i.test(specUrl) ? specUrl : 'http://localhost/');
    let p = u.pathname;
    try {
      p = decodeURI(p);
    } catch {
      // keep encoded
    }
    return stripSlash(p);
  } catch {
    return '';
  }
}

export interface ExtractedSpec {
  format: SpecFormat;
  title?: string;
  version?: string;
  basePath: string;
  endpoints: SpecEndpoint[];
  warnings: string[];
}

/** The operations of a (combined) spec document, base path prefixed unless `basePath: false`. */
export function extractEndpoints(doc: Json, options: { basePath?: boolean; specUrl?: string } = {}): ExtractedSpec {
  const format = formatOf(doc);
  if (!format) throw new Error('not an OpenAPI 3.0, 3.1 or Swagger 2.0 document (no "openapi: 3.x" or "swagger: 2.0")');
  const useBase = options.basePath !== false;
  const docBase = !useBase ? '' : format === 'swagger-2.0' ? (typeof doc['basePath'] === 'string' ? stripSlash(doc['basePath']) : '') : serverBasePath(doc['servers'], options.specUrl);
  const warnings: string[] = [];
  const endpoints: SpecEndpoint[] = [];
  const seen = new Set<string>();
  const paths = isObject(doc['paths']) ? doc['paths'] : {};
  for (const [p, raw] of Object.entries(paths)) {
    if (!p.startsWith('/')) continue; // x- extensions
    const item = deref(doc, raw);
    if (!isObject(item)) {
      if (warnings.length < MAX_WARNINGS) warnings.push(`path ${p}: unresolvable path item, skipped`);
      continue;
    }
    for (const m of HTTP_METHODS) {
      const op = item[m];
      if (!isObject(op)) continue;
      let base = docBase;
      if (useBase && format !== 'swagger-2.0' && (Array.isArray(op['servers']) || Array.isArray(item['servers']))) {
        base = serverBasePath(Array.isArray(op['servers']) ? op['servers'] : item['servers'], options.specUrl);
      }
      const template = `${base}${p}`;
      const path = normalizeSpecPath(template);
      const method = m.toUpperCase();
      const key = `${method} ${path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      endpoints.push({
        method,
        path,
        template: template.length > 1 ? template.replace(/\/+$/, '') : template,
        ...(typeof op['operationId'] === 'string' ? { operationId: op['operationId'] } : {}),
        ...(typeof op['summary'] === 'string' ? { summary: op['summary'].slice(0, 200) } : {}),
      });
    }
  }
  const info = isObject(doc['info']) ? doc['info'] : {};
  return {
    format,
    ...(typeof info['title'] === 'string' ? { title: info['title'].slice(0, 200) } : {}),
    ...(typeof info['version'] === 'string' ? { version: info['version'].slice(0, 100) } : {}),
    basePath: docBase,
    endpoints,
    warnings,
  };
}

