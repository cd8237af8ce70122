/**
 * The full rule table, in the order the detector runs and reports it. The trained model
 * (models/prompt-guard.json) is fitted on these rule names, in this order: attack rules first,
 * then cues. Reordering or renaming rows changes its features.
 */

import { ATTACK_RULES } from './attack-rules.js';
import { CUE_RULES } from './cue-rules.js';
import type { Rule } from './rule-def.js';
import { RULE_NEEDS } from './trigger-stems.js';

const RULE_LIST: readonly Rule[] = [...ATTACK_RULES, ...CUE_RULES];

export const RULES: readonly Rule[] = RULE_LIST.map((rule) => (RULE_NEEDS[rule.name] ? { ...rule, need: RULE_NEEDS[rule.name] } : rule));
