import ipaddr from 'ipaddr.js';

/** `server.ipv6Prefix` when the config does not say: one customer's allocation (RFC 6177). */
export const DEFAULT_IPV6_PREFIX = 64;
export const MIN_IPV6_PREFIX = 32;
export const MAX_IPV6_PREFIX = 128;

/**
 * The network a client is counted as: what per-address limits, concurrency slots, token budgets,
 * bans, adaptive offences and throttles key by. An IPv4 address is itself (IPv4-mapped IPv6, in
 * either spelling, is the IPv4 address). An IPv6 address is its `/ipv6Prefix` network, written
 * `2001:db8:1:2::/64`: an IPv6 client usually holds a whole /64 or more, and rotating addresses
 * inside it costs nothing, so counting per address would hand it 2^64 budgets. With prefix 128
 * each IPv6 address is its own network, written as the bare address.
 *
 * Idempotent: the network of a network (`2001:db8:1:2::/64`) is itself, so a key can be passed
 * through again. Anything that is not an address (an empty peer of a socket already gone) is
 * returned unchanged: it still keys something, never nothing.
 */
export function clientNetwork(address: string, ipv6Prefix: number): string {
  const slash = address.indexOf('/');
  const bare = slash < 0 ? address : address.slice(0, slash);
  // Most clients: a dotted quad, already canonical. Only that form: legacy spellings (octal,
  // fewer parts) never alias another address.
  if (!bare.includes(':')) return ipaddr.IPv4.isValidFourPartDecimal(bare) ? bare : address;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(hexTail(bare));
  } catch {
    return address;
  }
  if (parsed.kind() === 'ipv4') return address;
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  if (ipv6Prefix >= MAX_IPV6_PREFIX) return new ipaddr.IPv6(v6.parts).toString();
  const parts = v6.parts.map((part, i) => {
    const keep = Math.min(16, Math.max(0, ipv6Prefix - i * 16));
    return keep === 0 ? 0 : part & (0xffff << (16 - keep)) & 0xffff;
  });
  return `${new ipaddr.IPv6(parts).toString()}/${ipv6Prefix}`;
}

const DOTTED_TAIL = /:(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * An IPv6 address ending in a dotted quad (`2001:db8::1.2.3.4`, `64:ff9b::1.2.3.4`) with its
 * last 32 bits in hex: ipaddr.js 1.x parses the dotted tail only in a full eight-group spelling,
 * and an address it cannot parse would key as its raw text, one key per spelling and per tail.
 */
function hexTail(bare: string): string {
  const m = DOTTED_TAIL.exec(bare);
  if (!m) return bare;
  const o = m.slice(1, 5).map(Number);
  if (o.some((x) => x > 255)) return bare;
  const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
  return `${bare.slice(0, m.index)}:${hex(o[0]!, o[1]!)}:${hex(o[2]!, o[3]!)}`;
}
