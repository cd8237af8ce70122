import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { compileSchemaFile } from '../src/stages/input-guard/json-schema-file.js';

// Review of issue 12 point 1: every regex of a JSON Schema file runs on RE2, including
// patternProperties beside properties (ajv's strict check ran those on V8's RegExp at compile).
it('patternProperties beside properties run on RE2 only: RE2 syntax compiles, a V8-backtracking pattern is not run on V8', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-schema-'));
  const file = join(dir, 's.json');
  writeFileSync(file, JSON.stringify({ type: 'object', properties: { a: { type: 'string' } }, patternProperties: { '(?i)^x': { type: 'number' } } }));
  const r = compileSchemaFile(file);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.validate({ a: 'q', XY: 1 }), true);
  assert.equal(r.validate({ a: 'q', XY: 's' }), false);
  // Catastrophic on V8 against this property name (2^30 steps); linear on RE2.
  writeFileSync(file, JSON.stringify({ type: 'object', properties: { ['a'.repeat(30) + '!']: { type: 'string' } }, patternProperties: { '^(a|a)+$': { type: 'number' } } }));
  assert.ok(compileSchemaFile(file).ok);
});
