import { BODY_OK, echo, rejectBody, type BodyCheckResult } from './body-result.js';

export type { BodyCheckResult } from './body-result.js';

// RFC 9110 token characters. Anything outside this set in a type, subtype or parameter is
// refused rather than interpreted, because lenient header parsers disagree about it.
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const MEDIA_TYPE_RE = new RegExp(`^(${TOKEN})/(${TOKEN})$`);
const PARAMETER_RE = new RegExp(`^(${TOKEN})=(${TOKEN})$`);
// RFC 9110 OWS is only SP and HTAB; String.prototype.trim would also eat other Unicode spaces.
const OWS_EDGES_RE = /^[ \t]+|[ \t]+$/g;

function trimOws(value: string): string {
  return value.replace(OWS_EDGES_RE, '');
}

function refuseType(detail: string): BodyCheckResult {
  return rejectBody('unsupported_media_type', detail);
}

/**
 * Decide whether a request body may be treated as JSON at all, before any byte of it is decoded.
 *
 * Only `application/json` with at most `charset=utf-8` is accepted. A body the gateway screens
 * as JSON must be one the upstream also reads as UTF-8 JSON; any other declared type, charset
 * or encoding gives the upstream licence to interpret the same bytes differently from what was
 * screened, so those are refused instead of "probably fine".
 */
export function checkJsonContentType(
  contentType: string | string[] | undefined,
  contentEncoding: string | string[] | undefined,
): BodyCheckResult {
  const typeResult = checkType(contentType);
  if (!typeResult.ok) return typeResult;
  return checkEncoding(contentEncoding);
}

function checkType(contentType: string | string[] | undefined): BodyCheckResult {
  let raw: string | undefined;
  if (Array.isArray(contentType)) {
    // Two Content-Type headers mean two intermediaries may each pick a different one.
    if (contentType.length > 1) return refuseType('multiple Content-Type headers');
    raw = contentType[0];
  } else {
    raw = contentType;
  }
  if (raw === undefined) return refuseType('Content-Type is missing; expected application/json');

  const value = trimOws(raw);
  if (value === '') return refuseType('Content-Type is empty; expected application/json');
  // A comma means several values were folded into one header line.
  if (value.includes(',')) return refuseType('multiple Content-Type values');
  // Quoted-string parameters are legal HTTP but never needed for application/json; refusing
  // them removes a whole class of quoting/escaping disagreements between parsers.
  if (value.includes('"')) return refuseType('quoted Content-Type parameters are not accepted');

  const parts = value.split(';');
  const mediaType = trimOws(parts[0] ?? '');
  const match = MEDIA_TYPE_RE.exec(mediaType);
  if (match === null) return refuseType(`malformed Content-Type ${echo(mediaType)}`);
  const type = (match[1] ?? '').toLowerCase();
  const subtype = (match[2] ?? '').toLowerCase();
  if (type !== 'application' || subtype !== 'json') {
    // +json types are called out because they are the likeliest honest mistake, and they are
    // refused because upstream frameworks often route them to different (laxer) parsers.
    const why = subtype.endsWith('+json') ? ' (structured +json suffix types are not accepted)' : '';
    return refuseType(`Content-Type ${echo(mediaType)} is not application/json${why}`);
  }

  let sawCharset = false;
  for (let i = 1; i < parts.length; i++) {
    const param = trimOws(parts[i] ?? '');
    // RFC 9110 allows empty parameter slots (e.g. a trailing ';'); they carry no meaning.
    if (param === '') continue;
    const p = PARAMETER_RE.exec(param);
    if (p === null) return refuseType(`malformed Content-Type parameter ${echo(param)}`);
    const name = (p[1] ?? '').toLowerCase();
    const val = (p[2] ?? '').toLowerCase();
    if (name !== 'charset') return refuseType(`Content-Type parameter ${echo(name)} is not accepted`);
    // A repeated charset is ambiguous even when both copies agree: parsers pick first or last.
    if (sawCharset) return refuseType('Content-Type has more than one charset parameter');
    if (val !== 'utf-8') return refuseType(`charset ${echo(val)} is not accepted; only utf-8`);
    sawCharset = true;
  }
  return BODY_OK;
}

function checkEncoding(contentEncoding: string | string[] | undefined): BodyCheckResult {
  if (contentEncoding === undefined) return BODY_OK;
  let raw: string | undefined;
  if (Array.isArray(contentEncoding)) {
    if (contentEncoding.length === 0) return BODY_OK;
    if (contentEncoding.length > 1) {
      return rejectBody('unsupported_encoding', 'multiple Content-Encoding headers');
    }
    raw = contentEncoding[0] ?? '';
  } else {
    raw = contentEncoding;
  }
  const value = trimOws(raw).toLowerCase();
  // The gateway screens the bytes it received; a coded body would be screened as compressed
  // noise while the upstream inflates and acts on the real content.
  if (value === 'identity') return BODY_OK;
  return rejectBody(
    'unsupported_encoding',
    `Content-Encoding ${echo(trimOws(raw))} is not accepted; send an uncompressed body`,
  );
}
