export { createAlertEngine, type AlertEngine, type AlertEngineOptions } from './engine.js';
export { alertRuleProblem, compileRule, groupOf, matchActions, LOOP_ACTIONS, type AlertActionConfig, type AlertGroup, type AlertRule, type CompiledRule } from './rules.js';
export { planActions, DEFAULT_THROTTLE_MS, type PlannedAction } from './actions.js';
export { SpikeTracker, type SpikeReading } from './spike.js';
