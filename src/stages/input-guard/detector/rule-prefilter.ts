/**
 * Trigger-stem pre-filter, compiled once from the `need` groups of the rule table: one regex scan
 * finds which stems occur, and a rule whose groups are not all satisfied is skipped. Speed only:
 * it must never change results (see rules.test.ts).
 */

import { RULES } from './rule-table.js';

export interface CompiledNeed {
  /** Per group: stem ids (any present satisfies) and literal substrings. */
  groups: { ids: number[]; lits: string[] }[];
}

const STEMS: string[] = [];
const STEM_ID = new Map<string, number>();
for (const rule of RULES) for (const g of rule.need ?? []) for (const s of g) if (!s.startsWith('=') && !STEM_ID.has(s)) STEM_ID.set(s, STEMS.push(s) - 1);
/** For each stem: ids of all stems that are prefixes of it (itself included). */
const IMPLIED: number[][] = STEMS.map((s) => STEMS.map((t, j) => (s.startsWith(t) ? j : -1)).filter((j) => j >= 0));
// Longest first, so that the alternative matched at a position is the longest stem there.
const TRIGGER_RE = new RegExp(
  `\\b(?:${[...STEMS].sort((a, b) => b.length - a.length || (a < b ? -1 : 1)).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`,
  'g',
);
export const COMPILED_NEEDS: readonly (CompiledNeed | undefined)[] = RULES.map((rule) =>
  rule.need
    ? { groups: rule.need.map((g) => ({ ids: g.filter((s) => !s.startsWith('=')).map((s) => STEM_ID.get(s) as number), lits: g.filter((s) => s.startsWith('=')).map((s) => s.slice(1)) })) }
    : undefined,
);

/** Which trigger stems occur in `text` (one regex scan). */
export function triggerStems(text: string): Uint8Array {
  const present = new Uint8Array(STEMS.length);
  TRIGGER_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TRIGGER_RE.exec(text)) !== null) {
    const id = STEM_ID.get(m[0]);
    if (id !== undefined) for (const j of IMPLIED[id] as number[]) present[j] = 1;
    TRIGGER_RE.lastIndex = m.index + 1;
  }
  return present;
}

export function needMet(c: CompiledNeed, present: Uint8Array, text: string): boolean {
  for (const g of c.groups) {
    let ok = false;
    for (const id of g.ids) if (present[id] === 1) { ok = true; break; }
    if (!ok) for (const lit of g.lits) if (text.includes(lit)) { ok = true; break; }
    if (!ok) return false;
  }
  return true;
}
