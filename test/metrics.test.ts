import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AdminConfigError, bearerToken, startAdminServer, type AdminServer } from '../src/admin/index.js';
import { configSchema } from '../src/config/schema.js';
import { createDecisionCounters } from '../src/core/counters.js';
import { createEventBus } from '../src/events/bus.js';
import type { SecurityEvent } from '../src/events/event.js';
import { GatewayMetrics, observeDetector, sinkLabel, type SinkStatsSource } from '../src/metrics/index.js';
import { HistogramSeries, toBounds } from '../src/metrics/histogram.js';
import { createDevCerts, type DevCertFiles } from '../src/tls/dev-certs.js';
import { chatBody, startFixture, type Fixture } from './helpers/fixture.js';

// ---- a strict parser for the Prometheus text format 0.0.4 ------------------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  name: string;
  type: string;
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, line: number): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value ${JSON.stringify(s)}`);
  return Number(s);
}

function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const t = types.get(base);
    if (t === 'histogram' || (t === 'summary' && suffix !== '_bucket')) return base;
  }
  return name;
}

/**
 * Every line is empty, `# HELP name text`, `# TYPE name type` or `name{label="value",...} value
 * [timestamp]`. A family's lines form one group, its TYPE comes before its samples, HELP and TYPE
 * at most once, no series twice; histograms have increasing `le`, cumulative buckets, `+Inf`
 * equal to `_count`, and a `_sum`. Throws on anything else.
 */
function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const families = new Map<string, Family>();
  const types = new Map<string, string>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const enter = (name: string, line: number): Family => {
    if (current !== name) {
      if (closed.has(name)) throw new Error(`line ${line}: ${name} appears in two groups`);
      if (current !== undefined) closed.add(current);
      current = name;
    }
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: 'untyped', help: undefined, samples: [] }));
    return f;
  };
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([^ ]+) (.*)$/.exec(raw);
      if (!m) throw new Error(`line ${n}: a comment that is neither HELP nor TYPE: ${raw}`);
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`line ${n}: bad metric name ${name}`);
      const f = enter(name, n);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`line ${n}: second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`line ${n}: bad escape in HELP`);
        f.help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
      } else {
        if (types.has(name)) throw new Error(`line ${n}: second TYPE for ${name}`);
        if (f.samples.length > 0) throw new Error(`line ${n}: TYPE after samples of ${name}`);
        if (!TYPES.has(rest)) throw new Error(`line ${n}: unknown type ${rest}`);
        types.set(name, rest);
        f.type = rest;
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)( -?\d+)?$/.exec(raw);
    if (!m) throw new Error(`line ${n}: not a sample: ${raw}`);
    const name = m[1] as string;
    const labels: Record<string, string> = {};
    if (m[3] !== undefined && m[3] !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      let pos = 0;
      const body = m[3];
      while (pos < body.length) {
        re.lastIndex = pos;
        const l = re.exec(body);
        if (!l) throw new Error(`line ${n}: bad labels ${body}`);
        const [whole, lname, lval, sep] = l as unknown as [string, string, string, string];
        if (!LABEL_NAME.test(lname) || lname.startsWith('__')) throw new Error(`line ${n}: bad label name ${lname}`);
        if (lname in labels) throw new Error(`line ${n}: label ${lname} twice`);
        labels[lname] = lval.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
        pos += whole.length;
        if (sep === '' && pos !== body.length) throw new Error(`line ${n}: bad labels ${body}`);
      }
    }
    const value = parseValue(m[4] as string, n);
    const family = familyOf(name, types);
    if (!types.has(family)) throw new Error(`line ${n}: sample of ${family} before its TYPE`);
    const f = enter(family, n);
    const key = `${name}{${Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (series.has(key)) throw new Error(`line ${n}: series ${key} twice`);
    series.add(key);
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`line ${n}: negative or NaN counter ${name}`);
    if (f.type === 'histogram' && name === family) throw new Error(`line ${n}: histogram sample without _bucket/_sum/_count`);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function seriesKey(labels: Record<string, string>, omit: string): string {
  return JSON.stringify(Object.entries(labels).filter(([k]) => k !== omit).sort(([a], [b]) => a.localeCompare(b)));
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
  const group = (labels: Record<string, string>) => {
    const k = seriesKey(labels, 'le');
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { buckets: [] }));
    return g;
  };
  for (const s of f.samples) {
    if (s.name === `${f.name}_bucket`) {
      const le = s.labels.le;
      assert.ok(le !== undefined, `${f.name}: bucket without le`);
      group(s.labels).buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_sum`) group(s.labels).sum = s.value;
    else if (s.name === `${f.name}_count`) group(s.labels).count = s.value;
  }
  for (const [k, g] of groups) {
    assert.ok(g.buckets.length > 0, `${f.name}${k}: no buckets`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [prevLe, prevV] = g.buckets[i - 1] as [number, number];
      const [le, v] = g.buckets[i] as [number, number];
      assert.ok(le > prevLe, `${f.name}${k}: le not increasing`);
      assert.ok(v >= prevV, `${f.name}${k}: buckets not cumulative`);
    }
    const last = g.buckets.at(-1) as [number, number];
    assert.equal(last[0], Infinity, `${f.name}${k}: no +Inf bucket`);
    assert.equal(g.count, last[1], `${f.name}${k}: _count differs from the +Inf bucket`);
    assert.ok(g.sum !== undefined, `${f.name}${k}: no _sum`);
  }
}

