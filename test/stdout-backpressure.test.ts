import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';

// The stdout sink behind a real pipe whose reader never reads (issue 12, point 8): the child
// emits 40,000 events of ~1 KB (~40 MB); what it holds must stay within the sink's bound (200
// lines / 256 KiB) plus the stream's own high-water mark, and the rest is counted as dropped.
it('a paused stdout pipe: the gateway process holds a bounded amount, the rest is dropped and counted', { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/stdout-sink-child.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pause();
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = err.split('\n').find((l) => l.startsWith('{"done":true'));
  assert.ok(line, `the child reported: ${err.slice(0, 2000)}`);
  const r = JSON.parse(line) as { emitted: number; writableLength: number; maxHeld: number; queued: number; dropped: number };
  assert.equal(code, 0);
  assert.equal(r.emitted, 40_000);
  // Node's stdout buffers ~16 KiB (its high-water mark) plus the one line that crossed it.
  assert.ok(r.maxHeld <= 64 * 1024, `stdout held at most ${r.maxHeld} bytes`);
  assert.ok(r.queued <= 200, `sink queue ${r.queued} lines`);
  assert.ok(r.dropped >= 30_000, `dropped ${r.dropped}`);
});
