import { performance } from 'node:perf_hooks';
import { observeDetector } from '../../metrics/process.js';
import type { PromptGuard } from './detector/prompt-guard.js';
import type { ScreenedText } from './texts.js';

export interface InjectionFinding {
  score: number;
  reasons: string[];
  /** Where the highest score came from (`messages[2].content`, or `(all messages)` when only the concatenation scored). */
  at: string;
  role?: string | undefined;
  /** The text that scored, for events with includePrompts only. */
  text: string;
}

// Concatenating all texts catches a payload split across messages; joining with a newline keeps
// words apart. The concatenation is only worth scoring when there is more than one piece.
const JOIN = '\n';

/** Scores each screened text and all of them together; the highest score wins. */
export function screenForInjection(guard: PromptGuard, texts: readonly ScreenedText[]): InjectionFinding | undefined {
  const startedAt = performance.now();
  try {
    return screen(guard, texts);
  } finally {
    observeDetector((performance.now() - startedAt) / 1000);
  }
}

function screen(guard: PromptGuard, texts: readonly ScreenedText[]): InjectionFinding | undefined {
  let best: InjectionFinding | undefined;
  for (const t of texts) {
    if (t.text.length === 0) continue;
    const d = guard.score(t.text);
    if (!best || d.score > best.score) best = { score: d.score, reasons: d.reasons, at: t.at, role: t.role, text: t.text };
  }
  if (texts.length > 1) {
    const all = texts.map((t) => t.text).join(JOIN);
    const d = guard.score(all);
    if (!best || d.score > best.score) best = { score: d.score, reasons: [...d.reasons, 'split-across-messages'], at: '(all messages)', text: all };
  }
  return best;
}
