import { configJsonSchema } from './json-schema.js';

type Node = {
  properties?: Record<string, Node>;
  items?: Node;
  additionalProperties?: Node | boolean;
  anyOf?: Node[];
  oneOf?: Node[];
};

let root: Node | undefined;

/** The schema nodes `path` can lead to (several where a union offers several shapes). */
function nodesAt(path: readonly PropertyKey[]): Node[] {
  root ??= configJsonSchema() as Node;
  let nodes: Node[] = [root];
  for (const seg of path) {
    const next: Node[] = [];
    for (const n of nodes.flatMap(variants)) {
      if (typeof seg === 'number') {
        if (n.items) next.push(n.items);
      } else {
        const p = n.properties?.[String(seg)];
        if (p) next.push(p);
        else if (typeof n.additionalProperties === 'object') next.push(n.additionalProperties);
      }
    }
    nodes = next;
    if (nodes.length === 0) break;
  }
  return nodes.flatMap(variants);
}

function variants(n: Node): Node[] {
  const alts = n.anyOf ?? n.oneOf;
  return alts ? alts.flatMap(variants) : [n];
}

/** Keys allowed in the object at `path`. */
export function keysAt(path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const n of nodesAt(path)) for (const k of Object.keys(n.properties ?? {})) keys.add(k);
  return [...keys];
}

/** Optimal string alignment distance (Damerau–Levenshtein with adjacent swaps), small strings only. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The allowed word a misspelt one most likely meant (case-only differences first), if any is near. */
export function closest(word: string, allowed: readonly string[]): string | undefined {
  if (word.length > 64) return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of allowed) {
    const dist = k.toLowerCase() === word.toLowerCase() ? 0.5 : distance(word, k);
    if (dist < bestD) {
      bestD = dist;
      best = k;
    }
  }
  const limit = Math.max(1, Math.floor(Math.min(word.length, (best ?? '').length) / 3));
  return best !== undefined && bestD <= limit ? best : undefined;
}

/**
 * "unknown key", with the closest allowed key when one is near enough to be a typo
 * (`listne` → `listen`, `ratelimit` → `rateLimit`).
 */
export function unknownKeyMessage(parent: readonly PropertyKey[], key: string): string {
  const allowed = keysAt(parent);
  if (allowed.length === 0) return 'unknown key';
  const best = closest(key, allowed);
  if (best !== undefined) return `unknown key (did you mean "${best}"?)`;
  // A key written one level too high (`path` beside `match` instead of inside it).
  const nested = allowed.filter((k) => keysAt([...parent, k]).includes(key));
  return nested.length === 1 ? `unknown key (did you mean "${nested[0]}.${key}"?)` : 'unknown key';
}