function value(fams: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = fams.get(name) ?? fams.get(name.replace(/_(bucket|sum|count)$/, ''));
  const want = seriesKey(labels, '');
  return family?.samples.find((s) => s.name === name && seriesKey(s.labels, '') === want)?.value;
}

/** The bucket counts of one histogram series, as {le: cumulative}. */
function buckets(fams: Map<string, Family>, name: string, labels: Record<string, string> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  const want = seriesKey(labels, '');
  for (const s of fams.get(name)?.samples ?? []) {
    if (s.name === `${name}_bucket` && seriesKey(s.labels, 'le') === want) out[s.labels.le as string] = s.value;
  }
  return out;
}

// An independent, more lenient parser (a port of the Python client's), as a cross-check.
const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Array<{
  name: string;
  help: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }>;
}>;

// ---- metrics ---------------------------------------------------------------------------------

describe('GatewayMetrics exposition', () => {
  it('parses strictly and carries exactly the values fed in', async () => {
    const counters = createDecisionCounters();
    const bus = createEventBus();
    const m = new GatewayMetrics({ version: '9.9.9' });
    m.setRoutes(['chat', 'models']);
    m.trackDecisions(counters);
    m.trackInflight({ size: 3 });
    const webhook: SinkStatsSource = { name: 'webhook:https://user:pw@hooks.example/x?token=secret', stats: () => ({ queued: 7, dropped: 2 }) };
    const sinks: SinkStatsSource[] = [
      { name: 'stdout' },
      { name: 'file:/var/log/a"b\\c\nd.log', stats: () => ({ queued: 1, dropped: 0 }) },
      webhook,
      { name: 'webhook:https://user:pw@hooks.example/x?token=other', stats: () => ({ queued: 0, dropped: 5 }) },
      { name: 'broken', stats: () => { throw new Error('no'); } },
    ];
    m.trackSinks(() => sinks);
    m.watchEvents(bus);

    const detectorBefore = parseExposition(await m.metrics());
    const detCount0 = value(detectorBefore, 'bulwark_detector_duration_seconds_count') ?? NaN;

    // chat: three forwarded 200s (1 ms gateway, 10 ms upstream), one 429 refused in 0.2 ms, one 502.
    for (let i = 0; i < 3; i++) {
      m.upstreamResponded('chat', 0.004);
      m.requestFinished('chat', 200, 0.011, 0.01);
    }
    m.requestFinished('chat', 429, 0.0002);
    m.requestFinished('chat', 502, 2, 1.9995);
    m.requestFinished(undefined, 404, 0.00005);
    m.requestFinished(undefined, 400, 0.00005);
    m.blocked('rate-limit', 'RATE_LIMITED');
    m.blocked('rate-limit', 'RATE_LIMITED');
    m.blocked('auth', 'AUTH_REQUIRED');
    m.blocked(undefined, 'ROUTE_NOT_FOUND');
    m.streamOpened();
    m.streamOpened();
    m.streamClosed();
    observeDetector(0.0003);
    m.observeDetector(0.02);
    for (let i = 0; i < 4; i++) counters.inc('rate-limit', 'chat', 'denied');
    counters.inc('rate-limit-ip', 'chat', 'denied');
    counters.inc('rate-limit-tokens', 'chat', 'denied');
    counters.inc('rate-limit-concurrent', 'models', 'would_deny');
    counters.inc('auth', 'chat', 'evaluated');
    bus.emit({ action: 'upstream.error', outcome: 'failure', reason: 'ECONNREFUSED', route: 'chat', details: { upstream: 'llm', phase: 'headers' } });
    bus.emit({ action: 'upstream.error', outcome: 'failure', reason: 'ECONNREFUSED', route: 'chat', details: { upstream: 'llm', phase: 'headers' } });
    bus.emit({ action: 'upstream.error', outcome: 'failure', reason: 'UND_ERR_BODY_TIMEOUT', route: 'chat', details: { upstream: 'llm', phase: 'body' } });
    bus.emit({ action: 'stage.error', outcome: 'failure', stage: 'rate-limit', reason: 'store_unavailable_local' });
    bus.emit({ action: 'stage.error', outcome: 'failure', stage: 'auth', reason: 'TypeError' });
    m.adminAuthFailed();

    const text = await m.metrics();
    const f = parseExposition(text);

    // Every family has HELP and TYPE; the gateway's own names are all bulwark_*.
    for (const fam of f.values()) {
      assert.ok(fam.help, `${fam.name} has HELP`);
      assert.match(fam.name, /^bulwark_/);
    }
    assert.equal(value(f, 'bulwark_build_info', { version: '9.9.9' }), 1);

    // requests by route and status class; configured routes start at zero.
    assert.equal(value(f, 'bulwark_requests_total', { route: 'chat', status_class: '2xx' }), 3);
    assert.equal(value(f, 'bulwark_requests_total', { route: 'chat', status_class: '4xx' }), 1);
    assert.equal(value(f, 'bulwark_requests_total', { route: 'chat', status_class: '5xx' }), 1);
    assert.equal(value(f, 'bulwark_requests_total', { route: 'models', status_class: '2xx' }), 0);
    assert.equal(value(f, 'bulwark_requests_total', { route: '(none)', status_class: '4xx' }), 2);

    // gateway-added time = total - upstream: 1 ms x3, 0.2 ms (refused), 0.5 ms.
    const gw = buckets(f, 'bulwark_request_duration_seconds', { route: 'chat' });
    assert.equal(gw['0.00025'], 1);
    assert.equal(gw['0.0005'], 2);
    assert.equal(gw['0.001'], 5);
    assert.equal(gw['+Inf'], 5);
    assert.ok(Math.abs((value(f, 'bulwark_request_duration_seconds_sum', { route: 'chat' }) ?? NaN) - 0.0037) < 1e-9);
    assert.equal(value(f, 'bulwark_request_duration_seconds_count', { route: '(none)' }), 2);

    const up = buckets(f, 'bulwark_upstream_duration_seconds', { route: 'chat' });
    assert.equal(up['0.005'], 0);
    assert.equal(up['0.01'], 3);
    assert.equal(up['2.5'], 4);
    assert.equal(value(f, 'bulwark_upstream_duration_seconds_count', { route: 'chat' }), 4);
    assert.equal(value(f, 'bulwark_upstream_duration_seconds_count', { route: 'models' }), 0);
    // Pseudo-routes never go upstream: no empty upstream series for them.
    assert.equal(value(f, 'bulwark_upstream_duration_seconds_count', { route: '(none)' }), undefined);
    assert.equal(buckets(f, 'bulwark_upstream_headers_seconds', { route: 'chat' })['0.005'], 3);

    // Detector (process-wide).
    assert.equal(value(f, 'bulwark_detector_duration_seconds_count'), detCount0 + 2);
    assert.equal(value(f, 'bulwark_detector_duration_seconds_bucket', { le: '0.0005' }), (value(detectorBefore, 'bulwark_detector_duration_seconds_bucket', { le: '0.0005' }) ?? NaN) + 1);

    assert.equal(value(f, 'bulwark_blocks_total', { stage: 'rate-limit', code: 'RATE_LIMITED' }), 2);
    assert.equal(value(f, 'bulwark_blocks_total', { stage: 'auth', code: 'AUTH_REQUIRED' }), 1);
    assert.equal(value(f, 'bulwark_blocks_total', { stage: '(gateway)', code: 'ROUTE_NOT_FOUND' }), 1);

    // Rate-limit hits from the decision counters: both request limiters, tokens; not would_deny.
    assert.equal(value(f, 'bulwark_ratelimit_hits_total', { route: 'chat', unit: 'requests' }), 5);
    assert.equal(value(f, 'bulwark_ratelimit_hits_total', { route: 'chat', unit: 'tokens' }), 1);
    assert.equal(value(f, 'bulwark_ratelimit_hits_total', { route: 'models', unit: 'concurrent' }), undefined);
    assert.equal(value(f, 'bulwark_stage_decisions_total', { stage: 'rate-limit-concurrent', route: 'models', decision: 'would_deny' }), 1);
    assert.equal(value(f, 'bulwark_stage_decisions_total', { stage: 'auth', route: 'chat', decision: 'evaluated' }), 1);

    assert.equal(value(f, 'bulwark_upstream_errors_total', { route: 'chat', phase: 'headers', reason: 'ECONNREFUSED' }), 2);
    assert.equal(value(f, 'bulwark_upstream_errors_total', { route: 'chat', phase: 'body', reason: 'UND_ERR_BODY_TIMEOUT' }), 1);
    assert.equal(value(f, 'bulwark_store_degraded_total', { stage: 'rate-limit', policy: 'local' }), 1);
    assert.equal(f.get('bulwark_store_degraded_total')?.samples.length, 1, 'only store failures count');

    assert.equal(value(f, 'bulwark_active_streams'), 1);
    assert.equal(value(f, 'bulwark_requests_in_flight'), 3);
    assert.equal(value(f, 'bulwark_admin_auth_failures_total'), 1);

    // Sinks: names escaped correctly, credentials cut from URLs, duplicates told apart.
    assert.equal(value(f, 'bulwark_sink_queue_depth', { sink: 'file:/var/log/a"b\\c\nd.log' }), 1);
    assert.equal(value(f, 'bulwark_sink_queue_depth', { sink: 'webhook:https://hooks.example/x' }), 7);
    assert.equal(value(f, 'bulwark_sink_dropped_total', { sink: 'webhook:https://hooks.example/x' }), 2);
    assert.equal(value(f, 'bulwark_sink_dropped_total', { sink: 'webhook:https://hooks.example/x#2' }), 5);
    assert.equal(f.get('bulwark_sink_queue_depth')?.samples.length, 3, 'sinks without stats() (or failing) are skipped');
    assert.doesNotMatch(text, /secret|pw@|token=/);

    // prom-client's process metrics, prefixed.
    assert.ok((value(f, 'bulwark_process_cpu_seconds_total') ?? -1) >= 0);
    assert.ok((value(f, 'bulwark_process_resident_memory_bytes') ?? 0) > 0);
    assert.ok(f.has('bulwark_nodejs_eventloop_lag_seconds'));

    // The independent parser reads the same document the same way.
    const other = parsePrometheusTextFormat(text);
    assert.deepEqual(new Set(other.map((x) => x.name)), new Set(f.keys()));
    assert.equal(other.find((x) => x.name === 'bulwark_request_duration_seconds')?.type, 'HISTOGRAM');
    // (It folds labelled histograms into one entry, so compare an unlabelled one.)
    const det = other.find((x) => x.name === 'bulwark_detector_duration_seconds')?.metrics[0];
    assert.equal(det?.count, String(value(f, 'bulwark_detector_duration_seconds_count')));
    assert.equal(det?.buckets?.['+Inf'], det?.count);
    const req = other.find((x) => x.name === 'bulwark_requests_total')?.metrics.find((x) => x.labels?.route === 'chat' && x.labels.status_class === '2xx');
    assert.equal(req?.value, '3');

    // JSON (for the dashboard) reads the same series.
    const json = await m.registry.getMetricsAsJSON();
    const jh = json.find((x) => x.name === 'bulwark_upstream_duration_seconds');
    const jcount = jh?.values.find((v) => (v as { metricName?: string }).metricName === 'bulwark_upstream_duration_seconds_count' && v.labels.route === 'chat');
    assert.equal(jcount?.value, 4);
    m.close();
  });

  it('without process metrics only the gateway series; a scrape does not change counters', async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.requestFinished('a', 200, 0.001, 0.0005);
    const first = parseExposition(await m.metrics());
    const second = parseExposition(await m.metrics());
    assert.ok(![...first.keys()].some((k) => k.startsWith('bulwark_process_') || k.startsWith('bulwark_nodejs_')));
    assert.equal(value(second, 'bulwark_requests_total', { route: 'a', status_class: '2xx' }), 1);
    assert.equal(value(second, 'bulwark_request_duration_seconds_count', { route: 'a' }), 1);
  });

  it('bounds the number of route and stage/code series', async () => {
    const m = new GatewayMetrics({ processMetrics: false, maxRoutes: 2 });
    m.requestFinished('a', 200, 0.001);
    m.requestFinished('b', 200, 0.001);
    m.requestFinished('c', 200, 0.001);
    m.requestFinished('d', 500, 0.001);
    for (let i = 0; i < 600; i++) m.blocked(`s${i}`, 'INVALID_INPUT');
    const f = parseExposition(await m.metrics());
    assert.equal(value(f, 'bulwark_requests_total', { route: '(other)', status_class: '2xx' }), 1);
    assert.equal(value(f, 'bulwark_requests_total', { route: '(other)', status_class: '5xx' }), 1);
    assert.equal(value(f, 'bulwark_requests_total', { route: 'c', status_class: '2xx' }), undefined);
    const blocks = f.get('bulwark_blocks_total')?.samples ?? [];
    assert.equal(blocks.length, 501);
    assert.equal(value(f, 'bulwark_blocks_total', { stage: '(other)', code: '(other)' }), 100);
  });

  it('histogram series: boundaries are inclusive, negatives count as 0, NaN and infinities are dropped', () => {
    const s = new HistogramSeries(toBounds([0.1, 1]));
    for (const v of [0.1, 0.10001, 1, 5, -0.001, NaN, Infinity, -Infinity]) s.observe(v);
    assert.deepEqual([...s.counts], [3, 2, 1]);
    assert.ok(Math.abs(s.sum - (0.1 + 0.10001 + 1 + 5)) < 1e-12);
    assert.throws(() => toBounds([1, 1]));
  });

  it('sink labels never carry URL credentials', () => {
    assert.equal(sinkLabel('webhook:https://u:p@h.example:8443/p?k=v#f'), 'webhook:https://h.example:8443/p');
    assert.equal(sinkLabel('stdout'), 'stdout');
  });
});

