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

/** A real gateway on port 0 in front of a recording mock upstream. */
export async function startFixture(overrides: Partial<BulwarkConfigInput> = {}, mockOptions: MockLlmOptions = {}, stages?: readonly StageDefinition[]): Promise<Fixture> {
  const mock = await startMockLlm(mockOptions);
  const input: BulwarkConfigInput = {
    version: 1,
    upstreams: { llm: { url: mock.url } },
    routes: [CHAT_ROUTE, { name: 'models', match: { methods: ['GET'], path: '/v1/models' } }],
    events: { sinks: [] },
    ...overrides,
    server: { listen: '127.0.0.1:0', ...overrides.server },
  };
  const config = configSchema.parse(input);
  const bus = createEventBus();
  const events: SecurityEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const gw = await createGateway({ config, events: bus, ...(stages ? { stages } : {}) });
  const port = Number(new URL(gw.url).port);
  return {
    gw,
    mock,
    url: gw.url,
    port,
    events,
    async close() {
      await gw.close();
      await mock.close();
    },
  };
}

export function chatBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello there' }], ...extra });
}
