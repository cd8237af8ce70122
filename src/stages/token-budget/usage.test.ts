import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createUsageObserver, type UsageObserverOptions, type UsageResult } from './usage.js';

const charCount = (t: string): number => [...t].length; // deterministic stand-in for a tokenizer

/** Feeds `body` in pieces of `step` bytes (1 = byte by byte, splitting multi-byte characters). */
function observe(opts: UsageObserverOptions, body: string | Buffer, step = Infinity): UsageResult {
  const o = createUsageObserver(opts);
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  for (let i = 0; i < bytes.length; i += step) o.onChunk(bytes.subarray(i, Math.min(bytes.length, i + step)));
  return o.onEnd();
}

const json = (doc: unknown, extra: Partial<UsageObserverOptions> = {}): UsageResult => observe({ contentType: 'application/json; charset=utf-8', ...extra }, JSON.stringify(doc), 7);
const sse = (events: unknown[]): string => events.map((e) => (typeof e === 'string' ? e : `data: ${JSON.stringify(e)}\n\n`)).join('');

describe('usage from JSON answers', () => {
  it('read each vendor shape', () => {
    assert.deepEqual(json({ choices: [{ message: { content: 'hi' } }], usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } }).usage, { input: 12, output: 5 });
    assert.deepEqual(json({ data: [{ embedding: [0.1] }], usage: { prompt_tokens: 8, total_tokens: 8 } }).usage, { input: 8, output: 0 });
    assert.deepEqual(
      json({ object: 'response', output: [], usage: { input_tokens: 30, input_tokens_details: { cached_tokens: 20 }, output_tokens: 9 } }).usage,
      { input: 30, output: 9 },
      'Responses API: cached tokens are already inside input_tokens',
    );
    assert.deepEqual(
      json({ type: 'message', content: [{ type: 'text', text: 'hi' }], usage: { input_tokens: 10, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000, output_tokens: 4 } }).usage,
      { input: 1110, output: 4 },
      'Anthropic bills cache writes and reads besides input_tokens',
    );
    assert.deepEqual(observe({ contentType: 'application/vnd.api+json' }, '{"usage":{"prompt_tokens":1,"completion_tokens":2}}').usage, { input: 1, output: 2 });
  });

  it('count reasoning tokens as output even where a server reports them apart', () => {
    const openai = { prompt_tokens: 10, completion_tokens: 500, total_tokens: 510, completion_tokens_details: { reasoning_tokens: 480 } };
    assert.deepEqual(json({ usage: openai }).usage, { input: 10, output: 500 }, 'OpenAI: reasoning is inside completion_tokens, not added twice');
    assert.deepEqual(json({ usage: { prompt_tokens: 10, completion_tokens: 20, completion_tokens_details: { reasoning_tokens: 480 } } }).usage, { input: 10, output: 480 });
    assert.deepEqual(json({ usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 510 } }).usage, { input: 10, output: 500 }, 'a total above the parts');
    assert.deepEqual(json({ object: 'response', usage: { input_tokens: 5, output_tokens: 3, output_tokens_details: { reasoning_tokens: 90 } } }).usage, { input: 5, output: 90 });
  });

  it('ignore missing, invalid and non-numeric usage', () => {
    assert.equal(json({ choices: [] }).usage, undefined);
    assert.equal(json({ usage: { prompt_tokens: -1, completion_tokens: '5' } }).usage, undefined);
    assert.equal(observe({ contentType: 'application/json' }, '{"usage":{"prompt_tokens":1').usage, undefined);
    assert.equal(observe({ contentType: 'application/json' }, '[1,2]').usage, undefined);
    assert.deepEqual(observe({ contentType: 'text/plain' }, '{"usage":{"prompt_tokens":1}}', 1), { usage: undefined, final: false, estimatedOutput: 0 });
  });

  it('report undefined beyond maxJsonBytes', () => {
    const doc = { pad: 'x'.repeat(200), usage: { prompt_tokens: 1, completion_tokens: 2 } };
    assert.equal(json(doc, { maxJsonBytes: 100 }).usage, undefined);
    assert.deepEqual(json(doc, { maxJsonBytes: 1000 }).usage, { input: 1, output: 2 });
  });

  it('estimate output from generated text only when given a counter', () => {
    const chat = { choices: [{ message: { content: 'héllo', tool_calls: [{ function: { name: 'f', arguments: '{}' } }] } }, { text: 'abc' }] };
    assert.equal(json(chat, { count: charCount }).estimatedOutput, 5 + 2 + 3);
    assert.equal(json(chat).estimatedOutput, 0);
    const anthropic = { content: [{ type: 'text', text: 'four' }, { type: 'tool_use', input: { a: 1 } }] };
    assert.equal(json(anthropic, { count: charCount }).estimatedOutput, 4 + '{"a":1}'.length);
  });
});

