import type { AddressInfo, Server } from 'node:net';
import { parseListen } from '../config/units.js';

/**
 * Listens on a `host:port` address from config and resolves with the URL clients use (IPv6 in
 * brackets; the actual port when the config said 0). A bind error rejects instead of crashing.
 */
export async function listenOn(server: Server, listen: string, secure: boolean): Promise<string> {
  const { host, port } = parseListen(listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `${secure ? 'https' : 'http'}://${hostForUrl}:${addr.port}`;
}
