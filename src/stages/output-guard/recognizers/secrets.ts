/**
 * Secret recognizers. Most secrets start with a fixed literal (`sk-`, `ghp_`, `AKIA`, `eyJ`,
 * `-----BEGIN `): those are `PrefixRecognizer`s, found in one pass by a single alternation of all
 * selected prefixes and then matched with a sticky regex at that offset. The others — AWS secret
 * access keys, generic `password: value` secrets, PEM bodies without their header — are found from
 * the runs of base64 characters or from `:` / `=` separators. Every regex is linear: one
 * quantifier per character class, no nesting.
 */
import { awsSecretLike, derPrivateKey, distinct, jwtHeader, secretValue, tokenLike } from './checks.js';
import { B64, IDENT, VALUE, cc, isAlnum } from './text.js';

export interface Hit {
  start: number;
  end: number;
  label: string;
}

export interface PrefixRecognizer {
  readonly cls: string;
  /** Longest match in realistic use, in chars; Infinity for open-ended tokens (PEM, JWT). */
  readonly maxLen: number;
  /** Literal starts; `text` at the offset given to `match` starts with one of them. */
  readonly prefixes: readonly string[];
  /** The character before the prefix may be a letter or digit (otherwise it may not). */
  readonly anyBefore?: boolean;
  /**
   * The match at `at`; or, when there is none, optionally the offset up to which this recognizer
   * already looked (the scan skips there, so a long run is never re-read from each of its offsets).
   */
  match(text: string, at: number): Hit | number | undefined;
}

function sticky(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  const m = re.exec(text);
  return m ? m[0] : undefined;
}

