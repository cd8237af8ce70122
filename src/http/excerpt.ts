/**
 * Client input quoted in reject details ends up in logs, events and sometimes response
 * bodies. Capping it keeps an attacker from using our own logs as a storage or injection
 * channel, and escaping keeps control characters (CR/LF in particular) from forging log lines.
 */
export const MAX_ECHOED_INPUT_CHARS = 40;

/**
 * At most {@link MAX_ECHOED_INPUT_CHARS} characters of `input`, JSON-quoted so that control,
 * non-ASCII and quote characters come out as escapes. Longer input is marked with `…`
 * outside the quotes, so the marker can never be mistaken for client bytes.
 */
export function excerpt(input: string): string {
  // Slice by code units, then drop a dangling high surrogate so the escape stays well-formed.
  let head = input.slice(0, MAX_ECHOED_INPUT_CHARS);
  const last = head.charCodeAt(head.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1);
  const quoted = JSON.stringify(head).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return input.length > head.length ? `${quoted}…` : quoted;
}

/** A single character, shown as its code so the detail never carries the raw byte. */
export function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
