import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Bulwark API keys look like `bwk_<id>_<secret><checksum>`:
 * - the `bwk_` prefix lets secret scanners (and Bulwark's own output redaction) recognize them;
 * - `id` (12 chars, lowercase base32) names the key in the store, logs and events;
 * - `secret` is 32 base62 characters (~190 bits) and is only ever stored as a hash;
 * - the 6-character base62 CRC-32 checksum lets a scanner tell a real key from a look-alike
 *   without asking the server, and lets the gateway refuse typos before a store lookup.
 */
export const API_KEY_PATTERN = /^bwk_([a-z2-7]{12})_([A-Za-z0-9]{32})([A-Za-z0-9]{6})$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export interface ParsedApiKey {
  id: string;
  secret: string;
}

export function generateApiKey(): { key: string; id: string; secret: string } {
  const id = randomString(BASE32, 12);
  const secret = randomString(BASE62, 32);
  return { key: `bwk_${id}_${secret}${checksum(id, secret)}`, id, secret };
}

/** Strict parse: exact prefix, alphabet, lengths and checksum. Case-swapped or padded keys fail here. */
export function parseApiKey(key: string): ParsedApiKey | undefined {
  const m = API_KEY_PATTERN.exec(key);
  if (!m) return undefined;
  const [, id, secret, sum] = m as unknown as [string, string, string, string];
  return checksum(id, secret) === sum ? { id, secret } : undefined;
}

function checksum(id: string, secret: string): string {
  let n = crc32(`bwk_${id}_${secret}`);
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function randomString(alphabet: string, length: number): string {
  // Rejection sampling: no modulo bias.
  const out: string[] = [];
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < limit && out.length < length) out.push(alphabet[b % alphabet.length] as string);
    }
  }
  return out.join('');
}
