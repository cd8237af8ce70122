/**
 * Secrets that start with a fixed literal (`sk-`, `ghp_`, `AKIA`, `eyJ`, `-----BEGIN `): found in
 * one pass by a single alternation of all selected prefixes, then matched with a sticky regex at
 * that offset.
 */
import { distinct, jwtHeader, tokenLike } from './checks.js';
import type { Hit, PrefixRecognizer } from './secret-types.js';
import { isAlnum } from './text.js';

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
