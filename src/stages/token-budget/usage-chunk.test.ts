import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseRefused } from '../../core/stage.js';
import { requestStreamUsage, usageChunkRemover } from './usage-chunk.js';

const ev = (v: unknown, eol = '\n') => `data: ${JSON.stringify(v)}${eol}${eol}`;

describe('stream usage the client did not ask for', () => {
  it('is asked for on OpenAI streams only, keeping the client\'s other options', () => {
    const body: Record<string, unknown> = { stream: true, stream_options: { include_obfuscation: false, include_usage: false } };
    assert.equal(requestStreamUsage('openai-chat', body), true);
    assert.deepEqual(body.stream_options, { include_obfuscation: false, include_usage: true });
    const nul: Record<string, unknown> = { stream: true, stream_options: null };
    assert.equal(requestStreamUsage('openai-completions', nul), true);
    assert.deepEqual(nul.stream_options, { include_usage: true });
    const asked: Record<string, unknown> = { stream: true, stream_options: { include_usage: true } };
    assert.equal(requestStreamUsage('openai-chat', asked), false, 'the client asked: its chunk is its own');
    for (const [kind, b] of [['openai-chat', {}], ['openai-chat', { stream: false }], ['anthropic-messages', { stream: true }]] as const) {
      const copy: Record<string, unknown> = { ...b };
      assert.equal(requestStreamUsage(kind, copy), false);
      assert.equal(copy.stream_options, undefined, `${kind} ${JSON.stringify(b)} unchanged`);
    }
  });

  it('is removed from the stream, whatever the chunking; every other event passes byte for byte', () => {
    const events = [
      ev({ choices: [{ index: 0, delta: { content: 'Hi' } }], usage: null }),
      ': keep-alive\n\n',
      ev({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } }, '\r\n'),
      ev({ choices: [{ index: 0, delta: { content: 'a "usage": {} in text' } }] }),
      'data: [DONE]\n\n',
    ];
    const input = Buffer.from(events.join(''));
    const expected = [events[0], events[1], events[3], events[4]].join('');
    for (const step of [1, 3, 7, input.length]) {
      const r = usageChunkRemover();
      const out: Buffer[] = [];
      for (let i = 0; i < input.length; i += step) out.push(r.onChunk(input.subarray(i, i + step)));
      out.push(r.onEnd());
      assert.equal(Buffer.concat(out).toString(), expected, `step ${step}`);
    }
  });

  it('ends a stream with an event too large to inspect', () => {
    const r = usageChunkRemover();
    assert.throws(() => r.onChunk(Buffer.alloc(1024 * 1024 + 10, 0x61)), ResponseRefused);
  });
});
