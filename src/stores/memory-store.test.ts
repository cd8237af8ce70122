import { runStoreContract } from './contract.test-suite.js';
import { createMemoryStore } from './memory-store.js';

runStoreContract('memory', () => createMemoryStore());
// A sweep firing mid-suite must not disturb live entries or the lazy-expiry bookkeeping.
runStoreContract('memory, sweeping every 5 ms', () => createMemoryStore({ sweepIntervalMs: 5 }));
