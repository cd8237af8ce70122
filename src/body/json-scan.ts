import { BODY_OK, echo, rejectBody, type BodyCheckFailure, type BodyCheckResult } from './body-result.js';
import {
  TAB, LF, CR, SPACE, QUOTE, PLUS, COMMA, MINUS, DOT, SLASH, DIGIT_0, DIGIT_1, DIGIT_9, COLON,
  UPPER_E, LBRACKET, BACKSLASH, RBRACKET, LOWER_B, LOWER_E, LOWER_F, LOWER_N, LOWER_R, LOWER_T,
  LOWER_U, LBRACE, RBRACE, HIGH_SURROGATE_MIN, HIGH_SURROGATE_MAX, LOW_SURROGATE_MIN,
  LOW_SURROGATE_MAX, hex4, hexUnit, describeChar
} from './json-chars.js';

export type JsonScanOptions = {
  /** Most containers (objects + arrays) that may be open at once; `{}` is depth 1. */
  maxDepth: number;
};


/**
 * One open object. Arrays need no state beyond "an array is open", so they are pushed as `null`
 * and cost no allocation; deep array bombs therefore stay cheap to refuse.
 */
type ObjectFrame = {
  /**
   * Decoded keys seen so far, so `"a"` and `"\u0061"` collide as they will after parsing. Most
   * request objects have a handful of keys, where a linear scan beats creating and hashing
   * into a Set; past SMALL_OBJECT_KEYS the Set takes over to keep the scan O(n).
   */
  keys: string[];
  keySet: Set<string> | null;
  /** This object is the value of a `constructor` key, so a `prototype` key here is forbidden. */
  isConstructorValue: boolean;
};
type Frame = ObjectFrame | null;

const SMALL_OBJECT_KEYS = 12;

const SHORT_RUN = 16;
/**
 * A run of string characters needing no attention: not a quote, backslash, control character
 * or surrogate half. No `u` flag, so the class matches UTF-16 code units and stops at every
 * surrogate, which the slow path then checks for pairing. Sticky, so it only ever matches at
 * `lastIndex`; `*` means it always succeeds and only the new `lastIndex` matters.
 */
const PLAIN_RUN = /[^"\\\u0000-\u001f\ud800-\udfff]*/y;

/** Record `key` in `frame`; false when the object already has it. */
function addKey(frame: ObjectFrame, key: string): boolean {
  const set = frame.keySet;
  if (set !== null) {
    if (set.has(key)) return false;
    set.add(key);
    return true;
  }
  const keys = frame.keys;
  for (let i = 0; i < keys.length; i++) if (keys[i] === key) return false;
  if (keys.length < SMALL_OBJECT_KEYS) {
    keys.push(key);
  } else {
    frame.keySet = new Set(keys).add(key);
    frame.keys = [];
  }
  return true;
}

/**
 * Validate `text` as strict RFC 8259 JSON plus the gateway's extra rules, in one pass and
 * without recursion.
 *
 * `JSON.parse` cannot be used for this: it silently keeps the last of duplicate keys (so the
 * gateway could screen one value while an upstream parser that keeps the first acts on
 * another), it accepts lone surrogates, and it reports no depth. Recursion is avoided so that
 * a 50,000-deep body costs a short loop, not a stack overflow. Every check happens before any
 * value is built, so a refused body costs at most its key strings and one small frame per
 * open object.
 */
export function scanJson(text: string, options: JsonScanOptions): BodyCheckResult {
  const { maxDepth } = options;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) {
    throw new RangeError(`scanJson: maxDepth must be a non-negative integer, got ${String(maxDepth)}`);
  }
  return new Scanner(text, maxDepth).run();
}

