import { randomUUID } from 'node:crypto';
import { runStoreContract } from './contract.test-suite.js';
import { createRedisStore } from './redis-store.js';

// A real Redis on 127.0.0.1:6379 (.ci/run starts one). Each run uses its own prefix.
const url = process.env.BULWARK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
runStoreContract('redis', () => createRedisStore({ url, prefix: `bulwark-test:${randomUUID()}:` }));
