import type { RouteConfig } from '../../config/schema-route.js';
import type { RequestContext } from '../../core/context.js';
import { compileUserRegex } from '../../config/user-regex.js';
import { defineStage } from '../../core/stage.js';
import { CONTINUE, deny, type Verdict } from '../../core/verdict.js';
import type { EventBus } from '../../events/bus.js';
import { compileSchemaFile, describeSchemaErrors } from './json-schema-file.js';
import { loadPromptGuard, type PromptGuard } from './detector/prompt-guard.js';
import { requestTexts, type RequestTexts } from './request-texts.js';
import { screenForInjection, type InjectionFinding } from './screen.js';
import { loadTokenDecoder } from './token-ids.js';

type InputConfig = NonNullable<RouteConfig['input']>;

// One detector per process: its weights are read once, whatever the number of routes and reloads.
let sharedGuard: PromptGuard | undefined;
export function promptGuard(): PromptGuard {
  return (sharedGuard ??= loadPromptGuard());
}

const invalid = (detail: string, reason: string): Verdict => deny('INVALID_INPUT', detail, { event: { reason } });

/** Whether the input settings need this stage (the output caps, maxTokens to maxChoices, are the core's own check). */
function configured(input: InputConfig | undefined): input is InputConfig {
  if (!input) return false;
  return input.schema !== 'builtin' || input.maxPromptChars !== undefined || input.maxMessages !== undefined || input.deny !== undefined || input.promptInjection !== undefined;
}

function injectionEvent(events: EventBus, ctx: RequestContext, f: InjectionFinding, action: 'flag' | 'log', threshold: number, includePrompts: boolean): void {
  events.emit({
    action: 'prompt.injection', severity: action === 'flag' ? 'medium' : 'low', outcome: 'success', stage: 'input-guard', reason: f.reasons.join(',') || 'model',
    requestId: ctx.id, route: ctx.route.name, method: ctx.method, path: ctx.path, sourceIp: ctx.clientIp, ...(ctx.identity ? { userId: ctx.identity.subject } : {}),
    details: { score: round(f.score), threshold, action, at: f.at, ...(f.role ? { role: f.role } : {}), chars: f.text.length, ...(includePrompts ? { prompt: f.text } : {}) },
  });
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Input defense (G-6, G-7) on the parsed body: the route's JSON Schema, size limits, `deny`
 * regexes and the prompt-injection detector, over every text the model will read.
 */
export const inputGuardStage = defineStage({
  name: 'input-guard',
  build(route, { config, events }) {
    const input = route.input;
    if (!configured(input)) return undefined;
    const schema = input.schema !== 'builtin' ? compileSchemaFile(input.schema) : undefined;
    // Config loading already compiled it; a config built in code gets the same check here.
    if (schema && !schema.ok) throw new Error(`routes.${route.name}.input.schema: ${schema.message}`);
    const validate = schema?.ok ? schema.validate : undefined;
    const denyRes = (input.deny ?? []).map(compileUserRegex);
    const injection = input.promptInjection;
    const guard = injection ? promptGuard() : undefined;
    const includePrompts = config.events.includePrompts;
    if ((route.kind === 'openai-completions' || route.kind === 'openai-embeddings') && input.tokenIds !== 'refuse') {
      // Warm the token-id decoder before the first request needs it; a failure is retried then.
      loadTokenDecoder(input.tokenIds).catch(() => undefined);
    }
    const check = (ctx: RequestContext, got: RequestTexts): Verdict => {
      if (!got.ok) return got.verdict;
      const texts = got.set.texts;
      if (input.maxPromptChars !== undefined) {
        // Normalized text counts as what it expands to (U+FDFA is 1 character, 18 once normalized).
        let chars = 0;
        for (const t of texts) if (!t.definition) chars += Math.max(t.text.length, t.clean.length);
        if (chars > input.maxPromptChars) return invalid(`The prompt exceeds ${input.maxPromptChars} characters.`, 'max_prompt_chars');
      }
      if (denyRes.length > 0) {
        for (const t of texts) {
          // Also on the text with invisible characters, tag characters and compatibility forms
          // resolved (case kept: the pattern decides about case).
          const hit = denyRes.findIndex((re) => re.test(t.text) || (t.clean !== t.text && re.test(t.clean)));
          if (hit >= 0) return deny('INVALID_INPUT', 'The input contains content this route refuses.', { event: { reason: 'deny_pattern', details: { pattern: hit, at: t.at } } });
        }
      }
      if (!injection || !guard) return CONTINUE;
      const hidden = got.unscreenable[0];
      if (hidden) {
        // Model input the screen cannot read would pass unscreened: refused, never forwarded.
        return deny('INVALID_INPUT', `The input holds content the prompt-injection screen cannot read (${hidden.what}).`, { event: { reason: 'unscreenable', details: { at: hidden.at, what: hidden.what, count: got.unscreenable.length } } });
      }
      const found = screenForInjection(guard, got.set);
      if (!found || found.score < injection.threshold) return CONTINUE;
      if (injection.action === 'block') {
        return deny('PROMPT_INJECTION', 'The input was refused by the prompt-injection screen.', {
          event: {
            action: 'prompt.injection', severity: 'high', reason: found.reasons.join(',') || 'model',
            details: { score: round(found.score), threshold: injection.threshold, action: 'block', at: found.at, ...(found.role ? { role: found.role } : {}), chars: found.text.length, ...(includePrompts ? { prompt: found.text } : {}) },
          },
        });
      }
      if (injection.action === 'flag') ctx.upstreamHeaders['x-bulwark-injection-score'] = String(round(found.score));
      injectionEvent(events, ctx, found, injection.action, injection.threshold, includePrompts);
      return CONTINUE;
    };
    const readsText = input.maxPromptChars !== undefined || denyRes.length > 0 || injection !== undefined;
    return {
      name: 'input-guard',
      phase: 'inspect-request',
      onRequest(ctx): Verdict | Promise<Verdict> {
        if (ctx.body.type !== 'json') return CONTINUE;
        const body = ctx.body.value;
        if (validate && !validate(body)) return invalid(`The body does not match the route schema: ${describeSchemaErrors(validate)}.`, 'schema');
        if (input.maxMessages !== undefined && Array.isArray(body.messages) && body.messages.length > input.maxMessages) {
          return invalid(`At most ${input.maxMessages} messages are accepted.`, 'max_messages');
        }
        if (!readsText) return CONTINUE;
        const got = requestTexts(ctx, route.kind, body, input.fields, input.tokenIds);
        return got instanceof Promise ? got.then((g) => check(ctx, g)) : check(ctx, got);
      },
    };
  },
});
