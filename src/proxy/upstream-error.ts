/** Maps undici/network failures to the refusal the client sees; never the upstream's words. */
export function classifyUpstreamError(err: unknown): { status: 502 | 504; reason: string } {
  const code = (err as { code?: unknown })?.code;
  const c = typeof code === 'string' ? code : 'UNKNOWN';
  if (c === 'UND_ERR_HEADERS_TIMEOUT' || c === 'UND_ERR_CONNECT_TIMEOUT' || c === 'UND_ERR_BODY_TIMEOUT' || c === 'ETIMEDOUT') {
    return { status: 504, reason: c };
  }
  return { status: 502, reason: c };
}
