/** Secrets recognized from a run of base64 characters: AWS secret access keys, headerless PEM bodies. */
import type { Block } from './base64-blocks.js';
import { awsSecretLike, derPrivateKey } from './checks.js';
import type { Hit } from './secret-types.js';

const AWS_NAME = /secret|aws.{0,24}key|credential/i;
const AWS_ID_NEAR = /(?:AKIA|ASIA)[A-Z0-9]{16}/;

/**
 * AWS secret access keys: a run of exactly 40 base64 characters (no `-`/`_`), mixed, only after a
 * secret-like name (`aws_secret_access_key`, `SecretAccessKey`, `secret`…) in the 64 characters
 * before it, or within 128 characters of an access key id.
 */
export const AWS_SECRET_MAX_LEN = 128 + 40;
export function awsSecretIn(t: string, b: Block): Hit | undefined {
  if (!b.single || b.end - b.start !== 40) return undefined;
  const v = b.chars;
  if (v.indexOf('-') !== -1 || v.indexOf('_') !== -1 || !awsSecretLike(v)) return undefined;
  const before = t.slice(Math.max(0, b.start - 64), b.start);
  if (!AWS_NAME.test(before) && !AWS_ID_NEAR.test(t.slice(Math.max(0, b.start - 128), Math.min(t.length, b.end + 128)))) return undefined;
  return { start: b.start, end: b.end, label: 'aws_secret_key' };
}

// PKCS#1 / PKCS#8 / SEC1 DER in base64 starts with "MI" or "MH"; OpenSSH keys with "openssh-key-v1".
const OPENSSH_B64 = 'b3BlbnNzaC1rZXktdjE';

/** A private key's base64 body without its BEGIN/END lines (at least 64 characters). */
export function pemBodyIn(b: Block): Hit | undefined {
  const s = b.chars;
  if (s.length < 64) return undefined;
  const c0 = s.charCodeAt(0);
  const c1 = s.charCodeAt(1);
  if (c0 === 77 && (c1 === 73 || c1 === 72)) {
    if (!derPrivateKey(Buffer.from(s.slice(0, 24), 'base64'))) return undefined;
  } else if (!s.startsWith(OPENSSH_B64)) return undefined;
  return { start: b.start, end: b.end, label: 'private_key' };
}
