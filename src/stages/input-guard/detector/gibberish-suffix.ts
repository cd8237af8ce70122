/**
 * Adversarial suffixes (GCG-style token salad): scorers for the tail of the case-kept text, where
 * optimized suffixes are appended after a prose request.
 */

const ODD_SYMBOL = /[()[\]{}<>`|\\^~=$#%@*_;]/;
const CAMEL = /[a-z][A-Z]|[A-Z]{2,}[a-z]{2,}/;
const CAMEL_OK = /^(?:Mc|Mac|O'|i|e|Java|Git|You|Power|Post|Word|Linked|Face|Play|Net|Drop|Pay|Open|Share)[A-Z]/;
const EDGE_PUNCT = /^[("'`[]+|[)"'`\],.;:!?]+$/g;
const CODE_LIKE = /```|^\s{2,}\S|[;{]\s*$|\bdef |\bfunction |\bimport |\breturn |=>|\bconst |\bclass |\{\s*"|":\s*[[{"\d]/m;

function oddToken(t: string): boolean {
  const core = t.replace(EDGE_PUNCT, '');
  if (core.length === 0) return t.length >= 2 && /[^\p{L}\p{N}_\s.,!?'"-]{2,}/u.test(t);
  if (/[A-Za-z]/.test(core) && ODD_SYMBOL.test(core)) return true;
  if (CAMEL.test(core) && !CAMEL_OK.test(core)) return true;
  if (/[^\p{L}\p{N}_\s'",.!?-]{2,}/u.test(t) || /[)\]}]{2,}|[([{]{2,}/.test(t)) return true;
  return false;
}

/**
 * 0..1: how much the tail of the text looks like optimized adversarial token salad
 * (symbols glued inside words, camelCase fragments, bracket runs) after a prose request.
 * `text` must keep its case (use the Unicode-cleaned raw text, not the case-folded one).
 */
export function gibberishSuffix(text: string): number {
  if (text.length < 40) return 0;
  if (CODE_LIKE.test(text)) return 0;
  const tail = text.length > 600 ? text.slice(-600) : text;
  const toks = tail.split(/\s+/).filter((t) => t.length > 0).slice(-40);
  if (toks.length < 10) return 0;
  const odd = toks.map(oddToken);
  let best = 0;
  for (let i = 0; i + 10 <= odd.length; i++) {
    let c = 0;
    for (let j = i; j < i + 10; j++) if (odd[j]) c++;
    if (c > best) best = c;
  }
  let last20 = 0;
  for (let j = Math.max(0, odd.length - 20); j < odd.length; j++) if (odd[j]) last20++;
  return Math.min(1, Math.max(best / 10, last20 / 20));
}

const FUNCTION_WORDS = new Set(
  ('the a an of to in on for with and or but is are was were be been it this that these those you your i me my we our they ' +
    'their he she his her as at by from about into how what why when where which who can could would should will do does did ' +
    'not no so if then than there here all any some more most very just also please write give make tell explain')
    .split(' '),
);

/**
 * Statistics of the last ~24 whitespace tokens of the case-kept text (adversarial suffixes are
 * token salad): share of common function words, of tokens mixing letters with symbols or odd
 * capitalisation, and of bracket / quote / symbol characters.
 */
export function tailStats(text: string): { fn: number; odd: number; sym: number } {
  const tail = text.length > 400 ? text.slice(-400) : text;
  const toks = tail.split(/\s+/).filter((t) => t.length > 0).slice(-24);
  if (toks.length < 8) return { fn: 1, odd: 0, sym: 0 };
  let fn = 0;
  let odd = 0;
  let sym = 0;
  let chars = 0;
  for (const t of toks) {
    const w = t.toLowerCase().replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
    if (FUNCTION_WORDS.has(w)) fn++;
    if (/[a-z][^a-z\s'.,!?-]+[a-z]|[a-z][A-Z]|^[^A-Za-z0-9]{2,}$/.test(t)) odd++;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      chars++;
      if (c === 40 || c === 41 || c === 91 || c === 93 || c === 123 || c === 125 || c === 60 || c === 62 || c === 96 || c === 92 || c === 124 || c === 64 || c === 94 || c === 126 || c === 61) sym++;
    }
  }
  return { fn: fn / toks.length, odd: odd / toks.length, sym: chars > 0 ? sym / chars : 0 };
}
