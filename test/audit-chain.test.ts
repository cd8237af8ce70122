import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { parseChain } from '../src/events/audit/format.js';
import { verifyChain, type VerifyResult } from '../src/events/audit/verify.js';
import { createEventBus } from '../src/events/bus.js';
import { buildEvent, type EventInput } from '../src/events/event.js';
import { createFileSink, type FileSinkOptions } from '../src/events/sinks/file-sink.js';
import { runCli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'bulwark-audit-'));
let dirs = 0;
const freshDir = () => mkdtempSync(join(root, `${dirs++}-`));

const input = (i: number): EventInput => ({
  action: 'auth.failure',
  outcome: 'failure',
  severity: 'medium',
  sourceIp: '203.0.113.7',
  path: '/v1/chat/completions',
  requestId: `req-${i}`,
  message: `event ${i} padding ${'p'.repeat(200)}`,
});

/** Writes `count` events through the bus into a chained, rotating file sink and closes it. */
async function writeEvents(path: string, count: number, opts: Partial<FileSinkOptions> = {}, from = 0): Promise<void> {
  const bus = createEventBus({ sinks: [createFileSink({ path, rotate: 4096, keep: 10, chain: true, ...opts })] });
  for (let i = from; i < from + count; i++) {
    bus.emit(input(i));
    if (i % 7 === 0) await tick(); // several write batches, not one
  }
  await bus.close();
}

const LIVE = 'security.jsonl';
/** The rotated set of a directory, oldest first. */
const setOf = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n === LIVE || /^security\.jsonl\.\d+$/.test(n))
    .sort((a, b) => (b === LIVE ? -1 : a === LIVE ? 1 : Number(b.split('.').pop()) - Number(a.split('.').pop())));

const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const writeLines = (file: string, lines: string[]) => writeFileSync(file, lines.map((l) => l + '\n').join(''));

function verifyCli(path: string): { status: number | null; result: VerifyResult } {
  const r = runCli(['audit', 'verify', path, '--json']);
  assert.equal(r.stderr, '', 'no errors on stderr');
  return { status: r.status, result: JSON.parse(r.stdout) as VerifyResult };
}

