import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { parseConfigText } from '../src/config/load.js';
import { findUnenforced } from '../src/config/unenforced.js';
import { availableFeatures } from '../src/gateway/features.js';

// The README's config example must stay a config this version accepts and starts.
it('the README config example is valid and startable', () => {
  const readme = readFileSync('README.md', 'utf8');
  const block = /## A config example\s+```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'README has a yaml block under "A config example"');
  const config = parseConfigText(block, 'README.md', { OPENAI_API_KEY: 'sk-test' });
  assert.deepEqual(findUnenforced(config, availableFeatures()), []);
  assert.ok(config.routes.length >= 1);
});
