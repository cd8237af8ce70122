/**
 * Runs the phrase-family rules for prompt-injection screening (SECURITY-RULES G-7.3) over
 * normalized text (see normalize.ts: lower case, confusables folded, whitespace collapsed).
 * The rules themselves live in attack-rules.ts and cue-rules.ts, ordered by rule-table.ts.
 */

import type { Rule, RuleHit } from './rule-def.js';
import { COMPILED_NEEDS, needMet, triggerStems } from './rule-prefilter.js';
import { RULES } from './rule-table.js';

/** Disable the pre-filter (tests: results must be identical with and without it). */
let prefilterEnabled = true;
export function setRulePrefilter(on: boolean): void {
  prefilterEnabled = on;
}

const QUOTED_BEFORE = /(?:["'“‘«`]\s*|\b(?:such as|like|e\.g\.?|example|examples|phrases?|called|known as|saying|says|said|say|typing|instructions like|commands like|text like))\W*$/;
const TELL_THE_MODEL = /\b(?:tell|ask|instruct|trick|convinc|get|make|caus|persuad|manipulat|order|command)\w*\W+(?:the|a|an|your|its)\W+(?:\w+\W+)?(?:model|llm|ai|assistant|chatbot|system|bot|agent)s?\W+(?:in)?to\W*$/;

function isMention(text: string, index: number): boolean {
  const before = text.slice(Math.max(0, index - 60), index);
  return QUOTED_BEFORE.test(before) || TELL_THE_MODEL.test(before);
}

/**
 * Run all rules. `flat` is the normalized text, `lines` the same with line breaks kept.
 * A strong hit that reads as a mention (quoted, "such as …", "tells the model to …") inside prose
 * that is about prompt injection is downgraded to weak.
 */
export function runRules(flat: string, lines: string): RuleHit[] {
  const hits: RuleHit[] = [];
  let meta = -1;
  const present = prefilterEnabled ? triggerStems(flat) : undefined;
  for (let ri = 0; ri < RULES.length; ri++) {
    const rule = RULES[ri] as Rule;
    const text = rule.lines ? lines : flat;
    const need = COMPILED_NEEDS[ri];
    if (present !== undefined && need !== undefined && !needMet(need, present, flat)) continue;
    rule.re.lastIndex = 0;
    let m = rule.re.exec(text);
    if (m === null) continue;
    let strong = rule.strong;
    if (strong && rule.unless?.test(text)) strong = false;
    if (strong) {
      if (meta < 0) meta = countMeta(flat);
      if (meta >= 1) {
        // Prose about injection: require at least one un-quoted use.
        let used = false;
        for (let k = 0; k < 8 && m !== null; k++) {
          if (!isMention(text, m.index)) {
            used = true;
            break;
          }
          if (m[0].length === 0) rule.re.lastIndex++;
          m = rule.re.exec(text);
        }
        strong = used;
      }
    }
    hits.push({ name: rule.name, family: rule.family, strong });
  }
  return hits;
}

const META_G = /\b(?:prompt injections?|jailbreak(?:s|ing)?|attackers?|adversarial|malicious (?:users?|inputs?|prompts?|instructions)|red[- ]team\w*|researchers?|mitigat\w+|defen[cs]\w+|vulnerabilit\w+|owasp|detect\w*|security)\b/g;
function countMeta(flat: string): number {
  META_G.lastIndex = 0;
  let n = 0;
  while (META_G.exec(flat) !== null && n < 8) n++;
  return n;
}

/** Count of matches (capped) of a cue rule: used for harm density and the like. */
export function countMatches(re: RegExp, text: string, cap = 32): number {
  re.lastIndex = 0;
  let n = 0;
  let m: RegExpExecArray | null;
  while (n < cap && (m = re.exec(text)) !== null) {
    n++;
    if (m[0].length === 0) re.lastIndex++;
  }
  return n;
}