describe('chained file sink and bulwark audit verify', () => {
  const base = freshDir();
  const basePath = join(base, LIVE);
  let names: string[] = [];

  it('writes a rotated, hash-chained set, mode 0600, that audit verify accepts', async () => {
    await writeEvents(basePath, 40);
    names = setOf(base);
    assert.ok(names.length >= 4, `3+ rotated files, got ${names.join(' ')}`);
    for (const n of [...names, `${LIVE}.head`]) assert.equal(statSync(join(base, n)).mode & 0o777, 0o600, n);
    let seq = 0;
    for (const n of names) {
      assert.ok(statSync(join(base, n)).size <= 4096, `${n} within rotate`);
      linesOf(join(base, n)).forEach((l, i) => {
        const link = parseChain(l);
        assert.equal(link?.seq, ++seq);
        assert.equal(link?.first, i === 0, 'file-start mark on the first line of each file only');
        assert.equal((JSON.parse(l) as { trace: { id: string } }).trace.id, `req-${seq - 1}`);
      });
    }
    assert.equal(seq, 40);
    assert.equal(existsSync(`${basePath}.lock`), false, 'lock released');

    const r = runCli(['audit', 'verify', basePath]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^OK .*: 40 lines in ${names.length} files, seq 1\\.\\.40, head matches`));
    const help = runCli(['audit', 'verify', '--help']);
    assert.match(help.stdout, /Example[\s\S]*bulwark audit verify logs\/security\.jsonl/);
  });

  /** Tamper with a copy of the set; audit verify must name `file` (a set member) and `line`. */
  const tampering: { name: string; tamper: (dir: string, names: string[]) => void; file: (names: string[]) => string; line: number | ((dir: string) => number); reason: RegExp }[] = [
    {
      name: 'a deleted line',
      tamper: (d, n) => { const f = join(d, n[1] as string); const l = linesOf(f); l.splice(2, 1); writeLines(f, l); },
      file: (n) => n[1] as string, line: 3, reason: /1 line missing/,
    },
    {
      name: 'one character of the JSON changed',
      tamper: (d, n) => { const f = join(d, n[2] as string); const l = linesOf(f); l[1] = (l[1] as string).replace('ppp', 'ppq'); writeLines(f, l); },
      file: (n) => n[2] as string, line: 2, reason: /modified/,
    },
    {
      name: 'two lines swapped',
      tamper: (d, n) => { const f = join(d, n[0] as string); const l = linesOf(f); [l[1], l[2]] = [l[2] as string, l[1] as string]; writeLines(f, l); },
      file: (n) => n[0] as string, line: 2, reason: /missing|reordered/,
    },
    {
      name: 'a whole middle rotated file deleted',
      tamper: (d, n) => unlinkSync(join(d, n[1] as string)),
      file: (n) => n[2] as string, line: 1, reason: /lines missing before this line.*missing from the set: security\.jsonl\.\d/,
    },
    {
      name: 'the last line removed',
      tamper: (d) => { const f = join(d, LIVE); const l = linesOf(f); l.pop(); writeLines(f, l); },
      file: () => LIVE, line: (d) => linesOf(join(d, LIVE)).length + 1, reason: /1 line missing at the end/,
    },
    {
      name: 'the last line cut short',
      tamper: (d) => { const f = join(d, LIVE); truncateSync(f, statSync(f).size - 30); },
      file: () => LIVE, line: (d) => readFileSync(join(d, LIVE), 'utf8').split('\n').length, reason: /incomplete/,
    },
    {
      name: 'lines swapped across a rotation boundary',
      tamper: (d, n) => {
        const fa = join(d, n[1] as string);
        const fb = join(d, n[2] as string);
        const a = linesOf(fa);
        const b = linesOf(fb);
        [a[a.length - 1], b[0]] = [b[0] as string, a[a.length - 1] as string];
        writeLines(fa, a);
        writeLines(fb, b);
      },
      file: (n) => n[1] as string, line: (d) => linesOf(join(d, setOf(d)[1] as string)).length, reason: /1 line missing/,
    },
    {
      name: 'an edit on the first line after a rotation',
      tamper: (d, n) => { const f = join(d, n[3] as string); const l = linesOf(f); l[0] = (l[0] as string).replace('203.0.113.7', '203.0.113.8'); writeLines(f, l); },
      file: (n) => n[3] as string, line: 1, reason: /modified/,
    },
  ];

  for (const t of tampering) {
    it(`detects ${t.name}, with the file and line number`, () => {
      const d = freshDir();
      cpSync(base, d, { recursive: true });
      t.tamper(d, names);
      const { status, result } = verifyCli(join(d, LIVE));
      assert.equal(status, 1);
      assert.equal(result.ok, false);
      assert.equal(result.firstBroken?.file, join(d, t.file(names)), result.firstBroken?.reason);
      assert.equal(result.firstBroken?.line, typeof t.line === 'number' ? t.line : t.line(d), result.firstBroken?.reason);
      assert.match(result.firstBroken?.reason ?? '', t.reason);
    });
  }

  it('prints the broken file:line for people, exit 1', () => {
    const d = freshDir();
    cpSync(base, d, { recursive: true });
    const f = join(d, names[1] as string);
    const l = linesOf(f);
    l.splice(0, 1);
    writeLines(f, l);
    const r = runCli(['audit', 'verify', join(d, LIVE)]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`^BROKEN ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: `));
  });

  it('retention deletes the oldest files; the rest still verifies from where it starts', async () => {
    const d = freshDir();
    const path = join(d, LIVE);
    await writeEvents(path, 60, { rotate: 2048, keep: 3 });
    assert.deepEqual(setOf(d), [`${LIVE}.3`, `${LIVE}.2`, `${LIVE}.1`, LIVE]);
    const r = await verifyChain(path);
    assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
    assert.ok((r.firstSeq ?? 0) > 1);
    assert.equal(r.lastSeq, 60);
  });

  it('a restarted sink continues the chain (not a new genesis), also when the live file was just rotated', async () => {
    const d = freshDir();
    const path = join(d, LIVE);
    await writeEvents(path, 5, { rotate: undefined });
    await writeEvents(path, 5, { rotate: undefined }, 5);
    let r = await verifyChain(path);
    assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
    assert.deepEqual([r.firstSeq, r.lastSeq, r.files.length], [1, 10, 1]);
    // Crash right after a rotation: the live file is gone, `.1` holds the end of the chain.
    const { renameSync } = await import('node:fs');
    renameSync(path, `${path}.1`);
    await writeEvents(path, 3, {}, 10);
    r = await verifyChain(path);
    assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
    assert.deepEqual([r.lastSeq, r.files.length], [13, 2]);
  });

  it('lines removed while no sink ran stay visible: the next sink continues from the head', async () => {
    const d = freshDir();
    const path = join(d, LIVE);
    await writeEvents(path, 6, { rotate: undefined });
    const l = linesOf(path);
    writeLines(path, l.slice(0, 4));
    const warn = captureStderr();
    await writeEvents(path, 2, { rotate: undefined }, 6);
    assert.match(warn.stop(), /ends at seq 4 but its head records seq 6/);
    const r = await verifyChain(path);
    assert.deepEqual(r.firstBroken, { file: path, line: 5, reason: 'seq 7 after seq 4: 2 lines missing before this line (deleted, or lines reordered)' });
  });

  it('a torn last line (crash mid-write) is kept and reported; an intact one missing only its newline is completed', async () => {
    const d = freshDir();
    const path = join(d, LIVE);
    await writeEvents(path, 3, { rotate: undefined });
    truncateSync(path, statSync(path).size - 1);
    await writeEvents(path, 1, { rotate: undefined }, 3);
    assert.equal((await verifyChain(path)).ok, true, 'only the newline was missing');
    truncateSync(path, statSync(path).size - 20);
    const warn = captureStderr();
    await writeEvents(path, 2, { rotate: undefined }, 4);
    warn.stop();
    const r = await verifyChain(path);
    assert.equal(r.firstBroken?.line, 4);
    assert.match(r.firstBroken?.reason ?? '', /no chain member/);
    assert.equal(linesOf(path).length, 6);
  });

  it('two sinks on one path (a config reload) and a second process (a CLI command) never fork the chain', async () => {
    const d = freshDir();
    const path = join(d, LIVE);
    const opts = { path, rotate: 16_000, keep: 1000, chain: true };
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `
        const { createFileSink } = await import('./src/events/sinks/file-sink.js');
        const { buildEvent } = await import('./src/events/event.js');
        const sink = createFileSink(${JSON.stringify(opts)});
        process.stdout.write('ready\\n');
        for (let i = 0; i < 60; i++) {
          const e = buildEvent({ action: 'ban.applied', severity: 'high', message: 'child ' + i });
          sink.write(e, JSON.stringify(e));
          await new Promise((r) => setTimeout(r, 2));
        }
        await sink.close();`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolve) => child.stdout.once('data', resolve));
    let done = false;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => ((done = true), resolve(code))));
    const a = createFileSink(opts);
    const b = createFileSink(opts);
    let ours = 0;
    // While the child writes, so the three writers really overlap.
    while ((!done && ours < 5000) || ours < 20) {
      const e = buildEvent(input(ours));
      (ours++ % 2 ? a : b).write(e, JSON.stringify(e));
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all([a.close(), b.close()]);
    assert.equal(await exited, 0);
    const r = await verifyChain(path);
    assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
    assert.equal(r.lines, ours + 60);
    assert.equal(r.dropped, 0);
    const order = r.files.flatMap((f) => linesOf(f).map((l) => (l.includes('"message":"child ') ? 'c' : 'p'))).join('');
    assert.match(order, /c.*p.*c/, 'the child and this process took turns');
  });

  it('a blocked disk never blocks write: the queue is bounded, drops are counted and declared in the chain', async () => {
    const d = freshDir();
    const path = join(d, LIVE);
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const sink = createFileSink({ path, chain: true, maxQueuedLines: 100 }, { beforeWrite: () => blocked });
    const e = buildEvent(input(0));
    const line = JSON.stringify(e);
    let slowest = 0;
    for (let i = 0; i < 250; i++) {
      const t = process.hrtime.bigint();
      assert.doesNotThrow(() => sink.write(e, line));
      slowest = Math.max(slowest, Number(process.hrtime.bigint() - t));
      if (i % 50 === 0) await tick(); // the writer is stuck in its first batch meanwhile
    }
    assert.deepEqual(sink.stats(), { queued: 100, dropped: 150 });
    assert.ok(slowest < 5_000_000, `write took ${slowest} ns`);
    release();
    await sink.close();
    assert.deepEqual(sink.stats(), { queued: 0, dropped: 150 });
    assert.equal(linesOf(path).length, 100);
    const r = await verifyChain(path);
    assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
    assert.equal(r.dropped, 150, 'the chain says how many events are missing');
  });

  it('bounds the queue by bytes too, and a burst in one tick by lines (defaults: 10,000)', async () => {
    const small = createFileSink({ path: join(freshDir(), LIVE), maxQueuedBytes: 10_000 });
    const e = buildEvent(input(1));
    const line = JSON.stringify(e);
    for (let i = 0; i < 100; i++) small.write(e, line);
    const per = Math.floor(10_000 / line.length);
    assert.deepEqual(small.stats(), { queued: per, dropped: 100 - per });
    await small.close();

    const burst = createFileSink({ path: join(freshDir(), LIVE), chain: true });
    for (let i = 0; i < 12_000; i++) burst.write(e, line);
    assert.deepEqual(burst.stats(), { queued: 10_000, dropped: 2_000 });
    await burst.close();
  });

  it('an unwritable path drops and counts, and write never throws', async () => {
    const d = freshDir();
    writeFileSync(join(d, 'not-a-dir'), '');
    const warn = captureStderr();
    const sink = createFileSink({ path: join(d, 'not-a-dir', LIVE), chain: true });
    const e = buildEvent(input(2));
    assert.doesNotThrow(() => sink.write(e, JSON.stringify(e)));
    await sink.flush();
    assert.doesNotThrow(() => sink.write(e, JSON.stringify(e)));
    await sink.close();
    assert.match(warn.stop(), /is not writable \(ENOTDIR\)/);
    assert.deepEqual(sink.stats(), { queued: 0, dropped: 2 });
  });

  it('CR/LF in event data never starts a line, and the chain member cannot come from the event', async () => {
    const d = freshDir();
    const path = join(d, LIVE);
    const sink = createFileSink({ path, chain: true });
    const bus = createEventBus({ sinks: [sink] });
    bus.emit({ action: 'input.invalid', message: 'x\n{"forged":1}', reason: 'a\r\n{"forged":2}', details: { note: 'b\n{"forged":3}' } });
    // A caller that hands the sink a raw line with a newline, and an event with its own `chain`.
    const raw = buildEvent({ action: 'input.invalid' });
    sink.write(raw, '{"a":1}\n{"forged":4}');
    const withChain = Object.assign(buildEvent({ action: 'input.invalid', message: 'own chain' }), { chain: { seq: 999, prev: '0'.repeat(64) } });
    sink.write(withChain, JSON.stringify(withChain));
    await bus.close();
    const lines = linesOf(path);
    assert.equal(lines.length, 3);
    for (const l of lines) {
      const v = JSON.parse(l) as Record<string, unknown>;
      assert.equal(v.forged, undefined);
      assert.ok(typeof v.event === 'object', 'every line is a whole event');
    }
    assert.equal((JSON.parse(lines[0] as string) as { message: string }).message, 'x\\x0a{"forged":1}');
    assert.equal(lines[2]?.match(/"chain":/g)?.length, 1, 'only the sink\'s chain member');
    assert.equal(parseChain(lines[2] as string)?.seq, 3);
    assert.equal((await verifyChain(path)).ok, true);
  });

  it('without chain or rotate the sink appends plain lines, as before', async () => {
    const d = freshDir();
    const path = join(d, LIVE);
    const sink = createFileSink({ path, minSeverity: 'high' });
    const low = buildEvent({ action: 'auth.failure', severity: 'low' });
    const high = buildEvent({ action: 'auth.failure', severity: 'high' });
    sink.write(low, JSON.stringify(low));
    sink.write(high, JSON.stringify(high));
    await sink.close();
    assert.deepEqual(linesOf(path), [JSON.stringify(high)]);
    assert.deepEqual(readdirSync(d), [basename(path)]);

    const r = freshDir();
    const rotating = createFileSink({ path: join(r, LIVE), rotate: 1000, keep: 2 });
    for (let i = 0; i < 20; i++) rotating.write(high, JSON.stringify(high));
    await rotating.close();
    assert.deepEqual(readdirSync(r).sort(), [LIVE, `${LIVE}.1`, `${LIVE}.2`], 'rotation without chain: no head, lock released');
    for (const n of readdirSync(r)) assert.ok(statSync(join(r, n)).size <= 1000);
  });
});

/** Collects what the sink prints on stderr (warnings) while a step runs. */
function captureStderr(): { stop(): string } {
  const original = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  return {
    stop() {
      process.stderr.write = original;
      return text;
    },
  };
}