const OPENAI = /sk-[A-Za-z0-9_-]{20,}/y;
const OPENAI_SUB = /^(?:proj|svcacct|admin|None)-/;
const ANTHROPIC = /sk-ant-[A-Za-z0-9_-]{20,}/y;
const ANTHROPIC_SUB = /^[a-z]{2,8}[0-9]{2}-/;
const GITHUB = /gh[pousr]_[A-Za-z0-9]{36,}/y;
const GITHUB_PAT = /github_pat_[A-Za-z0-9_]{30,}/y;
const AWS_ID = /(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}/y;
const SLACK = /(?:xox[abprs]|xoxe(?:\.xox[bp])?|xapp)-[A-Za-z0-9-]{10,}/y;
const SLACK_HOOK = /hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{16,}/y;
const STRIPE = /(?:[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{24,})/y;
const GOOGLE = /AIza[0-9A-Za-z_-]{35,}/y;
const GOOGLE_OAUTH = /GOCSPX-[A-Za-z0-9_-]{24,}/y;
const BULWARK = /bwk_[a-z2-7]{12}_[A-Za-z0-9]{32,}/y;
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/y;
const JWE_TAIL = /\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/y;
const B64URL_RUN = /[A-Za-z0-9_-]*/y;
const PEM_LABEL = /^[A-Z0-9 ]+$/;

export const openai: PrefixRecognizer = {
  cls: 'secrets.openai',
  maxLen: 220,
  prefixes: ['sk-'],
  match(t, at) {
    const m = sticky(OPENAI, t, at);
    if (!m) return undefined;
    if (m.startsWith('sk-ant-')) return at + 3;
    let body = m.slice(3);
    const sub = OPENAI_SUB.exec(body);
    if (sub) body = body.slice(sub[0].length);
    return tokenLike(body, 20) ? { start: at, end: at + m.length, label: 'openai_api_key' } : at + m.length;
  },
};

export const anthropic: PrefixRecognizer = {
  cls: 'secrets.anthropic',
  maxLen: 130,
  prefixes: ['sk-ant-'],
  match(t, at) {
    const m = sticky(ANTHROPIC, t, at);
    if (!m) return undefined;
    let body = m.slice(7);
    const sub = ANTHROPIC_SUB.exec(body);
    if (sub) body = body.slice(sub[0].length);
    return tokenLike(body, 20) ? { start: at, end: at + m.length, label: 'anthropic_api_key' } : at + m.length;
  },
};

export const github: PrefixRecognizer = {
  cls: 'secrets.github',
  maxLen: 100,
  prefixes: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  match(t, at) {
    const pat = t.charCodeAt(at + 2) === 116; // 't' of github_pat_
    const m = sticky(pat ? GITHUB_PAT : GITHUB, t, at);
    if (!m) return undefined;
    return tokenLike(m.slice(pat ? 11 : 4), 30) ? { start: at, end: at + m.length, label: 'github_token' } : at + m.length;
  },
};

export const awsAccessKey: PrefixRecognizer = {
  cls: 'secrets.aws',
  maxLen: 20,
  prefixes: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
  match(t, at) {
    const m = sticky(AWS_ID, t, at);
    if (!m || isAlnum(t.charCodeAt(at + 20))) return undefined;
    // Sixteen random characters; not a run of repeated letters or a placeholder.
    return distinct(m.slice(4)) >= 6 ? { start: at, end: at + 20, label: 'aws_access_key' } : undefined;
  },
};

export const slack: PrefixRecognizer = {
  cls: 'secrets.slack',
  maxLen: 200,
  prefixes: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxr-', 'xoxs-', 'xoxe-', 'xoxe.', 'xapp-', 'hooks.slack.com/'],
  match(t, at) {
    if (t.charCodeAt(at) === 104) {
      // hooks.slack.com/services/T…/B…/…: include the scheme when it is there.
      const m = sticky(SLACK_HOOK, t, at);
      if (!m) return undefined;
      let start = at;
      if (t.startsWith('https://', at - 8)) start = at - 8;
      else if (t.startsWith('http://', at - 7)) start = at - 7;
      return { start, end: at + m.length, label: 'slack_webhook' };
    }
    const m = sticky(SLACK, t, at);
    if (!m) return undefined;
    const body = m.slice(m.indexOf('-', 4) + 1).replace(/-/g, '');
    return tokenLike(body, 10) ? { start: at, end: at + m.length, label: 'slack_token' } : at + m.length;
  },
};

export const stripe: PrefixRecognizer = {
  cls: 'secrets.stripe',
  maxLen: 120,
  prefixes: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_', 'whsec_'],
  match(t, at) {
    const m = sticky(STRIPE, t, at);
    if (!m) return undefined;
    return tokenLike(m.slice(m.lastIndexOf('_') + 1), 16) ? { start: at, end: at + m.length, label: 'stripe_key' } : at + m.length;
  },
};

export const google: PrefixRecognizer = {
  cls: 'secrets.google',
  maxLen: 80,
  prefixes: ['AIza', 'GOCSPX-'],
  match(t, at) {
    const oauth = t.charCodeAt(at + 1) === 79; // 'O' of GOCSPX-
    const m = sticky(oauth ? GOOGLE_OAUTH : GOOGLE, t, at);
    if (!m) return undefined;
    if (!tokenLike(m.slice(oauth ? 7 : 4), 20)) return at + m.length;
    return { start: at, end: at + m.length, label: oauth ? 'google_oauth_secret' : 'google_api_key' };
  },
};

/**
 * Bulwark's own API keys, `bwk_<12 base32 id>_<32 base62 secret><6 base62 checksum>` (see
 * src/stages/auth/api-key-format.ts). The shape alone is specific enough; the checksum is not
 * required, so a truncated or corrupted key (whose secret part is still real) is redacted too.
 */
export const bulwark: PrefixRecognizer = {
  cls: 'secrets.bulwark',
  maxLen: 60,
  prefixes: ['bwk_'],
  match(t, at) {
    const m = sticky(BULWARK, t, at);
    return m ? { start: at, end: at + m.length, label: 'bulwark_api_key' } : undefined;
  },
};

/** JWS (three base64url segments) and JWE (five), the first decoding to a JSON header with `alg`. */
export const jwt: PrefixRecognizer = {
  cls: 'secrets.jwt',
  maxLen: Infinity,
  prefixes: ['eyJ'],
  match(t, at) {
    // The header segment first: without a dot after it, skip the whole run.
    const head = sticky(B64URL_RUN, t, at) as string;
    if (t.charCodeAt(at + head.length) !== 46) return at + head.length;
    const m = sticky(JWT, t, at);
    if (!m) return at + head.length;
    const dot = head.length;
    if (m.length - dot < 8 || !jwtHeader(head)) return at + m.length;
    let end = at + m.length;
    const more = sticky(JWE_TAIL, t, end);
    if (more) end += more.length;
    return { start: at, end, label: 'jwt' };
  },
};

/**
 * `-----BEGIN … PRIVATE KEY-----` through the matching `-----END …-----` line; without an END
 * line in the text, through the end of the text (the stream redactor holds such a block back; a
 * final one is redacted whole). A BEGIN line still being written is `openPrefix`'s business.
 */
export const pem: PrefixRecognizer = {
  cls: 'secrets.pem',
  maxLen: Infinity,
  prefixes: ['-----BEGIN '],
  anyBefore: true,
  match(t, at) {
    const close = t.indexOf('-----', at + 11);
    if (close === -1 || close - at > 80) return undefined;
    const label = t.slice(at + 11, close);
    if (!PEM_LABEL.test(label) || !(label.endsWith('PRIVATE KEY') || label.endsWith('PRIVATE KEY BLOCK'))) return close;
    let end = t.length;
    const e = t.indexOf('-----END ', close + 5);
    if (e !== -1) {
      const c2 = t.indexOf('-----', e + 9);
      if (c2 !== -1 && c2 - e <= 80) end = c2 + 5;
    }
    return { start: at, end, label: 'private_key' };
  },
};

/** Every prefix recognizer, most specific first (the order breaks ties on equal spans). */
export const PREFIX_RECOGNIZERS: readonly PrefixRecognizer[] = [pem, jwt, bulwark, anthropic, openai, github, awsAccessKey, slack, stripe, google];

// ---------------------------------------------------------------------------------------------
// Runs of base64 characters: AWS secret access keys, PEM bodies without their header, encodings.

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

// ---------------------------------------------------------------------------------------------
// Generic secrets after a secret-like name.

/** Secret-like names (matched anywhere in the identifier before `:` / `=`). */
const SECRET_NAME =
  /passw(?:or)?d|passphrase|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|auth[_.-]?key|signing[_.-]?key|session[_.-]?key|encryption[_.-]?key|master[_.-]?key|credential|authorization|(?:^|[_.-])pass(?:$|[_.-])|(?:^|[_.-])pwd$/i;
const SEPARATOR = /[:=]/g;
const BEARER = /bearer[ \t]+/gi;
const SCHEME = /(?:bearer|basic|token|bot)[ \t]+/iy;
/** Longest name looked at before a separator; `GENERIC_VALUE_MAX` is the value length counted in `maxSpan`. */
const NAME_MAX = 40;
const GENERIC_VALUE_MAX = 200;
/** Longest value read after one name (bounds the work per separator). */
const VALUE_SCAN_MAX = 512;
export const GENERIC_MAX_LEN = NAME_MAX + 16 + GENERIC_VALUE_MAX;

function isQuote(c: number): boolean {
  return c === 34 || c === 39 || c === 96;
}

/** The value starting at `v` (after the separator): spaces, a quote and an auth scheme skipped. */
function valueAt(t: string, v: number): Hit | undefined {
  let i = v;
  let k = 0;
  while (k < 4 && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9)) {
    i++;
    k++;
  }
  if (isQuote(t.charCodeAt(i))) i++;
  SCHEME.lastIndex = i;
  if (SCHEME.exec(t)) i = SCHEME.lastIndex;
  const start = i;
  while (i < t.length && i - start < VALUE_SCAN_MAX && cc(t.charCodeAt(i)) & VALUE) i++;
  while (i > start && t.charCodeAt(i - 1) === 46) i--; // a sentence's full stop
  if (i - start < 20 || !secretValue(t.slice(start, i))) return undefined;
  return { start, end: i, label: 'secret' };
}

