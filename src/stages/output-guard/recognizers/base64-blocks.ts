/**
 * Runs of base64 characters: where AWS secret access keys, PEM bodies without their header and
 * encoded secrets are looked for.
 */
import { B64, cc } from './text.js';

/** A run of base64 characters (possibly several lines of one wrapped base64 text). */
export interface Block {
  start: number;
  end: number;
  /** The base64 characters of the block, line breaks removed. */
  chars: string;
  /** The block is a single run with nothing but base64 characters (and `=` padding). */
  single: boolean;
}

function isB64(c: number): boolean {
  return (cc(c) & B64) !== 0;
}

/** Length of the run of base64 characters at `at`, with its `=` padding (when the run ends there). */
function lineAt(t: string, at: number): number {
  let i = at;
  while (i < t.length && isB64(t.charCodeAt(i))) i++;
  let p = i;
  for (let pad = 0; pad < 2 && t.charCodeAt(p) === 61; pad++) p++;
  return (p > i && isB64(t.charCodeAt(p)) ? i : p) - at;
}

/**
 * The runs of at least 20 base64 characters in `t` (with their `=` padding). Wrapped base64 (full
 * lines of one length, a multiple of 4 and at least 40, then a last line) is one block.
 * Linear, and sublinear on prose: a window of 20 is checked from its end, so one character that
 * cannot be base64 skips everything before it.
 */
export function base64Blocks(t: string): Block[] {
  const out: Block[] = [];
  const n = t.length;
  let i = 0; // always the start of a run (t[i - 1] is not a base64 character)
  while (i + 20 <= n) {
    let j = i + 19;
    while (j >= i && isB64(t.charCodeAt(j))) j--;
    if (j >= i) {
      i = j + 1;
      continue;
    }
    const start = i;
    const width = lineAt(t, start);
    let end = start + width;
    let chars = t.slice(start, end);
    let single = true;
    if (width >= 40 && width % 4 === 0 && t.charCodeAt(end - 1) !== 61) {
      for (;;) {
        const nl = t.charCodeAt(end) === 13 && t.charCodeAt(end + 1) === 10 ? 2 : t.charCodeAt(end) === 10 ? 1 : 0;
        if (nl === 0) break;
        const len = lineAt(t, end + nl);
        if (len === 0 || len > width) break;
        chars += t.slice(end + nl, end + nl + len);
        end += nl + len;
        single = false;
        if (len < width || t.charCodeAt(end - 1) === 61) break;
      }
    }
    let bare = chars.length;
    while (bare > 0 && chars.charCodeAt(bare - 1) === 61) bare--;
    out.push({ start, end, chars: chars.slice(0, bare), single });
    i = end; // not a base64 character: the next run starts after it
  }
  return out;
}
