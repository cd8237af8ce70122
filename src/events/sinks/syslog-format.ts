import type { SecurityEvent, Severity } from '../event.js';

/** RFC 5424 §6.2.1 facility names and codes. */
export const SYSLOG_FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, ntp: 12, audit: 13, alert: 14, clock: 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;
export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

/**
 * Default facility: local4 (20). A local facility keeps Bulwark's events out of the host's own
 * auth/authpriv logs (sshd, sudo) and lets one rsyslog/syslog-ng rule route them to the SIEM.
 */
export const DEFAULT_SYSLOG_FACILITY: SyslogFacility = 'local4';

/** Event severity → RFC 5424 severity: critical→2 (crit), high→3 (err), medium→4 (warning), low→6 (info). */
export const SYSLOG_SEVERITY: Record<Severity, number> = { critical: 2, high: 3, medium: 4, low: 6 };

export interface SyslogFormatOptions {
  facility: number;
  hostname: string;
  appName: string;
  procId: string;
  /** Largest message in bytes (header + MSG, without transport framing). */
  maxBytes: number;
  /** Prefix MSG with the UTF-8 BOM (RFC 5424 §6.4 MSG-UTF8). Default off: see `formatSyslog`. */
  bom: boolean;
}

const NIL = '-';
const BOM = '\ufeff';
export const SYSLOG_TRUNCATION_MARKER = '...[truncated]';

/** PRINTUSASCII (33..126) only, at most `max` characters; NILVALUE when nothing is left. */
export function headerField(value: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const s = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return s.length > 0 ? s : NIL;
}

/** JSON with every non-ASCII code unit as `\uXXXX`: still the same JSON value, now 7-bit. */
export function asciiJson(json: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7e]/.test(json)
    // eslint-disable-next-line no-control-regex
    ? json.replace(/[^\x00-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`, with
 * PRI = facility × 8 + severity, MSGID = `event.action`, no structured data (NILVALUE: the JSON
 * carries every field, and an SD-ID needs an IANA enterprise number) and MSG = the event's ECS JSON.
 *
 * The JSON is made 7-bit ASCII (non-ASCII characters as `\uXXXX` escapes, the same JSON value),
 * so MSG is valid as RFC 5424 MSG-ANY without a BOM and is parsed as JSON by receivers that would
 * choke on a leading BOM; byte truncation can never split a character. `bom: true` adds the BOM
 * for receivers that insist on MSG-UTF8.
 *
 * A message over `maxBytes` first loses its `bulwark.*` details (keeping severity, route, code and
 * stage, plus `bulwark.truncated: true` and `bulwark.originalBytes`): still valid JSON. Only if that
 * is still too long is it cut, ending in `...[truncated]`.
 */
export function formatSyslog(event: SecurityEvent, line: string, o: SyslogFormatOptions): string {
  const severity = SYSLOG_SEVERITY[event.bulwark.severity] ?? 6;
  const pri = o.facility * 8 + severity;
  const ts = TIMESTAMP.test(event['@timestamp']) ? event['@timestamp'] : new Date().toISOString();
  const header = `<${pri}>1 ${ts} ${o.hostname} ${o.appName} ${o.procId} ${headerField(event.event.action, 32)} ${NIL} ${o.bom ? BOM : ''}`;
  const headerBytes = Buffer.byteLength(header);
  const msg = asciiJson(line);
  if (headerBytes + msg.length <= o.maxBytes) return header + msg;

  const b = event.bulwark;
  const reduced = {
    ...event,
    bulwark: {
      severity: b.severity,
      ...(b.route !== undefined ? { route: b.route } : {}),
      ...(b.code !== undefined ? { code: b.code } : {}),
      ...(b.stage !== undefined ? { stage: b.stage } : {}),
      truncated: true,
      originalBytes: msg.length,
    },
  };
  const small = asciiJson(JSON.stringify(reduced));
  if (headerBytes + small.length <= o.maxBytes) return header + small;
  const room = Math.max(0, o.maxBytes - headerBytes - SYSLOG_TRUNCATION_MARKER.length);
  return header + small.slice(0, room) + SYSLOG_TRUNCATION_MARKER;
}

/** RFC 6587 §3.4.1 octet counting: `<length> <message>`. */
export function frameOctetCounting(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}

export interface SyslogAddress {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
}

/** `udp://host:port`, `tcp://host:port`, `tls://host:port` (IPv6 in brackets). Default ports 514, 514, 6514. */
export function parseSyslogAddress(address: string): SyslogAddress {
  const m = /^(udp|tcp|tls):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?\/?$/.exec(address);
  if (!m?.[1] || !m[2]) throw new Error(`syslog address must be udp://host:port, tcp://host:port or tls://host:port, got ${JSON.stringify(address)}`);
  const transport = m[1] as SyslogAddress['transport'];
  const port = m[3] !== undefined ? Number(m[3]) : transport === 'tls' ? 6514 : 514;
  if (port < 1 || port > 65535) throw new Error(`syslog address ${address}: port out of range`);
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
  return { transport, host, port };
}