/**
 * High-entropy values right after a secret-like name with `:` or `=` (and optional quotes and
 * spaces) between — `password=…`, `"client_secret": "…"`, `X-Api-Key: …`,
 * `Authorization: Bearer …` — and after `Bearer `.
 */
export function genericSecrets(t: string, push: (h: Hit) => void): void {
  SEPARATOR.lastIndex = 0;
  while (SEPARATOR.test(t)) {
    const sep = SEPARATOR.lastIndex - 1;
    let j = sep - 1;
    let k = 0;
    while (k < 3 && (t.charCodeAt(j) === 32 || t.charCodeAt(j) === 9)) {
      j--;
      k++;
    }
    if (isQuote(t.charCodeAt(j))) j--;
    const nameEnd = j + 1;
    while (j >= 0 && nameEnd - j <= NAME_MAX && cc(t.charCodeAt(j)) & IDENT) j--;
    if (nameEnd - (j + 1) < 3 || !SECRET_NAME.test(t.slice(j + 1, nameEnd))) continue;
    let v = sep + 1;
    const next = t.charCodeAt(v);
    if (next === 61 || next === 62) v++; // := => ==
    const hit = valueAt(t, v);
    if (hit) {
      push(hit);
      SEPARATOR.lastIndex = hit.end;
    }
  }
  BEARER.lastIndex = 0;
  for (let m = BEARER.exec(t); m; m = BEARER.exec(t)) {
    if (isAlnum(t.charCodeAt(m.index - 1))) continue;
    const hit = valueAt(t, m.index + m[0].length);
    if (hit) {
      push(hit);
      BEARER.lastIndex = hit.end;
    }
  }
}

