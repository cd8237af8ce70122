import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseSplitter, type SseEvent } from './sse-events.js';

function split(input: Buffer, sizes: (i: number) => number): SseEvent[] {
  const s = new SseSplitter();
  const out: SseEvent[] = [];
  for (let at = 0, i = 0; at < input.length; i++) {
    const n = Math.max(1, sizes(i));
    out.push(...s.push(input.subarray(at, at + n)));
    at += n;
  }
  out.push(...s.end());
  return out;
}

const STREAM = Buffer.from('event: a\r\ndata: {"x":"é😀"}\r\n\r\n: comment\ndata: one\ndata: two\n\nid: 7\rdata: three\r\rdata: tail-without-end');

describe('SseSplitter', () => {
  for (const [name, sizes] of [
    ['whole', () => STREAM.length],
    ['one byte at a time', () => 1],
    ['random chunks', () => 1 + Math.floor(Math.random() * 7)],
  ] as const) {
    it(`splits CRLF, LF and CR framing, comments, multi-line data and an unterminated tail (${name})`, () => {
      const events = split(STREAM, sizes);
      assert.deepEqual(events.map((e) => e.lines), [['event: a', 'data: {"x":"é😀"}'], [': comment', 'data: one', 'data: two'], ['id: 7', 'data: three'], ['data: tail-without-end']]);
      assert.deepEqual(events.map((e) => e.eol), ['\r\n', '\n', '\r', '\r']);
      assert.deepEqual(events.map((e) => e.terminated), [true, true, true, false]);
      assert.ok(Buffer.concat(events.map((e) => e.raw)).equals(STREAM), 'the bytes of all events are the stream, unchanged');
    });
  }

  it('refuses an event larger than its bound instead of buffering it', () => {
    const s = new SseSplitter(1024);
    assert.throws(() => s.push(Buffer.from(`data: ${'x'.repeat(2000)}`)), RangeError);
  });
});
