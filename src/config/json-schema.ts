import { z } from 'zod';
import { configSchema } from './schema.js';

/** The published JSON Schema (what users write: durations and sizes as strings or numbers). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://bulwark.dev/schema/bulwark.schema.json',
    title: 'Bulwark gateway configuration',
  };
}

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
};

/** docs/config.md: one table row per key, generated from the same schema (never hand-edited). */
export function configReferenceMarkdown(): string {
  const rows: string[] = [];
  const walk = (node: JsonSchema, path: string, required: boolean) => {
    const variants = node.anyOf ?? node.oneOf;
    if (path) rows.push(`| \`${path}\` | ${typeOf(node)} | ${required ? 'yes' : ''} | ${node.default !== undefined ? `\`${JSON.stringify(node.default)}\`` : ''} | ${(node.description ?? '').replaceAll('|', '\\|')} |`);
    if (node.properties) {
      for (const [k, v] of Object.entries(node.properties)) walk(v, path ? `${path}.${k}` : k, node.required?.includes(k) ?? false);
    }
    if (node.items) walk(node.items, `${path}[]`, false);
    if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}.<name>`, false);
    if (variants) {
      variants.forEach((v) => {
        if (v.properties) {
          const tag = v.properties.type?.const;
          for (const [k, child] of Object.entries(v.properties)) {
            if (k === 'type' && tag !== undefined) continue;
            walk(child, `${path}${tag !== undefined ? `(type=${String(tag)})` : ''}.${k}`, v.required?.includes(k) ?? false);
          }
        }
      });
    }
  };
  walk(configJsonSchema() as JsonSchema, '', false);
  return `# Configuration reference

Generated from the config schema (\`src/config/schema.ts\`) by \`npm run schema\`; a test fails when
this page or \`schema/bulwark.schema.json\` drifts from the code. Durations need a unit: \`500ms\`,
\`30s\`, \`1m\`, \`1h\`, \`1d\` (a bare number is refused: it reads as minutes to a person and as
milliseconds to a parser); sizes accept \`16kb\`, \`1mb\` (binary units) or a
number of bytes. \`\${NAME}\` and \`\${NAME:-default}\` are substituted from the environment in values
(an unset variable without a default is an error). Unknown keys are errors.

A few settings are accepted by the schema but not enforced by this version (route \`extraction\`);
\`bulwark check\` names them and \`bulwark start\` refuses them, so nothing looks protected while
being open.

| key | type | required | default | description |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

function typeOf(node: JsonSchema): string {
  if (node.enum) return node.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  if (node.const !== undefined) return `\`${String(node.const)}\``;
  const variants = node.anyOf ?? node.oneOf;
  if (variants) return [...new Set(variants.map(typeOf))].join(' \\| ');
  if (Array.isArray(node.type)) return node.type.join(' \\| ');
  return node.type ?? 'any';
}
