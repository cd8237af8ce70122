import type { RouteKind } from '../config/schema-route.js';
import type { ErrorCode } from '../core/errors.js';

// The vendors' SDKs read `error.message`; adding their envelope to the problem document makes a
// refusal readable in OpenAI and Anthropic clients without breaking RFC 9457 consumers.

const OPENAI_TYPE: Partial<Record<ErrorCode, string>> = {
  AUTH_REQUIRED: 'authentication_error', FORBIDDEN: 'permission_error', BANNED: 'permission_error',
  RATE_LIMITED: 'rate_limit_exceeded', INVALID_INPUT: 'invalid_request_error', INVALID_REQUEST: 'invalid_request_error',
  PROMPT_INJECTION: 'invalid_request_error', ROUTE_NOT_FOUND: 'invalid_request_error', UPSTREAM_UNAVAILABLE: 'api_error',
  OUTPUT_BLOCKED: 'api_error', INTERNAL_ERROR: 'api_error', REQUEST_TIMEOUT: 'invalid_request_error',
  UPSTREAM_BUSY: 'api_error', GATEWAY_BUSY: 'api_error',
};

const ANTHROPIC_TYPE: Partial<Record<ErrorCode, string>> = {
  AUTH_REQUIRED: 'authentication_error', FORBIDDEN: 'permission_error', BANNED: 'permission_error',
  RATE_LIMITED: 'rate_limit_error', ROUTE_NOT_FOUND: 'not_found_error', UPSTREAM_UNAVAILABLE: 'api_error',
  OUTPUT_BLOCKED: 'api_error', INTERNAL_ERROR: 'api_error',
  // Anthropic's own word for "try again later"; its SDK retries it.
  UPSTREAM_BUSY: 'overloaded_error', GATEWAY_BUSY: 'overloaded_error',
};

export function vendorEnvelope(kind: RouteKind | undefined, code: ErrorCode, message: string): { error: { message: string; type: string; code: string } } | undefined {
  if (kind === undefined) return undefined;
  if (kind.startsWith('openai-')) return { error: { message, type: OPENAI_TYPE[code] ?? 'invalid_request_error', code: code.toLowerCase() } };
  if (kind === 'anthropic-messages') return { error: { message, type: ANTHROPIC_TYPE[code] ?? 'invalid_request_error', code: code.toLowerCase() } };
  return undefined;
}
