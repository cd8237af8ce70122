import type { StageDefinition } from '../core/stage.js';

/**
 * The stages every gateway runs, in order. The core issue ships none (its request checks are
 * phases of the core itself); identity, limits, input and output stages register here.
 */
export const BUILTIN_STAGES: readonly StageDefinition[] = [];
