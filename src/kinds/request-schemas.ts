import { z } from 'zod';
import type { RouteKind } from '../config/schema-route.js';

// Built-in request shapes per route kind. Objects are loose (vendors add fields every month) but
// every field a security stage reads is typed here, so stages never meet a surprise type.

const text = z.string();
const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const chatContent = z.union([text, z.array(contentPart), z.null()]);
const chatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: chatContent.optional(),
  name: z.string().optional(),
});
const tokenCount = z.number().int().nonnegative();
// Typed so that a lax upstream (pydantic coerces "64" to 64) never reads more choices than the gateway counted.
const choiceCount = z.number().int().positive().nullable().optional();
const streamOptions = z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional();

const openaiChat = z.looseObject({
  model: z.string().min(1),
  messages: z.array(chatMessage).min(1),
  stream: z.boolean().optional(),
  stream_options: streamOptions,
  max_tokens: tokenCount.nullable().optional(),
  max_completion_tokens: tokenCount.nullable().optional(),
  n: choiceCount,
  best_of: choiceCount,
});

const openaiCompletions = z.looseObject({
  model: z.string().min(1),
  prompt: z.union([text, z.array(text).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int())).min(1)]),
  stream: z.boolean().optional(),
  stream_options: streamOptions,
  max_tokens: tokenCount.nullable().optional(),
  n: choiceCount,
  best_of: choiceCount,
});

const openaiEmbeddings = z.looseObject({
  model: z.string().min(1),
  input: z.union([text, z.array(text).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int())).min(1)]),
});

const anthropicBlock = z.looseObject({ type: z.string(), text: z.string().optional() });
const anthropicMessages = z.looseObject({
  model: z.string().min(1),
  // Required by Anthropic; enforceOutputCaps requires it unless the route sets the cap itself.
  max_tokens: tokenCount.nullable().optional(),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([text, z.array(anthropicBlock)]) })).min(1),
  system: z.union([text, z.array(anthropicBlock)]).optional(),
  stream: z.boolean().optional(),
});

const jsonObject = z.record(z.string(), z.unknown());

const SCHEMAS: Record<Exclude<RouteKind, 'passthrough'>, z.ZodType<Record<string, unknown>>> = {
  'openai-chat': openaiChat,
  'openai-completions': openaiCompletions,
  'openai-embeddings': openaiEmbeddings,
  'anthropic-messages': anthropicMessages,
  json: jsonObject,
};

/** The fields that carry the output-token budget, per kind. */
export const MAX_TOKEN_FIELDS: Record<RouteKind, readonly string[]> = {
  'openai-chat': ['max_tokens', 'max_completion_tokens'],
  'openai-completions': ['max_tokens'],
  'anthropic-messages': ['max_tokens'],
  'openai-embeddings': [],
  json: [],
  passthrough: [],
};

/**
 * Length fields of OpenAI-compatible servers that override the kind's own cap: llama.cpp reads
 * `n_predict` before `max_tokens`, Hugging Face TGI `max_new_tokens`, Ollama `num_predict`
 * (also under `options`). On a capped route they would lift the cap the budget reserved.
 */
export const FOREIGN_CAP_FIELDS: readonly string[] = ['n_predict', 'max_new_tokens', 'num_predict'];

/** The fields whose value multiplies the output (each choice is a whole answer), per kind. */
export const CHOICE_FIELDS: Record<RouteKind, readonly string[]> = {
  // best_of: vLLM accepts it on chat too.
  'openai-chat': ['n', 'best_of'],
  'openai-completions': ['n', 'best_of'],
  'anthropic-messages': [],
  'openai-embeddings': [],
  json: [],
  passthrough: [],
};

export type SchemaCheck = { ok: true } | { ok: false; detail: string };

export function checkKindSchema(kind: RouteKind, body: Record<string, unknown>): SchemaCheck {
  if (kind === 'passthrough') return { ok: true };
  const r = SCHEMAS[kind].safeParse(body);
  if (r.success) return { ok: true };
  const issue = r.error.issues[0];
  const at = issue && issue.path.length > 0 ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : 'body';
  // zod's messages name expected types, never echo the value, so they are safe to return.
  return { ok: false, detail: `${at}: ${issue?.message ?? 'invalid'}` };
}

export function isJsonKind(kind: RouteKind): boolean {
  return kind !== 'passthrough';
}
