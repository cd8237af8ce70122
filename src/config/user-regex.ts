/**
 * Patterns from the config are JavaScript regular expressions, matched with the `u` flag. A
 * leading inline flag group — `(?i)`, `(?s)`, `(?m)` or a mix such as `(?is)` — is accepted as
 * in PCRE, Go or Python, where most people write their patterns first, and becomes the
 * matching JavaScript flag (JavaScript itself rejects the syntax with "Invalid group").
 */
const INLINE_FLAGS = /^\(\?([ims]+)\)/;

export function userRegexParts(pattern: string): { source: string; flags: string } {
  const m = INLINE_FLAGS.exec(pattern);
  if (!m) return { source: pattern, flags: 'u' };
  return { source: pattern.slice(m[0].length), flags: `u${[...new Set(m[1] as string)].sort().join('')}` };
}

export function compileUserRegex(pattern: string): RegExp {
  const { source, flags } = userRegexParts(pattern);
  return new RegExp(source, flags);
}
