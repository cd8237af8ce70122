/**
 * Recognizers of secrets and PII for output redaction (SECURITY-RULES G-8).
 *
 * `compileRecognizers(['secrets', 'pii.email'])` compiles the selected classes once; `find(text)`
 * returns the matches in `text` (sorted, non-overlapping, UTF-16 offsets). `find` sees through
 * invisible characters put between the characters of a secret (the finding covers the whole
 * obfuscated span of the original text) and through base64 / hex encodings of a secret (the
 * finding covers the encoded run, label `encoded_<label>`).
 *
 * For streams: `maxSpan` is the longest text a bounded recognizer needs to see for one match,
 * `isTokenChar` tells which characters can continue a secret-like run (hold back a trailing run of
 * them), and `openPrefix(text)` says where a secret that may still be growing starts (an
 * unterminated PEM block, a trailing `sk-…` / `eyJ…` / `AKIA…`, `password: ` without its value
 * yet, a card number cut after a group).
 */
import { decodeBase64Printable, decodeHexPrintable } from './checks.js';
import { PII_MAX_LEN, emails, ipv6s, numericPii, type NumericSelection } from './pii.js';
import {
  AWS_SECRET_MAX_LEN,
  GENERIC_MAX_LEN,
  PREFIX_RECOGNIZERS,
  awsSecretIn,
  base64Blocks,
  genericSecrets,
  openGenericName,
  pemBodyIn,
  type Block,
  type PrefixRecognizer,
} from './secrets.js';
import { HEX, LOCAL, cc, isAlnum, isDigit, isTokenChar, toOriginal, viewOf } from './text.js';
import type { Finding, RawFinding, Sink } from './types.js';
import { openNumber, pemOpen } from './open-ends.js';

export type { Finding } from './types.js';
export { isTokenChar } from './text.js';

export interface Recognizers {
  /** Matches in `text`: sorted by start, non-overlapping (overlaps are merged, the longest names them). */
  find(text: string): Finding[];
  /**
   * Longest text any selected bounded recognizer needs for one match (the match and the context
   * it reads, such as `password: ` or an SSN cue), in chars. PEM blocks, JWTs and encoded runs are
   * open-ended and not counted: they consist of token characters or are covered by `openPrefix`.
   */
  readonly maxSpan: number;
  /** `openPrefix` for the selected classes only. */
  openPrefix(text: string): number | undefined;
}

const SECRET_CLASSES = [
  'secrets.openai', 'secrets.anthropic', 'secrets.github', 'secrets.aws', 'secrets.slack', 'secrets.stripe',
  'secrets.google', 'secrets.pem', 'secrets.jwt', 'secrets.bulwark', 'secrets.generic',
] as const;
const PII_CLASSES = ['pii.email', 'pii.phone', 'pii.ssn', 'pii.card', 'pii.iban', 'pii.ip'] as const;

/** Every selectable class name: the groups `secrets` and `pii`, and their sub-classes. */
export const RECOGNIZER_CLASSES: readonly string[] = Object.freeze(['secrets', 'pii', ...SECRET_CLASSES, ...PII_CLASSES]);

const SUBCLASSES: ReadonlySet<string> = new Set<string>([...SECRET_CLASSES, ...PII_CLASSES]);

// Tie-break ranks (lower wins on equal spans): prefix recognizers in their order, then these.
const RANK_AWS_SECRET = 20;
const RANK_GENERIC = 30;
const RANK_PII = 40;

/** Compiles the selected classes. Throws on an unknown class name. */
export function compileRecognizers(selection: readonly string[]): Recognizers {
  const selected = new Set<string>();
  for (const name of selection) {
    if (name === 'secrets') for (const c of SECRET_CLASSES) selected.add(c);
    else if (name === 'pii') for (const c of PII_CLASSES) selected.add(c);
    else if (SUBCLASSES.has(name)) selected.add(name);
    else throw new Error(`unknown recognizer class "${name}" (known: ${RECOGNIZER_CLASSES.join(', ')})`);
  }
  return new Engine(selected);
}

let all: Recognizers | undefined;

/**
 * Where a secret that may still be growing starts when `text` ends inside it: an unterminated PEM
 * block (or its BEGIN line), a trailing run of token characters with a secret's prefix in it (or
 * the start of one: `s`, `sk`, `AK`, `ey`), a secret-like name whose value has not arrived yet, a
 * number that can still become a card / phone number / SSN / IBAN, an e-mail address being
 * written. Undefined when the text ends in nothing of the kind. Offsets are into `text`.
 */
