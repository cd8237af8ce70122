import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatPath, type ConfigIssue } from './config-error.js';
import { substituteEnv } from './env.js';
import { configSchema, type BulwarkConfig } from './schema.js';
import { closest, unknownKeyMessage } from './key-hints.js';
import { checkSemantics } from './semantics.js';
import { compileSchemaFile } from '../stages/input-guard/json-schema-file.js';
import { readPepperFile } from '../stages/auth/api-key-pepper.js';

export interface LoadedConfig {
  /** Absolute path of the file, or a label such as `<demo>`. */
  file: string;
  config: BulwarkConfig;
}

type Locator = (path: readonly PropertyKey[], preferKey?: boolean) => { line: number; column: number };

/** Read, substitute, validate. Throws ConfigError with every issue located at file:line:col. */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new ConfigError([{ file: path, line: 0, column: 0, path: '', message: `cannot read config file (${code})` }]);
  }
  return { file, config: parseConfigText(text, path, env) };
}

export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): BulwarkConfig {
  const lineCounter = new LineCounter();
  // uniqueKeys: a duplicated key is an error, not a silent override (YAML's default is the same,
  // stated here because the security review depends on it).
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ file, ...at(e.pos[0]), path: '', message: e.message.split('\n')[0] ?? 'YAML syntax error' })));
  }
  const locate = makeLocator(doc, at);

  const envIssues: ConfigIssue[] = [];
  visit(doc, {
    Scalar(key, node, ancestry) {
      if (key === 'key' || typeof node.value !== 'string') return;
      const r = substituteEnv(node.value, env);
      if (r.ok) node.value = r.value;
      else envIssues.push({ file, ...at(node.range?.[0] ?? 0), path: pathOf(ancestry, node), message: `environment variable ${r.missing} is not set (use \${${r.missing}:-default} for a default)` });
    },
  });
  if (envIssues.length > 0) throw new ConfigError(envIssues);

  const raw: unknown = doc.toJS({ maxAliasCount: 50 });
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error.issues, file, locate, raw ?? {}));

  const semantic = [...checkSemantics(parsed.data), ...resolveSchemaFiles(parsed.data, file), ...checkPepperFile(parsed.data)];
  if (semantic.length > 0) {
    throw new ConfigError(semantic.map((s) => ({ file, ...locate(s.path), path: formatPath(s.path), message: s.message })));
  }
  return parsed.data;
}

/**
 * Route JSON Schema files are named relative to the config file; they are resolved to absolute
 * paths (what the stage reads) and compiled here, so a broken schema is an error at its key.
 */
function resolveSchemaFiles(config: BulwarkConfig, file: string): Array<{ path: PropertyKey[]; message: string }> {
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  config.routes.forEach((route, i) => {
    const input = route.input;
    if (!input || input.schema === 'builtin') return;
    const abs = isAbsolute(input.schema) ? input.schema : resolve(dirname(resolve(file)), input.schema);
    const compiled = compileSchemaFile(abs);
    if (!compiled.ok) issues.push({ path: ['routes', i, 'input', 'schema'], message: compiled.message });
    else input.schema = abs;
  });
  return issues;
}

/** A pepper file must be readable and hold a pepper now, not at the first key lookup. */
function checkPepperFile(config: BulwarkConfig): Array<{ path: PropertyKey[]; message: string }> {
  const path = config.auth.apiKeys?.pepperFile;
  if (path === undefined || config.auth.apiKeys?.pepper !== undefined) return [];
  const read = readPepperFile(path);
  return read.ok ? [] : [{ path: ['auth', 'apiKeys', 'pepperFile'], message: read.message }];
}

function zodIssues(issues: readonly z.core.$ZodIssue[], file: string, locate: Locator, raw: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        const path = [...issue.path, k];
        out.push({ file, ...locate(path, true), path: formatPath(path), message: unknownKeyMessage(issue.path, k) });
      }
      continue;
    }
    const missing = missingKeyMessage(issue, raw);
    if (missing) {
      out.push({ file, ...locate(issue.path), path: formatPath(issue.path), message: missing });
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A union's branches each explain why they failed; the first is usually the intended one
      // (for the sink union it is the branch chosen by `type`).
      const inner = issue.errors.flat();
      if (inner.length > 0) {
        out.push(...zodIssues(inner.map((i) => ({ ...i, path: [...issue.path, ...i.path] })) as z.core.$ZodIssue[], file, locate, raw).slice(0, 1));
        continue;
      }
    }
    out.push({ file, ...locate(issue.path), path: formatPath(issue.path), message: issue.message + caseHint(issue, raw) });
  }
  return out;
}

/** ` (did you mean "POST"?)` when a value is a near miss of an allowed one (case, a typo, `_` for `-`). */
function caseHint(issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code !== 'invalid_value') return '';
  const value = valueAt(raw, issue.path);
  if (typeof value !== 'string') return '';
  const match = closest(value, issue.values.filter((v): v is string => typeof v === 'string'));
  return match !== undefined ? ` (did you mean "${match}"?)` : '';
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const seg of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/** "missing required key" in words a user acts on, where zod would say "received undefined". */
function missingKeyMessage(issue: z.core.$ZodIssue, raw: unknown): string | undefined {
  if (issue.path.length === 0 || (issue.code !== 'invalid_type' && issue.code !== 'invalid_value')) return undefined;
  const parent = valueAt(raw, issue.path.slice(0, -1));
  if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) return undefined;
  if ((parent as Record<PropertyKey, unknown>)[issue.path[issue.path.length - 1] as PropertyKey] !== undefined) return undefined;
  const expected = issue.code === 'invalid_type' ? issue.expected : issue.values.map((v) => JSON.stringify(v)).join(' or ');
  return `required key is missing (expected ${expected})`;
}

function makeLocator(doc: Document, at: (offset: number) => { line: number; column: number }): Locator {
  return (path, preferKey = false) => {
    let node: unknown = doc.contents;
    let best = (node as Node | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as Node;
        best = keyNode.range?.[0] ?? best;
        if (last && preferKey) break;
        node = pair.value;
        if (node && (node as Node).range && !(last && isScalar(node))) best = (node as Node).range?.[0] ?? best;
        else if (last && isScalar(node)) best = node.range?.[0] ?? best;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!item) break;
        node = item;
        best = (item as Node).range?.[0] ?? best;
      } else break;
    }
    return at(best);
  };
}

function pathOf(ancestry: readonly unknown[], leaf: unknown): string {
  const path: PropertyKey[] = [];
  const chain = [...ancestry, leaf];
  for (let i = 1; i < chain.length; i++) {
    const parent = chain[i - 1];
    const child = chain[i];
    if (isPair(parent) && isScalar(parent.key)) path.push(String(parent.key.value));
    else if (isSeq(parent)) path.push(parent.items.indexOf(child as never));
  }
  return formatPath(path);
}
