import type { BulwarkConfigInput } from '../config/schema.js';

/**
 * The `--demo` config: every layer this build enforces, in front of the built-in mock LLM. Chat
 * needs a credential (API key, or a JWT from the gateway's own token endpoint); models is public.
 */
export function demoConfig(upstreamUrl: string, listen: string): BulwarkConfigInput {
  return {
    version: 1,
    server: { listen, limits: { bodyBytes: '256kb', jsonDepth: 32, requestTimeout: '30s', headersTimeout: '10s' } },
    state: { store: 'memory' },
    upstreams: {
      llm: { url: upstreamUrl, headers: { authorization: 'Bearer demo-provider-key-never-shown-to-clients' }, timeout: '30s' },
    },
    auth: {
      apiKeys: { header: 'x-api-key' },
      tokenEndpoint: { path: '/oauth/token', ttl: '15m', rotateKeys: '24h' },
    },
    routes: [
      {
        name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt', 'apiKey'], roles: ['ai-user'] },
        input: { maxTokens: 1024, promptInjection: { action: 'block' }, canary: true },
        output: { redact: ['secrets', 'pii'], canary: 'block' },
        rateLimit: [{ by: 'identity', requests: 60, per: '1m' }, { by: 'identity', tokens: 200_000, per: '1d' }, { by: 'identity', concurrent: 4 }, { by: 'ip', requests: 120, per: '1m' }],
        adaptive: { onSignals: ['auth.failure', 'prompt.injection', 'inventory.probe'], penalty: 0.5, ban: '1m' },
      },
      { name: 'embeddings', match: { methods: ['POST'], path: '/v1/embeddings' }, kind: 'openai-embeddings', auth: { any: ['jwt', 'apiKey'], roles: ['ai-user'] } },
      { name: 'messages', match: { methods: ['POST'], path: '/v1/messages' }, kind: 'anthropic-messages', auth: { any: ['jwt', 'apiKey'], roles: ['ai-user'] }, input: { maxTokens: 1024 } },
      { name: 'models', match: { methods: ['GET'], path: '/v1/models' }, kind: 'passthrough', auth: { public: true } },
    ],
    events: { sinks: [{ type: 'stdout' }, { type: 'file', path: '.bulwark/demo-events.jsonl' }] },
  };
}
