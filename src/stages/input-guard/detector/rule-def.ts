/**
 * What a phrase-family rule is, and the two helpers the rule tables (attack-rules.ts,
 * cue-rules.ts) build their patterns with.
 *
 * `strong` rules are decisive: a strong hit drives the score above the threshold on its own.
 * Weak rules ("cues") are only features for the statistical model.
 */

export type Family = 'override' | 'exfiltration' | 'persona' | 'role-spoof' | 'indirect' | 'gibberish-suffix';
export type CueFamily =
  | 'framing' | 'priming' | 'roleplay' | 'harm' | 'no-limits' | 'ai-context' | 'meta' | 'refusal-suppression' | 'dual-response'
  | 'disclaimer' | 'evasion' | 'detail' | 'game' | 'self-policy' | 'coercion' | 'persona-name' | 'imperative';

export interface Rule {
  readonly name: string;
  readonly family: Family | CueFamily;
  readonly strong: boolean;
  readonly re: RegExp;
  /** Run on the line-preserving normalized text instead of the flat one. */
  readonly lines?: boolean;
  /** Strong hit only counts when this does NOT match anywhere in the text. */
  readonly unless?: RegExp;
  /**
   * Pre-filter (speed only, never changes results): groups of trigger stems that every match of
   * `re` necessarily contains; the rule runs only when each group has at least one stem present.
   * A plain entry is a word-start stem (`\b` + prefix of a word); an entry starting with `=` is a
   * literal substring.
   */
  readonly need?: readonly (readonly string[])[];
}

export interface RuleHit {
  readonly name: string;
  readonly family: Family | CueFamily;
  readonly strong: boolean;
}

/** Up to `n` words between two phrase parts; `\W`/`\w` are disjoint, so the gap stays linear-time. */
export const gap = (n: number): string => `(?:\\W+\\w+){0,${n}}?\\W+`;

export function rule(name: string, family: Family | CueFamily, strong: boolean, src: string, extra: Partial<Pick<Rule, 'lines' | 'unless' | 'need'>> = {}): Rule {
  return { name, family, strong, re: new RegExp(src, extra.lines ? 'gm' : 'g'), ...extra };
}