// ---- admin listener --------------------------------------------------------------------------

const TOKEN = 'admin-token-0123456789abcdef';

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function call(url: string, o: { path?: string; method?: string; headers?: Record<string, string | string[]>; tls?: https.RequestOptions } = {}): Promise<Res> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request({ host: u.hostname, port: u.port, path: o.path ?? '/metrics', method: o.method ?? 'GET', headers: o.headers ?? {}, agent: false, ...o.tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const admin = (o: Record<string, unknown>) => configSchema.parse({ version: 1, admin: { listen: '127.0.0.1:0', ...o } }).admin as NonNullable<ReturnType<typeof configSchema.parse>['admin']>;

describe('admin listener with a bearer token', () => {
  let srv: AdminServer;
  let m: GatewayMetrics;
  const events: SecurityEvent[] = [];

  before(async () => {
    m = new GatewayMetrics({ version: '1.2.3' });
    m.setRoutes(['chat']);
    m.requestFinished('chat', 200, 0.003, 0.002);
    const bus = createEventBus();
    bus.subscribe((e) => events.push(e));
    srv = await startAdminServer({ config: admin({ token: TOKEN }), metrics: m, events: bus, status: () => ({ routes: 4 }), version: '1.2.3' });
  });
  after(() => srv.close());

  it('refuses every call without the right token: 401 problem+json with WWW-Authenticate', async () => {
    const wrong: Array<Record<string, string | string[]>> = [
      {},
      bearer('admin-token-0123456789abcdeX'),
      bearer(TOKEN.slice(0, -1)),
      bearer(`${TOKEN}x`),
      { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
      { authorization: [`Bearer ${TOKEN}`, 'Bearer other-token-0123456789'] },
      { authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`] },
    ];
    for (const headers of wrong) {
      const r = await call(srv.url, { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.equal(r.headers['content-type'], 'application/problem+json');
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="bulwark-admin"');
      const p = JSON.parse(r.text) as { code: string; status: number };
      assert.equal(p.code, 'AUTH_REQUIRED');
      assert.doesNotMatch(r.text, /bulwark_/);
    }
    // Unknown paths and other methods too: nothing is learned without the token.
    assert.equal((await call(srv.url, { path: '/nope' })).status, 401);
    assert.equal((await call(srv.url, { path: '/api/status', method: 'POST' })).status, 401);
  });

  it('serves /metrics in the Prometheus text format with the token', async () => {
    const r = await call(srv.url, { headers: bearer(TOKEN) });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    const f = parseExposition(r.text);
    assert.equal(value(f, 'bulwark_requests_total', { route: 'chat', status_class: '2xx' }), 1);
    assert.ok((value(f, 'bulwark_admin_auth_failures_total') ?? 0) >= 10);
    assert.ok(parsePrometheusTextFormat(r.text).length === f.size);
    // The scheme is case-insensitive; the query string is ignored.
    assert.equal((await call(srv.url, { path: '/metrics?x=1', headers: { authorization: `bearer ${TOKEN}` } })).status, 200);
    const head = await call(srv.url, { method: 'HEAD', headers: bearer(TOKEN) });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  it('serves /api/status; anything else is 404', async () => {
    const r = await call(srv.url, { path: '/api/status', headers: bearer(TOKEN) });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    const s = JSON.parse(r.text) as Record<string, unknown>;
    assert.equal(s.status, 'ok');
    assert.equal(s.version, '1.2.3');
    assert.equal(s.routes, 4);
    assert.equal(typeof s.uptimeSeconds, 'number');
    for (const [path, method] of [['/nope', 'GET'], ['/metrics', 'POST'], ['/api/status', 'DELETE'], ['/metrics/', 'GET'], ['/', 'GET']] as const) {
      const n = await call(srv.url, { path, method, headers: bearer(TOKEN) });
      assert.equal(n.status, 404, `${method} ${path}`);
      assert.equal((JSON.parse(n.text) as { code: string }).code, 'ROUTE_NOT_FOUND');
    }
  });

  it('takes a new token on reload; a new address or client CA needs a restart', async () => {
    const next = 'rotated-token-0123456789abcdef';
    assert.equal(srv.reload(admin({ token: next, listen: '127.0.0.1:1' })), false);
    assert.equal(srv.reload(admin({})), false);
    assert.equal((await call(srv.url, { headers: bearer(TOKEN) })).status, 200, 'unchanged after a refused reload');
    assert.equal(srv.reload(admin({ token: next })), true);
    assert.equal((await call(srv.url, { headers: bearer(TOKEN) })).status, 401);
    assert.equal((await call(srv.url, { headers: bearer(next) })).status, 200);
    assert.equal(srv.reload(admin({ token: TOKEN })), true);
  });

  it('reports refused calls as sampled auth.failure events, never with the token', () => {
    const failures = events.filter((e) => e.event.action === 'auth.failure');
    assert.equal(failures.length, 1, 'one event per 10 s, however many refusals');
    assert.equal(failures[0]?.bulwark.listener, 'admin');
    assert.doesNotMatch(JSON.stringify(events), new RegExp(TOKEN.slice(0, 12)));
  });
});

describe('admin listener with mutual TLS', () => {
  const root = mkdtempSync(join(tmpdir(), 'bulwark-admin-'));
  let trusted: DevCertFiles;
  let untrusted: DevCertFiles;
  let tls: { cert: string; key: string; requireClientCert: boolean; minVersion: 'TLSv1.2' };

  before(async () => {
    trusted = await createDevCerts({ dir: join(root, 'a'), clientUri: 'spiffe://bulwark.local/ops', hosts: [], days: 2, force: false });
    untrusted = await createDevCerts({ dir: join(root, 'b'), clientUri: 'spiffe://bulwark.local/ops', hosts: [], days: 2, force: false });
    tls = { cert: trusted.server, key: trusted.serverKey, requireClientCert: false, minVersion: 'TLSv1.2' };
  });

  const client = (files: DevCertFiles | undefined): https.RequestOptions => ({
    ca: readFileSync(trusted.ca), servername: 'localhost',
    ...(files ? { cert: readFileSync(files.client), key: readFileSync(files.clientKey) } : {}),
  });

  it('a client certificate from admin.clientCa replaces the token; the token still works without one', async () => {
    const srv = await startAdminServer({ config: admin({ token: TOKEN, clientCa: trusted.ca }), metrics: new GatewayMetrics({ processMetrics: false }), tls });
    try {
      assert.match(srv.url, /^https:/);
      const ok = await call(srv.url, { tls: client(trusted) });
      assert.equal(ok.status, 200);
      parseExposition(ok.text);
      assert.equal((await call(srv.url, { tls: client(undefined) })).status, 401);
      assert.equal((await call(srv.url, { tls: client(untrusted) })).status, 401);
      assert.equal((await call(srv.url, { tls: client(untrusted), headers: bearer(TOKEN) })).status, 200);
      assert.equal((await call(srv.url, { tls: client(undefined), headers: bearer(TOKEN) })).status, 200);
      assert.equal(srv.reloadTls(), true);
    } finally {
      await srv.close();
    }
  });

  it('with a client CA and no token, the handshake refuses clients without a trusted certificate', async () => {
    const srv = await startAdminServer({ config: admin({ clientCa: trusted.ca }), metrics: new GatewayMetrics({ processMetrics: false }), tls });
    try {
      assert.equal((await call(srv.url, { tls: client(trusted) })).status, 200);
      await assert.rejects(call(srv.url, { tls: client(undefined), headers: bearer(TOKEN) }));
      await assert.rejects(call(srv.url, { tls: client(untrusted) }));
    } finally {
      await srv.close();
    }
  });

  it('refuses to start without a way to authenticate, or with a client CA but no certificate to present', async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    await assert.rejects(startAdminServer({ config: admin({}), metrics }), AdminConfigError);
    await assert.rejects(startAdminServer({ config: admin({ clientCa: trusted.ca }), metrics }), AdminConfigError);
    await assert.rejects(startAdminServer({ config: admin({ clientCa: join(root, 'missing.pem') }), metrics, tls }), AdminConfigError);
  });
});

// Through a real gateway: active once create-gateway starts the admin listener (Gateway.admin).
describe('metrics of a running gateway, scraped from its admin listener', () => {
  let f: Fixture;
  let adminUrl: string | undefined;

  before(async () => {
    f = await startFixture({
      admin: { listen: '127.0.0.1:0', token: TOKEN },
      routes: [
        { name: 'chat', match: { methods: ['POST'], path: '/v1/chat/completions' }, kind: 'openai-chat' },
        { name: 'models', match: { methods: ['GET'], path: '/v1/models' }, rateLimit: [{ by: 'ip', requests: 1, per: '1m' }] },
      ],
    });
    adminUrl = (f.gw as Partial<{ admin: AdminServer }>).admin?.url;
  });
  after(() => f.close());

  it('counts requests, refusals, rate-limit hits, upstream time and streams', async (t) => {
    if (adminUrl === undefined) return t.skip('create-gateway does not start the admin listener yet');
    const post = (body: string) => fetch(`${f.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => [r.status, await r.text()] as const);
    assert.equal((await post(chatBody()))[0], 200);
    const [streamStatus, streamText] = await post(chatBody({ stream: true }));
    assert.equal(streamStatus, 200);
    assert.match(streamText, /data:/);
    for (let i = 0; i < 3; i++) await (await fetch(`${f.url}/v1/models`)).text();
    assert.equal((await fetch(`${f.url}/nope`)).status, 404);
    assert.equal((await fetch(`${f.url}/healthz`)).status, 200);

    const r = await call(adminUrl, { headers: bearer(TOKEN) });
    assert.equal(r.status, 200);
    const m = parseExposition(r.text);
    assert.equal(value(m, 'bulwark_requests_total', { route: 'chat', status_class: '2xx' }), 2);
    assert.equal(value(m, 'bulwark_requests_total', { route: 'models', status_class: '2xx' }), 1);
    assert.equal(value(m, 'bulwark_requests_total', { route: 'models', status_class: '4xx' }), 2);
    assert.equal(value(m, 'bulwark_requests_total', { route: '(none)', status_class: '4xx' }), 1);
    assert.equal(value(m, 'bulwark_requests_total', { route: '(health)', status_class: '2xx' }), 1);
    assert.equal(value(m, 'bulwark_blocks_total', { stage: '(gateway)', code: 'ROUTE_NOT_FOUND' }), 1);
    assert.equal(value(m, 'bulwark_blocks_total', { stage: 'rate-limit-ip', code: 'RATE_LIMITED' }), 2);
    assert.equal(value(m, 'bulwark_ratelimit_hits_total', { route: 'models', unit: 'requests' }), 2, 'every hit, though the event is sampled');
    assert.equal(f.events.filter((e) => e.event.action === 'ratelimit.exceeded').length, 1);
    assert.equal(value(m, 'bulwark_upstream_duration_seconds_count', { route: 'chat' }), 2);
    assert.equal(value(m, 'bulwark_upstream_headers_seconds_count', { route: 'chat' }), 2);
    assert.equal(value(m, 'bulwark_request_duration_seconds_count', { route: 'chat' }), 2);
    assert.equal(value(m, 'bulwark_active_streams'), 0);
    assert.equal(value(m, 'bulwark_requests_in_flight'), 0);
    assert.equal(value(m, 'bulwark_stage_decisions_total', { stage: 'rate-limit-ip', route: 'models', decision: 'evaluated' }), 3);
    assert.equal((await call(adminUrl, {})).status, 401);
  });
});

describe('bearerToken', () => {
  it('takes the one Authorization header', () => {
    assert.equal(bearerToken(['Authorization', 'Bearer abc']), 'abc');
    assert.equal(bearerToken(['authorization', 'BEARER   a b  ']), 'a b');
    assert.equal(bearerToken(['x', 'y']), undefined);
    assert.equal(bearerToken(['authorization', 'Bearer ']), undefined);
    assert.equal(bearerToken(['authorization', 'Bearer a', 'Authorization', 'Bearer a']), undefined);
  });
});