describe('usage from event streams', () => {
  const openaiStream = sse([
    ': keep-alive comment',
    'event: ignored\nid: 1\n' + `data: ${JSON.stringify({ choices: [{ delta: { role: 'assistant', content: 'Hel' } }], usage: null })}\n\n`,
    { choices: [{ delta: { content: 'lo' } }], usage: null },
    { choices: [], usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 } },
    'data: [DONE]\n\n',
  ]);

  it('read the final OpenAI chunk, byte by byte and with CRLF or CR line ends', () => {
    const lf = observe({ contentType: 'text/event-stream', count: charCount }, openaiStream, 1);
    assert.deepEqual(lf, { usage: { input: 11, output: 2 }, final: true, estimatedOutput: 5 });
    assert.deepEqual(observe({ contentType: 'text/event-stream' }, openaiStream.replaceAll('\n', '\r\n'), 1).usage, { input: 11, output: 2 });
    assert.deepEqual(observe({ contentType: 'text/event-stream' }, openaiStream.replaceAll('\n', '\r\n'), 3).usage, { input: 11, output: 2 });
    assert.deepEqual(observe({ contentType: 'text/event-stream' }, openaiStream.replaceAll('\n', '\r'), 1).usage, { input: 11, output: 2 });
  });

  it('join multi-line data with a newline and parse an unterminated last event', () => {
    const multi = 'data: {"usage":\ndata: {"prompt_tokens": 4,\ndata: "completion_tokens": 6}}\n\n';
    assert.deepEqual(observe({ contentType: 'text/event-stream' }, multi, 2).usage, { input: 4, output: 6 });
    assert.deepEqual(observe({ contentType: 'text/event-stream' }, multi.replaceAll('\n', '\r\n'), 1).usage, { input: 4, output: 6 }, 'a CRLF split between chunks is one line end');
    assert.deepEqual(observe({ contentType: 'text/event-stream' }, 'data: {"usage":{"prompt_tokens":4,"completion_tokens":6}}').usage, { input: 4, output: 6 });
    assert.deepEqual(observe({ contentType: 'text/event-stream' }, '\uFEFFdata: {"usage":{"prompt_tokens":1}}\n\n').usage, { input: 1, output: 0 });
  });

  it('add up an Anthropic stream exactly: message_start input and cache, latest message_delta output', () => {
    const stream = [
      'event: message_start\n' + `data: ${JSON.stringify({ type: 'message_start', message: { usage: { input_tokens: 25, cache_creation_input_tokens: 5, cache_read_input_tokens: 70, output_tokens: 1 } } })}\n\n`,
      'event: ping\ndata: {"type": "ping"}\n\n',
      'event: content_block_delta\n' + `data: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi there' } })}\n\n`,
      'event: content_block_delta\n' + `data: ${JSON.stringify({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a"' } })}\n\n`,
      'event: message_delta\n' + `data: ${JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } })}\n\n`,
      'event: message_delta\n' + `data: ${JSON.stringify({ type: 'message_delta', delta: {}, usage: { output_tokens: 42 } })}\n\n`,
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ].join('');
    assert.deepEqual(observe({ contentType: 'text/event-stream', count: charCount }, stream, 5), { usage: { input: 100, output: 42 }, final: true, estimatedOutput: 8 + 4 });
  });

  it('read the Responses API response.completed usage', () => {
    const stream = sse([
      { type: 'response.created', response: { usage: null } },
      { type: 'response.output_text.delta', delta: 'abc' },
      { type: 'response.completed', response: { usage: { input_tokens: 9, output_tokens: 3, total_tokens: 12 } } },
    ]);
    assert.deepEqual(observe({ contentType: 'text/event-stream', count: charCount }, stream, 4), { usage: { input: 9, output: 3 }, final: true, estimatedOutput: 3 });
  });

  it('tell a running count from the closing report', () => {
    const start = 'event: message_start\n' + `data: ${JSON.stringify({ type: 'message_start', message: { usage: { input_tokens: 25, output_tokens: 1 } } })}\n\n`;
    const cut = observe({ contentType: 'text/event-stream' }, start);
    assert.deepEqual([cut.usage, cut.final], [{ input: 25, output: 1 }, false], 'Anthropic cut before message_delta: output 1 is a placeholder');
    const running = sse([{ choices: [{ delta: { content: 'a' } }], usage: { prompt_tokens: 5, completion_tokens: 1 } }]);
    assert.equal(observe({ contentType: 'text/event-stream' }, running).final, false, 'vLLM continuous_usage_stats: a chunk with choices');
    assert.equal(observe({ contentType: 'text/event-stream' }, running + sse([{ choices: [], usage: { prompt_tokens: 5, completion_tokens: 9 } }])).final, true);
    assert.equal(observe({ contentType: 'text/event-stream' }, sse([{ type: 'response.in_progress', response: { usage: { input_tokens: 1, output_tokens: 1 } } }])).final, false);
    assert.equal(json({ usage: { prompt_tokens: 1, completion_tokens: 1 } }).final, true);
  });

  it('leave usage undefined without it, estimating output from text and tool arguments', () => {
    const stream = sse([
      { choices: [{ delta: { content: 'Hello ' } }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] } }] },
      { choices: [{ text: 'more' }] },
      'data: [DONE]\n\n',
    ]);
    const r = observe({ contentType: 'text/event-stream', count: charCount }, stream, 3);
    assert.equal(r.usage, undefined);
    assert.equal(r.estimatedOutput, 6 + 5 + 4);
    assert.equal(observe({ contentType: 'text/event-stream' }, stream).estimatedOutput, 0);
  });

  it('count a multi-byte character split across chunks inside delta text', () => {
    const text = 'naïve 日本 🎉';
    const body = Buffer.from(sse([{ choices: [{ delta: { content: text } }] }]), 'utf8');
    const seen: string[] = [];
    const r = observe({ contentType: 'text/event-stream', count: (t) => (seen.push(t), 1) }, body, 1);
    assert.deepEqual(seen, [text], 'decoded intact, no replacement characters');
    assert.equal(r.estimatedOutput, 1);
    // Split right inside the emoji (4 bytes) at every offset.
    const at = body.indexOf(Buffer.from('🎉'));
    for (let k = 1; k < 4; k++) {
      const got: string[] = [];
      const o = createUsageObserver({ contentType: 'text/event-stream', count: (t) => (got.push(t), 1) });
      o.onChunk(body.subarray(0, at + k));
      o.onChunk(body.subarray(at + k));
      o.onEnd();
      assert.deepEqual(got, [text]);
    }
  });

  it('skip an event over 1 MiB without buffering it, and keep parsing later events', () => {
    const big = `data: ${JSON.stringify({ usage: { prompt_tokens: 999, completion_tokens: 999 }, pad: 'x'.repeat(1024 * 1024 + 10) })}\n\n`;
    const multiLineBig = Array.from({ length: 40 }, () => `data: ${'y'.repeat(30_000)}\n`).join('') + '\n';
    const after = sse([{ choices: [{ delta: { content: 'ok' } }] }, { choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } }]);
    for (const step of [64 * 1024, 1_000_003]) {
      const r = observe({ contentType: 'text/event-stream', count: charCount }, big + multiLineBig + after, step);
      assert.deepEqual(r, { usage: { input: 3, output: 1 }, final: true, estimatedOutput: 2 }, `step ${step}`);
    }
  });

  it('ignore chunks after the end and answer onEnd the same twice', () => {
    const o = createUsageObserver({ contentType: 'text/event-stream' });
    o.onChunk(Buffer.from('data: {"usage":{"prompt_tokens":2,"completion_tokens":2}}\n\n'));
    const first = o.onEnd();
    o.onChunk(Buffer.from('data: {"usage":{"prompt_tokens":50}}\n\n'));
    assert.deepEqual(o.onEnd(), first);
  });
});