export function openPrefix(text: string): number | undefined {
  all ??= compileRecognizers(RECOGNIZER_CLASSES);
  return all.openPrefix(text);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

class Engine implements Recognizers {
  readonly maxSpan: number;
  readonly #prefixRe: RegExp | undefined;
  readonly #byPrefix = new Map<string, Array<{ rec: PrefixRecognizer; rank: number }>>();
  /** Proper prefixes of the literal starts, for a text that ends in one (`sk`, `AKI`, `eyJhb`…). */
  readonly #partials = new Set<string>();
  readonly #longestPrefix: number;
  readonly #awsSecret: boolean;
  readonly #pemBody: boolean;
  readonly #generic: boolean;
  readonly #encoded: boolean;
  readonly #numeric: NumericSelection;
  readonly #anyNumeric: boolean;
  readonly #email: boolean;
  readonly #ip: boolean;
  readonly #any: boolean;

  constructor(sel: ReadonlySet<string>) {
    const spans: number[] = [0];
    const prefixes: string[] = [];
    PREFIX_RECOGNIZERS.forEach((rec, rank) => {
      if (!sel.has(rec.cls)) return;
      if (Number.isFinite(rec.maxLen)) spans.push(rec.maxLen);
      for (const p of rec.prefixes) {
        const list = this.#byPrefix.get(p);
        if (list) list.push({ rec, rank });
        else {
          this.#byPrefix.set(p, [{ rec, rank }]);
          prefixes.push(p);
        }
        for (let k = 1; k < p.length; k++) this.#partials.add(p.slice(0, k));
      }
    });
    // Longest first, so `sk-ant-` wins over `sk-` at the same offset.
    prefixes.sort((a, b) => b.length - a.length);
    this.#prefixRe = prefixes.length ? new RegExp(prefixes.map(escapeRe).join('|'), 'g') : undefined;
    this.#longestPrefix = prefixes.reduce((m, p) => Math.max(m, p.length), 0);
    this.#awsSecret = sel.has('secrets.aws');
    this.#pemBody = sel.has('secrets.pem');
    this.#generic = sel.has('secrets.generic');
    this.#encoded = SECRET_CLASSES.some((c) => sel.has(c));
    this.#numeric = { card: sel.has('pii.card'), ssn: sel.has('pii.ssn'), phone: sel.has('pii.phone'), ipv4: sel.has('pii.ip'), iban: sel.has('pii.iban') };
    this.#anyNumeric = Object.values(this.#numeric).some(Boolean);
    this.#email = sel.has('pii.email');
    this.#ip = sel.has('pii.ip');
    this.#any = sel.size > 0;
    if (this.#awsSecret) spans.push(AWS_SECRET_MAX_LEN);
    if (this.#generic) spans.push(GENERIC_MAX_LEN);
    if (this.#email) spans.push(PII_MAX_LEN.email);
    if (this.#numeric.phone) spans.push(PII_MAX_LEN.phone);
    if (this.#numeric.ssn) spans.push(PII_MAX_LEN.ssn);
    if (this.#numeric.card) spans.push(PII_MAX_LEN.card);
    if (this.#numeric.iban) spans.push(PII_MAX_LEN.iban);
    if (this.#ip) spans.push(PII_MAX_LEN.ip);
    this.maxSpan = Math.max(...spans);
  }

  find(text: string): Finding[] {
    if (!this.#any || text.length === 0) return [];
    const view = viewOf(text);
    const raw: RawFinding[] = [];
    this.#scan(view.text, (start, end, cls, label, rank) => raw.push({ start, end, cls, label, rank }), true);
    if (raw.length === 0) return [];
    if (view.map) {
      for (const r of raw) [r.start, r.end] = toOriginal(view, r.start, r.end);
    }
    return merge(raw);
  }

  /** All selected recognizers over `t`; `top` is false inside decoded text (secrets only, no nesting). */
  #scan(t: string, sink: Sink, top: boolean): void {
    const re = this.#prefixRe;
    if (re) {
      re.lastIndex = 0;
      for (let m = re.exec(t); m; m = re.exec(t)) {
        const at = m.index;
        const before = isAlnum(t.charCodeAt(at - 1));
        for (const { rec, rank } of this.#byPrefix.get(m[0]) ?? []) {
          if (before && !rec.anyBefore) continue;
          const hit = rec.match(t, at);
          if (typeof hit === 'number') {
            if (hit > re.lastIndex) re.lastIndex = hit;
          } else if (hit) {
            sink(hit.start, hit.end, rec.cls, hit.label, rank);
            if (hit.end > re.lastIndex) re.lastIndex = hit.end;
            break;
          }
        }
      }
    }
    if (this.#generic) genericSecrets(t, (h) => sink(h.start, h.end, 'secrets.generic', h.label, RANK_GENERIC));
    if (top) {
      const pii = (start: number, end: number, cls: string, label: string) => sink(start, end, cls, label, RANK_PII);
      if (this.#anyNumeric) numericPii(t, this.#numeric, pii);
      if (this.#email) emails(t, pii);
      if (this.#ip) ipv6s(t, pii);
    }
    if (this.#awsSecret || this.#pemBody || (top && this.#encoded)) {
      for (const b of base64Blocks(t)) {
        if (this.#awsSecret) {
          const h = awsSecretIn(t, b);
          if (h) sink(h.start, h.end, 'secrets.aws', h.label, RANK_AWS_SECRET);
        }
        if (this.#pemBody) {
          const h = pemBodyIn(b);
          if (h) sink(h.start, h.end, 'secrets.pem', h.label, 0);
        }
        if (top && this.#encoded) this.#encodedIn(b, sink);
      }
    }
  }

  /** A base64 block, or a hex run in it, that decodes to text with a secret in it. */
  #encodedIn(b: Block, sink: Sink): void {
    let best: RawFinding | undefined;
    const inner: Sink = (start, end, cls, label, rank) => {
      if (!best || rank < best.rank) best = { start, end, cls, label, rank };
    };
    const s = b.chars;
    // A mix of the two alphabets (`/usr/local_lib`, `docs/getting-started`) is a path, not base64.
    const std = /[+/]/.test(s);
    if (!(std && /[-_]/.test(s))) {
      // Alignments 1–3 cover a base64 text with stray characters before it.
      for (let k = 0; k < 4 && s.length - k >= 20 && !best; k++) {
        const decoded = decodeBase64Printable(s, k, 16);
        if (decoded !== undefined) this.#scan(decoded, inner, false);
      }
    }
    if (!best && s.length >= 32) {
      for (let i = 0; i < s.length && !best; ) {
        if (!(cc(s.charCodeAt(i)) & HEX)) {
          i++;
          continue;
        }
        let e = i;
        while (e < s.length && cc(s.charCodeAt(e)) & HEX) e++;
        for (let k = 0; k < 2 && e - i - k >= 32 && !best; k++) {
          const decoded = decodeHexPrintable(s, i + k, e, 16);
          if (decoded !== undefined) this.#scan(decoded, inner, false);
        }
        i = e;
      }
    }
    const found = best as RawFinding | undefined;
    if (found) sink(b.start, b.end, found.cls, `encoded_${found.label}`, found.rank);
  }

  openPrefix(text: string): number | undefined {
    if (!this.#any || text.length === 0) return undefined;
    const view = viewOf(text);
    const t = view.text;
    const n = t.length;
    let best = n;

    // An unterminated PEM private-key block, or its BEGIN line being written.
    if (this.#pemBody) {
      const b = t.lastIndexOf('-----BEGIN');
      if (b !== -1 && pemOpen(t, b)) best = b;
    }

    // The trailing run of token characters.
    let r = n;
    while (r > 0 && isTokenChar(t.charCodeAt(r - 1))) r--;
    if (r < n) {
      const re = this.#prefixRe;
      if (re) {
        re.lastIndex = r;
        for (let m = re.exec(t); m && m.index < best; m = re.exec(t)) {
          if (m.index === r || !isAlnum(t.charCodeAt(m.index - 1)) || this.#byPrefix.get(m[0])?.some((x) => x.rec.anyBefore)) {
            best = m.index;
            break;
          }
          re.lastIndex = m.index + 1;
        }
        // The run ends in the beginning of a prefix.
        for (let p = Math.max(r, n - this.#longestPrefix + 1); p < Math.min(best, n); p++) {
          if ((p === r || !isAlnum(t.charCodeAt(p - 1))) && this.#partials.has(t.slice(p))) {
            best = p;
            break;
          }
        }
      }
      if (this.#email) {
        const at = t.lastIndexOf('@');
        if (at >= r) {
          let s = at;
          while (s > r && cc(t.charCodeAt(s - 1)) & LOCAL) s--;
          if (s < at) best = Math.min(best, s);
        }
      }
    }

    // `password: ` / `"api_key": "sk-pr` / `Authorization: Bearer ` at the end.
    if (this.#generic) {
      const g = openGenericName(t, Math.max(0, n - 320));
      if (g !== undefined) best = Math.min(best, g);
    }

    // A number that can still grow into a card, phone number, SSN or IBAN ("4111 1111 ").
    if (this.#anyNumeric) {
      const s = openNumber(t, this.#numeric.iban);
      if (s !== undefined) best = Math.min(best, s);
    }

    if (best >= n) return undefined;
    return view.map ? toOriginal(view, best, best + 1)[0] : best;
  }
}

/** Sorted, non-overlapping findings: overlapping ones merge into their union, named by the longest. */
function merge(raw: RawFinding[]): Finding[] {
  raw.sort((a, b) => a.start - b.start || b.end - a.end || a.rank - b.rank);
  const out: Finding[] = [];
  let cur = raw[0] as RawFinding;
  let name = cur;
  let end = cur.end;
  const flush = () => out.push({ start: cur.start, end, cls: name.cls, label: name.label });
  for (let i = 1; i < raw.length; i++) {
    const f = raw[i] as RawFinding;
    if (f.start < end) {
      const len = f.end - f.start;
      const bestLen = name.end - name.start;
      if (len > bestLen || (len === bestLen && f.rank < name.rank)) name = f;
      if (f.end > end) end = f.end;
      continue;
    }
    flush();
    cur = f;
    name = f;
    end = f.end;
  }
  flush();
  return out;
}
