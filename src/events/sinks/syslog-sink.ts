import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import type { Severity } from '../event.js';
import { severityAtLeast } from '../event.js';
import type { EventSink } from '../sink.js';
import {
  DEFAULT_SYSLOG_FACILITY,
  SYSLOG_FACILITIES,
  formatSyslog,
  frameOctetCounting,
  headerField,
  parseSyslogAddress,
  type SyslogFacility,
  type SyslogFormatOptions,
} from './syslog-format.js';

export { formatSyslog, parseSyslogAddress, SYSLOG_FACILITIES, SYSLOG_SEVERITY, DEFAULT_SYSLOG_FACILITY } from './syslog-format.js';
export type { SyslogFacility } from './syslog-format.js';

export interface SyslogTlsOptions {
  /** PEM CA bundle the server certificate must chain to (default: Node's public roots). */
  ca?: string | Buffer | undefined;
  /** PEM client certificate and key, when the collector wants mutual TLS. */
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
  /** Name checked against the server certificate (default: the address's host, unless it is an IP). */
  servername?: string | undefined;
}

export interface SyslogSinkOptions {
  /** `udp://host:port`, `tcp://host:port` or `tls://host:port`. */
  address: string;
  minSeverity?: Severity | undefined;
  /** Facility name or code 0..23. Default `local4` (20). */
  facility?: SyslogFacility | number | undefined;
  /** APP-NAME. Default `bulwark`. */
  appName?: string | undefined;
  /** HOSTNAME. Default the machine's host name. */
  hostname?: string | undefined;
  /** Only for `tls://`. Server certificates are always verified. */
  tls?: SyslogTlsOptions | undefined;
  /** Largest message (header + JSON) in bytes; longer ones are shortened. Default 8192. */
  maxMessageBytes?: number | undefined;
  /** Messages held while the collector is unreachable or slow; beyond it the oldest are dropped. Default 10 000. */
  maxQueue?: number | undefined;
  /** Same bound in bytes. Default 8 MiB. */
  maxQueueBytes?: number | undefined;
  /** Reconnect backoff (doubling, with jitter). Defaults 500 ms and 30 000 ms. */
  initialBackoffMs?: number | undefined;
  maxBackoffMs?: number | undefined;
  /** TCP/TLS connect (and handshake) timeout. Default 10 000 ms. */
  connectTimeoutMs?: number | undefined;
  /** `close()` waits this long for queued messages to go out. Default 2000 ms. */
  closeTimeoutMs?: number | undefined;
  /** Prefix MSG with a UTF-8 BOM (RFC 5424 MSG-UTF8). Default false: MSG is 7-bit JSON. */
  bom?: boolean | undefined;
}

export interface SyslogSinkStats {
  /** Messages waiting (not yet handed to the socket). */
  queued: number;
  /** Messages dropped: queue bound reached, a failed UDP send, or still queued at close. */
  dropped: number;
  /** Messages handed to the socket. */
  sent: number;
  /** Whether the transport is connected (UDP: the socket is set up). */
  connected: boolean;
}

export interface SyslogSink extends EventSink {
  stats(): SyslogSinkStats;
}

/** UDP sends handed to the socket but not yet completed. */
const MAX_UDP_INFLIGHT = 256;
/** Bytes gathered into one TCP write. */
const TCP_WRITE_CHUNK = 64 * 1024;

/**
 * Security events as RFC 5424 syslog (see `formatSyslog` for the line): one datagram per event over
 * UDP, RFC 6587 octet-counted frames over TCP and TLS (RFC 5425). `write` formats and queues;
 * sockets are written on a later turn of the event loop. The queue is bounded in messages and bytes
 * (oldest dropped and counted); while a TCP/TLS collector is unreachable the sink reconnects with
 * exponential backoff and keeps the newest messages. Syslog is best-effort: a message already in
 * the kernel's buffer when a connection breaks is lost (TCP has no application acknowledgement).
 */
