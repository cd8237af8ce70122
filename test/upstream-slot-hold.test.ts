import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { startFixture } from './helpers/fixture.js';
import { startScriptedUpstream } from './helpers/scripted-upstream.js';

// Review of issue 12 point 8: a client that sends a request and then never reads the answer.
// The upstream's answer is larger than the socket buffers, so the gateway's pump waits for
// 'drain' on the client socket; undici pauses the upstream body, and its bodyTimeout does not
// run while paused. Nothing bounds that wait, so the upstream slot (admission) stays taken.

const BIG = Buffer.alloc(16 * 1024 * 1024, 0x61);

describe('upstream slots and clients that do not read', () => {
  it('a client that never reads its answer does not hold the upstream slot past the upstream timeout', { timeout: 90_000 }, async () => {
    let served = 0;
    // The first answer (the hostile client's) is large; later ones are small.
    const up = await startScriptedUpstream((_req, res) => {
      const body = served++ === 0 ? BIG : Buffer.from('ok');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
      res.end(body);
    });
    const f = await startFixture({
      upstreams: { llm: { url: up.url, connections: 1, timeout: '1s', queue: { max: 0, timeout: '1s' } } },
      routes: [{ name: 'big', match: { methods: ['GET'], path: '/big' } }],
    });
    let stalled: Socket | undefined;
    try {
      // The hostile client: one request, then it stops reading.
      stalled = connect(f.port, '127.0.0.1');
      await new Promise<void>((resolve) => stalled?.once('connect', resolve));
      stalled.write('GET /big HTTP/1.1\r\nhost: x\r\n\r\n');
      stalled.pause();
      // Wait until the gateway holds the slot (the first polite request is refused busy).
      const deadline = Date.now() + 60_000;
      let sawBusy = false;
      let last = 0;
      while (Date.now() < deadline) {
        const r = await fetch(`${f.url}/big`, {}).catch(() => undefined);
        last = r?.status ?? 0;
        await r?.arrayBuffer().catch(() => undefined);
        if (last === 503) sawBusy = true;
        else if (last !== 200) throw new Error(`unexpected status ${last}`);
        if (sawBusy && last === 200) break;
        await new Promise((r2) => setTimeout(r2, 250));
      }
      assert.ok(sawBusy, 'the stalled client took the slot');
      // Upstream timeout 1 s; a minute later the slot must be free again.
      assert.equal(last, 200, 'a polite client is still refused UPSTREAM_BUSY a minute after the upstream timeout');
    } finally {
      stalled?.destroy();
      await f.close();
      await up.close();
    }
  });
});
