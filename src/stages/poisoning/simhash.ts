import { normalizeText } from '../input-guard/detector/normalize.js';

// FNV-1a 64-bit over UTF-16 code units: fast, dependency-free, and stable across processes (the
// hashes are stored and compared by every instance).
const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

function fnv64(s: string): bigint {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * FNV_PRIME) & MASK;
  }
  return h;
}

/**
 * 64-bit SimHash of a text's word 3-shingles (after normalization): near-copies (a word changed,
 * punctuation, case, invisible characters) land a few bits apart, unrelated texts ~32 apart.
 * Work is bounded to the first 20,000 words.
 */
export function simhash(text: string): bigint {
  return simhashOfNormalized(normalizeText(text));
}

/** `simhash` of a text already normalized (`normalizeText`, or its line-keeping form). */
export function simhashOfNormalized(normalized: string): bigint {
  const words = normalized.split(/[^\p{L}\p{N}]+/u).filter(Boolean).slice(0, 20_000);
  const shingles = words.length < 3 ? [words.join(' ')] : words.slice(0, -2).map((_, i) => `${words[i]} ${words[i + 1]} ${words[i + 2]}`);
  const v = new Int32Array(64);
  for (const sh of shingles) {
    const h = fnv64(sh);
    for (let b = 0; b < 64; b++) v[b] = (v[b] as number) + (((h >> BigInt(b)) & 1n) === 1n ? 1 : -1);
  }
  let out = 0n;
  for (let b = 0; b < 64; b++) if ((v[b] as number) > 0) out |= 1n << BigInt(b);
  return out;
}

export function hammingDistance(a: bigint, b: bigint): number {
  let x = a ^ b;
  let n = 0;
  while (x) {
    x &= x - 1n;
    n++;
  }
  return n;
}

/** Near-copies: at most this many of 64 bits differ (about 95 % shingle overlap or more). */
export const NEAR_DUPLICATE_BITS = 6;