const OPEN_NAME =
  /passw(?:or)?d|passphrase|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|auth[_.-]?key|signing[_.-]?key|session[_.-]?key|encryption[_.-]?key|master[_.-]?key|credential|authorization|bearer|pass|pwd/gi;
const OPEN_CUE = /bearer|authorization/i;

/**
 * For `openPrefix`: where a secret-like name starts whose value may still be arriving at the end
 * of `t` (`password: `, `"api_key": "sk-pr`, `Authorization: Bearer `), looking from `from` on.
 */
export function openGenericName(t: string, from: number): number | undefined {
  OPEN_NAME.lastIndex = from;
  for (let m = OPEN_NAME.exec(t); m; m = OPEN_NAME.exec(t)) {
    // Walk forward: rest of the name, quote, spaces, separator, spaces, quote, scheme, value chars.
    let i = m.index + m[0].length;
    let k = 0;
    while (i < t.length && k < NAME_MAX && cc(t.charCodeAt(i)) & IDENT) {
      i++;
      k++;
    }
    let cue = OPEN_CUE.test(m[0]);
    if (isQuote(t.charCodeAt(i))) {
      i++;
      cue = true;
    }
    for (k = 0; k < 4 && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9); k++) i++;
    const c = t.charCodeAt(i);
    if (c === 58 || c === 61) {
      i++;
      cue = true;
      const n = t.charCodeAt(i);
      if (n === 61 || n === 62) i++;
    }
    if (!cue) continue;
    for (k = 0; k < 4 && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9); k++) i++;
    if (isQuote(t.charCodeAt(i))) i++;
    SCHEME.lastIndex = i;
    if (SCHEME.exec(t)) i = SCHEME.lastIndex;
    while (i < t.length && cc(t.charCodeAt(i)) & VALUE) i++;
    if (i === t.length) {
      let s = m.index;
      while (s > from && cc(t.charCodeAt(s - 1)) & IDENT) s--;
      return s;
    }
  }
  return undefined;
}
