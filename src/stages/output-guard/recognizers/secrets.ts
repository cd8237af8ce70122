/**
 * Secret recognizers. Most secrets start with a fixed literal (`sk-`, `ghp_`, `AKIA`, `eyJ`,
 * `-----BEGIN `): those are `PrefixRecognizer`s, found in one pass by a single alternation of all
 * selected prefixes and then matched with a sticky regex at that offset. The others — AWS secret
 * access keys, generic `password: value` secrets, PEM bodies without their header — are found from
 * the runs of base64 characters or from `:` / `=` separators. Every regex is linear: one
 * quantifier per character class, no nesting.
 *
 * One import for every secret recognizer, wherever it lives: `prefix-secrets.ts` (the
 * prefix-keyed table), `base64-blocks.ts` and `block-secrets.ts` (runs of base64 characters),
 * `generic-secrets.ts` (values after a secret-like name).
 */
export type { Hit, PrefixRecognizer } from './secret-types.js';
export { PREFIX_RECOGNIZERS, anthropic, awsAccessKey, bulwark, github, google, jwt, openai, pem, slack, stripe } from './prefix-secrets.js';
export { base64Blocks, type Block } from './base64-blocks.js';
export { AWS_SECRET_MAX_LEN, awsSecretIn, pemBodyIn } from './block-secrets.js';
export { GENERIC_MAX_LEN, genericSecrets, openGenericName } from './generic-secrets.js';
