/**
 * A request path folded to a template: segments that identify a thing rather than name an
 * endpoint become `{id}` — numbers, UUIDs, hex strings of 8+ characters, and long opaque tokens
 * (16+ characters mixing letters and digits, or base64url-like). `/v1/users/42/files/9f8e7d6c5b4a`
 * becomes `/v1/users/{id}/files/{id}`. Bounded: at most 16 segments of at most 64 characters are
 * kept (the rest is folded into `{rest}`), so a client cannot fill the inventory with one path each.
 */
export function pathTemplate(path: string): string {
  const q = path.indexOf('?');
  const p = q >= 0 ? path.slice(0, q) : path;
  const segments = p.split('/').slice(1);
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    if (i >= 16) {
      out.push('{rest}');
      break;
    }
    out.push(foldSegment(segments[i] as string));
  }
  return `/${out.join('/')}`;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const NUMBER = /^\d+$/;
const HEX = /^(?:0x)?[0-9a-f]{8,}$/i;
const OPAQUE = /^[A-Za-z0-9_=.~%-]{16,}$/;

export function foldSegment(s: string): string {
  if (s === '') return '';
  if (NUMBER.test(s) || UUID.test(s) || HEX.test(s)) return '{id}';
  if (s.length > 64) return '{id}';
  // Long tokens mixing letters and digits (ids, hashes, keys), not long words such as
  // "completions" or "fine-tuning".
  if (OPAQUE.test(s) && /\d/.test(s) && /[A-Za-z]/.test(s)) return '{id}';
  return s;
}
