import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfigText } from '../src/config/load.js';
import { startFixture, type Fixture } from './helpers/fixture.js';

// Patterns a backtracking engine runs in exponential or quadratic time. On RE2 they load, and
// adversarial bodies cost linear time: the gateway answers them and keeps serving.
const HOSTILE_PATTERNS = ['(a|aa)+$', '(x|x)*y', '(?m)^\\s*x', '[a-z]+@[a-z]+\\.com'];

const post = (f: Fixture, content: string, extra: Record<string, unknown> = {}) =>
  fetch(`${f.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content }], ...extra }),
  });

describe('config regexes on RE2 over real sockets', () => {
  let f: Fixture;
  let schemaFile: string;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-re2-'));
    schemaFile = join(dir, 'chat.schema.json');
    writeFileSync(schemaFile, JSON.stringify({ type: 'object', properties: { user: { type: 'string', pattern: '^(a|aa)+$' } } }));
    const yaml = `version: 1
upstreams: { llm: { url: "http://127.0.0.1:9" } }
routes:
  - name: chat
    match: { methods: [POST], path: /v1/chat/completions }
    kind: openai-chat
    auth: { public: true }
    input:
      schema: ${JSON.stringify(schemaFile)}
      deny: ${JSON.stringify(HOSTILE_PATTERNS)}
`;
    // The config loader accepts them (the old timing probe refused them, or not, by machine speed).
    const parsed = parseConfigText(yaml, 'b.yaml', {});
    assert.deepEqual(parsed.routes[0]?.input?.deny, HOSTILE_PATTERNS);
    f = await startFixture({ server: { limits: { bodyBytes: '4mb' } }, routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, input: { schema: schemaFile, deny: HOSTILE_PATTERNS } }] });
  });
  after(() => f.close());

  it('answers adversarial bodies for each pattern and forwards them unchanged when nothing matches', async () => {
    const bodies = [
      'a'.repeat(50_000) + '!', // (a|aa)+$: exponential in V8
      '-' + 'x'.repeat(50_000), // (x|x)*y
      '\n'.repeat(500_000) + 'z', // (?m)^\s*x: quadratic in V8
      'a'.repeat(500_000) + '@', // [a-z]+@[a-z]+\.com: quadratic in V8
    ];
    const before = f.mock.requests.length;
    // All at once, and a small request beside them: none of them holds the event loop.
    const results = await Promise.all([...bodies.map((b) => post(f, b)), post(f, 'Hello there')]);
    for (const r of results) assert.equal(r.status, 200, await r.text());
    assert.equal(f.mock.requests.length - before, bodies.length + 1);
  });

  it('refuses matching text with 400 INVALID_INPUT and forwards nothing', async () => {
    const before = f.mock.requests.length;
    for (const text of ['aaaa', 'xxy', 'ok\n   x', 'mail bob@example.com now']) {
      const r = await post(f, text);
      assert.equal(r.status, 400, text);
      assert.equal(((await r.json()) as { code: string }).code, 'INVALID_INPUT');
    }
    assert.equal(f.mock.requests.length, before);
  });

  it('JSON Schema patterns run on RE2 too: an adversarial field is answered, and judged', async () => {
    const before = f.mock.requests.length;
    const bad = await post(f, 'hi', { user: 'a'.repeat(50_000) + '!' });
    assert.equal(bad.status, 400);
    const good = await post(f, 'hi', { user: 'aaaa' });
    assert.equal(good.status, 200);
    assert.equal(f.mock.requests.length - before, 1);
  });
});
