import assert from 'node:assert/strict';
import { it } from 'node:test';
import { chatBody, startFixture } from './helpers/fixture.js';


// Credentials a client sends, and the provider key the config injects, never appear in events.
it('no credential, provider key or query string ends up in a security event', async () => {
  const f = await startFixture((url) => ({ upstreams: { llm: { url, headers: { authorization: 'Bearer sk-provider-SECRET-0001' } } } }));
  try {
    const secrets = ['sk-client-SECRET-0002', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.SECRETSIG0003', 'SECRET-KEY-0004'];
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${secrets[1]}`, 'x-api-key': secrets[2] as string };
    await (await fetch(`${f.url}/v1/chat/completions?api_key=${secrets[0]}`, { method: 'POST', headers, body: chatBody() })).text();
    await (await fetch(`${f.url}/v1/unknown?token=${secrets[0]}`, { headers })).text();
    await (await fetch(`${f.url}/v1/chat/completions?access_token=${secrets[0]}`, { method: 'POST', headers, body: '{"model":"a","model":"b"}' })).text();
    assert.ok(f.events.length >= 3);
    const all = JSON.stringify(f.events);
    for (const s of [...secrets, 'sk-provider-SECRET-0001']) assert.ok(!all.includes(s), `${s} leaked into an event`);
  } finally {
    await f.close();
  }
});

it('request.completed carries status, route and duration', async () => {
  const f = await startFixture();
  try {
    await (await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() })).text();
    const done = f.events.find((e) => e.event.action === 'request.completed');
    assert.equal(done?.http?.response?.status_code, 200);
    assert.equal(done?.bulwark.route, 'chat');
    assert.equal(typeof done?.bulwark.durationMs, 'number');
  } finally {
    await f.close();
  }
});
