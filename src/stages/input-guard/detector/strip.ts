/** Combining marks and invisible characters, removed from text before screening (G-7.2). */

// Invisible / format characters. \p{Cf} covers U+200B–U+200F, U+2060–U+2064, U+FEFF, U+00AD,
// the bidi controls U+202A–U+202E and U+2066–U+2069, U+180E and the tag block; the others are
// invisible fillers that are not Cf.
export const INVISIBLE = /[\p{Cf}\u034F\u115F\u1160\u17B4\u17B5\u3164\uFFA0\uFE00-\uFE0F]|\uDB40[\uDD00-\uDDEF]/gu;
export const MARKS = /\p{M}+/gu;

// Which BMP code units the two regexes remove (1), built once from the regexes themselves, so a
// text of any script is stripped in one pass over its characters rather than two Unicode regex
// scans (these dominate the normalization of non-Latin text). Surrogate pairs ask the regexes.
const STRIP_BMP = ((): Uint8Array => {
  const t = new Uint8Array(0x10000);
  const one = (re: RegExp) => new RegExp(`^(?:${re.source})$`, 'u');
  const mark = one(MARKS);
  const invisible = one(INVISIBLE);
  for (let c = 0; c < 0x10000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCharCode(c);
    if (mark.test(ch) || invisible.test(ch)) t[c] = 1;
  }
  return t;
})();
const ASTRAL_STRIP = new RegExp(`^(?:${MARKS.source}|${INVISIBLE.source})$`, 'u');

/** `d.replace(MARKS, '').replace(INVISIBLE, '')` in one pass (removing a mark never makes an invisible). */
export function stripMarksAndInvisible(d: string): string {
  let out: string | undefined;
  let from = 0;
  for (let i = 0; i < d.length; i++) {
    const c = d.charCodeAt(i);
    let width = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < d.length) {
      const lo = d.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) width = 2;
    }
    const drop = width === 2 ? ASTRAL_STRIP.test(d.slice(i, i + 2)) : STRIP_BMP[c] === 1;
    if (drop) {
      out = (out ?? '') + d.slice(from, i);
      from = i + width;
    }
    if (width === 2) i++;
  }
  return out === undefined ? d : out + d.slice(from);
}
