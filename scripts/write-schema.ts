// Regenerates the published JSON Schema and docs/config.md from src/config/schema.ts.
import { writeFileSync, mkdirSync } from 'node:fs';
import { configJsonSchema, configReferenceMarkdown } from '../src/config/json-schema.js';

mkdirSync('schema', { recursive: true });
mkdirSync('docs', { recursive: true });
writeFileSync('schema/bulwark.schema.json', JSON.stringify(configJsonSchema(), null, 2) + '\n');
writeFileSync('docs/config.md', configReferenceMarkdown());
process.stdout.write('wrote schema/bulwark.schema.json and docs/config.md\n');
