import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { configJsonSchema, configReferenceMarkdown } from './json-schema.js';

// The published schema and the config reference are generated; this fails when someone changes
// src/config/schema*.ts without running `npm run schema`.
it('schema/bulwark.schema.json is in sync with the config schema', () => {
  const published = JSON.parse(readFileSync('schema/bulwark.schema.json', 'utf8')) as unknown;
  assert.deepEqual(published, JSON.parse(JSON.stringify(configJsonSchema())), 'run `npm run schema`');
});

it('docs/config.md is in sync with the config schema', () => {
  assert.equal(readFileSync('docs/config.md', 'utf8'), configReferenceMarkdown(), 'run `npm run schema`');
});

it('the schema forbids unknown keys at every object level', () => {
  const loose: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.type === 'object' && n.properties && n.additionalProperties !== false) loose.push(path || '<root>');
    for (const [k, v] of Object.entries(n)) walk(v, `${path}/${k}`);
  };
  walk(configJsonSchema(), '');
  assert.deepEqual(loose, []);
});
