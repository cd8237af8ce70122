import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Severity } from '../event.js';
import { severityAtLeast } from '../event.js';
import type { EventSink } from '../sink.js';

/**
 * Appends one JSON line per event, file mode 0600. Rotation and the hash chain (`rotate`,
 * `chain`) belong to the events issue; until then `bulwark check` warns that they are not applied.
 */
export function createFileSink(options: { path: string; minSeverity?: Severity | undefined }): EventSink {
  mkdirSync(dirname(options.path), { recursive: true });
  const stream = createWriteStream(options.path, { flags: 'a', mode: 0o600 });
  let failed = false;
  stream.on('error', () => {
    // A broken log disk must not take the data path down; the process log says it once.
    if (!failed) process.stderr.write(`bulwark: security log ${options.path} is not writable; events to it are dropped\n`);
    failed = true;
  });
  return {
    name: `file:${options.path}`,
    write(event, line) {
      if (failed || !severityAtLeast(event.bulwark.severity, options.minSeverity)) return;
      stream.write(line + '\n');
    },
    close() {
      return new Promise((resolve) => stream.end(resolve));
    },
  };
}
