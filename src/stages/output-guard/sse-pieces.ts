/** Where a piece of streamed text sits in an event's JSON, and which text stream it continues. */
export interface Piece {
  /** The text stream this piece continues (choice 0's content, tool call 1's arguments, ...). */
  channel: string;
  /** Path of the string in the event's JSON. */
  path: ReadonlyArray<string | number>;
  text: string;
}

type Json = unknown;
const isRecord = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: Json): v is string => typeof v === 'string';

/**
 * The streamed-text pieces of one event's JSON, by API: OpenAI chat and completions chunks
 * (content, refusal, reasoning, tool-call and function-call argument fragments), Anthropic
 * content_block_delta (text, partial_json, thinking), OpenAI Responses deltas. The text that
 * counts is the concatenation of a channel's pieces across events.
 */
export function piecesOf(obj: Json): Piece[] {
  const out: Piece[] = [];
  if (!isRecord(obj)) return out;
  if (Array.isArray(obj.choices)) {
    obj.choices.forEach((choice, i) => {
      if (!isRecord(choice)) return;
      const idx = typeof choice.index === 'number' ? choice.index : i;
      if (str(choice.text)) out.push({ channel: `c${idx}.text`, path: ['choices', i, 'text'], text: choice.text });
      const delta = choice.delta;
      if (!isRecord(delta)) return;
      for (const field of ['content', 'refusal', 'reasoning_content', 'reasoning']) {
        const v = delta[field];
        if (str(v)) out.push({ channel: `c${idx}.${field}`, path: ['choices', i, 'delta', field], text: v });
      }
      if (Array.isArray(delta.tool_calls)) {
        delta.tool_calls.forEach((call, j) => {
          if (!isRecord(call) || !isRecord(call.function)) return;
          const t = typeof call.index === 'number' ? call.index : j;
          if (str(call.function.arguments)) out.push({ channel: `c${idx}.tool${t}`, path: ['choices', i, 'delta', 'tool_calls', j, 'function', 'arguments'], text: call.function.arguments });
        });
      }
      if (isRecord(delta.function_call) && str(delta.function_call.arguments)) {
        out.push({ channel: `c${idx}.fn`, path: ['choices', i, 'delta', 'function_call', 'arguments'], text: delta.function_call.arguments });
      }
    });
    return out;
  }
  if (obj.type === 'content_block_delta' && isRecord(obj.delta)) {
    const idx = typeof obj.index === 'number' ? obj.index : 0;
    for (const field of ['text', 'partial_json', 'thinking']) {
      const v = obj.delta[field];
      if (str(v)) out.push({ channel: `b${idx}.${field}`, path: ['delta', field], text: v });
    }
    return out;
  }
  // Ollama (newline-delimited JSON): /api/chat streams `message.content`, /api/generate `response`.
  if (isRecord(obj.message) && str(obj.message.content)) {
    out.push({ channel: 'o.message', path: ['message', 'content'], text: obj.message.content });
    return out;
  }
  if (str(obj.response) && obj.type === undefined) {
    out.push({ channel: 'o.response', path: ['response'], text: obj.response });
    return out;
  }
  if (typeof obj.type === 'string' && obj.type.startsWith('response.') && obj.type.endsWith('.delta') && str(obj.delta)) {
    out.push({ channel: `r${String(obj.output_index ?? 0)}.${String(obj.content_index ?? 0)}.${obj.type}`, path: ['delta'], text: obj.delta });
  }
  return out;
}

/** Every other string in the event (ids, names, a final full text): checked on its own. */
export function otherStrings(obj: Json, skip: ReadonlyArray<ReadonlyArray<string | number>>, visit: (path: ReadonlyArray<string | number>, text: string) => void): void {
  // One path stack for the whole walk: this runs for every event of every stream.
  const path: Array<string | number> = [];
  const skipped = () => skip.some((p) => p.length === path.length && p.every((seg, i) => seg === path[i]));
  const walk = (v: Json, depth: number) => {
    if (depth > 64) return;
    if (str(v)) {
      if (!skipped()) visit(path.slice(), v);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        walk(v[i], depth + 1);
        path.pop();
      }
    } else if (isRecord(v)) {
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        path.push(k);
        walk(v[k], depth + 1);
        path.pop();
      }
    }
  };
  walk(obj, 0);
}

/** Sets the string at `path` in a parsed event (the path came from the same object). */
export function setAt(obj: Json, path: ReadonlyArray<string | number>, value: string): void {
  let cur: Json = obj;
  for (let i = 0; i < path.length - 1; i++) cur = (cur as Record<string | number, Json>)[path[i] as string | number];
  (cur as Record<string | number, Json>)[path[path.length - 1] as string | number] = value;
}