class Scanner {
  private pos = 0;
  private failure: BodyCheckFailure | null = null;
  /** Set by `scanString`: whether the string just scanned contained any backslash escape. */
  private sawEscape = false;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  run(): BodyCheckResult {
    const text = this.text;
    const n = text.length;
    const stack: Frame[] = [];
    // The value about to be scanned belongs to a `constructor` key.
    let valueOfConstructor = false;

    if (n === 0) return rejectBody('invalid_json', 'body is empty');

    value: for (;;) {
      this.skipWhitespace();
      if (this.pos >= n) return this.fail('invalid_json', 'unexpected end of input, expected a value');
      const c = text.charCodeAt(this.pos);

      if (c === LBRACE || c === LBRACKET) {
        if (stack.length >= this.maxDepth) {
          return this.fail('too_deep', `nesting is deeper than the limit of ${this.maxDepth}`);
        }
        this.pos++;
        if (c === LBRACE) {
          const frame: ObjectFrame = { keys: [], keySet: null, isConstructorValue: valueOfConstructor };
          stack.push(frame);
          this.skipWhitespace();
          if (text.charCodeAt(this.pos) === RBRACE) {
            this.pos++;
            stack.pop();
          } else {
            const key = this.scanKey(frame);
            if (key === null) return this.failed();
            valueOfConstructor = key === 'constructor';
            continue value;
          }
        } else {
          stack.push(null);
          valueOfConstructor = false;
          this.skipWhitespace();
          if (text.charCodeAt(this.pos) === RBRACKET) {
            this.pos++;
            stack.pop();
          } else {
            continue value;
          }
        }
      } else {
        valueOfConstructor = false;
        if (c === QUOTE) {
          if (!this.scanString()) return this.failed();
        } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
          if (!this.scanNumber()) return this.failed();
        } else if (c === LOWER_T && text.startsWith('true', this.pos)) {
          this.pos += 4;
        } else if (c === LOWER_F && text.startsWith('false', this.pos)) {
          this.pos += 5;
        } else if (c === LOWER_N && text.startsWith('null', this.pos)) {
          this.pos += 4;
        } else {
          return this.fail('invalid_json', `unexpected ${describeChar(c)}, expected a value`);
        }
      }

      // A value just ended: close containers until one needs another member, or finish.
      for (;;) {
        this.skipWhitespace();
        const top = stack.length - 1;
        if (top < 0) {
          if (this.pos !== n) return this.fail('invalid_json', 'unexpected data after the JSON value');
          return BODY_OK;
        }
        const frame = stack[top] ?? null;
        if (this.pos >= n) {
          return this.fail('invalid_json', `unexpected end of input, expected ',' or '${frame === null ? ']' : '}'}'`);
        }
        const d = text.charCodeAt(this.pos);
        if (frame === null) {
          if (d === COMMA) {
            this.pos++;
            continue value;
          }
          if (d !== RBRACKET) return this.fail('invalid_json', `unexpected ${describeChar(d)}, expected ',' or ']'`);
        } else {
          if (d === COMMA) {
            this.pos++;
            this.skipWhitespace();
            const key = this.scanKey(frame);
            if (key === null) return this.failed();
            valueOfConstructor = key === 'constructor';
            continue value;
          }
          if (d !== RBRACE) return this.fail('invalid_json', `unexpected ${describeChar(d)}, expected ',' or '}'`);
        }
        this.pos++;
        stack.pop();
      }
    }
  }

  /**
   * Scan `"key":` at the cursor and apply the per-object key rules. Returns the decoded key, or
   * null after recording a failure.
   */
  private scanKey(frame: ObjectFrame): string | null {
    const text = this.text;
    const start = this.pos;
    const c = text.charCodeAt(start);
    if (c !== QUOTE) {
      this.fail('invalid_json', `unexpected ${describeChar(c)}, expected a double-quoted key`);
      return null;
    }
    if (!this.scanString()) return null;
    const end = this.pos;
    let key: string;
    if (this.sawEscape) {
      // The literal was fully validated above (escapes, surrogate pairs), so the native decoder
      // gives exactly the string JSON.parse / secure-json-parse will use as the property name.
      const decoded: unknown = JSON.parse(text.slice(start, end));
      key = typeof decoded === 'string' ? decoded : '';
    } else {
      key = text.slice(start + 1, end - 1);
    }
    // Report key problems at the key, not after it.
    if (key === '__proto__') {
      this.pos = start;
      this.fail('forbidden_key', 'key "__proto__" is not allowed');
      return null;
    }
    if (key === 'prototype' && frame.isConstructorValue) {
      this.pos = start;
      this.fail('forbidden_key', 'key "constructor" with a "prototype" member is not allowed');
      return null;
    }
    if (!addKey(frame, key)) {
      this.pos = start;
      this.fail('duplicate_key', `duplicate key ${echo(key)}`);
      return null;
    }
    this.skipWhitespace();
    const colon = text.charCodeAt(this.pos);
    if (colon !== COLON) {
      this.fail('invalid_json', `unexpected ${describeChar(colon)}, expected ':' after key`);
      return null;
    }
    this.pos++;
    return key;
  }

  /** Scan a string literal starting at the opening quote; leaves the cursor after the closing quote. */
  private scanString(): boolean {
    const text = this.text;
    const n = text.length;
    let p = this.pos + 1;
    this.sawEscape = false;
    for (;;) {
      let c = text.charCodeAt(p);
      // Short runs (keys, enum-like values) are cheapest char by char; long prose such as chat
      // messages is handed to the native regex engine, which skips plain text several times
      // faster than a charCodeAt loop.
      let budget = SHORT_RUN;
      while (c >= SPACE && c !== QUOTE && c !== BACKSLASH && (c < HIGH_SURROGATE_MIN || c > LOW_SURROGATE_MAX)) {
        if (--budget === 0) {
          PLAIN_RUN.lastIndex = p;
          PLAIN_RUN.test(text);
          p = PLAIN_RUN.lastIndex;
          c = text.charCodeAt(p);
          break;
        }
        c = text.charCodeAt(++p);
      }
      if (c === QUOTE) {
        this.pos = p + 1;
        return true;
      }
      if (p >= n) {
        this.pos = p;
        return this.stop('invalid_json', 'unterminated string');
      }
      if (c === BACKSLASH) {
        this.sawEscape = true;
        const e = text.charCodeAt(p + 1);
        if (e === QUOTE || e === BACKSLASH || e === SLASH || e === LOWER_B || e === LOWER_F ||
            e === LOWER_N || e === LOWER_R || e === LOWER_T) {
          p += 2;
          continue;
        }
        if (e !== LOWER_U) {
          this.pos = p;
          return this.stop('invalid_json', `invalid escape: backslash followed by ${describeChar(e)}`);
        }
        const unit = hex4(text, p + 2);
        if (unit < 0) {
          this.pos = p;
          return this.stop('invalid_json', 'invalid \\u escape, expected four hex digits');
        }
        if (unit >= HIGH_SURROGATE_MIN && unit <= HIGH_SURROGATE_MAX) {
          // Only an escaped low surrogate may complete an escaped high one; mixing an escape with
          // a raw half is refused so every accepted string has one unambiguous spelling.
          const low = text.charCodeAt(p + 6) === BACKSLASH && text.charCodeAt(p + 7) === LOWER_U
            ? hex4(text, p + 8)
            : -1;
          if (low < LOW_SURROGATE_MIN || low > LOW_SURROGATE_MAX) {
            this.pos = p;
            return this.stop('lone_surrogate', `unpaired high surrogate escape \\u${hexUnit(unit)}`);
          }
          p += 12;
          continue;
        }
        if (unit >= LOW_SURROGATE_MIN && unit <= LOW_SURROGATE_MAX) {
          this.pos = p;
          return this.stop('lone_surrogate', `unpaired low surrogate escape \\u${hexUnit(unit)}`);
        }
        p += 6;
        continue;
      }
      if (c < SPACE) {
        this.pos = p;
        return this.stop('invalid_json', `raw control character U+${hexUnit(c)} in string; it must be escaped`);
      }
      // Raw surrogate: text from strict UTF-8 decoding cannot contain a lone one, but scanJson
      // may be handed any JS string.
      if (c <= HIGH_SURROGATE_MAX) {
        const next = text.charCodeAt(p + 1);
        if (next >= LOW_SURROGATE_MIN && next <= LOW_SURROGATE_MAX) {
          p += 2;
          continue;
        }
      }
      this.pos = p;
      return this.stop('lone_surrogate', `unpaired surrogate U+${hexUnit(c)} in string`);
    }
  }

  /** Scan an RFC 8259 number; anything after it is judged by the caller's delimiter check. */
  private scanNumber(): boolean {
    const text = this.text;
    let p = this.pos;
    if (text.charCodeAt(p) === MINUS) p++;
    let c = text.charCodeAt(p);
    if (c === DIGIT_0) {
      p++;
      c = text.charCodeAt(p);
      if (c >= DIGIT_0 && c <= DIGIT_9) {
        this.pos = p - 1;
        return this.stop('invalid_json', 'numbers must not have leading zeros');
      }
    } else if (c >= DIGIT_1 && c <= DIGIT_9) {
      do c = text.charCodeAt(++p); while (c >= DIGIT_0 && c <= DIGIT_9);
    } else {
      this.pos = p;
      return this.stop('invalid_json', `unexpected ${describeChar(c)}, expected a digit`);
    }
    if (c === DOT) {
      c = text.charCodeAt(++p);
      if (!(c >= DIGIT_0 && c <= DIGIT_9)) {
        this.pos = p;
        return this.stop('invalid_json', 'expected a digit after the decimal point');
      }
      do c = text.charCodeAt(++p); while (c >= DIGIT_0 && c <= DIGIT_9);
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = text.charCodeAt(++p);
      if (c === PLUS || c === MINUS) c = text.charCodeAt(++p);
      if (!(c >= DIGIT_0 && c <= DIGIT_9)) {
        this.pos = p;
        return this.stop('invalid_json', 'expected a digit in the exponent');
      }
      do c = text.charCodeAt(++p); while (c >= DIGIT_0 && c <= DIGIT_9);
    }
    this.pos = p;
    return true;
  }

  private skipWhitespace(): void {
    const text = this.text;
    let p = this.pos;
    for (;;) {
      const c = text.charCodeAt(p);
      if (c === SPACE || c === LF || c === CR || c === TAB) p++;
      else break;
    }
    this.pos = p;
  }

  private fail(reason: BodyCheckFailure['reason'], message: string): BodyCheckFailure {
    const failure = rejectBody(reason, `${message} at character ${this.pos}`);
    this.failure = failure;
    return failure;
  }

  /** Record a failure from a boolean-returning helper. */
  private stop(reason: BodyCheckFailure['reason'], message: string): false {
    this.fail(reason, message);
    return false;
  }

  private failed(): BodyCheckFailure {
    // Only reachable after a helper returned false, which always records a failure first.
    return this.failure ?? rejectBody('invalid_json', `invalid JSON at character ${this.pos}`);
  }
}

/** Value of four hex digits at `at`, or -1. */
