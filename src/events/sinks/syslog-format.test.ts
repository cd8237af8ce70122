import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEvent } from '../event.js';
import { asciiJson, formatSyslog, frameOctetCounting, headerField, parseSyslogAddress, SYSLOG_TRUNCATION_MARKER, type SyslogFormatOptions } from './syslog-format.js';

const opts: SyslogFormatOptions = { facility: 20, hostname: 'gw1', appName: 'bulwark', procId: '42', maxBytes: 8192, bom: false };
const LINE = /^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) (.*)$/s;

describe('syslog format (RFC 5424)', () => {
  it('PRI is facility*8 + mapped severity; MSGID is the action; MSG is the JSON', () => {
    for (const [sev, code] of [['critical', 2], ['high', 3], ['medium', 4], ['low', 6]] as const) {
      const e = buildEvent({ action: 'auth.failure', severity: sev, sourceIp: '10.0.0.1' }, new Date(1_700_000_000_123));
      const line = JSON.stringify(e);
      const m = LINE.exec(formatSyslog(e, line, opts));
      assert.ok(m, 'parses');
      assert.equal(Number(m[1]), 20 * 8 + code);
      assert.equal(m[2], '2023-11-14T22:13:20.123Z');
      assert.deepEqual([m[3], m[4], m[5], m[6], m[7]], ['gw1', 'bulwark', '42', 'auth.failure', '-']);
      assert.deepEqual(JSON.parse(m[8] ?? ''), e);
    }
  });

  it('MSG is 7-bit: non-ASCII becomes \\u escapes of the same JSON value; BOM only when asked', () => {
    const e = buildEvent({ action: 'input.invalid', reason: 'héllo ✓ 😀' });
    const line = JSON.stringify(e);
    const out = formatSyslog(e, line, opts);
    assert.match(out, /^[\x00-\x7e]*$/);
    assert.equal((JSON.parse(LINE.exec(out)?.[8] ?? '') as typeof e).event.reason, 'héllo ✓ 😀');
    assert.equal(asciiJson('"\u007f"'), '"\\u007f"');
    const withBom = formatSyslog(e, line, { ...opts, bom: true });
    assert.ok(withBom.includes(' - \ufeff{'));
  });

  it('too long: details dropped (still JSON, marked) before a hard cut with a marker', () => {
    const e = buildEvent({ action: 'prompt.injection', severity: 'high', route: 'chat', details: { blob: 'x'.repeat(500), more: Array.from({ length: 100 }, (_, i) => `item-${i}-${'y'.repeat(40)}`) } });
    const out = formatSyslog(e, JSON.stringify(e), { ...opts, maxBytes: 1024 });
    assert.ok(Buffer.byteLength(out) <= 1024);
    const j = JSON.parse(LINE.exec(out)?.[8] ?? '') as { bulwark: Record<string, unknown> };
    assert.equal(j.bulwark['truncated'], true);
    assert.equal(j.bulwark['route'], 'chat');
    assert.equal(j.bulwark['blob'], undefined);

    const big = buildEvent({ action: 'prompt.injection', message: 'm'.repeat(512), reason: 'r'.repeat(512), path: '/' + 'p'.repeat(511) });
    const cut = formatSyslog(big, JSON.stringify(big), { ...opts, maxBytes: 600 });
    assert.equal(Buffer.byteLength(cut), 600);
    assert.ok(cut.endsWith(SYSLOG_TRUNCATION_MARKER));
  });

  it('header fields are PRINTUSASCII, bounded, NILVALUE when empty', () => {
    assert.equal(headerField('my host\n', 255), 'myhost');
    assert.equal(headerField('', 48), '-');
    assert.equal(headerField('a'.repeat(60), 48).length, 48);
  });

  it('octet counting counts bytes, not characters', () => {
    assert.equal(frameOctetCounting('abc'), '3 abc');
    assert.equal(frameOctetCounting('é'), '2 é');
  });

  it('addresses: udp/tcp/tls, IPv6, default ports; anything else is refused', () => {
    assert.deepEqual(parseSyslogAddress('udp://127.0.0.1:5514'), { transport: 'udp', host: '127.0.0.1', port: 5514 });
    assert.deepEqual(parseSyslogAddress('tcp://logs.example'), { transport: 'tcp', host: 'logs.example', port: 514 });
    assert.deepEqual(parseSyslogAddress('tls://[::1]:6514'), { transport: 'tls', host: '::1', port: 6514 });
    assert.equal(parseSyslogAddress('tls://siem').port, 6514);
    for (const bad of ['http://x:1', 'udp://', 'tcp://h:99999', 'udp://a b:1', 'tcp://u@h:1']) assert.throws(() => parseSyslogAddress(bad));
  });
});
