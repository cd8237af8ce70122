import type { ErrorCode } from './errors.js';
import type { EventInput } from '../events/event.js';

/** What a stage answers for one request. A stage never writes to the socket itself. */
export type Verdict = Continue | Deny;

export interface Continue {
  readonly action: 'continue';
}

export interface Deny {
  readonly action: 'deny';
  readonly code: ErrorCode;
  /** One of the code's statuses; the code's first status when omitted. */
  readonly status?: number;
  /** Shown to the client. Must never contain a credential, a prompt or a secret. */
  readonly detail: string;
  /** Extra response headers (Retry-After, WWW-Authenticate, RateLimit-*). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Extra fields of the problem document (e.g. `quarantineId`); never client data. */
  readonly fields?: Readonly<Record<string, string | number>>;
  /** Refuse without an event (a sampled-out repeat of a refusal already reported). */
  readonly quiet?: boolean;
  /** The security event this refusal produces (action, reason, severity, details). */
  readonly event?: Partial<Omit<EventInput, 'outcome' | 'requestId' | 'route' | 'method' | 'path' | 'sourceIp'>>;
}

export const CONTINUE: Continue = Object.freeze({ action: 'continue' });

export function deny(code: ErrorCode, detail: string, extra: Omit<Deny, 'action' | 'code' | 'detail'> = {}): Deny {
  return { action: 'deny', code, detail, ...extra };
}
