import type { ResponseFilter } from '../../core/stage.js';
import type { OutputPolicy } from './policy.js';
import { sseFilter } from './sse-filter.js';

const LF = 0x0a;

/**
 * Newline-delimited JSON streams (Ollama's `application/x-ndjson`, JSON lines): each line is one
 * event of a stream, and the text that counts is the concatenation of a channel's pieces across
 * lines, exactly as for SSE — so the SSE filter does the work on the lines framed as events, and
 * its output is framed back into lines. A line that was not changed goes out as it came.
 */
export function ndjsonFilter(policy: OutputPolicy): ResponseFilter {
  const sse = sseFilter(policy);
  let partial: Buffer = Buffer.alloc(0);

  const frame = (chunk: Buffer): Buffer => {
    const data = partial.length > 0 ? Buffer.concat([partial, chunk]) : chunk;
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = data.indexOf(LF); i !== -1; i = data.indexOf(LF, start)) {
      const line = data.subarray(start, i);
      start = i + 1;
      if (line.length > 0) parts.push(Buffer.from('data: '), line, Buffer.from('\n\n'));
    }
    partial = Buffer.from(data.subarray(start));
    return Buffer.concat(parts);
  };

  // The SSE filter releases whole events: `data: <line>\n\n`, or an error event that may have an
  // `event:` line first. Each becomes one line again.
  const unframe = (out: Buffer): Buffer => {
    if (out.length === 0) return out;
    const lines: string[] = [];
    for (const ev of out.toString('utf8').split(/\r?\n\r?\n/)) {
      const data = ev.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(l.charCodeAt(5) === 32 ? 6 : 5));
      if (data.length > 0) lines.push(`${data.join('')}\n`);
    }
    return Buffer.from(lines.join(''), 'utf8');
  };

  return {
    onChunk(chunk) {
      return unframe(sse.onChunk(frame(chunk)));
    },
    onEnd() {
      const last = partial.length > 0 ? Buffer.concat([Buffer.from('data: '), partial, Buffer.from('\n\n')]) : Buffer.alloc(0);
      partial = Buffer.alloc(0);
      const head = last.length > 0 ? sse.onChunk(last) : Buffer.alloc(0);
      return unframe(Buffer.concat([head, sse.onEnd()]));
    },
  };
}
