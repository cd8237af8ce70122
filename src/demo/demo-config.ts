import type { BulwarkConfigInput } from '../config/schema.js';

/** The `--demo` config: every layer this build enforces, in front of the built-in mock LLM. */
export function demoConfig(upstreamUrl: string, listen: string): BulwarkConfigInput {
  return {
    version: 1,
    server: { listen, limits: { bodyBytes: '256kb', jsonDepth: 32, requestTimeout: '30s', headersTimeout: '10s' } },
    state: { store: 'memory' },
    upstreams: {
      llm: { url: upstreamUrl, headers: { authorization: 'Bearer demo-provider-key-never-shown-to-clients' }, timeout: '30s' },
    },
    routes: [
      { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', input: { maxTokens: 1024 } },
      { name: 'embeddings', match: { methods: ['POST'], path: '/v1/embeddings' }, kind: 'openai-embeddings' },
      { name: 'messages', match: { methods: ['POST'], path: '/v1/messages' }, kind: 'anthropic-messages', input: { maxTokens: 1024 } },
      { name: 'models', match: { methods: ['GET'], path: '/v1/models' }, kind: 'passthrough' },
    ],
    events: { sinks: [{ type: 'stdout' }, { type: 'file', path: '.bulwark/demo-events.jsonl' }] },
  };
}
