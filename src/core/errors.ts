/**
 * The one table of refusal codes. Every refusal the gateway sends uses a code from here; the
 * docs page docs/errors.md lists the same codes (a test fails when the two drift apart).
 */
export const ERROR_CODES = {
  ROUTE_NOT_FOUND: { status: [404], title: 'Route not found', help: 'No registered route matches this method and path. Unregistered endpoints are never forwarded (default deny).' },
  INVALID_REQUEST: { status: [400, 431, 501], title: 'Invalid request', help: 'The request line, headers or path are malformed or ambiguous (smuggling-prone framing, encoded separators, dot segments above the root, upgrade or CONNECT attempts, too many or too large headers).' },
  INVALID_INPUT: { status: [400, 413, 415], title: 'Invalid input', help: 'The body is not acceptable: wrong media type or encoding (415), too large (413), malformed or non-strict JSON, too deep, duplicate or forbidden keys, or not the shape the route kind requires (400).' },
  REQUEST_TIMEOUT: { status: [408], title: 'Request timeout', help: 'The request body did not arrive within server.limits.requestTimeout.' },
  AUTH_REQUIRED: { status: [401], title: 'Authentication required', help: 'No valid credential was presented. The WWW-Authenticate header says which scheme is expected.' },
  FORBIDDEN: { status: [403], title: 'Forbidden', help: 'The credential is valid but does not hold a role or scope this route admits.' },
  BANNED: { status: [403], title: 'Banned', help: 'The client address or identity is temporarily banned after repeated security signals.' },
  RATE_LIMITED: { status: [429], title: 'Rate limited', help: 'A request, token or concurrency limit was reached. Retry-After and RateLimit headers say when to retry.' },
  PROMPT_INJECTION: { status: [403], title: 'Prompt injection', help: 'The prompt-injection detector scored the input above the route threshold.' },
  QUARANTINED: { status: [202], title: 'Quarantined', help: 'An ingestion item looked like data poisoning and was held for review instead of forwarded; `quarantineId` names it for `bulwark quarantine release|drop`.' },
  OUTPUT_BLOCKED: { status: [502], title: 'Output blocked', help: 'The upstream answer contained something the route blocks (a secret, PII or the canary), or could not be inspected within bounds.' },
  UPSTREAM_UNAVAILABLE: { status: [502, 504], title: 'Upstream unavailable', help: 'The upstream could not be reached (502) or did not answer in time (504).' },
  UPSTREAM_BUSY: { status: [503], title: 'Upstream busy', help: 'Every connection to the upstream was busy and the request could not wait (upstreams.<name>.queue.max reached) or waited longer than upstreams.<name>.queue.timeout. Nothing was forwarded; Retry-After says when to try again.' },
  GATEWAY_BUSY: { status: [503], title: 'Gateway busy', help: 'The gateway already holds server.limits.maxInflight requests. Nothing was read or forwarded; Retry-After says when to try again.' },
  INTERNAL_ERROR: { status: [500], title: 'Internal error', help: 'A security stage failed and the route fails closed (onError: deny). Details are in the security log under the request id.' },
} as const satisfies Record<string, { status: readonly number[]; title: string; help: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base of the problem `type` URIs; each code's page is the docs anchor. */
export const PROBLEM_TYPE_BASE = 'https://bulwark.dev/errors#';

export function problemType(code: ErrorCode): string {
  return PROBLEM_TYPE_BASE + code.toLowerCase().replaceAll('_', '-');
}

export function defaultStatus(code: ErrorCode): number {
  return ERROR_CODES[code].status[0] as number;
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
