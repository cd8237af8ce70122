import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileErrors, validate, type ParserOptions } from '@readme/openapi-parser';
import sjson from 'secure-json-parse';
import { parseDocument } from 'yaml';
import type { SpecEndpoint } from './compare.js';
import { extractEndpoints, isObject, type ExtractedSpec, type Json } from './spec-endpoints.js';
import { displaySource, errorText, readLocalFile, readUrl, SpecLoadError, type Budget, type Limits } from './read-source.js';
export { displaySource, SpecLoadError } from './read-source.js';
export { extractEndpoints, serverBasePath, type ExtractedSpec } from './spec-endpoints.js';

/**
 * Loads an upstream's OpenAPI 3.0 / 3.1 or Swagger 2.0 spec from a file or an http(s) URL,
 * validates it (@readme/openapi-parser) and lists its operations.
 *
 * Every document is read here, never by the parser: the root and the documents its `$ref`s name,
 * within limits (time, bytes, documents). A `$ref` may only name a document of the same origin
 * (URL specs) or a file in the spec's directory (file specs); anything else — another host,
 * `file:` from a URL spec, `../` out of the directory — refuses the spec (no SSRF, no local file
 * read through a spec). The documents are then combined into one, every `$ref` made internal, and
 * the parser validates that with external resolution off: it does no I/O at all.
 */

export interface SpecFetchOptions {
  /** Per document (connect to last byte). Default 15 s. */
  timeoutMs?: number;
  /** All documents of one spec together. Default 10 MiB. */
  maxBytes?: number;
  /** Documents of one spec (root included). Default 20. */
  maxDocuments?: number;
  /** Redirects followed per document, same origin only. Default 3. */
  maxRedirects?: number;
  signal?: AbortSignal;
}

export interface LoadSpecOptions extends SpecFetchOptions {
  /** Relative file sources are resolved against this directory (default: the working directory). */
  baseDir?: string;
  /** false: do not prefix the server base path (OpenAPI 3 `servers[0].url` path, Swagger 2 `basePath`). */
  basePath?: boolean;
}

export type SpecFormat = 'swagger-2.0' | 'openapi-3.0' | 'openapi-3.1';

export interface LoadedSpec {
  /** Canonical source: an absolute file path or the URL. */
  source: string;
  kind: 'file' | 'url';
  format: SpecFormat;
  title?: string;
  version?: string;
  /** Base path prefixed to every endpoint ('' when none or turned off). */
  basePath: string;
  endpoints: SpecEndpoint[];
  /** Validator warnings and skipped paths (bounded). */
  warnings: string[];
}


const DEFAULTS = { timeoutMs: 15_000, maxBytes: 10 * 1024 * 1024, maxDocuments: 20, maxRedirects: 3 };
const EXTERNAL_KEY = 'x-bulwark-external';
const MAX_WARNINGS = 20;

export interface ResolvedSource {
  kind: 'file' | 'url';
  /** Absolute path (file) or URL href. */
  location: string;
}

/** http(s) URL, `file:` URL, or a path (relative to baseDir). */
export function resolveSource(source: string, baseDir: string = process.cwd()): ResolvedSource {
  const s = source.trim();
  if (/^https?:\/\//i.test(s)) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw new SpecLoadError(source, 'not a valid URL');
    }
    return { kind: 'url', location: url.href };
  }
  if (/^file:/i.test(s)) {
    try {
      return { kind: 'file', location: fileURLToPath(s) };
    } catch {
      throw new SpecLoadError(source, 'not a valid file: URL');
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) throw new SpecLoadError(source, 'only http(s) URLs and files can be read');
  return { kind: 'file', location: isAbsolute(s) ? s : resolve(baseDir, s) };
}


