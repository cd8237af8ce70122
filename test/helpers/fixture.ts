import { configSchema, type BulwarkConfigInput } from '../../src/config/schema.js';
import { startMockLlm, type MockLlm, type MockLlmOptions } from '../../src/demo/mock-llm.js';
import { createEventBus } from '../../src/events/bus.js';
import type { SecurityEvent } from '../../src/events/event.js';
import { createGateway, type Gateway } from '../../src/gateway/create-gateway.js';
import type { StageDefinition } from '../../src/core/stage.js';

export interface Fixture {
  gw: Gateway;
  mock: MockLlm;
  url: string;
  port: number;
  events: SecurityEvent[];
  close(): Promise<void>;
}

type RoutesInput = NonNullable<BulwarkConfigInput['routes']>;

export const CHAT_ROUTE: RoutesInput[number] = { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat' };

/**
 * A real gateway on port 0 in front of a recording mock upstream. `overrides` may be a function of
 * the mock's URL, so a test can configure the upstream itself (injected headers, forwardHeaders).
 */
export async function startFixture(
  overrides: Partial<BulwarkConfigInput> | ((mockUrl: string) => Partial<BulwarkConfigInput>) = {},
  mockOptions: MockLlmOptions = {},
  stages?: readonly StageDefinition[],
): Promise<Fixture> {
  const mock = await startMockLlm(mockOptions);
  try {
    const o = typeof overrides === 'function' ? overrides(mock.url) : overrides;
    const input: BulwarkConfigInput = {
      version: 1,
      upstreams: { llm: { url: mock.url } },
      routes: [CHAT_ROUTE, { name: 'models', match: { methods: ['GET'], path: '/v1/models' } }],
      events: { sinks: [] },
      ...o,
      server: { listen: '127.0.0.1:0', ...o.server },
    };
    const config = configSchema.parse(input);
    const bus = createEventBus();
    const events: SecurityEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const gw = await createGateway({ config, events: bus, ...(stages ? { stages } : {}) });
    return {
      gw,
      mock,
      url: gw.url,
      port: Number(new URL(gw.url).port),
      events,
      async close() {
        await gw.close();
        await mock.close();
      },
    };
  } catch (err) {
    await mock.close();
    throw err;
  }
}

export function chatBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello there' }], ...extra });
}
