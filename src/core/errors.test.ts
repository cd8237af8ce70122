import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ERROR_CODES } from './errors.js';

// Like fastify's errors test: a code that is not documented, or documented but gone, fails here.
const doc = readFileSync('docs/errors.md', 'utf8');
const documented = [...doc.matchAll(/^### `([A-Z_]+)`/gm)].map((m) => m[1]);

it('every error code is documented in docs/errors.md with its statuses', () => {
  for (const [code, def] of Object.entries(ERROR_CODES)) {
    const at = doc.indexOf(`### \`${code}\``);
    assert.ok(at >= 0, `${code} is missing from docs/errors.md`);
    const section = doc.slice(at, doc.indexOf('\n### ', at + 1) >>> 0);
    for (const status of def.status) assert.ok(section.includes(String(status)), `${code}: status ${status} not documented`);
  }
});

it('docs/errors.md documents no code that does not exist', () => {
  assert.deepEqual(documented.filter((c) => !(c && Object.hasOwn(ERROR_CODES, c))), []);
});
