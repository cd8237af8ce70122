import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export type TrustFn = (addr: string, i: number) => boolean;

/** Compiled once per config; an empty list trusts nobody, so X-Forwarded-For is ignored. */
export function compileTrust(trustedProxies: readonly string[]): TrustFn | undefined {
  return trustedProxies.length > 0 ? proxyaddr.compile([...trustedProxies]) : undefined;
}

export interface ClientAddress {
  /** The client as far as trusted proxies vouch for it. */
  clientIp: string;
  /** The TCP peer. */
  peerIp: string;
  /** X-Forwarded-For to send upstream: the trusted chain, with the real peer always last. */
  forwardedFor: string;
}

/** `trust` undefined means no trusted proxies: the peer is the client and X-Forwarded-For is ignored. */
export function resolveClientAddress(req: IncomingMessage, trust: TrustFn | undefined): ClientAddress {
  const peerIp = normalize(req.socket.remoteAddress ?? '');
  if (!trust) return { clientIp: peerIp, peerIp, forwardedFor: peerIp };
  // proxyaddr.all walks from the socket back through trusted hops and stops at the first
  // untrusted address, so client-invented entries beyond it are discarded.
  const chain = proxyaddr.all(req, trust).map(normalize);
  const clientIp = chain[chain.length - 1] ?? peerIp;
  return { clientIp, peerIp, forwardedFor: chain.slice().reverse().join(', ') || peerIp };
}

function normalize(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
