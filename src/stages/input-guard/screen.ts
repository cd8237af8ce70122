import { performance } from 'node:perf_hooks';
import { observeDetector } from '../../metrics/process.js';
import type { PromptGuard } from './detector/prompt-guard.js';
import { joinPrepared, type PreparedText, type TextSet } from './prepared.js';
import type { PreparedInput } from './detector/prompt-guard.js';

export interface InjectionFinding {
  score: number;
  reasons: string[];
  /** Where the highest score came from (`messages[2].content`, or `(all messages)` when only the concatenation scored). */
  at: string;
  role?: string | undefined;
  /** The text that scored, for events with includePrompts only. */
  text: string;
}

// Concatenating all texts (set.whole(), joined with a newline that keeps words apart) catches a
// payload split across messages; it is only worth scoring when there is more than one piece.

/** Scores each screened text and all of them together; the highest score wins. */
export function screenForInjection(guard: PromptGuard, set: TextSet): InjectionFinding | undefined {
  const startedAt = performance.now();
  try {
    return screen(guard, set);
  } finally {
    observeDetector((performance.now() - startedAt) / 1000);
  }
}

// Each text was normalized once (prepared.ts); the concatenation is built from those forms.
function screen(guard: PromptGuard, set: TextSet): InjectionFinding | undefined {
  const texts = set.texts;
  let best: InjectionFinding | undefined;
  for (const t of scoredUnits(texts)) {
    if (t.text.length === 0) continue;
    // A lone text is the whole: its score is memoized for the poisoning guard too.
    const d = texts.length === 1 ? set.wholeScore(guard) : guard.scorePrepared(t);
    if (!best || d.score > best.score) best = { score: d.score, reasons: d.reasons, at: t.at, role: t.role, text: t.text };
  }
  if (texts.length > 1) {
    const all = set.whole();
    const d = set.wholeScore(guard);
    if (!best || d.score > best.score) best = { score: d.score, reasons: [...d.reasons, 'split-across-messages'], at: '(all messages)', text: all.raw };
  }
  return best;
}

/**
 * A detector call has a fixed cost (~40 us) whatever the text's length, so a body of many tiny
 * parts would cost far more than the same bytes of prose. Past this many texts, consecutive texts
 * are scored in groups of about equal size (joined from their normalized forms, never normalized
 * again); the concatenation of all of them is scored as always.
 */
export const MAX_SCORED_UNITS = 64;

interface Unit extends PreparedInput {
  readonly at: string;
  readonly role?: string | undefined;
  readonly text: string;
}

export function scoredUnits(texts: readonly PreparedText[]): readonly Unit[] {
  if (texts.length <= MAX_SCORED_UNITS) return texts;
  let total = 0;
  for (const t of texts) total += t.clean.length;
  const target = Math.ceil(total / MAX_SCORED_UNITS);
  const units: Unit[] = [];
  let group: PreparedText[] = [];
  let size = 0;
  const flush = () => {
    if (group.length === 0) return;
    const first = group[0] as PreparedText;
    const last = group[group.length - 1] as PreparedText;
    const joined = group.length === 1 ? first : joinPrepared(group);
    const role = group.every((t) => t.role === first.role) ? first.role : undefined;
    units.push({ ...joined, at: group.length === 1 ? first.at : `${first.at}..${last.at}`, role, text: joined.raw });
    group = [];
    size = 0;
  };
  for (const t of texts) {
    group.push(t);
    size += t.clean.length;
    if (size >= target) flush();
  }
  flush();
  return units;
}
