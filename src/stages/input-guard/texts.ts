import type { RouteKind } from '../../config/schema-route.js';
import { keyPath, messageTexts, newExtraction, walkContent, type Extraction, type ScreenedText } from './message-walk.js';

export type { Extraction, ScreenedText, TokenIdText, Unscreenable } from './message-walk.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every string of a JSON Schema the model reads (tool parameters, structured output): values
 * (descriptions, titles, enums, defaults, examples) and property names, as one text per schema
 * (one score per tool, not one per string: tool sets can be large). Past the depth bound the
 * rest is read as its JSON text rather than skipped.
 */
function schemaTexts(schema: unknown, at: string, out: ScreenedText[]): void {
  const parts: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (typeof v === 'string') parts.push(v);
    else if (typeof v !== 'object' || v === null) return;
    else if (depth > 16) parts.push(JSON.stringify(v)); // whole: the body limit bounds it
    else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else {
      // Keys read as words too: a property may be named with an instruction.
      const keys = Object.keys(v);
      if (keys.length > 0) parts.push(keys.join(' '));
      for (const k of keys) walk((v as Record<string, unknown>)[k], depth + 1);
    }
  };
  walk(schema, 0);
  if (parts.length > 0) out.push({ at, text: parts.join('\n'), definition: true });
}

/**
 * Definitions the model reads besides the messages: each tool and legacy function whole (its
 * description, parameter schema, and whatever else its type carries: a custom tool's
 * description and grammar, a server tool's settings; a poisoned tool description is an injection
 * like any other), the structured-output schema, and OpenAI predicted output.
 */
function definitionTexts(body: Record<string, unknown>, ex: Extraction): void {
  const out = ex.texts;
  if (Array.isArray(body.tools)) body.tools.forEach((t, i) => schemaTexts(t, `tools[${i}]`, out));
  if (Array.isArray(body.functions)) body.functions.forEach((f, i) => schemaTexts(f, `functions[${i}]`, out));
  const rf = body.response_format;
  if (isRecord(rf) && isRecord(rf.json_schema)) {
    if (typeof rf.json_schema.description === 'string') out.push({ at: 'response_format.json_schema.description', text: rf.json_schema.description, definition: true });
    schemaTexts(rf.json_schema.schema, 'response_format.json_schema.schema', out);
  }
  if (isRecord(body.prediction)) walkContent(body.prediction.content, 'prediction.content', undefined, ex);
}

/**
 * Top-level fields of a chat or messages request that are settings, never text the model reads.
 * Every other top-level field is screened: servers add fields that reach the prompt (vLLM
 * `documents`, `chat_template`, `chat_template_kwargs`), and an unknown field passed over would
 * be an unscreened prompt. `mcp_servers` carries credentials and URLs, not prompt text.
 */
const SETTINGS = new Set([
  'model', 'messages', 'system', 'tools', 'functions', 'response_format', 'prediction', 'stream', 'stream_options',
  'max_tokens', 'max_completion_tokens', 'n', 'best_of', 'temperature', 'top_p', 'top_k', 'min_p', 'presence_penalty',
  'frequency_penalty', 'repetition_penalty', 'logit_bias', 'logprobs', 'top_logprobs', 'seed', 'stop', 'stop_sequences',
  'user', 'metadata', 'store', 'service_tier', 'parallel_tool_calls', 'tool_choice', 'function_call', 'modalities',
  'reasoning_effort', 'verbosity', 'thinking', 'audio', 'mcp_servers', 'container', 'safety_identifier', 'prompt_cache_key',
  // vLLM output constraints and request handling: they shape or label the answer, the model does not read them.
  'guided_json', 'guided_regex', 'guided_choice', 'guided_grammar', 'guided_decoding_backend', 'structured_outputs', 'bad_words',
  'request_id', 'cache_salt', 'priority', 'stop_token_ids', 'min_tokens', 'ignore_eos', 'use_beam_search', 'length_penalty',
]);

function otherFields(body: Record<string, unknown>, ex: Extraction): void {
  for (const k of Object.keys(body)) if (!SETTINGS.has(k)) walkContent(body[k], keyPath(k).replace(/^\./, ''), undefined, ex);
}

/** The value at a JSON pointer (RFC 6901), or undefined. */
export function atPointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      cur = cur[Number(token)];
    } else if (isRecord(cur)) {
      cur = Object.hasOwn(cur, token) ? cur[token] : undefined;
    } else return undefined;
  }
  return cur;
}

/** Every string under a value (a picked field may be an object or array of texts), at any depth. */
function allStrings(root: unknown, at: string, out: ScreenedText[]): void {
  const stack: Array<{ v: unknown; at: string }> = [{ v: root, at }];
  while (stack.length > 0) {
    const { v, at: here } = stack.pop() as { v: unknown; at: string };
    if (typeof v === 'string') out.push({ at: here, text: v });
    else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], at: `${here}/${i}` });
    else if (isRecord(v)) {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i] as [string, unknown];
        stack.push({ v: x, at: `${here}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}` });
      }
    }
  }
}

/**
 * Completions `prompt` and embeddings `input`: a string, strings, token ids, or arrays of token
 * ids (one per input). Token ids are model input like any text: decoded by the stage.
 */
function promptInput(v: unknown, at: string, ex: Extraction): void {
  if (typeof v === 'string') ex.texts.push({ at, text: v });
  if (!Array.isArray(v)) return;
  if (v.length > 0 && v.every((x) => typeof x === 'number')) {
    ex.tokenIds.push({ at, ids: v as number[] });
    return;
  }
  v.forEach((item, i) => {
    if (typeof item === 'string') ex.texts.push({ at: `${at}[${i}]`, text: item });
    else if (Array.isArray(item)) {
      if (item.every((x) => typeof x === 'number')) ex.tokenIds.push({ at: `${at}[${i}]`, ids: item as number[] });
      else walkContent(item, `${at}[${i}]`, undefined, ex);
    } else walkContent(item, `${at}[${i}]`, undefined, ex);
  });
}

/**
 * The texts a model will read from a request body (G-7.1), per route kind; the full list, field
 * by field, is the table in this stage's README. Token ids are returned for the stage to decode;
 * content the gateway cannot read is listed as unscreenable.
 */
export function extractTexts(kind: RouteKind, body: Record<string, unknown>, fields: readonly string[] | undefined): Extraction {
  const ex = newExtraction();
  switch (kind) {
    case 'openai-chat':
      messageTexts(body.messages, ex);
      definitionTexts(body, ex);
      otherFields(body, ex);
      break;
    case 'anthropic-messages':
      walkContent(body.system, 'system', 'system', ex);
      messageTexts(body.messages, ex);
      definitionTexts(body, ex);
      otherFields(body, ex);
      break;
    case 'openai-completions':
      promptInput(body.prompt, 'prompt', ex);
      if (typeof body.suffix === 'string') ex.texts.push({ at: 'suffix', text: body.suffix });
      break;
    case 'openai-embeddings':
      promptInput(body.input, 'input', ex);
      break;
    case 'json':
      if (fields && fields.length > 0) for (const f of fields) allStrings(atPointer(body, f), f, ex.texts);
      else allStrings(body, '', ex.texts);
      break;
    case 'passthrough':
      break;
  }
  return ex;
}
