import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAdmission } from './admission.js';
import { RequestAbort } from './request-abort.js';

describe('upstream admission', () => {
  it('admits up to slots, queues up to maxQueued in order, refuses beyond', async () => {
    const gate = createAdmission({ slots: 1, maxQueued: 2, queueTimeoutMs: 60_000 });
    assert.equal(gate.tryAcquire(), true);
    assert.equal(gate.tryAcquire(), false);
    const order: string[] = [];
    const a = gate.wait(new RequestAbort()).then((r) => order.push(`a:${r}`));
    const b = gate.wait(new RequestAbort()).then((r) => order.push(`b:${r}`));
    assert.equal(await gate.wait(new RequestAbort()), 'queue_full');
    assert.equal(gate.queued, 2);
    gate.release();
    await a;
    // A newcomer cannot overtake a waiter: the slot went to `a`, and `b` still waits.
    assert.equal(gate.tryAcquire(), false);
    gate.release();
    await b;
    assert.deepEqual(order, ['a:admitted', 'b:admitted']);
    assert.equal(gate.active, 1);
    gate.release();
    assert.equal(gate.active, 0);
    assert.equal(gate.tryAcquire(), true);
  });

  it('a waiter whose client leaves is removed at once; one that waits too long gets queue_timeout', async () => {
    const gate = createAdmission({ slots: 1, maxQueued: 5, queueTimeoutMs: 20 });
    assert.equal(gate.tryAcquire(), true);
    const abort = new RequestAbort();
    const left = gate.wait(abort);
    const late = gate.wait(new RequestAbort());
    abort.abort();
    assert.equal(await left, 'aborted');
    assert.equal(gate.queued, 1);
    assert.equal(await late, 'queue_timeout');
    assert.equal(gate.queued, 0);
    assert.equal(abort.listenerCount('abort'), 0, 'no listener left behind');
    assert.equal(gate.active, 1, 'refused waiters never took a slot');
  });

  it('maxQueued 0 never waits', async () => {
    const gate = createAdmission({ slots: 1, maxQueued: 0, queueTimeoutMs: 60_000 });
    assert.equal(gate.tryAcquire(), true);
    assert.equal(await gate.wait(new RequestAbort()), 'queue_full');
  });
});
