export * from './compare.js';
export * from './load-spec.js';
export * from './drift.js';
export * from './discovery-scheduler.js';
export * from './draft.js';
