import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import { compileUserRegex, userRegexError } from '../../config/user-regex.js';

const RE2_ENGINE: RegExpEngine = Object.assign((pattern: string) => compileUserRegex(pattern), { code: 'require("re2")' });

export type SchemaFileResult = { ok: true; validate: ValidateFunction } | { ok: false; message: string };

/** Every `pattern` and `patternProperties` key in a schema: config regexes, checked like `deny` (so the error names the pattern). */
function patternsOf(schema: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 64 || typeof schema !== 'object' || schema === null) return out;
  if (Array.isArray(schema)) {
    for (const s of schema) patternsOf(s, out, depth + 1);
    return out;
  }
  const o = schema as Record<string, unknown>;
  if (typeof o.pattern === 'string') out.push(o.pattern);
  if (typeof o.patternProperties === 'object' && o.patternProperties !== null) out.push(...Object.keys(o.patternProperties));
  for (const v of Object.values(o)) patternsOf(v, out, depth + 1);
  return out;
}

/**
 * Reads and compiles a route's JSON Schema file once, at load: a schema that does not compile,
 * or whose patterns RE2 cannot run, is a config error (the gateway does not start).
 */
export function compileSchemaFile(path: string): SchemaFileResult {
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, message: code ? `cannot read JSON Schema file (${code})` : `JSON Schema file is not valid JSON: ${(err as Error).message}` };
  }
  for (const p of patternsOf(schema)) {
    const msg = userRegexError(p);
    if (msg) return { ok: false, message: `JSON Schema pattern ${JSON.stringify(p.slice(0, 60))}: ${msg}` };
  }
  try {
    // strict: unknown keywords are mistakes, not extensions. Patterns run on RE2 like every
    // config regex, so a schema's `pattern` is linear time on any body. allowMatchingProperties:
    // ajv's strict check of patternProperties against `properties` names runs each pattern with
    // V8's RegExp at compile time (backtracking, and refusing RE2 syntax such as `(?i)`).
    const ajv = new Ajv({ strict: true, allowMatchingProperties: true, allErrors: false, unicodeRegExp: true, validateFormats: false, code: { regExp: RE2_ENGINE } });
    return { ok: true, validate: ajv.compile(schema as object) };
  } catch (err) {
    return { ok: false, message: `JSON Schema does not compile: ${(err as Error).message.slice(0, 200)}` };
  }
}

/** A short, value-free description of why a body failed the schema (never echoes client data). */
export function describeSchemaErrors(validate: ValidateFunction): string {
  const e = validate.errors?.[0];
  if (!e) return 'the body does not match the route schema';
  return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`.slice(0, 200);
}
