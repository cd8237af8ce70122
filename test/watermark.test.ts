import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { SignJWT } from 'jose';
import { stripTags } from '../src/stages/output-guard/watermark/index.js';
import { runCli } from './helpers/cli.js';
import { startFixture } from './helpers/fixture.js';
import { startScriptedUpstream } from './helpers/scripted-upstream.js';

const SECRET = 'watermark-test-secret-0123456789abcdefgh';
const ANSWER = Array.from({ length: 40 }, (_, i) => `Sentence ${i} of a long answer about tides, moons and the sea, written plainly.`).join(' ');
const sign = (sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('idp').setAudience('api').setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));

it('answers carry an invisible per-client tag; `bulwark watermark identify` names the client and time from an excerpt', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-wm-'));
  const db = join(dir, 'state.db');
  const received: string[] = [];
  const up = await startScriptedUpstream(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    received.push(body);
    const parsed = JSON.parse(body) as { stream?: boolean; input?: unknown; messages?: Array<{ content: string }> };
    if (req.url === '/v1/embeddings') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.12345678, -0.5, 0.33333333, 0.9] }] }));
    if (!parsed.stream) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: ANSWER } }], echo: parsed.messages?.[0]?.content }));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const w of ANSWER.match(/.{1,7}/g) ?? []) res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: w } }] })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  const f = await startFixture({
    state: { store: 'sqlite', sqlite: { path: db } },
    auth: { jwt: [{ issuer: 'idp', audience: 'api', secret: SECRET, algorithms: ['HS256'] }] },
    upstreams: { llm: { url: up.url } },
    routes: [
      { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { any: ['jwt'] }, output: { watermark: { text: true } } },
      { name: 'emb', match: { methods: ['POST'], path: '/v1/embeddings' }, kind: 'openai-embeddings', auth: { any: ['jwt'] }, output: { watermark: { numbers: 'round4' } } },
    ],
  });
  const file = join(dir, 'bulwark.yaml');
  writeFileSync(file, `version: 1\nstate: { store: sqlite, sqlite: { path: "${db}" } }\nupstreams: { llm: { url: "${up.url}" } }\nroutes:\n  - name: x\n    match: { methods: [GET], path: /x }\n    auth: { public: true }\nevents: { sinks: [] }\n`);
  try {
    const call = async (sub: string, path: string, body: unknown) => {
      const r = await fetch(`${f.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await sign(sub)}` }, body: JSON.stringify(body) });
      return r.text();
    };
    const json = JSON.parse(await call('alice', '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'tell me' }] })) as { choices: Array<{ message: { content: string } }> };
    const marked = json.choices[0]?.message.content ?? '';
    assert.notEqual(marked, ANSWER, 'the answer is marked');
    assert.equal(stripTags(marked), ANSWER, 'and reads exactly the same without the invisible tag');

    // An excerpt from the middle: 300 visible characters.
    const visible = [...stripTags(marked)];
    let excerpt = '';
    let seen = 0;
    for (const ch of marked) {
      const isTag = /[\u200b\u200c\u200d\u2060\u2062\u2063]/.test(ch);
      if (!isTag) seen++;
      if (seen > 1000 && seen <= 1300) excerpt += ch;
    }
    assert.ok(visible.length > 1300);
    const excerptFile = join(dir, 'leak.txt');
    writeFileSync(excerptFile, excerpt);
    const who = runCli(['watermark', 'identify', excerptFile, '-c', file, '--json']);
    assert.equal(who.status, 0, who.stderr + who.stdout);
    const result = JSON.parse(who.stdout) as { found: boolean; clientId: string; time: string };
    assert.equal(result.found, true);
    assert.equal(result.clientId, 'jwt:alice');
    assert.ok(Math.abs(Date.parse(result.time) - Date.now()) < 5 * 60_000, result.time);

    const clean = join(dir, 'clean.txt');
    writeFileSync(clean, ANSWER.slice(1000, 1300));
    assert.equal(runCli(['watermark', 'identify', clean, '-c', file]).status, 1, 'unmarked text names no one');

    // Streams are marked too, per client.
    const sse = await call('bob', '/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'go' }] });
    const streamed = sse.split('\n\n').filter((b) => b.startsWith('data: {')).map((b) => (JSON.parse(b.slice(6)) as { choices: Array<{ delta: { content: string } }> }).choices[0]?.delta.content ?? '').join('');
    assert.equal(stripTags(streamed), ANSWER);
    const streamFile = join(dir, 'stream.txt');
    writeFileSync(streamFile, streamed.slice(500, 1200));
    assert.equal((JSON.parse(runCli(['watermark', 'identify', streamFile, '-c', file, '--json']).stdout) as { clientId: string }).clientId, 'jwt:bob');

    // A marked answer sent back as history reaches the upstream without the tags.
    await call('alice', '/v1/chat/completions', { model: 'm', messages: [{ role: 'assistant', content: marked }, { role: 'user', content: 'and?' }] });
    assert.equal((JSON.parse(received.at(-1) ?? '{}') as { messages: Array<{ content: string }> }).messages[0]?.content, ANSWER);

    // Embeddings: keyed noise, the same for the same client and input, different across clients.
    const emb = async (sub: string) => (JSON.parse(await call(sub, '/v1/embeddings', { model: 'e', input: 'the same text' })) as { data: Array<{ embedding: number[] }> }).data[0]?.embedding ?? [];
    const a1 = await emb('alice');
    const a2 = await emb('alice');
    const b1 = await emb('bob');
    assert.deepEqual(a1, a2);
    assert.notDeepEqual(a1, b1);
    for (const [i, v] of [0.12345678, -0.5, 0.33333333, 0.9].entries()) assert.ok(Math.abs((a1[i] as number) - v) <= 1e-4);
  } finally {
    await f.close();
    await up.close();
  }
});

it('a config with output.watermark is enforced: check accepts it, start would not refuse it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-wm-check-'));
  const file = join(dir, 'bulwark.yaml');
  writeFileSync(file, `version: 1\nserver: { listen: "127.0.0.1:0" }\nupstreams: { llm: { url: "http://127.0.0.1:9" } }\nroutes:\n  - name: chat\n    match: { methods: [POST], path: /v1/chat/completions }\n    kind: openai-chat\n    auth: { public: true }\n    output: { watermark: { text: true, numbers: round4 } }\nevents: { sinks: [] }\n`);
  const r = runCli(['check', '-c', file, '--fail-on', 'none']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /not enforced/);
});
