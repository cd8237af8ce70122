import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createEventBus } from '../bus.js';
import { buildEvent } from '../event.js';
import { createStdoutSink } from './stdout-sink.js';

// A reader that stops reading (a paused pipe, a stuck log shipper) must not make the gateway
// hold every event in memory: Node's stdout buffers without limit once write() returns false.

/** A stream that accepts writes and completes none until `release()`. */
function stalledStream(highWaterMark = 1024) {
  const written: string[] = [];
  let pending: Array<() => void> = [];
  let stalled = true;
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk.toString());
      if (stalled) pending.push(() => cb());
      else cb();
    },
  });
  return {
    stream,
    written,
    release() {
      stalled = false;
      const p = pending;
      pending = [];
      for (const cb of p) cb();
    },
  };
}

const reason = 'r'.repeat(200);

describe('stdout sink', () => {
  it('a stalled reader: the stream buffer and the sink queue stay within their bounds, and drops are counted', async () => {
    const s = stalledStream(1024);
    const sink = createStdoutSink({ stream: s.stream, maxQueuedLines: 50, maxQueuedBytes: 32 * 1024 });
    const bus = createEventBus({ sinks: [sink] });
    let lineBytes = 0;
    for (let i = 0; i < 10_000; i++) lineBytes = Math.max(lineBytes, JSON.stringify(bus.emit({ action: 'input.invalid', severity: 'medium', reason })).length + 1);
    assert.ok(s.stream.writableLength <= 1024 + lineBytes, `the stream holds ${s.stream.writableLength} bytes`);
    const stats = sink.stats?.();
    assert.ok(stats, 'the sink reports queue and drop counters');
    assert.ok(stats.queued <= 50, `queued ${stats.queued}`);
    assert.ok(stats.dropped >= 10_000 - 50 - 10, `dropped ${stats.dropped}`);
    s.release();
    await bus.close();
  });

  it('once the reader drains, queued lines follow in order and the queue empties', async () => {
    const s = stalledStream(1024);
    const sink = createStdoutSink({ stream: s.stream, maxQueuedLines: 5, maxQueuedBytes: 1024 * 1024 });
    const bus = createEventBus({ sinks: [sink] });
    for (let i = 0; i < 100; i++) bus.emit({ action: 'input.invalid', severity: 'medium', reason: `${i} ${reason}` });
    const before = sink.stats?.();
    assert.equal(before?.queued, 5);
    s.release();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const after = sink.stats?.();
    assert.equal(after?.queued, 0);
    const seq = s.written.join('').trim().split('\n').map((l) => Number((JSON.parse(l) as { event: { reason: string } }).event.reason.split(' ')[0]));
    assert.deepEqual(seq, [...seq].sort((a, b) => a - b), 'lines keep their order');
    assert.equal(seq.length + (after?.dropped ?? 0), 100, 'every event was either written or counted as dropped');
    bus.emit({ action: 'input.invalid', severity: 'medium', reason: 'after' });
    assert.match(s.written.at(-1) ?? '', /"after"/);
    await bus.close();
  });

  it('close() with a reader that never drains resolves, counting what it could not write', async () => {
    const s = stalledStream(64);
    const sink = createStdoutSink({ stream: s.stream, maxQueuedLines: 10, closeTimeoutMs: 50 });
    const event = buildEvent({ action: 'input.invalid', severity: 'medium' });
    for (let i = 0; i < 20; i++) sink.write(event, `{"n":${i}}`);
    const queued = sink.stats?.().queued ?? 0;
    assert.ok(queued > 0);
    const droppedBefore = sink.stats?.().dropped ?? 0;
    await sink.close();
    assert.equal(sink.stats?.().dropped, droppedBefore + queued);
    assert.equal(sink.stats?.().queued, 0);
  });
});
