import type { StageDefinition } from '../core/stage.js';
import { authStage, authzStage } from '../stages/auth/index.js';
import { rateLimitIpStage, rateLimitStage } from '../stages/rate-limit/index.js';
import { concurrentIpStage, concurrentStage } from '../stages/rate-limit/concurrent.js';
import { tokenBudgetStage } from '../stages/token-budget/index.js';
import { inputGuardStage } from '../stages/input-guard/index.js';
import { canaryStage } from '../stages/input-guard/canary.js';
import { poisoningStage } from '../stages/poisoning/index.js';
import { outputGuardStage } from '../stages/output-guard/index.js';
import { adaptiveStage, banIdentityStage, banIpStage } from '../stages/ban/index.js';

/**
 * The stages every gateway runs, in order (within a phase, this order). The core's own request
 * checks are phases of the core itself, not stages.
 */
export const BUILTIN_STAGES: readonly StageDefinition[] = [
  banIpStage, adaptiveStage, rateLimitIpStage, concurrentIpStage, authStage, authzStage, banIdentityStage, rateLimitStage, concurrentStage,
  inputGuardStage, poisoningStage, canaryStage, tokenBudgetStage, outputGuardStage,
];
