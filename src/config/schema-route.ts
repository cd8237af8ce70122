import { z } from 'zod';
import { duration } from './units.js';
import { ROLE_NAME, ROLE_NAME_RULE } from '../http/identity-values.js';

// Route-level config. Fields that later stages implement are accepted (and typed) now, so a
// config written against SPEC §2 validates today; their docs say which stage enforces them.

export const ROUTE_KINDS = ['openai-chat', 'openai-completions', 'openai-embeddings', 'anthropic-messages', 'json', 'passthrough'] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** A role as it may be forwarded in x-bulwark-roles (the same rule credentials are held to). */
export const roleName = z.string().regex(ROLE_NAME, ROLE_NAME_RULE).describe('A role, as forwarded in x-bulwark-roles (comma-joined): 1-256 letters, digits, RFC 9110 token punctuation, ":", "/" or "@"; no comma, semicolon, quote, space, control or non-ASCII character.');

const routeName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, ".", "_" or "-", at most 63 characters');

const routePath = z
  .string()
  .max(2048)
  .regex(/^\/[A-Za-z0-9\-._~!$&'()+,=@/:]*$/, 'must start with "/" and use plain path characters (":name" for a parameter)')
  .refine((p) => p === '/' || (!p.endsWith('/') && !p.includes('//') && !/(^|\/)\.{1,2}(\/|$)/.test(p)), {
    message: 'must be canonical: no trailing "/", no "//", no "." or ".." segments',
  });

const match = z.strictObject({
  methods: z.array(z.enum(HTTP_METHODS)).min(1).describe('HTTP methods this route accepts; every other method on the path gets 404.'),
  path: routePath.describe('Canonical path matched exactly (case-sensitive); ":name" matches one segment.'),
});

const authMethod = z.enum(['jwt', 'apiKey', 'mtls']);
const auth = z.strictObject({
  any: z.array(authMethod).min(1).optional().describe('Credentials accepted; one valid credential of these kinds is enough.'),
  all: z.array(authMethod).min(1).optional().describe('Credentials all required (e.g. [mtls, jwt]).'),
  roles: z.array(roleName).optional().describe('Roles admitted (exact, case-sensitive).'),
  scopes: z.array(z.string().min(1)).optional().describe('OAuth scopes required (from scope/scp).'),
  public: z.boolean().prefault(false).describe('true: say that the route is meant to be open (a route without `auth` is open too, and `bulwark check` warns about it).'),
});

const rateLimitBy = z.union([z.enum(['identity', 'ip', 'apiKey', 'route']), z.string().regex(/^header:[a-z0-9-]+$/, 'expected identity, ip, apiKey, route or header:<lowercase-name>')]);
const rateLimit = z
  .strictObject({
    by: rateLimitBy.describe('What is counted: identity (verified subject), ip, apiKey, route, or header:<name>.'),
    requests: z.number().int().positive().optional().describe('Requests allowed per window (sliding).'),
    tokens: z.number().int().positive().optional().describe('LLM tokens allowed per window (prompt estimate + reported usage).'),
    concurrent: z.number().int().positive().optional().describe('Requests in flight at once.'),
    per: duration({ min: 1000 }).optional().describe('Window length, e.g. 1m, 1h, 1d.'),
  })
  .refine((r) => [r.requests, r.tokens, r.concurrent].filter((x) => x !== undefined).length === 1, {
    message: 'set exactly one of requests, tokens, concurrent',
  })
  .refine((r) => r.concurrent !== undefined || r.per !== undefined, { message: '"per" is required with requests or tokens' });

const adaptive = z.strictObject({
  onSignals: z.array(z.string()).prefault(['auth.failure', 'prompt.injection']).describe('Security events that lower the offender\'s limits.'),
  penalty: z.number().gt(0).lte(1).prefault(0.5).describe('Factor applied to limits while penalised.'),
  ban: duration().optional().describe('Ban length once offences repeat.'),
});

const injection = z.strictObject({
  action: z.enum(['block', 'flag', 'log']).prefault('block'),
  threshold: z.number().min(0).max(1).prefault(0.85),
});

const input = z.strictObject({
  schema: z.string().prefault('builtin').describe('"builtin" (the kind\'s schema) or a JSON Schema file checked on top of it.'),
  maxPromptChars: z.number().int().positive().optional().describe('Most characters of prompt text (every message; tool definitions excepted), each text counted at the larger of its raw and NFKC-normalized length; above: 400.'),
  maxMessages: z.number().int().positive().optional(),
  maxTokens: z.number().int().positive().optional().describe('max_tokens / max_completion_tokens above this is refused (or clamped); a request that leaves the cap out (absent or null) is forwarded with this one, which the token budget reserves. openai-chat, openai-completions and anthropic-messages only (elsewhere the gateway sets no cap: a config error).'),
  clampTokens: z.boolean().prefault(false).describe('Clamp max_tokens to maxTokens in what is forwarded instead of refusing.'),
  maxTokensField: z
    .enum(['max_tokens', 'max_completion_tokens'])
    .prefault('max_tokens')
    .describe('openai-chat: the field in which the gateway sets maxTokens upstream when a request leaves its cap out (null or absent). max_completion_tokens for OpenAI reasoning models, which refuse max_tokens.'),
  maxChoices: z
    .number()
    .int()
    .positive()
    .prefault(1)
    .describe('Largest `n` (and `best_of`) a chat or completions request may ask for; above it 400. Each choice is reserved against the token budget at the full output cap.'),
  tokenIds: z
    .enum(['cl100k_base', 'o200k_base', 'refuse'])
    .prefault('cl100k_base')
    .describe('Completions `prompt` / embeddings `input` given as token ids: the encoding they are decoded with to be screened (cl100k_base: every OpenAI completions and embeddings model; o200k_base: newer OpenAI encodings), or refuse (400) when the upstream model uses another tokenizer, whose ids would be screened as unrelated text.'),
  promptInjection: injection.optional(),
  deny: z.array(z.string()).optional().describe('Regexes refused in screened text. RE2 syntax (linear time, as Envoy safe_regex), Unicode, case-sensitive unless (?i); inline flags (?i), (?s), (?m) anywhere. Backreferences, lookaround, atomic groups and possessive quantifiers are config errors.'),
  canary: z.boolean().optional(),
  fields: z.array(z.string().regex(/^(\/([^~/]|~[01])*)*$/, 'a JSON pointer such as /text')).optional().describe('json routes: JSON pointers of the fields to screen.'),
  poisoning: z
    .strictObject({
      action: z.enum(['quarantine', 'block', 'log']).prefault('quarantine').describe('quarantine: hold the item (202) for `bulwark quarantine release|drop`; block: 400; log: forward with an event.'),
      threshold: z.number().min(0).max(1).optional().describe('Injection score that marks an item (default: promptInjection.threshold, else 0.85).'),
      duplicates: z
        .strictObject({ max: z.number().int().positive().prefault(5), within: duration({ min: 1000 }).prefault('1h') })
        .prefault({})
        .describe('Near-duplicate flood: more than `max` items from one client within `within` that are near-copies of each other (SimHash).'),
      volume: z
        .strictObject({ max: z.number().int().positive().prefault(100), per: duration({ min: 1000 }).prefault('1h') })
        .prefault({})
        .describe('Abnormal volume: more than `max` items from one client per window.'),
      keepFor: duration({ min: 1000 }).prefault('7d').describe('How long a quarantined item is kept before it is dropped.'),
    })
    .optional(),
});

const output = z.strictObject({
  redact: z.array(z.string()).optional().describe('Recognizer classes: secrets, pii, or sub-classes such as pii.email.'),
  onMatch: z.enum(['redact', 'block', 'log']).prefault('redact'),
  canary: z.enum(['block', 'log', 'off']).optional(),
  watermark: z
    .strictObject({
      text: z.boolean().prefault(false).describe('Weave an invisible keyed tag (client and time) into answer text; `bulwark watermark identify` reads it back.'),
      numbers: z.enum(['off', 'round4']).prefault('off').describe('round4: embeddings rounded to 4 decimals plus keyed noise under 1e-4, the same for the same client and input.'),
      every: z.number().int().min(50).max(100_000).prefault(200).describe('Visible characters between text tags (an excerpt of about this length plus a word identifies the client).'),
    })
    .optional(),
});

const extraction = z.strictObject({
  monitor: z.boolean().prefault(true),
  action: z.enum(['throttle', 'alert', 'block']).prefault('alert'),
});

export const routeSchema = z.strictObject({
  name: routeName.describe('Unique route name; used in events, metrics and `bulwark routes`.'),
  match,
  upstream: z.string().optional().describe('Name of an entry in `upstreams`; may be omitted when exactly one upstream exists.'),
  kind: z.enum(ROUTE_KINDS).prefault('passthrough').describe('Selects the built-in request schema and error envelope.'),
  mode: z.enum(['enforce', 'monitor']).prefault('enforce').describe('monitor: run every stage, log would_block, block nothing.'),
  onError: z.enum(['deny', 'allow']).prefault('deny').describe('What happens when a stage fails (throws): deny (fail closed) or allow. The auth and authz stages always fail closed.'),
  query: z.enum(['drop', 'forward', 'deny']).prefault('drop').describe('Query strings: drop them, forward them (credential-like and _method parameters removed), or refuse requests that carry one.'),
  timeout: duration({ min: 1 }).optional().describe('Upstream timeout for this route (overrides the upstream\'s).'),
  auth: auth.optional(),
  rateLimit: z.array(rateLimit).optional(),
  adaptive: adaptive.optional(),
  input: input.optional(),
  output: output.optional(),
  extraction: extraction.optional(),
});

export type RouteConfig = z.output<typeof routeSchema>;