export function createSyslogSink(options: SyslogSinkOptions): SyslogSink {
  const addr = parseSyslogAddress(options.address);
  const facility = typeof options.facility === 'number' ? options.facility : SYSLOG_FACILITIES[options.facility ?? DEFAULT_SYSLOG_FACILITY];
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) throw new Error(`syslog facility must be 0..23 or a facility name, got ${String(options.facility)}`);
  const format: SyslogFormatOptions = {
    facility,
    hostname: headerField(options.hostname ?? osHostname(), 255),
    appName: headerField(options.appName ?? 'bulwark', 48),
    procId: String(process.pid),
    maxBytes: Math.max(480, options.maxMessageBytes ?? 8192),
    bom: options.bom === true,
  };
  const maxQueue = Math.max(1, options.maxQueue ?? 10_000);
  const maxQueueBytes = Math.max(format.maxBytes, options.maxQueueBytes ?? 8 * 1024 * 1024);
  const initialBackoffMs = Math.max(1, options.initialBackoffMs ?? 500);
  const maxBackoffMs = Math.max(initialBackoffMs, options.maxBackoffMs ?? 30_000);
  const connectTimeoutMs = Math.max(1, options.connectTimeoutMs ?? 10_000);
  const closeTimeoutMs = Math.max(0, options.closeTimeoutMs ?? 2000);
  const name = `syslog:${addr.transport}://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;

  // Bounded FIFO: `queue[head..]` are live; dropping the oldest is `head++`.
  let queue: string[] = [];
  let head = 0;
  let queuedBytes = 0;
  let dropped = 0;
  let sent = 0;
  let closed = false;
  let closing: Promise<void> | undefined;
  let scheduled = false;
  let failures = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let reportedDown = false;
  let connected = false;
  const idle = new Set<() => void>();

  let udp: UdpSocket | undefined;
  let udpInflight = 0;
  let stream: Socket | undefined;

  const length = () => queue.length - head;

  const shift = (): string | undefined => {
    if (head >= queue.length) return undefined;
    const m = queue[head];
    queue[head] = '';
    head++;
    if (head === queue.length) { queue = []; head = 0; } else if (head > 4096 && head * 2 > queue.length) { queue = queue.slice(head); head = 0; }
    if (m !== undefined) queuedBytes -= Buffer.byteLength(m);
    return m;
  };

  const reportDown = (why: string) => {
    if (reportedDown || closed) return;
    reportedDown = true;
    const meanwhile = addr.transport === 'udp' ? 'datagrams sent meanwhile are lost' : `queueing up to ${maxQueue} events, the oldest dropped beyond`;
    process.stderr.write(`bulwark: ${name} unavailable (${why}); ${meanwhile}\n`);
  };

  const reportUp = () => {
    if (!reportedDown) return;
    reportedDown = false;
    process.stderr.write(`bulwark: ${name} reachable again${dropped > 0 ? ` (${dropped} events dropped so far)` : ''}\n`);
  };

  const notifyIdle = () => {
    if (length() > 0 || udpInflight > 0) return;
    for (const f of idle) f();
    idle.clear();
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => { scheduled = false; pump(); });
  };

  const pump = () => {
    if (addr.transport === 'udp') {
      const sock = udp;
      if (!sock || !connected) return;
      while (length() > 0 && udpInflight < MAX_UDP_INFLIGHT) {
        const m = shift();
        if (m === undefined) break;
        udpInflight++;
        sock.send(m, (err) => {
          udpInflight--;
          if (err) { dropped++; reportDown(errorText(err)); } else { sent++; reportUp(); }
          if (length() > 0) schedule();
          else notifyIdle();
        });
      }
      return;
    }
    const s = stream;
    if (!s || !connected) return;
    while (length() > 0 && !s.writableNeedDrain) {
      let chunk = '';
      let n = 0;
      while (length() > 0 && chunk.length < TCP_WRITE_CHUNK) {
        const m = shift();
        if (m === undefined) break;
        chunk += frameOctetCounting(m);
        n++;
      }
      if (n === 0) break;
      sent += n;
      s.write(chunk);
    }
    notifyIdle();
  };

  const scheduleReconnect = () => {
    if (closed || reconnectTimer) return;
    failures++;
    const base = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(30, failures - 1));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    reconnectTimer = setTimeout(() => { reconnectTimer = undefined; open(); }, delay);
    reconnectTimer.unref();
  };

  const openUdp = async () => {
    try {
      const { address, family } = await lookup(addr.host);
      if (closed) return;
      const sock = createSocket(family === 6 ? 'udp6' : 'udp4');
      sock.on('error', (err) => {
        // Before the connect: the socket is unusable, start over. After it: an ICMP "port
        // unreachable" surfaces here or in a send callback; that datagram is gone, the socket works.
        if (udp === sock) return;
        reportDown(errorText(err));
        try { sock.close(); } catch { /* already closed */ }
        scheduleReconnect();
      });
      sock.connect(addr.port, address, () => {
        if (closed) { sock.close(); return; }
        udp = sock;
        connected = true;
        failures = 0;
        reportUp();
        schedule();
      });
      sock.unref();
    } catch (err) {
      reportDown(errorText(err));
      scheduleReconnect();
    }
  };

  const openStream = () => {
    const servername = options.tls?.servername ?? (isIP(addr.host) ? undefined : addr.host);
    const s: Socket = addr.transport === 'tls'
      ? tlsConnect({
          host: addr.host,
          port: addr.port,
          ...(servername ? { servername } : {}),
          ...(options.tls?.ca ? { ca: options.tls.ca } : {}),
          ...(options.tls?.cert ? { cert: options.tls.cert } : {}),
          ...(options.tls?.key ? { key: options.tls.key } : {}),
          rejectUnauthorized: true,
        })
      : netConnect({ host: addr.host, port: addr.port });
    stream = s;
    s.setTimeout(connectTimeoutMs, () => s.destroy(new Error('connect timeout')));
    s.setKeepAlive(true, 60_000);
    s.setNoDelay(true);
    s.unref();
    s.once(addr.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      s.setTimeout(0);
      connected = true;
      failures = 0;
      reportUp();
      pump();
    });
    s.on('data', () => {
      // Collectors do not answer; anything they send is ignored.
    });
    s.on('drain', pump);
    s.on('error', (err) => reportDown(errorText(err)));
    s.on('close', () => {
      if (stream !== s) return;
      // What was still in the socket's (or the kernel's) buffer is lost with the connection;
      // how many messages that was is unknowable, so it is not counted.
      stream = undefined;
      connected = false;
      if (closed) { notifyIdle(); return; }
      scheduleReconnect();
    });
  };

  const open = () => {
    if (closed) return;
    if (addr.transport === 'udp') void openUdp();
    else openStream();
  };

  open();

  return {
    name,
    write(event, line) {
      if (closed) return;
      let msg: string;
      try {
        if (!severityAtLeast(event.bulwark.severity, options.minSeverity)) return;
        msg = formatSyslog(event, line, format);
      } catch {
        dropped++; // a malformed event; never an exception into the data path
        return;
      }
      queue.push(msg);
      queuedBytes += Buffer.byteLength(msg);
      while (length() > maxQueue || (queuedBytes > maxQueueBytes && length() > 1)) {
        shift();
        dropped++;
      }
      schedule();
    },
    stats() {
      return { queued: length(), dropped, sent, connected };
    },
    close() {
      closing ??= (async () => {
        closed = true;
        if (reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = undefined; }
        const deadline = Date.now() + closeTimeoutMs;
        pump();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, closeTimeoutMs);
          idle.add(() => { clearTimeout(timer); resolve(); });
          notifyIdle();
        });
        idle.clear();
        dropped += length();
        queue = [];
        head = 0;
        queuedBytes = 0;
        connected = false;
        if (udp) {
          const u = udp;
          udp = undefined;
          await new Promise<void>((resolve) => { try { u.close(() => resolve()); } catch { resolve(); } });
        }
        const s = stream;
        if (s) {
          // 'finish': everything written reached the kernel; then the socket can go.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(100, deadline - Date.now()));
            const done = () => { clearTimeout(timer); resolve(); };
            s.once('finish', done);
            s.once('close', done);
            s.end();
          });
          s.destroy();
        }
      })();
      return closing;
    },
  };
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
