import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { buildEvent, type SecurityEvent, type Severity } from '../src/events/event.js';
import { createSyslogSink } from '../src/events/sinks/syslog-sink.js';
import { createDevCerts } from '../src/tls/dev-certs.js';

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) (.*)$/s;

interface Parsed { pri: number; timestamp: string; hostname: string; app: string; procId: string; msgId: string; sd: string; json: SecurityEvent }

function parse(message: string): Parsed {
  const m = RFC5424.exec(message);
  assert.ok(m, `not RFC 5424: ${message.slice(0, 120)}`);
  return {
    pri: Number(m[1]), timestamp: m[2] ?? '', hostname: m[3] ?? '', app: m[4] ?? '', procId: m[5] ?? '', msgId: m[6] ?? '', sd: m[7] ?? '',
    json: JSON.parse(m[8] ?? '') as SecurityEvent,
  };
}

/** RFC 6587 octet-counting deframer: exact, or it throws. */
function deframer(onMessage: (m: string) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const sp = buf.indexOf(0x20);
      if (sp < 0) return;
      const lenText = buf.subarray(0, sp).toString('latin1');
      assert.match(lenText, /^[1-9]\d*$/, 'frame starts with an octet count');
      const len = Number(lenText);
      if (buf.length < sp + 1 + len) return;
      onMessage(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
      buf = buf.subarray(sp + 1 + len);
    }
  };
}

function ev(i: number, severity: Severity = 'high', action: SecurityEvent['event']['action'] = 'auth.failure'): SecurityEvent {
  return buildEvent({ action, severity, sourceIp: '10.0.0.1', requestId: `req-${i}`, details: { n: i } });
}

async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface StreamListener { server: Server; port: number; messages: string[]; sockets: Set<Socket> }

async function tcpListener(port = 0): Promise<StreamListener> {
  const messages: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('data', deframer((m) => messages.push(m)));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, messages, sockets };
}

async function stop(l: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const s of l.sockets) s.destroy();
  await new Promise<void>((r) => l.server.close(() => r()));
}

