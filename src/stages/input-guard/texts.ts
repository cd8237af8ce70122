import type { RouteKind } from '../../config/schema-route.js';

/** One piece of client text to screen, with where it came from (for events, never the text). */
export interface ScreenedText {
  /** e.g. `messages[2].content[0].text`, `system`, `/text` */
  readonly at: string;
  /** The message role when the text belongs to a message. */
  readonly role?: string;
  readonly text: string;
  /** A tool or output definition rather than prompt text: screened, not counted by maxPromptChars. */
  readonly definition?: true;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Text parts of a message content value: a string, or an array of parts (OpenAI `{type:'text',
 * text}`, Anthropic text blocks, tool results whose content is itself a string or parts).
 * Depth-bounded: content nests (tool_result in content), and the body depth limit is generous.
 */
function contentTexts(content: unknown, at: string, role: string | undefined, out: ScreenedText[], depth = 0): void {
  if (depth > 8) return;
  if (typeof content === 'string') {
    out.push({ at, role, text: content });
    return;
  }
  if (!Array.isArray(content)) return;
  content.forEach((part, i) => {
    const here = `${at}[${i}]`;
    if (typeof part === 'string') out.push({ at: here, role, text: part });
    else if (isRecord(part)) {
      for (const key of ['text', 'thinking', 'input_text', 'refusal'] as const) {
        if (typeof part[key] === 'string') out.push({ at: `${here}.${key}`, role, text: part[key] as string });
      }
      if (part.content !== undefined) contentTexts(part.content, `${here}.content`, role, out, depth + 1);
      // Anthropic tool_use input: arguments the model wrote earlier, replayed by the client.
      if (part.input !== undefined && typeof part.input === 'object') out.push({ at: `${here}.input`, role, text: JSON.stringify(part.input) });
    }
  });
}

function messageTexts(messages: unknown, out: ScreenedText[]): void {
  if (!Array.isArray(messages)) return;
  messages.forEach((m, i) => {
    if (!isRecord(m)) return;
    const role = typeof m.role === 'string' ? m.role : undefined;
    contentTexts(m.content, `messages[${i}].content`, role, out);
    if (typeof m.name === 'string') out.push({ at: `messages[${i}].name`, role, text: m.name });
    if (Array.isArray(m.tool_calls)) {
      m.tool_calls.forEach((c, j) => {
        const fn = isRecord(c) && isRecord(c.function) ? c.function : undefined;
        if (fn && typeof fn.arguments === 'string') out.push({ at: `messages[${i}].tool_calls[${j}].function.arguments`, role, text: fn.arguments });
      });
    }
  });
}

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
    else if (depth > 16) parts.push(JSON.stringify(v).slice(0, 64 * 1024));
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
 * Definitions the model reads besides the messages: tool and function descriptions with their
 * parameter schemas (a poisoned tool description is an injection like any other), the
 * structured-output schema, and OpenAI predicted output.
 */
function definitionTexts(body: Record<string, unknown>, out: ScreenedText[]): void {
  if (Array.isArray(body.tools)) {
    body.tools.forEach((t, i) => {
      if (!isRecord(t)) return;
      // OpenAI nests the definition under `function`; Anthropic puts it on the tool.
      const def = isRecord(t.function) ? t.function : t;
      const at = def === t ? `tools[${i}]` : `tools[${i}].function`;
      if (typeof def.description === 'string') out.push({ at: `${at}.description`, text: def.description, definition: true });
      schemaTexts(def.parameters ?? def.input_schema, `${at}.${def.parameters !== undefined ? 'parameters' : 'input_schema'}`, out);
    });
  }
  if (Array.isArray(body.functions)) {
    body.functions.forEach((f, i) => {
      if (!isRecord(f)) return;
      if (typeof f.description === 'string') out.push({ at: `functions[${i}].description`, text: f.description, definition: true });
      schemaTexts(f.parameters, `functions[${i}].parameters`, out);
    });
  }
  const rf = body.response_format;
  if (isRecord(rf) && isRecord(rf.json_schema)) {
    if (typeof rf.json_schema.description === 'string') out.push({ at: 'response_format.json_schema.description', text: rf.json_schema.description, definition: true });
    schemaTexts(rf.json_schema.schema, 'response_format.json_schema.schema', out);
  }
  if (isRecord(body.prediction)) contentTexts(body.prediction.content, 'prediction.content', undefined, out);
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

/** Every string under a value (a picked field may be an object or array of texts). */
function allStrings(v: unknown, at: string, out: ScreenedText[], depth = 0): void {
  if (depth > 32) return;
  if (typeof v === 'string') out.push({ at, text: v });
  else if (Array.isArray(v)) v.forEach((x, i) => allStrings(x, `${at}/${i}`, out, depth + 1));
  else if (isRecord(v)) for (const [k, x] of Object.entries(v)) allStrings(x, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out, depth + 1);
}

/**
 * The texts a model will read from a request body (G-7.1): every message of every role, tool
 * calls and results, multi-part content, the Anthropic `system`, tool and function definitions,
 * structured-output schemas, predicted output, completions prompts, embeddings inputs; for `json`
 * routes, the fields named by JSON pointer (all of the body when none are).
 */
export function screenedTexts(kind: RouteKind, body: Record<string, unknown>, fields: readonly string[] | undefined): ScreenedText[] {
  const out: ScreenedText[] = [];
  switch (kind) {
    case 'openai-chat':
      messageTexts(body.messages, out);
      definitionTexts(body, out);
      break;
    case 'anthropic-messages':
      contentTexts(body.system, 'system', 'system', out);
      messageTexts(body.messages, out);
      definitionTexts(body, out);
      break;
    case 'openai-completions':
      contentTexts(body.prompt, 'prompt', undefined, out);
      if (typeof body.suffix === 'string') out.push({ at: 'suffix', text: body.suffix });
      break;
    case 'openai-embeddings':
      contentTexts(body.input, 'input', undefined, out);
      break;
    case 'json':
      if (fields && fields.length > 0) for (const f of fields) allStrings(atPointer(body, f), f, out);
      else allStrings(body, '', out);
      break;
    case 'passthrough':
      break;
  }
  return out;
}