/** JSON or YAML text to a plain value; no prototype keys, bounded alias expansion. */
export function parseSpecText(text: string, label: string): unknown {
  const t = text.replace(/^\uFEFF/, '');
  if (/^\s*[{[]/.test(t)) {
    try {
      return sjson.parse(t, undefined, { protoAction: 'remove', constructorAction: 'remove' });
    } catch {
      // YAML flow style also starts with "{": fall through to the YAML parser.
    }
  }
  const doc = parseDocument(t, { merge: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new SpecLoadError(label, `not valid JSON or YAML: ${(e?.message ?? 'syntax error').split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new SpecLoadError(label, `not valid YAML: ${errorText(err)}`);
  }
  return value;
}



/** Every object holding a string `$ref`, anywhere in the value; drops `__proto__` keys on the way. */
function refHolders(root: unknown): Json[] {
  const out: Json[] = [];
  const stack: unknown[] = [root];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
      continue;
    }
    const o = v as Json;
    if (Object.hasOwn(o, '__proto__')) delete o['__proto__'];
    if (typeof o['$ref'] === 'string') out.push(o);
    for (const k of Object.keys(o)) stack.push(o[k]);
  }
  return out;
}

interface LoadedDoc {
  url: URL;
  value: unknown;
}

const withoutHash = (u: URL) => {
  const c = new URL(u.href);
  c.hash = '';
  return c.href;
};

/**
 * Reads the root document and every document its `$ref`s reach (policy-checked), and returns one
 * document whose `$ref`s are all internal (`#/...`); external documents live under
 * `x-bulwark-external` (an extension key the spec schemas allow).
 */
async function loadCombined(resolved: ResolvedSource, label: string, limits: Limits): Promise<Json> {
  const budget: Budget = { bytes: limits.maxBytes, documents: limits.maxDocuments };
  let rootUrl: URL;
  let allowed: (target: URL) => Promise<string | undefined>;
  let read: (target: URL) => Promise<string>;

  if (resolved.kind === 'url') {
    rootUrl = new URL(resolved.location);
    const origin = rootUrl.origin;
    allowed = async (t) => {
      if (t.protocol !== 'http:' && t.protocol !== 'https:') return `refused $ref to ${t.protocol} (a URL spec may only name documents of its own origin)`;
      if (t.origin !== origin) return `refused $ref to another host (${t.origin}); a URL spec may only name documents of ${origin}`;
      return undefined;
    };
    read = (t) => readUrl(t, origin, budget, limits, label);
  } else {
    let real: string;
    try {
      real = await realpath(resolved.location);
    } catch (err) {
      throw new SpecLoadError(label, `cannot read ${resolved.location} (${(err as NodeJS.ErrnoException).code ?? errorText(err)})`);
    }
    rootUrl = pathToFileURL(real);
    const dir = dirname(real);
    allowed = async (t) => {
      if (t.protocol !== 'file:') return `refused $ref to ${t.protocol}//${t.host} (a file spec may only name files in its own directory)`;
      const inside = (p: string) => p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
      let p: string;
      try {
        p = fileURLToPath(t);
      } catch {
        return `invalid $ref ${t.href}`;
      }
      // Lexically first (no probing outside the directory), then after symlinks.
      if (!inside(resolve(p))) return `refused $ref to a file outside the spec's directory (${resolve(p)})`;
      try {
        p = await realpath(p);
      } catch (err) {
        return `cannot read $ref ${p} (${(err as NodeJS.ErrnoException).code ?? errorText(err)})`;
      }
      if (!inside(p)) return `refused $ref to a file outside the spec's directory (${p}, through a link)`;
      return undefined;
    };
    read = async (t) => readLocalFile(await realpath(fileURLToPath(t)), budget, limits, label);
  }

  budget.documents--;
  const rootValue = parseSpecText(await read(rootUrl), label);
  if (!isObject(rootValue)) throw new SpecLoadError(label, 'not an OpenAPI or Swagger document (expected an object)');
  const rootKey = withoutHash(rootUrl);
  const docs: LoadedDoc[] = [{ url: rootUrl, value: rootValue }];
  const externals: unknown[] = [];
  const indexOf = new Map<string, number>(); // document key → index in externals

  for (let d = 0; d < docs.length; d++) {
    const doc = docs[d] as LoadedDoc;
    const isRoot = d === 0;
    const prefix = isRoot ? '' : `/${EXTERNAL_KEY}/${d - 1}`;
    for (const holder of refHolders(doc.value)) {
      const ref = holder['$ref'] as string;
      const hashAt = ref.indexOf('#');
      const fragment = hashAt >= 0 ? ref.slice(hashAt + 1) : '';
      if (fragment !== '' && !fragment.startsWith('/')) {
        // `#anchor` (OpenAPI 3.1 $anchor) only within the root document.
        if (isRoot && hashAt === 0) continue;
        throw new SpecLoadError(label, `unsupported $ref ${JSON.stringify(ref.slice(0, 200))}: only JSON pointers can cross documents`);
      }
      if (hashAt === 0) {
        if (!isRoot) holder['$ref'] = `#${prefix}${fragment}`;
        continue;
      }
      let target: URL;
      try {
        target = new URL(ref, doc.url);
      } catch {
        throw new SpecLoadError(label, `invalid $ref ${JSON.stringify(ref.slice(0, 200))}`);
      }
      const refusal = await allowed(target);
      if (refusal) throw new SpecLoadError(label, refusal);
      const key = withoutHash(target);
      if (key === rootKey) {
        holder['$ref'] = `#${fragment}`;
        continue;
      }
      let idx = indexOf.get(key);
      if (idx === undefined) {
        if (budget.documents <= 0) throw new SpecLoadError(label, `more than ${limits.maxDocuments} documents referenced`);
        budget.documents--;
        const value = parseSpecText(await read(target), label);
        idx = externals.length;
        externals.push(value);
        indexOf.set(key, idx);
        docs.push({ url: new URL(key), value });
      }
      holder['$ref'] = `#/${EXTERNAL_KEY}/${idx}${fragment}`;
    }
  }
  if (externals.length > 0) rootValue[EXTERNAL_KEY] = externals;
  else delete rootValue[EXTERNAL_KEY];
  return rootValue;
}

type ValidateInput = Parameters<typeof validate>[0];

const LENIENT_BOTH = {
  'array-without-items': 'warning',
  'duplicate-non-request-body-parameters': 'warning',
  'duplicate-operation-id': 'warning',
  'invalid-security-scheme-properties': 'warning',
  'non-optional-path-parameters': 'warning',
  'path-parameters-not-in-parameters': 'warning',
  'path-parameters-not-in-path': 'warning',
} as const;

const LENIENT: NonNullable<NonNullable<ParserOptions['validate']>['rules']> = {
  openapi: { ...LENIENT_BOTH },
  swagger: { ...LENIENT_BOTH, 'unknown-required-schema-property': 'warning' },
};

/**
 * Loads, validates and lists one spec. Throws SpecLoadError with a readable reason (unreadable,
 * too large, not a spec, invalid, a refused `$ref`).
 */
export async function loadSpec(source: string, options: LoadSpecOptions = {}): Promise<LoadedSpec> {
  const resolved = resolveSource(source, options.baseDir);
  const label = resolved.kind === 'url' ? displaySource(resolved.location) : resolved.location;
  const limits: Limits = {
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    maxBytes: options.maxBytes ?? DEFAULTS.maxBytes,
    maxDocuments: options.maxDocuments ?? DEFAULTS.maxDocuments,
    maxRedirects: options.maxRedirects ?? DEFAULTS.maxRedirects,
    signal: options.signal,
  };
  const doc = await loadCombined(resolved, label, limits);

  let extracted: ExtractedSpec;
  try {
    extracted = extractEndpoints(doc, { basePath: options.basePath !== false, ...(resolved.kind === 'url' ? { specUrl: resolved.location } : {}) });
  } catch (err) {
    throw new SpecLoadError(label, errorText(err));
  }

  let result: Awaited<ReturnType<typeof validate>>;
  try {
    result = await validate(doc as unknown as ValidateInput, {
      resolve: { external: false, file: false },
      dereference: { circular: 'ignore' },
      timeoutMs: limits.timeoutMs,
      validate: { rules: LENIENT },
    });
  } catch (err) {
    throw new SpecLoadError(label, `invalid spec: ${errorText(err).split('\n')[0]}`);
  }
  if (!result.valid) {
    const lines = compileErrors(result)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    throw new SpecLoadError(label, `invalid spec: ${lines.slice(1, 4).join('; ').slice(0, 600) || lines[0] || 'schema validation failed'}`);
  }
  const warnings = [...extracted.warnings, ...result.warnings.map((w) => w.message.split('\n')[0] ?? '')].filter((w) => w !== '').slice(0, MAX_WARNINGS);
  return {
    source: resolved.location,
    kind: resolved.kind,
    format: extracted.format,
    ...(extracted.title !== undefined ? { title: extracted.title } : {}),
    ...(extracted.version !== undefined ? { version: extracted.version } : {}),
    basePath: extracted.basePath,
    endpoints: extracted.endpoints,
    warnings,
  };
}
