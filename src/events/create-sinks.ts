import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventInput } from './event.js';
import { createSyslogSink } from './sinks/syslog-sink.js';
import { createWebhookSink } from './sinks/webhook-sink.js';
import type { BulwarkConfig } from '../config/schema.js';
import type { EventSink } from './sink.js';
import { createFileSink } from './sinks/file-sink.js';
import { createStdoutSink } from './sinks/stdout-sink.js';

/**
 * Builds the configured sinks: stdout, file (rotation, hash chain), syslog (RFC 5424 over UDP,
 * TCP, TLS) and webhook (batched, signed, retried, durable queue). `emit` lets a webhook report
 * `alert.delivery_failed`; `queueDir` is where webhook queues live by default.
 */
export function createSinks(config: BulwarkConfig['events'], options: { stdout?: NodeJS.WritableStream; emit?: (i: EventInput) => unknown; queueDir?: string } = {}): EventSink[] {
  const sinks: EventSink[] = [];
  for (const s of config.sinks) {
    if (s.type === 'stdout') sinks.push(createStdoutSink({ minSeverity: s.minSeverity, ...(options.stdout ? { stream: options.stdout } : {}) }));
    else if (s.type === 'file') sinks.push(createFileSink({ path: s.path, minSeverity: s.minSeverity, rotate: s.rotate, keep: s.keep, chain: s.chain }));
    else if (s.type === 'syslog') {
      const tls = s.tls ? { ca: s.tls.ca ? readFileSync(s.tls.ca) : undefined, cert: s.tls.cert ? readFileSync(s.tls.cert) : undefined, key: s.tls.key ? readFileSync(s.tls.key) : undefined, servername: s.tls.servername } : undefined;
      sinks.push(createSyslogSink({ address: s.address, minSeverity: s.minSeverity, facility: s.facility, appName: s.appName, hostname: s.hostname, maxMessageBytes: s.maxMessageBytes, maxQueue: s.maxQueue, ...(tls ? { tls } : {}) }));
    } else if (s.type === 'webhook') {
      sinks.push(createWebhookSink({
        url: s.url, secret: s.secret, minSeverity: s.minSeverity, emit: options.emit,
        queuePath: s.queue.path ?? join(options.queueDir ?? '.bulwark', 'webhook-queue.db'), durable: s.queue.durable, maxQueue: s.queue.maxEvents,
        batchSize: s.batch.size, batchDelayMs: s.batch.wait, timeoutMs: s.timeout, initialBackoffMs: s.retry.initial, maxBackoffMs: s.retry.max, maxAttempts: s.retry.attempts, maxAgeMs: s.retry.maxAge ?? 0,
      }));
    }
  }
  return sinks;
}
