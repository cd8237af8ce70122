import net from 'node:net';
import { rawRequest, type RawResponse } from './raw-http.js';

/** Every status line in what a server sent on one connection (one per HTTP response). */
export function statusLines(text: string): string[] {
  return text.match(/HTTP\/1\.[01] \d{3}[^\r\n]*/g) ?? [];
}

export interface TimedResponse extends RawResponse {
  /** Milliseconds from connect to the end of the wait (server close, error or our timeout). */
  elapsedMs: number;
}

/**
 * `rawRequest` that always waits for the server to close (or `timeoutMs`) and measures how long
 * that took. `payload` is sent as latin1 bytes so NUL, CR and 8-bit bytes go out exactly.
 */
export async function rawUntilClose(port: number, payload: string, timeoutMs = 3000): Promise<TimedResponse> {
  const started = performance.now();
  const r = await rawRequest(port, Buffer.from(payload, 'latin1'), { waitForClose: true, timeoutMs });
  return { ...r, elapsedMs: performance.now() - started };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface HeldConnections {
  readonly sockets: readonly net.Socket[];
  /** How many of the sockets the server has closed (or reset) so far. */
  closedCount(): number;
  destroyAll(): void;
}

/**
 * Opens `count` connections, writes `head` on each (typically an unfinished request head) and
 * keeps them open. `localAddress` binds the client side (e.g. 127.0.0.2 on Linux, so the held
 * connections come from another address than the test's normal requests).
 */
export async function holdConnections(port: number, count: number, head: string, localAddress?: string): Promise<HeldConnections> {
  const sockets: net.Socket[] = [];
  const closed = new Set<net.Socket>();
  const held: HeldConnections = {
    sockets,
    closedCount: () => closed.size,
    destroyAll() {
      for (const s of sockets) s.destroy();
    },
  };
  try {
    await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
            sockets.push(s);
            s.on('data', () => {});
            s.once('close', () => closed.add(s));
            s.once('error', (err) => {
              closed.add(s);
              reject(err);
            });
            s.once('connect', () => {
              s.write(head, 'latin1', () => resolve());
            });
          }),
      ),
    );
  } catch (err) {
    held.destroyAll();
    throw err;
  }
  return held;
}

/** Whether the OS lets a client bind `address` (127.0.0.2 works on Linux, not on macOS). */
export async function canBind(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(0, address, () => server.close(() => resolve(true)));
  });
}
