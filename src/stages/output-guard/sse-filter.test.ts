import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ResponseRefused } from '../../core/stage.js';
import { OutputPolicy } from './policy.js';
import { compileRecognizers } from './recognizers/index.js';
import { sseFilter } from './sse-filter.js';

const rec = compileRecognizers(['secrets']);
const ev = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
const secret = () => `sk-proj-${randomBytes(48).toString('base64url')}`;

/** Runs the filter over the given network reads; returns what reached the client and whether it was blocked. */
function run(onMatch: 'redact' | 'block', reads: string[]): { out: string; blocked: boolean } {
  const f = sseFilter(new OutputPolicy({ recognizers: rec, onMatch, kind: 'openai-chat' }));
  let out = '';
  try {
    for (const r of reads) out += f.onChunk(Buffer.from(r)).toString('utf8');
    out += f.onEnd().toString('utf8');
    return { out, blocked: false };
  } catch (err) {
    assert.ok(err instanceof ResponseRefused);
    return { out: out + (err.final?.toString('utf8') ?? ''), blocked: true };
  }
}

describe('sseFilter: events of one network read are scanned together', () => {
  it('block: the events before the secret in the same read are still delivered, the secret never', () => {
    const key = secret();
    const { out, blocked } = run('block', [ev('Hello there. ') + ev('Here it is: ') + ev(key) + ev(' and more text.') + 'data: [DONE]\n\n']);
    assert.ok(blocked);
    assert.ok(out.includes(ev('Hello there. ')), out);
    assert.ok(!out.includes(key.slice(8, 30)));
    assert.ok(!out.includes('more text'));
    assert.match(out, /output_blocked/);
  });

  it('redact: a secret split over events of one read and the next is replaced, everything else byte for byte', () => {
    const key = secret();
    const a = key.slice(0, 20);
    const b = key.slice(20);
    const reads = [ev('One. ') + ev('Two: ') + ev(a), ev(b) + ev(' three.') + 'data: [DONE]\n\n'];
    const { out, blocked } = run('redact', reads);
    assert.ok(!blocked);
    assert.ok(out.startsWith(ev('One. ') + ev('Two: ')), out);
    assert.ok(!out.includes(key.slice(8, 20)) && !out.includes(b.slice(0, 20)));
    assert.match(out, /\[REDACTED:openai_api_key\]/);
    assert.ok(out.endsWith(ev(' three.') + 'data: [DONE]\n\n'));
  });

  it('the same bytes in one read or in one read per event give the same answer', () => {
    const key = secret();
    const events = [ev('Start '), ev(key.slice(0, 5)), ev(key.slice(5, 40)), ev(key.slice(40)), ev(' mail me at a.b@example.com'), 'data: [DONE]\n\n'];
    assert.equal(run('redact', [events.join('')]).out, run('redact', events).out);
  });
});
