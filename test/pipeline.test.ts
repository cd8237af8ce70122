import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineStage, type StageDefinition } from '../src/core/stage.js';
import { CONTINUE, deny } from '../src/core/verdict.js';
import { CHAT_ROUTE, chatBody, startFixture, type Fixture } from './helpers/fixture.js';

// A stage that denies when the prompt contains "forbidden", and throws when it contains "crash".
const keyword: StageDefinition = defineStage({
  name: 'keyword-guard',
  build: () => ({
    name: 'keyword-guard',
    phase: 'inspect-request',
    onRequest(ctx) {
      const text = JSON.stringify(ctx.body.type === 'json' ? ctx.body.value : '');
      if (text.includes('crash')) throw new Error('detector exploded');
      if (text.includes('store down')) throw new Error('Connection is closed.');
      return text.includes('forbidden') ? deny('PROMPT_INJECTION', 'keyword found', { event: { reason: 'keyword' } }) : CONTINUE;
    },
  }),
});

// Adds an identity header upstream and transforms the response body (upper-cases it).
const shaper: StageDefinition = defineStage({
  name: 'shaper',
  build: () => ({
    name: 'shaper',
    phase: 'identify',
    onRequest(ctx) {
      ctx.upstreamHeaders['x-bulwark-subject'] = 'tester';
      return CONTINUE;
    },
    onResponse: () => ({ onChunk: (c) => Buffer.from(c.toString('latin1').toUpperCase(), 'latin1'), onEnd: () => Buffer.from('!') }),
  }),
});

const post = (f: Fixture, path: string, content: string) =>
  fetch(f.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody({ messages: [{ role: 'user', content }] }) });

describe('pipeline: enforce, monitor, fail closed, counters', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture(
      {
        routes: [
          CHAT_ROUTE,
          { name: 'watch', match: { methods: ['POST'], path: '/v1/watch' }, kind: 'openai-chat', mode: 'monitor' },
          { name: 'open-on-error', match: { methods: ['POST'], path: '/v1/lenient' }, kind: 'openai-chat', onError: 'allow' },
        ],
      },
      {},
      [keyword, shaper],
    );
  });
  after(() => f.close());

  it('enforce: a deny verdict becomes the refusal, nothing is forwarded, counters say denied', async () => {
    const res = await post(f, '/v1/chat/completions', 'this is forbidden');
    assert.equal(res.status, 403);
    const body = (await res.json()) as { code: string; error: { message: string } };
    assert.equal(body.code, 'PROMPT_INJECTION');
    assert.equal(body.error.message, 'keyword found');
    assert.equal(f.mock.requests.length, 0);
    assert.equal(f.gw.counters.get('keyword-guard', 'chat', 'denied'), 1);
    const ev = f.events.find((e) => e.event.action === 'prompt.injection');
    assert.equal(ev?.event.outcome, 'failure');
    assert.equal(ev?.bulwark.stage, 'keyword-guard');
  });

  it('monitor: the same request is forwarded, the event says would_block, counters say would_deny', async () => {
    const res = await post(f, '/v1/watch', 'this is forbidden');
    // The mock upstream has no /v1/watch, so its own 404 (not a gateway refusal) proves forwarding.
    assert.equal(res.status, 404);
    assert.match(await res.text(), /NOT FOUND/); // the mock's message, through the upper-casing stage
    assert.equal(f.gw.counters.get('keyword-guard', 'watch', 'would_deny'), 1);
    assert.equal(f.gw.counters.get('keyword-guard', 'watch', 'denied'), 0);
    assert.equal(f.mock.requests.at(-1)?.url, '/v1/watch');
    const ev = f.events.findLast((e) => e.event.action === 'prompt.injection');
    assert.equal(ev?.event.outcome, 'would_block');
  });

  it('a stage that throws fails closed by default (500 INTERNAL_ERROR, nothing forwarded)', async () => {
    const before = f.mock.requests.length;
    const res = await post(f, '/v1/chat/completions', 'please crash');
    assert.equal(res.status, 500);
    const body = (await res.json()) as { code: string; detail: string };
    assert.equal(body.code, 'INTERNAL_ERROR');
    assert.doesNotMatch(body.detail, /exploded/);
    assert.equal(f.mock.requests.length, before);
    assert.equal(f.gw.counters.get('keyword-guard', 'chat', 'errored'), 1);
    assert.ok(f.events.some((e) => e.event.action === 'stage.error' && e.event.outcome === 'failure'));
  });

  it('a stage.error names an unreachable store as such, never with the error message', async () => {
    const res = await post(f, '/v1/chat/completions', 'store down');
    assert.equal(res.status, 500);
    await res.arrayBuffer();
    const reasons = f.events.filter((e) => e.event.action === 'stage.error').map((e) => e.event.reason);
    assert.ok(reasons.includes('store_unavailable'), JSON.stringify(reasons));
    assert.ok(!JSON.stringify(f.events).includes('Connection is closed'));
  });

  it('onError: allow lets the request through and says so in an event', async () => {
    const before = f.mock.requests.length;
    const res = await post(f, '/v1/lenient', 'please crash');
    await res.arrayBuffer();
    assert.equal(f.mock.requests.length, before + 1);
    assert.ok(f.events.some((e) => e.event.action === 'stage.error' && e.event.outcome === 'success' && e.bulwark.route === 'open-on-error'));
  });

  it('stages add upstream headers and transform the response stream, including the tail', async () => {
    const res = await post(f, '/v1/chat/completions', 'hello');
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.match(text, /MOCK ANSWER TO: HELLO/);
    assert.ok(text.endsWith('!'));
    assert.equal(res.headers.get('content-length'), null, 'a filtered body has no upstream length');
    assert.equal(f.mock.requests.at(-1)?.headers['x-bulwark-subject'], 'tester');
    assert.equal(f.gw.counters.get('shaper', 'chat', 'allowed') >= 1, true);
  });
});
