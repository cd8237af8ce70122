/** Credentials as presented, read from the raw header lines (so repeats are visible). */
export interface PresentedCredentials {
  authorization: string[];
  apiKey: string[];
}

export function readCredentials(rawHeaders: readonly string[], apiKeyHeader: string): PresentedCredentials {
  const authorization: string[] = [];
  const apiKey: string[] = [];
  const keyHeader = apiKeyHeader.toLowerCase();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    if (name === 'authorization') authorization.push(rawHeaders[i + 1] ?? '');
    else if (name === keyHeader) apiKey.push(rawHeaders[i + 1] ?? '');
  }
  return { authorization, apiKey };
}

/**
 * `Bearer <token>` (the scheme is case-insensitive, RFC 9110 §11.1; exactly one space-free
 * token68). Anything else is not a bearer credential.
 */
export function bearerToken(value: string): string | undefined {
  const m = /^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *$/.exec(value);
  return m?.[1];
}

/** Roles from the configured claim only: a string or a flat array of strings, else none. */
export function rolesFromClaim(value: unknown): { roles: string[]; valid: boolean } {
  if (value === undefined) return { roles: [], valid: true };
  if (typeof value === 'string') return { roles: [value], valid: true };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return { roles: value as string[], valid: true };
  return { roles: [], valid: false };
}

/** OAuth scopes from `scope` (space-separated) or `scp` (array or string). */
export function scopesFromPayload(payload: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof payload.scope === 'string') out.push(...payload.scope.split(' ').filter(Boolean));
  if (typeof payload.scp === 'string') out.push(...payload.scp.split(' ').filter(Boolean));
  else if (Array.isArray(payload.scp)) out.push(...payload.scp.filter((s): s is string => typeof s === 'string'));
  return out;
}
