import type { RequestContext } from '../../core/context.js';
import type { Store } from '../../stores/store.js';
import { createTextWatermarker, rememberClient, stripTags, watermarkKey, watermarkText, watermarkVector, type TextWatermarker } from './watermark/index.js';

export interface WatermarkConfig {
  text: boolean;
  numbers: 'off' | 'round4';
  every: number;
}

/** What one answer is marked with: the installation's key and who the answer is served to. */
export interface Marking {
  key: Buffer;
  clientId: string;
  every: number;
  text: boolean;
  numbers: boolean;
  /** The request's embeddings inputs, in order, for the keyed noise. */
  inputs: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The client an answer is traced to: the verified subject, else the address. */
export function clientIdOf(ctx: RequestContext): string {
  return ctx.identity ? `${ctx.identity.method}:${ctx.identity.subject}` : `ip:${ctx.clientIp}`;
}

/** Prepares the marking of this request's answer (one store write per client and process). */
export async function prepareMarking(ctx: RequestContext, store: Store, cfg: WatermarkConfig): Promise<Marking> {
  const key = await watermarkKey(store);
  const clientId = clientIdOf(ctx);
  if (cfg.text) await rememberClient(store, key, clientId);
  const inputs: string[] = [];
  if (ctx.body.type === 'json') {
    const input = ctx.body.value.input;
    if (typeof input === 'string') inputs.push(input);
    else if (Array.isArray(input)) for (const x of input) inputs.push(typeof x === 'string' ? x : JSON.stringify(x));
  }
  return { key, clientId, every: cfg.every, text: cfg.text, numbers: cfg.numbers === 'round4', inputs };
}

/**
 * Our own tags coming back in a conversation's history are removed before the upstream sees
 * them: they carry no meaning for the model and cost about 45 tokens each.
 */
export function stripIncomingTags(body: Record<string, unknown>): void {
  const messages = body.messages;
  if (!Array.isArray(messages)) return;
  for (const m of messages) {
    if (!isRecord(m)) continue;
    if (typeof m.content === 'string') m.content = stripTags(m.content);
    else if (Array.isArray(m.content)) for (const part of m.content) if (isRecord(part) && typeof part.text === 'string') part.text = stripTags(part.text);
  }
}

/** Marks a parsed JSON answer in place: answer texts, embedding vectors. Returns whether it changed. */
export function markJson(doc: unknown, m: Marking): boolean {
  if (!isRecord(doc)) return false;
  let changed = false;
  const text = (s: string) => {
    const out = watermarkText(s, { key: m.key, clientId: m.clientId, every: m.every });
    if (out !== s) changed = true;
    return out;
  };
  if (m.text && Array.isArray(doc.choices)) {
    for (const c of doc.choices) {
      if (!isRecord(c)) continue;
      if (typeof c.text === 'string') c.text = text(c.text);
      if (isRecord(c.message) && typeof c.message.content === 'string') c.message.content = text(c.message.content);
    }
  }
  if (m.text && Array.isArray(doc.content)) {
    for (const b of doc.content) if (isRecord(b) && b.type === 'text' && typeof b.text === 'string') b.text = text(b.text);
  }
  if (m.numbers && Array.isArray(doc.data)) {
    doc.data.forEach((d, i) => {
      if (!isRecord(d) || !Array.isArray(d.embedding) || !d.embedding.every((x) => typeof x === 'number')) return;
      const idx = typeof d.index === 'number' ? d.index : i;
      const input = m.inputs[idx] ?? m.inputs[0] ?? '';
      d.embedding = watermarkVector(d.embedding as number[], { key: m.key, clientId: m.clientId, input });
      changed = true;
    });
  }
  return changed;
}

/** Stream marking: one watermarker per text channel (choice content, Anthropic text block). */
export function streamMarker(m: Marking): (channel: string, text: string) => string {
  const byChannel = new Map<string, TextWatermarker>();
  return (channel, text) => {
    if (!m.text || !/(\.content|\.text|r\d+\.\d+\.response\.output_text\.delta)$/.test(channel)) return text;
    let w = byChannel.get(channel);
    if (!w) byChannel.set(channel, (w = createTextWatermarker({ key: m.key, clientId: m.clientId, every: m.every })));
    return w.push(text);
  };
}

