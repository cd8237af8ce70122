import type { Severity } from '../event.js';
import { severityAtLeast } from '../event.js';
import type { EventSink, SinkStats } from '../sink.js';

export interface StdoutSinkOptions {
  minSeverity?: Severity | undefined;
  /** Default process.stdout. */
  stream?: NodeJS.WritableStream;
  /** Lines waiting while the reader is behind; beyond this, events are dropped and counted. Default 10,000. */
  maxQueuedLines?: number | undefined;
  /** Same bound in characters of JSON. Default 4 MiB. */
  maxQueuedBytes?: number | undefined;
  /** How long close() waits for a slow reader before dropping (and counting) what is left. Default 2 s. */
  closeTimeoutMs?: number | undefined;
  /** Where the sink says that it drops and when it writes again (default: stderr when writing to stdout). */
  notices?: NodeJS.WritableStream | null;
}

const DEFAULT_MAX_LINES = 10_000;
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const DEFAULT_CLOSE_TIMEOUT_MS = 2_000;
/** At most one notice per this long, so a flapping reader cannot flood stderr instead. */
const NOTICE_EVERY_MS = 10_000;

/**
 * One JSON line per event on standard output, respecting backpressure. Node buffers whatever a
 * stream's write() is given, without limit, once the reader stops reading (a paused pipe, a
 * stuck log shipper): the gateway's memory would grow with every event. So this sink writes
 * only while the stream accepts more, keeps a bounded queue while it does not, and drops and
 * counts beyond that (bulwark_sink_dropped_total), like the file sink. It holds at most the
 * stream's own high-water mark plus one line, and the queue.
 */
export function createStdoutSink(options: StdoutSinkOptions = {}): EventSink & { stats(): SinkStats } {
  const out = options.stream ?? process.stdout;
  const maxLines = options.maxQueuedLines ?? DEFAULT_MAX_LINES;
  const maxBytes = options.maxQueuedBytes ?? DEFAULT_MAX_BYTES;
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  const notices = options.notices !== undefined ? options.notices : out === process.stdout ? process.stderr : null;

  // A FIFO as an array and a head index: shift() on a large array copies it.
  let queue: string[] = [];
  let head = 0;
  let queuedBytes = 0;
  let waitingForDrain = false;
  let broken = false;
  let closed = false;
  let dropped = 0;
  let droppedSinceNotice = 0;
  let lastNoticeAt = 0;
  let onEmpty: (() => void) | undefined;

  const queued = () => queue.length - head;

  const notice = (text: string) => {
    const now = Date.now();
    if (!notices || now - lastNoticeAt < NOTICE_EVERY_MS) return;
    lastNoticeAt = now;
    try {
      notices.write(`bulwark: ${text}\n`);
    } catch {
      // A notice is best effort.
    }
  };

  const drop = (n: number) => {
    if (droppedSinceNotice === 0) notice('the stdout reader is not keeping up; security events are dropped and counted (bulwark_sink_dropped_total{sink="stdout"})');
    dropped += n;
    droppedSinceNotice += n;
  };

  const onDrain = () => {
    waitingForDrain = false;
    while (queued() > 0) {
      const text = queue[head] as string;
      queue[head++] = '';
      queuedBytes -= text.length;
      if (!out.write(text)) {
        waitingForDrain = true;
        out.once('drain', onDrain);
        return;
      }
    }
    queue = [];
    head = 0;
    if (droppedSinceNotice > 0) {
      notice(`stdout sink writes again (${dropped} events dropped so far)`);
      droppedSinceNotice = 0;
    }
    onEmpty?.();
  };

  // EPIPE and the like: the reader is gone for good; events are counted, never a crash.
  const onError = () => {
    broken = true;
    drop(queued());
    queue = [];
    head = 0;
    queuedBytes = 0;
    onEmpty?.();
  };
  out.on('error', onError);

  return {
    name: 'stdout',
    write(event, line) {
      if (!severityAtLeast(event.bulwark.severity, options.minSeverity)) return;
      if (closed || broken) return drop(1);
      const text = line + '\n';
      if (!waitingForDrain) {
        if (!out.write(text)) {
          waitingForDrain = true;
          out.once('drain', onDrain);
        }
        return;
      }
      if (queued() >= maxLines || queuedBytes + text.length > maxBytes) return drop(1);
      queue.push(text);
      queuedBytes += text.length;
    },
    stats() {
      return { queued: queued(), dropped };
    },
    async close() {
      closed = true;
      if (waitingForDrain && !broken) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          onEmpty = resolve;
          timer = setTimeout(resolve, closeTimeoutMs);
        });
        clearTimeout(timer);
        onEmpty = undefined;
      }
      if (queued() > 0) drop(queued());
      queue = [];
      head = 0;
      queuedBytes = 0;
      out.off('drain', onDrain);
      out.off('error', onError);
    },
  };
}
