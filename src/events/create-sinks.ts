import type { BulwarkConfig } from '../config/schema.js';
import type { EventSink } from './sink.js';
import { createFileSink } from './sinks/file-sink.js';
import { createStdoutSink } from './sinks/stdout-sink.js';

/**
 * Builds the sinks the core ships. syslog and webhook sinks are validated by the schema but are
 * delivered by the events issue; `bulwark check` warns that they are not active yet.
 */
export function createSinks(config: BulwarkConfig['events'], options: { stdout?: NodeJS.WritableStream } = {}): EventSink[] {
  const sinks: EventSink[] = [];
  for (const s of config.sinks) {
    if (s.type === 'stdout') sinks.push(createStdoutSink({ minSeverity: s.minSeverity, ...(options.stdout ? { stream: options.stdout } : {}) }));
    else if (s.type === 'file') sinks.push(createFileSink({ path: s.path, minSeverity: s.minSeverity, rotate: s.rotate, keep: s.keep, chain: s.chain }));
  }
  return sinks;
}
