import type { Severity } from '../event.js';
import { severityAtLeast } from '../event.js';
import type { EventSink } from '../sink.js';

export function createStdoutSink(options: { minSeverity?: Severity | undefined; stream?: NodeJS.WritableStream } = {}): EventSink {
  const out = options.stream ?? process.stdout;
  return {
    name: 'stdout',
    write(event, line) {
      if (!severityAtLeast(event.bulwark.severity, options.minSeverity)) return;
      out.write(line + '\n');
    },
    async close() {},
  };
}
