import { createReadStream } from 'node:fs';

export type LogLine =
  /** `bytes` without the newline; `terminated` is false only for a last line with no newline. */
  | { kind: 'line'; bytes: Buffer; terminated: boolean }
  /** A line longer than the bound: reading stops here (memory stays bounded). */
  | { kind: 'too-long' };

/**
 * The lines of a file, split on LF only (a CR is part of the line, so CRLF conversion is a change),
 * streamed with at most `maxLineBytes` (+ one read chunk) held in memory. Unlike readline, a lone
 * CR never splits a line and an overlong line cannot grow the buffer without bound.
 */
export async function* readLogLines(file: string, maxLineBytes: number): AsyncGenerator<LogLine> {
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  let parts: Buffer[] = [];
  let held = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl === -1) break;
        const piece = chunk.subarray(start, nl);
        if (held + piece.length > maxLineBytes) {
          yield { kind: 'too-long' };
          return;
        }
        const bytes = parts.length === 0 ? piece : Buffer.concat([...parts, piece]);
        parts = [];
        held = 0;
        yield { kind: 'line', bytes, terminated: true };
        start = nl + 1;
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start);
        held += rest.length;
        if (held > maxLineBytes) {
          yield { kind: 'too-long' };
          return;
        }
        parts.push(rest);
      }
    }
    if (held > 0) yield { kind: 'line', bytes: Buffer.concat(parts), terminated: false };
  } finally {
    stream.destroy();
  }
}
