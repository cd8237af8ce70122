// Character codes and small helpers of the JSON scanner (json-scan.ts).

export const TAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SPACE = 0x20;
export const QUOTE = 0x22;
export const PLUS = 0x2b;
export const COMMA = 0x2c;
export const MINUS = 0x2d;
export const DOT = 0x2e;
export const SLASH = 0x2f;
export const DIGIT_0 = 0x30;
export const DIGIT_1 = 0x31;
export const DIGIT_9 = 0x39;
export const COLON = 0x3a;
export const UPPER_E = 0x45;
export const LBRACKET = 0x5b;
export const BACKSLASH = 0x5c;
export const RBRACKET = 0x5d;
export const LOWER_B = 0x62;
export const LOWER_E = 0x65;
export const LOWER_F = 0x66;
export const LOWER_N = 0x6e;
export const LOWER_R = 0x72;
export const LOWER_T = 0x74;
export const LOWER_U = 0x75;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;
export const HIGH_SURROGATE_MIN = 0xd800;
export const HIGH_SURROGATE_MAX = 0xdbff;
export const LOW_SURROGATE_MIN = 0xdc00;
export const LOW_SURROGATE_MAX = 0xdfff;

export function hex4(text: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 4; i++) {
    const c = text.charCodeAt(i);
    let d: number;
    if (c >= DIGIT_0 && c <= DIGIT_9) d = c - DIGIT_0;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else return -1;
    v = (v << 4) | d;
  }
  return v;
}

export function hexUnit(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}

/** Name one input character for a message without echoing anything that could forge output. */
export function describeChar(code: number): string {
  if (Number.isNaN(code)) return 'end of input';
  if (code === 0x27) return `"'"`;
  if (code > SPACE && code < 0x7f) return `'${String.fromCharCode(code)}'`;
  return `U+${hexUnit(code)}`;
}