describe('syslog sink', () => {
  it('UDP: one RFC 5424 datagram per event; PRI, MSGID, JSON; minSeverity applies', async () => {
    const udp = createSocket('udp4');
    const got: string[] = [];
    udp.on('message', (m) => got.push(m.toString('utf8')));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const port = udp.address().port;
    const sink = createSyslogSink({ address: `udp://127.0.0.1:${port}`, hostname: 'gw-test', minSeverity: 'medium' });
    try {
      const events = [ev(1, 'critical'), ev(2, 'high', 'ban.applied'), ev(3, 'medium', 'prompt.injection'), ev(4, 'low')];
      for (const e of events) sink.write(e, JSON.stringify(e));
      await until(() => got.length >= 3, 10_000, 'three datagrams');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(got.length, 3, 'the low event is below minSeverity');
      const parsed = got.map(parse).sort((a, b) => a.pri - b.pri);
      assert.deepEqual(parsed.map((p) => p.pri), [20 * 8 + 2, 20 * 8 + 3, 20 * 8 + 4]);
      assert.deepEqual(parsed.map((p) => p.msgId), ['auth.failure', 'ban.applied', 'prompt.injection']);
      for (const p of parsed) {
        assert.equal(p.hostname, 'gw-test');
        assert.equal(p.app, 'bulwark');
        assert.equal(p.procId, String(process.pid));
        assert.equal(p.sd, '-');
        assert.equal(p.timestamp, p.json['@timestamp']);
      }
      assert.deepEqual(parsed.map((p) => p.json), events.slice(0, 3));
      assert.equal(sink.stats().dropped, 0);
    } finally {
      await sink.close();
      udp.close();
    }
  });

  it('UDP: an oversized event is shortened to the limit and stays valid JSON; facility is configurable', async () => {
    const udp = createSocket('udp4');
    const got: Buffer[] = [];
    udp.on('message', (m) => got.push(m));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const sink = createSyslogSink({ address: `udp://127.0.0.1:${udp.address().port}`, facility: 'authpriv', maxMessageBytes: 2048 });
    try {
      const e = buildEvent({ action: 'output.blocked', severity: 'critical', route: 'chat', details: { list: Array.from({ length: 200 }, (_, i) => `entry-${i}-${'z'.repeat(30)}`) } });
      sink.write(e, JSON.stringify(e));
      await until(() => got.length === 1, 10_000, 'datagram');
      const dgram = got[0] ?? Buffer.alloc(0);
      assert.ok(dgram.length <= 2048, `${dgram.length} bytes`);
      const p = parse(dgram.toString('utf8'));
      assert.equal(p.pri, 10 * 8 + 2);
      assert.equal(p.json.bulwark['truncated'], true);
      assert.equal(p.json.bulwark.route, 'chat');
    } finally {
      await sink.close();
      udp.close();
    }
  });

  it('UDP: a collector that is not listening: nothing piles up, nothing throws', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const sink = createSyslogSink({ address: `udp://127.0.0.1:${port}`, closeTimeoutMs: 100 });
    try {
      for (let i = 0; i < 20; i++) {
        const e = ev(i);
        sink.write(e, JSON.stringify(e));
        await new Promise((r) => setTimeout(r, 5));
      }
      // UDP is fire-and-forget: each datagram is handed to the kernel (a send error, if the OS
      // reports one, is a counted drop); nothing piles up and nothing throws.
      await until(() => sink.stats().dropped + sink.stats().sent === 20 && sink.stats().queued === 0, 10_000, 'all sends settled');
    } finally {
      await sink.close();
    }
  });

  it('TCP: octet-counted frames survive a burst, in order, none lost', async () => {
    const l = await tcpListener();
    const sink = createSyslogSink({ address: `tcp://127.0.0.1:${l.port}` });
    try {
      const N = 3000;
      for (let i = 0; i < N; i++) {
        // Some messages with non-ASCII and with newlines in the data: framing must not care.
        const e = buildEvent({ action: 'input.invalid', severity: 'medium', reason: i % 7 === 0 ? `bad\nline ✓ ${i}` : `r${i}`, details: { n: i } });
        sink.write(e, JSON.stringify(e));
      }
      await until(() => l.messages.length >= N, 20_000, `${N} frames`);
      assert.equal(l.messages.length, N);
      l.messages.forEach((m, i) => {
        const p = parse(m);
        assert.equal(p.msgId, 'input.invalid');
        assert.equal(p.json.bulwark['n'], i);
      });
      assert.deepEqual(sink.stats(), { queued: 0, dropped: 0, sent: N, connected: true });
    } finally {
      await sink.close();
      await stop(l);
    }
  });

  it('TCP: collector down → bounded queue (oldest dropped, counted), then up → the rest delivered', async () => {
    // A port that is free now and reused below.
    const probe = await tcpListener();
    const port = probe.port;
    await stop(probe);
    const sink = createSyslogSink({ address: `tcp://127.0.0.1:${port}`, maxQueue: 50, initialBackoffMs: 20, maxBackoffMs: 100 });
    let l: StreamListener | undefined;
    try {
      for (let i = 0; i < 120; i++) { const e = ev(i); sink.write(e, JSON.stringify(e)); }
      await new Promise((r) => setTimeout(r, 150));
      const s = sink.stats();
      assert.equal(s.connected, false);
      assert.equal(s.queued, 50, 'bounded');
      assert.equal(s.dropped, 70, 'drops are counted');
      l = await tcpListener(port);
      const listener = l;
      await until(() => listener.messages.length >= 50, 10_000, 'queued messages after reconnect');
      // The newest were kept.
      assert.deepEqual(listener.messages.map((m) => parse(m).json.bulwark['n']), Array.from({ length: 50 }, (_, i) => 70 + i));
      // And the live path works after the reconnect.
      const e = ev(999);
      sink.write(e, JSON.stringify(e));
      await until(() => listener.messages.length === 51, 10_000, 'live message');
      assert.equal(sink.stats().connected, true);
    } finally {
      await sink.close();
      if (l) await stop(l);
    }
  });

  it('TCP: a collector that stops reading never makes write slow or memory unbounded', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((s) => { sockets.add(s); s.pause(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const sink = createSyslogSink({ address: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, maxQueue: 1000, closeTimeoutMs: 100 });
    try {
      await until(() => sink.stats().connected, 10_000, 'connect');
      const big = buildEvent({ action: 'prompt.injection', severity: 'high', details: { pad: 'p'.repeat(500) } });
      const line = JSON.stringify(big);
      const t0 = performance.now();
      for (let i = 0; i < 20_000; i++) {
        sink.write(big, line);
        if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
      }
      const ms = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 100));
      const s = sink.stats();
      assert.ok(s.queued <= 1000, `queued ${s.queued}`);
      assert.ok(s.dropped > 0, 'drops counted');
      assert.ok(ms < 5000, `20k writes took ${ms} ms`);
    } finally {
      await sink.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  describe('TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-syslog-tls-'));
    let certs: Awaited<ReturnType<typeof createDevCerts>> | undefined;

    it('TLS (RFC 5425): verified server certificate, octet-counted frames', async () => {
      certs = await createDevCerts({ dir, clientUri: 'spiffe://test/bulwark', hosts: [], days: 1, force: true });
      const messages: string[] = [];
      const sockets = new Set<Socket>();
      const server = createTlsServer({ cert: readFileSync(certs.server), key: readFileSync(certs.serverKey) }, (s) => {
        sockets.add(s);
        s.on('data', deframer((m) => messages.push(m)));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      const sink = createSyslogSink({ address: `tls://localhost:${port}`, tls: { ca: readFileSync(certs.ca) } });
      try {
        for (let i = 0; i < 100; i++) { const e = ev(i, 'critical', 'canary.leaked'); sink.write(e, JSON.stringify(e)); }
        await until(() => messages.length >= 100, 10_000, 'TLS frames');
        const p = parse(messages[99] ?? '');
        assert.equal(p.pri, 20 * 8 + 2);
        assert.equal(p.msgId, 'canary.leaked');
        assert.equal(p.json.bulwark['n'], 99);
      } finally {
        await sink.close();
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });

    it('TLS: an untrusted server certificate is refused (nothing sent), messages stay queued', async () => {
      assert.ok(certs, 'certs from the previous test');
      let received = 0;
      const server = createTlsServer({ cert: readFileSync(certs.server), key: readFileSync(certs.serverKey) }, (s) => {
        s.on('data', () => received++);
      });
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      // No `ca`: the development CA is not a public root.
      const sink = createSyslogSink({ address: `tls://localhost:${port}`, initialBackoffMs: 50, maxBackoffMs: 100, closeTimeoutMs: 50 });
      try {
        const e = ev(1);
        sink.write(e, JSON.stringify(e));
        await new Promise((r) => setTimeout(r, 400));
        assert.equal(received, 0);
        assert.deepEqual({ queued: sink.stats().queued, connected: sink.stats().connected }, { queued: 1, connected: false });
      } finally {
        await sink.close();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  });

  it('write never throws, before connect, after close, with a broken event', async () => {
    const sink = createSyslogSink({ address: 'tcp://127.0.0.1:1', initialBackoffMs: 1000, closeTimeoutMs: 10 });
    const e = ev(1);
    sink.write(e, JSON.stringify(e));
    sink.write({ ...e, bulwark: undefined } as unknown as SecurityEvent, '{}');
    await sink.close();
    sink.write(e, JSON.stringify(e));
    assert.equal(sink.stats().queued, 0);
  });
});
