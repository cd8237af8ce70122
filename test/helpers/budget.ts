import { setTimeout as sleep } from 'node:timers/promises';
import type { BulwarkConfigInput } from '../../src/config/schema.js';
import type { RouteKind } from '../../src/config/schema-route.js';
import { budgetedCounter, estimatePromptTokens, loadTokenCounter } from '../../src/stages/token-budget/estimate.js';
import type { Store } from '../../src/stores/store.js';
import { chatBody } from './fixture.js';

export type RouteInput = NonNullable<BulwarkConfigInput['routes']>[number];

/** A public route of `kind` at `path`, with the given extra settings. */
export function llmRoute(name: string, path: string, kind: RouteInput['kind'], extra: Partial<RouteInput> = {}): RouteInput {
  return { name, match: { methods: ['POST'], path }, kind, auth: { public: true }, ...extra };
}

export const CHAT_PATH = '/v1/chat/completions';

export async function postJson(url: string, body: string): Promise<{ status: number; text: string; json: () => Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await r.text();
  return { status: r.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

export const postChat = (base: string, extra: Record<string, unknown> = {}, path = CHAT_PATH) => postJson(`${base}${path}`, chatBody(extra));

/** Tokens spent in a budget's window (anonymous callers are counted by address), read through the store contract. */
export async function spent(store: Store, route: string, rule = 0, windowMs = 60_000): Promise<number> {
  return (await store.spend(`tk:${route}:${rule}:ip:127.0.0.1`, 0, Number.MAX_SAFE_INTEGER, windowMs)).total;
}

/** Settling runs just after the client has its answer: wait (bounded) until the window shows `expected`. */
export async function spentSettled(store: Store, route: string, expected: number): Promise<number> {
  const until = Date.now() + 5000;
  let now = await spent(store, route);
  while (now !== expected && Date.now() < until) {
    await sleep(10);
    now = await spent(store, route);
  }
  return now;
}

/** The gateway's own prompt estimate for a body, so a test can name the exact reservation. */
export async function promptEstimate(kind: RouteKind, body: Record<string, unknown>): Promise<number> {
  const count = await loadTokenCounter();
  return estimatePromptTokens(kind, body, budgetedCounter(count));
}

export const chatPromptEstimate = (extra: Record<string, unknown> = {}): Promise<number> => promptEstimate('openai-chat', JSON.parse(chatBody(extra)) as Record<string, unknown>);

/** The data payloads of an SSE body, parsed where they are JSON. */
export function sseData(text: string): unknown[] {
  const out: unknown[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (data === '' || data === '[DONE]') continue;
    try {
      out.push(JSON.parse(data));
    } catch {
      out.push(data);
    }
  }
  return out;
}
