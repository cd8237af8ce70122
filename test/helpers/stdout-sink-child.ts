// Child process for test/stdout-backpressure.test.ts: the stdout sink on this process's real
// stdout, which the parent pipes and never reads. Reports what it holds on stderr (one JSON line).
import { createEventBus } from '../../src/events/bus.js';
import { createStdoutSink } from '../../src/events/sinks/stdout-sink.js';

const sink = createStdoutSink({ maxQueuedLines: 200, maxQueuedBytes: 256 * 1024 });
const bus = createEventBus({ sinks: [sink] });
const reason = 'x'.repeat(900);
let emitted = 0;
let maxHeld = 0;

function report(done: boolean): void {
  const stats = sink.stats?.() ?? { queued: -1, dropped: -1 };
  process.stderr.write(`${JSON.stringify({ done, emitted, writableLength: process.stdout.writableLength, maxHeld, ...stats })}\n`);
}

// Batches with a turn of the event loop between them, so the pipe really fills and stalls.
function batch(): void {
  for (let i = 0; i < 500; i++) {
    bus.emit({ action: 'input.invalid', severity: 'medium', reason });
    emitted++;
  }
  maxHeld = Math.max(maxHeld, process.stdout.writableLength);
  if (emitted < 40_000) setImmediate(batch);
  else {
    report(true);
    // stdout is never drained: exit without waiting for it.
    process.exit(0);
  }
}
batch();
