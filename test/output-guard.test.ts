import assert from 'node:assert/strict';
import type http from 'node:http';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { BulwarkConfigInput } from '../src/config/schema.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';
import { freshSecrets, leaks, type Secret } from './helpers/secrets.js';
import { startScriptedUpstream } from './helpers/scripted-upstream.js';

type RouteInput = NonNullable<BulwarkConfigInput['routes']>[number];
type Output = NonNullable<RouteInput['output']>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A gateway whose chat route has `output`, in front of an upstream scripted by `handler`. */
async function withGateway(output: Output, handler: http.RequestListener, run: (f: Fixture) => Promise<void>, extra: Partial<RouteInput> = {}): Promise<void> {
  const up = await startScriptedUpstream(handler);
  const f = await startFixture({
    upstreams: { llm: { url: up.url } },
    routes: [{ name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat', auth: { public: true }, output, ...extra }],
  });
  try {
    await run(f);
  } finally {
    await f.close();
    await up.close();
  }
}

const ask = async (f: Fixture, body = chatBody()) => {
  const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
};

const completion = (content: string, extra: Record<string, unknown> = {}) => ({ id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content, ...extra }, finish_reason: 'stop' }] });
const chunk = (delta: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta }] })}\n\n`;

/** The streamed text a client would show: every delta's content and tool-call arguments, in order. */
function reassemble(sse: string): string {
  let text = '';
  for (const block of sse.split(/\r?\n\r?\n|\r\r/)) {
    const data = block.split(/\r?\n|\r/).filter((l) => l.startsWith('data:')).map((l) => l.replace(/^data: ?/, '')).join('\n');
    if (!data.startsWith('{')) continue;
    const obj = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string; tool_calls?: Array<{ function?: { arguments?: string } }> } }> };
    for (const c of obj.choices ?? []) {
      text += c.delta?.content ?? '';
      for (const t of c.delta?.tool_calls ?? []) text += t.function?.arguments ?? '';
    }
  }
  return text;
}

function assertNoLeak(text: string, secrets: readonly Secret[], where: string): void {
  for (const s of secrets) assert.ok(!leaks(text, s), `${s.label} leaked in ${where}`);
}

const REDACT: Output = { redact: ['secrets', 'pii'], onMatch: 'redact' };

describe('output redaction (G-8) over real sockets', () => {
  it('every class in a JSON answer is redacted after JSON decoding, with typed markers; the rest is intact', async () => {
    const s = freshSecrets();
    const all = Object.values(s);
    const content = all.map((x) => `Here: ${x.value} ok.`).join('\n');
    await withGateway(REDACT, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(content))), async (f) => {
      const r = await ask(f);
      assert.equal(r.status, 200);
      const text = r.bytes.toString();
      assertNoLeak(text, all, 'raw bytes');
      const got = (JSON.parse(text) as ReturnType<typeof completion>).choices[0]?.message.content ?? '';
      assertNoLeak(got, all, 'decoded JSON');
      assert.equal((got.match(/\[REDACTED:[a-z_]+\]/g) ?? []).length, all.length, got);
      assert.equal(got.split('\n').filter((l) => /^Here: \[REDACTED:[a-z_]+\] ok\.$/.test(l)).length, all.length, 'the text around each secret is intact');
      const ev = f.events.find((e) => e.event.action === 'output.redacted');
      assert.equal(ev?.bulwark.count, all.length);
      assertNoLeak(JSON.stringify(f.events), all, 'events');
    });
  });

  it('\\u escapes, tool-call arguments, text bodies, error bodies and gzip bodies are all redacted', async () => {
    const s = freshSecrets();
    const escaped = [...s.openai.value].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const cases: Array<[string, http.RequestListener]> = [
      ['unicode escapes', (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(`{"choices":[{"message":{"content":"key ${escaped}"}}]}`)],
      ['tool-call arguments', (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion('', { tool_calls: [{ id: 't', type: 'function', function: { name: 'send', arguments: JSON.stringify({ key: s.openai.value }) } }] })))],
      ['text/plain', (_q, res) => res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`your key is ${s.openai.value}\n`)],
      ['error body', (_q, res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `upstream failed with key ${s.openai.value}` } }))],
      ['gzip body', (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify(completion(`key ${s.openai.value}`))))],
    ];
    for (const [name, handler] of cases) {
      await withGateway(REDACT, handler, async (f) => {
        const r = await ask(f);
        const text = r.bytes.toString();
        assertNoLeak(text, [s.openai], name);
        assert.match(text, /\[REDACTED:/, name);
        assert.equal(r.headers.get('content-encoding'), null, `${name}: sent decoded`);
      });
    }
  });

  it('zero-width characters inside a secret and base64 or hex encodings of it are caught', async () => {
    const s = freshSecrets();
    const zw = [...s.aws.value].join('\u200b');
    const b64 = Buffer.from(`token=${s.github.value}`).toString('base64');
    await withGateway(REDACT, (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(`a ${zw} b ${b64} c`))), async (f) => {
      const content = (JSON.parse((await ask(f)).bytes.toString()) as ReturnType<typeof completion>).choices[0]?.message.content ?? '';
      assert.ok(!leaks(content.replace(/\u200b/g, ''), s.aws), content);
      assert.ok(!content.includes(b64), content);
    });
  });
});

describe('output redaction on SSE streams (G-8)', () => {
  const stream = (writes: Array<string | Buffer>, opts: { gapMs?: number; abortAfter?: boolean; headers?: Record<string, string> } = {}): http.RequestListener => async (_q, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', ...opts.headers });
    for (const w of writes) {
      res.write(w);
      if (opts.gapMs !== undefined) await sleep(opts.gapMs);
    }
    if (opts.abortAfter) res.destroy();
    else res.end();
  };

  it('one character per event: the concatenation is redacted', async () => {
    const s = freshSecrets();
    const text = `Sure! ${s.openai.value} and ${s.email.value} and ${s.card.value}. Done.`;
    const writes = [...text].map((c) => chunk({ content: c }));
    await withGateway(REDACT, stream([...writes, 'data: [DONE]\n\n']), async (f) => {
      const out = (await ask(f)).bytes.toString();
      const shown = reassemble(out);
      assertNoLeak(shown, [s.openai, s.email, s.card], 'reassembled stream');
      assertNoLeak(out, [s.openai, s.email, s.card], 'raw stream');
      assert.match(shown, /^Sure! \[REDACTED:[a-z_]+\] and \[REDACTED:[a-z_]+\] and \[REDACTED:[a-z_]+\]\. Done\.$/);
      assert.match(out, /data: \[DONE\]\n\n$/);
    });
  });

  it('a secret split inside one event across TCP writes, CRLF framing, and in tool-call argument fragments', async () => {
    const s = freshSecrets();
    const ev = chunk({ content: `key ${s.github.value} end` }).replace(/\n/g, '\r\n');
    const cut = ev.indexOf(s.github.random.slice(10, 11));
    const args = JSON.stringify({ token: s.aws.value });
    const fragments = args.match(/.{1,3}/g) ?? [];
    const toolEvents = fragments.map((a, i) => chunk({ tool_calls: [{ index: 0, ...(i === 0 ? { id: 'call_1', type: 'function' } : {}), function: { ...(i === 0 ? { name: 'save' } : {}), arguments: a } }] }));
    await withGateway(REDACT, stream([ev.slice(0, cut), ev.slice(cut), ...toolEvents, 'data: [DONE]\r\n\r\n'], { gapMs: 20 }), async (f) => {
      const out = (await ask(f)).bytes.toString();
      assertNoLeak(out, [s.github, s.aws], 'raw');
      assertNoLeak(reassemble(out), [s.github, s.aws], 'reassembled');
      assert.match(reassemble(out), /key \[REDACTED:[a-z_]+\] end/);
    });
  });

  it('the unterminated last frame and a secret after 200 KB of stream', async () => {
    const s = freshSecrets();
    const filler = Array.from({ length: 2000 }, (_, i) => chunk({ content: `word${i % 10} `.repeat(10) }));
    await withGateway(REDACT, stream([...filler, chunk({ content: `then ${s.slack.value}` }), `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: ` last ${s.openai.value}` } }] })}`]), async (f) => {
      const out = (await ask(f)).bytes.toString();
      assert.ok(out.length > 200_000);
      assertNoLeak(out, [s.slack, s.openai], 'raw');
      assertNoLeak(reassemble(out + '\n\n'), [s.slack, s.openai], 'reassembled');
    });
  });

  it('an upstream that aborts mid-secret: the unscanned text is never sent', async () => {
    const s = freshSecrets();
    const partial = s.openai.value.slice(0, 8 + 24);
    await withGateway(REDACT, stream([chunk({ content: 'The key is ' }), chunk({ content: partial })], { gapMs: 30, abortAfter: true }), async (f) => {
      let out = '';
      try {
        const r = await fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody() });
        const reader = (r.body as ReadableStream<Uint8Array>).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          out += Buffer.from(value).toString();
        }
      } catch {
        // the connection is cut: expected
      }
      assert.ok(!out.includes(s.openai.random.slice(0, 16)), out);
    });
  });

  it('benign output arrives byte for byte: JSON structure, and non-ASCII text split inside characters across writes', async () => {
    const json = JSON.stringify({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'Привет, 世界! 😀 café — version 1.2.3, call me at noon, see RFC 9110.' } }], usage: { prompt_tokens: 3 } }, null, 2);
    await withGateway(REDACT, (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(json), async (f) => {
      assert.equal((await ask(f)).bytes.toString(), json);
    });
    const sse = Buffer.from([chunk({ content: 'Привет, 世界! ' }), chunk({ content: '😀 café' }), ': keep-alive\n\n', 'data: [DONE]\n\n'].join(''));
    const writes: Buffer[] = [];
    for (let i = 0; i < sse.length; i += 5) writes.push(sse.subarray(i, i + 5)); // cuts inside multi-byte characters
    await withGateway(REDACT, stream(writes, { gapMs: 1 }), async (f) => {
      assert.ok((await ask(f)).bytes.equals(sse));
    });
  });

  it('block: a JSON answer becomes 502 OUTPUT_BLOCKED; a stream ends with an error event in the API format', async () => {
    const s = freshSecrets();
    await withGateway({ redact: ['secrets'], onMatch: 'block' }, (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(`k ${s.openai.value}`))), async (f) => {
      const r = await ask(f);
      assert.equal(r.status, 502);
      assert.equal((JSON.parse(r.bytes.toString()) as { code: string }).code, 'OUTPUT_BLOCKED');
      assertNoLeak(r.bytes.toString(), [s.openai], 'refusal');
      assert.ok(f.events.some((e) => e.event.action === 'output.blocked'));
    });
    await withGateway({ redact: ['secrets'], onMatch: 'block' }, stream([chunk({ content: 'Hello there. ' }), ...[...s.openai.value].map((c) => chunk({ content: c })), chunk({ content: ' more' }), 'data: [DONE]\n\n']), async (f) => {
      const out = (await ask(f)).bytes.toString();
      assertNoLeak(out, [s.openai], 'blocked stream');
      assert.match(out, /Hello there/);
      assert.match(out, /"code":"output_blocked"/);
      assert.ok(!out.includes('[DONE]'));
    });
  });
});

describe('canary leaks', () => {
  // An upstream that repeats its system prompt: the leak the canary exists to catch.
  const echoSystem = (streamIt: boolean): http.RequestListener => async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const system = (JSON.parse(body) as { messages: Array<{ role: string; content: string }> }).messages.find((m) => m.role === 'system')?.content ?? '';
    if (!streamIt) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(`My instructions: ${system}`)));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const c of `My instructions: ${system}`) res.write(chunk({ content: c }));
    res.end('data: [DONE]\n\n');
  };

  it('the request\'s canary in the answer (also one character per event) is blocked and reported', async () => {
    for (const streamIt of [false, true]) {
      await withGateway({ canary: 'block' }, echoSystem(streamIt), async (f) => {
        const r = await ask(f);
        const out = r.bytes.toString();
        assert.ok(!/BWC-[0-9A-F]{16}/.test(out.replace(/[^\w-]/g, '')), 'the canary never reaches the client');
        if (!streamIt) assert.equal(r.status, 502);
        else assert.match(out, /output_blocked/);
        const leaked = f.events.find((e) => e.event.action === 'canary.leaked');
        assert.ok(leaked, 'canary.leaked');
        assert.ok(!JSON.stringify(f.events).includes('BWC-'), 'events never carry the canary');
      }, { input: { canary: true } });
    }
  });
});

describe('output redaction when the media type does not say how to read the answer (fail closed)', () => {
  const answer = (s: ReturnType<typeof freshSecrets>) => JSON.stringify(completion(`key ${s.aws.value} mail ${s.email.value}`));

  it('no Content-Type, octet-stream, XML, JavaScript, JSON lines, even image/png on a chat route: read as what the body is and redacted', async () => {
    const s = freshSecrets();
    for (const type of [undefined, 'application/octet-stream', 'application/xml', 'application/javascript', 'application/jsonl', 'multipart/mixed', 'image/png']) {
      const handler: http.RequestListener = (_q, res) => res.writeHead(200, type ? { 'content-type': type } : {}).end(answer(s));
      await withGateway(REDACT, handler, async (f) => {
        const r = await ask(f);
        const text = r.bytes.toString();
        assert.equal(r.status, 200, `${type}: ${text}`);
        assertNoLeak(text, [s.aws, s.email], String(type));
        assert.match(text, /\[REDACTED:aws_access_key\]/, String(type));
      });
    }
  });

  it('an SSE stream labelled as JSON (or not labelled) is read as a stream: a secret split over events is still found', async () => {
    const s = freshSecrets();
    const text = `key ${s.aws.value} and ${s.email.value} end`;
    const events: string[] = [];
    for (let i = 0; i < text.length; i += 7) events.push(chunk({ content: text.slice(i, i + 7) }));
    for (const type of ['application/json', undefined]) {
      const handler: http.RequestListener = (_q, res) => {
        res.writeHead(200, type ? { 'content-type': type } : {});
        for (const e of events) res.write(e);
        res.end('data: [DONE]\n\n');
      };
      await withGateway(REDACT, handler, async (f) => {
        const r = await ask(f);
        const body = r.bytes.toString();
        assert.equal(r.status, 200, body);
        const shown = reassemble(body);
        assertNoLeak(shown, [s.aws, s.email], `reassembled (${String(type)})`);
        assert.match(shown, /^key \[REDACTED:aws_access_key\] and \[REDACTED:email\] end$/, shown);
      });
    }
  });

  it('bytes that are not text are refused (502 OUTPUT_BLOCKED), never passed on unchecked; a binary type on a passthrough route passes', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), Buffer.from('IHDR'), Buffer.from([0xff, 0xfe, 0x00, 0x80])]);
    for (const type of [undefined, 'application/octet-stream', 'image/png']) {
      await withGateway(REDACT, (_q, res) => res.writeHead(200, type ? { 'content-type': type } : {}).end(png), async (f) => {
        const r = await ask(f);
        assert.equal(r.status, 502, String(type));
        assert.match(r.bytes.toString(), /output_blocked|OUTPUT_BLOCKED/, String(type));
      });
    }
    await withGateway(REDACT, (_q, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png), async (f) => {
      const r = await ask(f);
      assert.equal(r.status, 200);
      assert.deepEqual(r.bytes, png, 'an image from a passthrough route passes byte for byte');
    }, { kind: 'passthrough' });
  });
});

describe('output redaction: review findings on whole-body reading', () => {
  it('a byte-order mark before the first SSE field, or an unknown first field, does not hide a secret split over events', async () => {
    const s = freshSecrets();
    const text = `key ${s.aws.value} end`;
    const events: string[] = [];
    for (let i = 0; i < text.length; i += 7) events.push(chunk({ content: text.slice(i, i + 7) }));
    const cases: Array<[string, Record<string, string>, string]> = [
      ['BOM, text/event-stream', { 'content-type': 'text/event-stream' }, '\uFEFF'],
      ['BOM, unlabelled', {}, '\uFEFF'],
      ['unknown first field, unlabelled', {}, 'x-meta: 1\n\n'],
    ];
    for (const [name, headers, prefix] of cases) {
      const handler: http.RequestListener = (_q, res) => {
        res.writeHead(200, headers);
        res.write(prefix + (events[0] as string));
        for (const e of events.slice(1)) res.write(e);
        res.end('data: [DONE]\n\n');
      };
      await withGateway(REDACT, handler, async (f) => {
        const r = await ask(f);
        const shown = reassemble(r.bytes.toString().replace(/^\uFEFF/, ''));
        assertNoLeak(shown, [s.aws], name);
        assert.match(shown, /\[REDACTED:aws_access_key\]/, name);
      });
    }
  });

  it('JSON nested deeper than the guard walks is refused, labelled or not', async () => {
    const s = freshSecrets();
    const deep = `${'['.repeat(300)}"${s.aws.value}"${']'.repeat(300)}`;
    for (const headers of [{ 'content-type': 'application/json' }, {}]) {
      await withGateway(REDACT, (_q, res) => res.writeHead(200, headers).end(deep), async (f) => {
        const r = await ask(f);
        assert.equal(r.status, 502);
        assertNoLeak(r.bytes.toString(), [s.aws], JSON.stringify(headers));
      });
    }
  });
});

it('text in a charset other than UTF-8 is not misread as UTF-8 and passed: it is refused when it is not UTF-8 text', async () => {
  const s = freshSecrets();
  const utf16 = Buffer.from(`your key is ${s.aws.value}\n`, 'utf16le');
  for (const type of ['text/plain; charset=utf-16le', 'text/event-stream; charset=UTF-16LE', 'application/json; charset=utf-16le']) {
    await withGateway(REDACT, (_q, res) => res.writeHead(200, { 'content-type': type }).end(utf16), async (f) => {
      const r = await ask(f);
      assert.equal(r.status, 502, type);
      assert.ok(!r.bytes.includes(Buffer.from(s.aws.value.slice(4, 20), 'utf16le')), type);
    });
  }
  await withGateway(REDACT, (_q, res) => res.writeHead(200, { 'content-type': 'text/plain; charset=us-ascii' }).end(`key ${s.aws.value}\n`), async (f) => {
    assert.match((await ask(f)).bytes.toString(), /\[REDACTED:aws_access_key\]/);
  });
});

describe('output redaction on newline-delimited JSON streams (Ollama)', () => {
  const line = (content: string, done = false) => `${JSON.stringify({ model: 'llama3', created_at: '2026-11-29T00:00:00Z', message: { role: 'assistant', content }, done })}\n`;

  it('a secret split over lines is found, labelled x-ndjson or not labelled, and generate-style `response` too', async () => {
    const s = freshSecrets();
    const text = `key ${s.aws.value} and ${s.email.value} end`;
    const lines: string[] = [];
    for (let i = 0; i < text.length; i += 5) lines.push(line(text.slice(i, i + 5)));
    lines.push(line('', true));
    const gen: string[] = [];
    for (let i = 0; i < text.length; i += 5) gen.push(`${JSON.stringify({ model: 'llama3', response: text.slice(i, i + 5), done: false })}\n`);
    const cases: Array<[string, Record<string, string>, string[]]> = [
      ['x-ndjson chat', { 'content-type': 'application/x-ndjson' }, lines],
      ['unlabelled chat', {}, lines],
      ['x-ndjson generate', { 'content-type': 'application/x-ndjson' }, gen],
    ];
    for (const [name, headers, writes] of cases) {
      const handler: http.RequestListener = async (_q, res) => {
        res.writeHead(200, headers);
        for (const w of writes) {
          res.write(w);
          await sleep(1);
        }
        res.end();
      };
      await withGateway(REDACT, handler, async (f) => {
        const r = await ask(f);
        const out = r.bytes.toString().trim().split('\n').map((l) => JSON.parse(l) as { message?: { content: string }; response?: string });
        const shown = out.map((o) => o.message?.content ?? o.response ?? '').join('');
        assertNoLeak(shown, [s.aws, s.email], name);
        assert.equal(shown, 'key [REDACTED:aws_access_key] and [REDACTED:email] end', name);
      });
    }
  });

  it('a benign stream passes byte for byte', async () => {
    const body = ['Hello', ' there,', ' how', ' are', ' you?'].map((c) => line(c)).join('') + line('', true);
    await withGateway(REDACT, (_q, res) => res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(body), async (f) => {
      assert.equal((await ask(f)).bytes.toString(), body);
    });
  });
});
