import { ResponseRefused } from '../../core/stage.js';
import { deny } from '../../core/verdict.js';
import type { RouteKind } from '../../config/schema-route.js';
import type { Recognizers } from './recognizers/index.js';
import type { Span } from './scanner.js';

export type OutputAction = 'redact' | 'block' | 'log';

/**
 * What one response is checked for and what happens on a match, plus what was found (for the
 * events at the end; counts and classes only, never a value).
 */
export class OutputPolicy {
  readonly recognizers: Recognizers;
  /** Literal strings to find (the request's canary). */
  readonly literals: ReadonlyArray<{ text: string; label: string; cls: string }>;
  readonly #onMatch: OutputAction;
  readonly #onCanary: OutputAction;
  readonly kind: RouteKind;
  /** Matches by label. */
  readonly found = new Map<string, { cls: string; count: number; action: OutputAction }>();
  blocked: Span | undefined;

  constructor(init: { recognizers: Recognizers; onMatch: OutputAction; canary?: { token: string; action: OutputAction }; kind: RouteKind }) {
    this.recognizers = init.recognizers;
    this.#onMatch = init.onMatch;
    this.#onCanary = init.canary?.action ?? 'log';
    this.literals = init.canary ? [{ text: init.canary.token, label: 'canary', cls: 'canary' }] : [];
    this.kind = init.kind;
  }

  actionFor(span: Pick<Span, 'cls'>): OutputAction {
    return span.cls === 'canary' ? this.#onCanary : this.#onMatch;
  }

  /** Records spans; returns those to redact. Throws ResponseRefused (with `final`) on a block. */
  decide(spans: readonly Span[], final?: () => Buffer | undefined): Span[] {
    const redact: Span[] = [];
    for (const s of spans) {
      const action = this.actionFor(s);
      const seen = this.found.get(s.label);
      if (seen) seen.count++;
      else this.found.set(s.label, { cls: s.cls, count: 1, action });
      if (action === 'redact') redact.push(s);
      else if (action === 'block' && !this.blocked) {
        this.blocked = s;
        throw new ResponseRefused(deny('OUTPUT_BLOCKED', 'The answer was withheld: it contained something this route does not let through.', { quiet: true, event: { stage: 'output-guard' } }), final?.());
      }
    }
    return redact;
  }

  /** The stream's closing error event, in the API's own format. */
  errorEvent(eol: string): Buffer {
    const message = 'The answer was withheld: it contained something this route does not let through.';
    if (this.kind === 'anthropic-messages') {
      return Buffer.from(`event: error${eol}data: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message } })}${eol}${eol}`);
    }
    if (this.kind.startsWith('openai-')) {
      return Buffer.from(`data: ${JSON.stringify({ error: { message, type: 'api_error', code: 'output_blocked' } })}${eol}${eol}`);
    }
    return Buffer.from(`event: error${eol}data: ${JSON.stringify({ code: 'OUTPUT_BLOCKED', detail: message })}${eol}${eol}`);
  }
}
