import type { RouteKind } from '../../config/schema-route.js';
import { outputChoices } from '../../kinds/max-tokens.js';
import { MAX_TOKEN_FIELDS } from '../../kinds/request-schemas.js';

/** Counts the tokens of one piece of text. */
export type TokenCounter = (text: string) => number;

let counter: Promise<TokenCounter> | undefined;

/**
 * The o200k_base tokenizer (GPT-4o and later OpenAI models). For Anthropic, Gemini, Llama and other
 * models it is only an estimate (their tokenizers differ, typically by 10-20%); that is acceptable
 * because the budget is reconciled afterwards with the usage the upstream reports.
 *
 * Imported lazily and once: loading the tables takes ~350 ms, which gateways without a token budget
 * should never pay, and which should be paid once, not per request.
 */
export function loadTokenCounter(): Promise<TokenCounter> {
  counter ??= import('gpt-tokenizer/encoding/o200k_base').then(
    (m): TokenCounter => {
      // Special-token text such as "<|endoftext|>" in client input is plain text to the upstream;
      // the library's default would throw on it.
      const options = { disallowedSpecial: new Set<string>() };
      return boundedCounter((text) => m.countTokens(text, options));
    },
    (err: unknown) => {
      counter = undefined; // a failed import may be retried rather than memoised forever
      throw err;
    },
  );
  return counter;
}

/**
 * OpenAI documents ~3 tokens of framing per chat message and 3 more priming the reply
 * (cookbook "How to count tokens with tiktoken"). Anthropic's framing is similar in size.
 */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_REPLY_PRIMING = 3;
/** Tool results may nest blocks; a bound keeps hostile nesting from costing stack. */
const MAX_DEPTH = 8;

interface PromptParts {
  texts: string[];
  /** Tokens sent already tokenized (arrays of token ids): their count is their length. */
  preTokenized: number;
  messages: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function pushString(out: string[], v: unknown): void {
  if (typeof v === 'string' && v.length > 0) out.push(v);
}

/** Definitions (tools, schemas) reach the model as serialized JSON; its length is the best proxy. */
function pushJson(out: string[], v: unknown): void {
  if (v === undefined || v === null) return;
  try {
    const s = JSON.stringify(v);
    if (s !== undefined) out.push(s);
  } catch {
    // not JSON-serializable (cannot come from a parsed body): nothing to count
  }
}

/** Content as string or as an array of parts/blocks (OpenAI and Anthropic shapes alike). */
function pushContent(out: string[], content: unknown, depth = 0): void {
  if (typeof content === 'string') return pushString(out, content);
  if (!Array.isArray(content) || depth > MAX_DEPTH) return;
  for (const part of content) {
    if (typeof part === 'string') {
      pushString(out, part);
      continue;
    }
    if (!isRecord(part)) continue;
    pushString(out, part.text); // OpenAI text parts, Anthropic text blocks
    pushString(out, part.refusal);
    pushString(out, part.thinking); // Anthropic thinking blocks sent back in multi-turn tool use
    if (part.type === 'tool_use') {
      pushString(out, part.name);
      pushJson(out, part.input);
    }
    if (part.type === 'tool_result') pushContent(out, part.content, depth + 1);
    if (part.type === 'document' && isRecord(part.source) && part.source.type === 'text') pushString(out, part.source.data);
  }
}

function pushMessages(parts: PromptParts, messages: unknown): void {
  if (!Array.isArray(messages)) return;
  for (const m of messages) {
    if (!isRecord(m)) continue;
    parts.messages++;
    pushContent(parts.texts, m.content);
    pushString(parts.texts, m.name);
    // Assistant turns replayed with tool calls: the arguments are text the model reads again.
    if (Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls) {
        if (!isRecord(call) || !isRecord(call.function)) continue;
        pushString(parts.texts, call.function.name);
        pushString(parts.texts, call.function.arguments);
      }
    }
    if (isRecord(m.function_call)) {
      pushString(parts.texts, m.function_call.name);
      pushString(parts.texts, m.function_call.arguments);
    }
  }
}

/** Completions `prompt` / embeddings `input`: strings, or token ids (flat or one array per input). */
function pushPromptInput(parts: PromptParts, v: unknown): void {
  if (typeof v === 'string') return pushString(parts.texts, v);
  if (!Array.isArray(v)) return;
  for (const item of v) {
    if (typeof item === 'string') pushString(parts.texts, item);
    else if (typeof item === 'number') parts.preTokenized++;
    else if (Array.isArray(item)) parts.preTokenized += item.filter((t) => typeof t === 'number').length;
  }
}

