import RE2 from 're2';

/**
 * Regexes taken from config run on RE2 (the `re2` binding, built from source at install), the
 * engine Envoy's `safe_regex` uses: it never backtracks, so matching is linear in the input for
 * every pattern, whatever the pattern or the machine. What RE2 cannot run in linear time
 * (backreferences, lookahead and lookbehind, atomic groups, possessive quantifiers) it does not
 * accept, and such a pattern is a config error rather than a slow path.
 *
 * Syntax is RE2's (close to Perl and JavaScript): inline flags `(?i)`, `(?s)`, `(?m)` and mixes
 * such as `(?is)` are native, anywhere in the pattern. Patterns always match as Unicode.
 */
export type UserRegex = Pick<RegExp, 'test' | 'source'>;

/** Longest accepted pattern: RE2 bounds its compiled program too, but a short cap reads better. */
export const MAX_USER_REGEX_CHARS = 1000;

export function compileUserRegex(pattern: string): UserRegex {
  return new RE2(pattern, 'u');
}

/** Why RE2 refuses a pattern, in the words a config author needs; undefined when it compiles. */
export function userRegexError(pattern: string): string | undefined {
  if (pattern.length > MAX_USER_REGEX_CHARS) return `regex longer than ${MAX_USER_REGEX_CHARS} characters`;
  try {
    compileUserRegex(pattern);
    return undefined;
  } catch (err) {
    return `${unsupportedReason(pattern) ?? 'not a valid regex'} (config regexes run on RE2, a linear-time engine; ${(err as Error).message})`;
  }
}

function unsupportedReason(pattern: string): string | undefined {
  // Strip escaped characters first so `\(?=` (a literal parenthesis) is not read as a lookahead.
  const bare = pattern.replace(/\\[^1-9k]/g, '__');
  if (/\(\?<?[=!]/.test(bare)) return 'lookahead and lookbehind are not supported';
  if (/\\[1-9]|\\k</.test(bare)) return 'backreferences are not supported';
  if (/\(\?>/.test(bare)) return 'atomic groups are not supported';
  if (/[*+?}]\+/.test(bare)) return 'possessive quantifiers are not supported';
  return undefined;
}
