import { configSchema, type BulwarkConfigInput } from '../../src/config/schema.js';
import { startMockLlm, type MockLlmOptions } from '../../src/demo/mock-llm.js';
import { createEventBus } from '../../src/events/bus.js';
import type { SecurityEvent } from '../../src/events/event.js';
import { createGateway } from '../../src/gateway/create-gateway.js';
import { CHAT_ROUTE, type Fixture } from './fixture.js';

/**
 * Like startFixture, but the config is built from the mock's URL, so a test can configure the
 * upstream itself (injected `headers`, `forwardHeaders`, ...) while still recording what reaches it.
 */
export async function startFixtureWithUpstream(build: (mockUrl: string) => Partial<BulwarkConfigInput>, mockOptions: MockLlmOptions = {}): Promise<Fixture> {
  const mock = await startMockLlm(mockOptions);
  let gwClosed = false;
  try {
    const overrides = build(mock.url);
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
    const gw = await createGateway({ config, events: bus });
    return {
      gw,
      mock,
      url: gw.url,
      port: Number(new URL(gw.url).port),
      events,
      async close() {
        if (!gwClosed) {
          gwClosed = true;
          await gw.close();
        }
        await mock.close();
      },
    };
  } catch (err) {
    await mock.close();
    throw err;
  }
}
