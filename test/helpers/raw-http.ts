import net from 'node:net';

export interface RawResponse {
  /** Everything the server sent before closing or the timeout. */
  text: string;
  status: number | undefined;
  /** Whether the server closed the connection (rather than our timeout ending the wait). */
  closed: boolean;
}

/**
 * Sends bytes exactly as given (no client normalization) and collects the answer. Used for the
 * framing and path-trick tests that a well-behaved client library would refuse to send.
 */
export function rawRequest(port: number, payload: string | Buffer, options: { timeoutMs?: number; waitForClose?: boolean } = {}): Promise<RawResponse> {
  const timeoutMs = options.timeoutMs ?? 2000;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : undefined, closed });
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (c) => {
      chunks.push(c);
      if (!options.waitForClose && isComplete(Buffer.concat(chunks).toString('latin1'))) done();
    });
    socket.on('end', () => {
      closed = true;
      done();
    });
    socket.on('error', () => {
      closed = true;
      done();
    });
    socket.write(payload);
  });
}

function isComplete(text: string): boolean {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return false;
  const m = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headEnd));
  if (!m) return false;
  return text.length - headEnd - 4 >= Number(m[1]);
}
