import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.js';

const SECRET = 'a-webhook-secret-of-some-length';

describe('webhook signatures', () => {
  it('are sha256=<hex HMAC-SHA256(secret, "<ts>.<body>")>', () => {
    const expected = createHmac('sha256', SECRET).update('1700000000.{"events":[]}').digest('hex');
    assert.equal(signWebhook(SECRET, 1700000000, '{"events":[]}'), `sha256=${expected}`);
  });

  it('verify: right secret, body and fresh timestamp only', () => {
    const now = 1_700_000_000_000;
    const ts = String(now / 1000);
    const body = '{"events":[{"a":1}]}';
    const sig = signWebhook(SECRET, ts, body);
    assert.equal(verifyWebhookSignature(SECRET, ts, body, sig, 300, now), true);
    assert.equal(verifyWebhookSignature(SECRET, ts, Buffer.from(body), sig, 300, now), true);
    assert.equal(verifyWebhookSignature(SECRET, ts, body + ' ', sig, 300, now), false, 'body changed');
    assert.equal(verifyWebhookSignature('another-secret-xxxxxxxx', ts, body, sig, 300, now), false, 'wrong secret');
    assert.equal(verifyWebhookSignature(SECRET, String(Number(ts) + 1), body, sig, 300, now), false, 'timestamp is signed');
    assert.equal(verifyWebhookSignature(SECRET, ts, body, sig, 300, now + 301_000), false, 'too old');
    assert.equal(verifyWebhookSignature(SECRET, ts, body, sig, 300, now - 301_000), false, 'too far in the future');
    assert.equal(verifyWebhookSignature(SECRET, ts, body, sig.toUpperCase().replace('SHA256', 'sha256'), 300, now), true, 'hex case');
    assert.equal(verifyWebhookSignature(['old-secret-xxxxxxxxxxx', SECRET], ts, body, sig, 300, now), true, 'rotation list');
    assert.equal(verifyWebhookSignature(SECRET, ts, body, `sha256=${'0'.repeat(64)}, ${sig}`, 300, now), true, 'several values');
    for (const bad of [undefined, '', 'sha256=', 'sha1=abc', sig.slice(0, -2), `${sig}00`]) {
      assert.equal(verifyWebhookSignature(SECRET, ts, body, bad, 300, now), false, String(bad));
    }
    for (const badTs of [undefined, '', 'abc', '1.5', '-1']) assert.equal(verifyWebhookSignature(SECRET, badTs, body, sig, 300, now), false);
  });
});