function promptParts(kind: RouteKind, body: Record<string, unknown>): PromptParts {
  const parts: PromptParts = { texts: [], preTokenized: 0, messages: 0 };
  switch (kind) {
    case 'openai-chat':
      pushMessages(parts, body.messages);
      pushJson(parts.texts, body.tools);
      pushJson(parts.texts, body.functions);
      // Structured output schemas are injected into the prompt too.
      if (isRecord(body.response_format)) pushJson(parts.texts, body.response_format.json_schema);
      break;
    case 'anthropic-messages':
      pushMessages(parts, body.messages);
      pushContent(parts.texts, body.system);
      pushJson(parts.texts, body.tools);
      break;
    case 'openai-completions':
      pushPromptInput(parts, body.prompt);
      pushString(parts.texts, body.suffix);
      break;
    case 'openai-embeddings':
      pushPromptInput(parts, body.input);
      break;
    case 'json':
    case 'passthrough':
      break; // unknown shape: no estimate rather than a wrong one
  }
  return parts;
}

/** Every piece of text the model will read, for the kinds whose request shape is known. */
export function promptTexts(kind: RouteKind, body: Record<string, unknown>): string[] {
  return promptParts(kind, body).texts;
}

/** Prompt tokens the upstream will most likely bill, before forwarding. A non-negative integer. */
export function estimatePromptTokens(kind: RouteKind, body: Record<string, unknown>, count: TokenCounter): number {
  const parts = promptParts(kind, body);
  let total = parts.preTokenized;
  for (const t of parts.texts) {
    const n = count(t);
    if (Number.isFinite(n) && n > 0) total += Math.ceil(n);
  }
  if (parts.messages > 0) total += parts.messages * TOKENS_PER_MESSAGE + TOKENS_REPLY_PRIMING;
  return total;
}

/**
 * Output tokens to reserve: the cap per answer times the answers asked for (`n`, `best_of`).
 * The cap is what the request carries (the core wrote the route's `maxTokens` in when it carried
 * none), else the route's cap, else 0. When both max_tokens and max_completion_tokens are given,
 * the larger is reserved (never under-reserve).
 */
export function reservedOutputTokens(kind: RouteKind, body: Record<string, unknown>, routeMaxTokens: number | undefined): number {
  if (kind === 'openai-embeddings') return 0;
  let requested: number | undefined;
  for (const field of MAX_TOKEN_FIELDS[kind]) {
    const v = body[field];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) requested = Math.max(requested ?? 0, Math.floor(v));
  }
  const perChoice = requested ?? (routeMaxTokens !== undefined && Number.isFinite(routeMaxTokens) && routeMaxTokens > 0 ? Math.floor(routeMaxTokens) : 0);
  return perChoice * outputChoices(kind, body);
}

// BPE merging is quadratic in the length of one pre-tokenized word: 90,000 letters without a space
// take seconds, a denial of service on the event loop. Runs longer than this are counted in pieces
// of this size (a slight overcount at each cut; linear time).
const PIECE = 32;
const HAS_LONG_RUN = /\S{33}/;
const LONG_RUN = /\S{33,}/g;

/** Counts like `count`, in time linear in the text whatever its shape. */
export function boundedCounter(count: TokenCounter): TokenCounter {
  return (text) => {
    if (!HAS_LONG_RUN.test(text)) return count(text);
    let total = 0;
    let last = 0;
    for (const m of text.matchAll(LONG_RUN)) {
      total += count(text.slice(last, m.index));
      for (let i = 0; i < m[0].length; i += PIECE) total += count(m[0].slice(i, i + PIECE));
      last = m.index + m[0].length;
    }
    return total + count(text.slice(last));
  };
}

/**
 * A per-request counter that tokenizes at most `budgetChars` characters exactly and extrapolates
 * the rest at the rate seen so far (at least 1 token per 4 characters). Exact BPE on adversarial
 * text (random letters) costs over 1 us a character; a 1 MB body must not hold the event loop for
 * a second. The estimate only decides admission: the budget is settled to the reported usage.
 */
export function budgetedCounter(count: TokenCounter, budgetChars = 32_768): TokenCounter {
  let left = budgetChars;
  let chars = 0;
  let tokens = 0;
  return (text) => {
    if (text.length <= left) {
      const n = count(text);
      left -= text.length;
      chars += text.length;
      tokens += n;
      return n;
    }
    const head = left > 0 ? count(text.slice(0, left)) : 0;
    if (left > 0) {
      chars += left;
      tokens += head;
    }
    const rest = text.length - Math.max(left, 0);
    left = 0;
    const rate = Math.max(chars > 0 ? tokens / chars : 0.25, 0.25);
    return head + Math.ceil(rest * rate);
  };
}
