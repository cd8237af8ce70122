import { performance } from 'node:perf_hooks';
import { observeDetector } from '../../metrics/process.js';
import type { PromptGuard } from './detector/prompt-guard.js';
import type { TextSet } from './prepared.js';

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
  for (const t of texts) {
    if (t.text.length === 0) continue;
    const d = guard.scorePrepared(t);
    if (!best || d.score > best.score) best = { score: d.score, reasons: d.reasons, at: t.at, role: t.role, text: t.text };
  }
  if (texts.length > 1) {
    const all = set.whole();
    const d = set.wholeScore(guard);
    if (!best || d.score > best.score) best = { score: d.score, reasons: [...d.reasons, 'split-across-messages'], at: '(all messages)', text: all.raw };
  }
  return best;
}
