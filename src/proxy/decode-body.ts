import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/**
 * The upstream body as plain bytes when it is compressed and response filters must read it.
 * Decoding is streamed (a compressed bomb costs CPU, never memory beyond the filters' own bounds,
 * which refuse an oversized whole body). Undefined when the encoding is identity or unknown
 * (an unknown encoding cannot be inspected: the caller refuses it).
 */
export function decodedBody(body: Readable, contentEncoding: string | undefined): Readable | undefined | 'unsupported' {
  const enc = contentEncoding?.trim().toLowerCase();
  if (enc === undefined || enc === '' || enc === 'identity') return undefined;
  const decoder = enc === 'gzip' || enc === 'x-gzip' ? createGunzip() : enc === 'deflate' ? createInflate() : enc === 'br' ? createBrotliDecompress() : undefined;
  if (!decoder) return 'unsupported';
  // Errors of either side end both; the pump sees them on the decoder.
  pipeline(body, decoder, () => undefined);
  return decoder;
}
