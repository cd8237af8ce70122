import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chainLine, formatHead, GENESIS, HASH_SUFFIX_LENGTH, parseChain, parseHead, selfHashMatches, sha256Hex, type ChainHead } from './format.js';
import { readLogLines } from './lines.js';
import { listRotatedSet, verifyChain } from './verify.js';

/** A chained log of `sizes[i]` lines per file, oldest first, starting at `firstSeq`. */
function chainFiles(sizes: number[], firstSeq = 1): { files: string[][]; head: ChainHead } {
  let head: ChainHead = { seq: firstSeq - 1, hash: firstSeq === 1 ? GENESIS : sha256Hex('rotated out') };
  const files = sizes.map((n, f) =>
    Array.from({ length: n }, (_, i) => {
      const body = JSON.stringify({ '@timestamp': new Date(0).toISOString(), event: { action: 'auth.failure' }, message: `file ${f} line ${i + 1} é` });
      const c = chainLine(body, { seq: head.seq + 1, prev: head.hash, first: i === 0, dropped: 0 });
      head = { seq: head.seq + 1, hash: c.lineHash };
      return c.line;
    }),
  );
  return { files, head };
}

let n = 0;
/** Writes the set as `log.jsonl.(k-1)` … `log.jsonl.1`, `log.jsonl` and the head; returns the live path. */
function writeSet(files: string[][], head: ChainHead | undefined, raw?: (name: string, text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), `bulwark-verify-${n++}-`));
  const live = join(dir, 'log.jsonl');
  files.forEach((lines, i) => {
    const k = files.length - 1 - i;
    const name = k === 0 ? live : `${live}.${k}`;
    const text = lines.map((l) => l + '\n').join('');
    writeFileSync(name, raw ? raw(name, text) : text);
  });
  if (head) writeFileSync(`${live}.head`, formatHead(head));
  return live;
}

describe('chain format', () => {
  it('round-trips the chain member and hashes the line without its hash', () => {
    const c = chainLine('{"a":1}', { seq: 7, prev: GENESIS, first: true, dropped: 3 });
    assert.match(c.line, /^\{"a":1,"chain":\{"seq":7,"prev":"0{64}","first":true,"dropped":3,"hash":"[0-9a-f]{64}"\}\}$/);
    assert.deepEqual(JSON.parse(c.line).a, 1);
    const link = parseChain(Buffer.from(c.line));
    assert.deepEqual(link && { ...link, hash: '' }, { seq: 7, prev: GENESIS, first: true, dropped: 3, hash: '' });
    assert.equal(selfHashMatches(Buffer.from(c.line), link?.hash ?? ''), true);
    assert.equal(c.lineHash, sha256Hex(c.line));
    assert.equal(c.line.length - HASH_SUFFIX_LENGTH, c.line.indexOf(',"hash":'));
    assert.equal(selfHashMatches(Buffer.from(c.line.replace('"a":1', '"a":2')), link?.hash ?? ''), false);
  });

  it('only a chain member at the very end counts; one inside event data does not', () => {
    const inner = chainLine('{"a":1}', { seq: 1, prev: GENESIS, first: true, dropped: 0 }).line;
    assert.equal(parseChain(JSON.stringify({ message: inner })), undefined);
    assert.equal(parseChain(`${inner.slice(0, -1)},"x":1}`), undefined);
  });

  it('parses only well-formed head records', () => {
    assert.deepEqual(parseHead(formatHead({ seq: 3, hash: 'a'.repeat(64) })), { seq: 3, hash: 'a'.repeat(64) });
    assert.equal(parseHead('{"seq":-1,"hash":"00"}'), undefined);
    assert.equal(parseHead('nope'), undefined);
  });
});

describe('readLogLines', () => {
  it('splits on LF only, keeps CR, reports an unterminated last line and bounds line length', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-lines-'));
    const f = join(dir, 'x');
    writeFileSync(f, 'a\r\nb\rc\n\nlast');
    const got: string[] = [];
    for await (const l of readLogLines(f, 100)) got.push(l.kind === 'line' ? `${JSON.stringify(l.bytes.toString())}${l.terminated ? '' : '!'}` : 'too-long');
    assert.deepEqual(got, ['"a\\r"', '"b\\rc"', '""', '"last"!']);
    writeFileSync(f, 'ok\n' + 'x'.repeat(200_000) + '\nnever\n');
    const kinds: string[] = [];
    for await (const l of readLogLines(f, 1000)) kinds.push(l.kind);
    assert.deepEqual(kinds, ['line', 'too-long']);
  });
});

describe('verifyChain', () => {
  it('accepts an intact rotated set and lists it oldest first', async () => {
    const { files, head } = chainFiles([3, 4, 2]);
    const live = writeSet(files, head);
    const r = await verifyChain(live);
    assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
    assert.equal(r.lines, 9);
    assert.deepEqual(r.files, [`${live}.2`, `${live}.1`, live]);
    assert.equal(r.firstSeq, 1);
    assert.equal(r.lastSeq, 9);
  });

  it('accepts a set whose oldest files were rotated out (first line links to a line no longer kept)', async () => {
    const { files, head } = chainFiles([3, 3], 41);
    const r = await verifyChain(writeSet(files, head));
    assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
    assert.equal(r.firstSeq, 41);
  });

  it('names the first broken line for each kind of tampering', async () => {
    const cases: { name: string; edit: (files: string[][]) => void; file: number; line: number; reason: RegExp }[] = [
      { name: 'edited line', edit: (f) => ((f[1] as string[])[2] = (f[1] as string[])[2]!.replace('line 3', 'line 9')), file: 1, line: 3, reason: /modified/ },
      { name: 'deleted line', edit: (f) => (f[1] as string[]).splice(1, 1), file: 1, line: 2, reason: /1 line missing/ },
      { name: 'swapped lines', edit: (f) => { const a = f[2] as string[]; [a[0], a[1]] = [a[1] as string, a[0] as string]; }, file: 2, line: 1, reason: /missing|reordered/ },
      { name: 'deleted first lines of the oldest file', edit: (f) => (f[0] as string[]).splice(0, 2), file: 0, line: 1, reason: /file-start mark/ },
      { name: 'line moved over a rotation boundary', edit: (f) => (f[1] as string[]).unshift((f[0] as string[]).pop() as string), file: 1, line: 1, reason: /file-start mark/ },
      { name: 'replaced line with a recomputed hash', edit: (f) => { const a = f[1] as string[]; const old = parseChain(a[1] as string)!; a[1] = chainLine('{"forged":1}', { seq: old.seq, prev: old.prev, first: false, dropped: 0 }).line; }, file: 1, line: 3, reason: /does not link/ },
      { name: 'duplicated line', edit: (f) => (f[2] as string[]).splice(1, 0, (f[2] as string[])[0] as string), file: 2, line: 2, reason: /reordered or duplicated/ },
    ];
    for (const c of cases) {
      const { files, head } = chainFiles([4, 4, 4]);
      c.edit(files);
      const live = writeSet(files, head);
      const r = await verifyChain(live);
      const names = [`${live}.2`, `${live}.1`, live];
      assert.equal(r.ok, false, c.name);
      assert.equal(r.firstBroken?.file, names[c.file], c.name);
      assert.equal(r.firstBroken?.line, c.line, `${c.name}: ${r.firstBroken?.reason}`);
      assert.match(r.firstBroken?.reason ?? '', c.reason, c.name);
    }
  });

  it('uses the head record to notice lines removed from the end, and a torn last line', async () => {
    const { files, head } = chainFiles([3, 3]);
    (files[1] as string[]).pop();
    const live = writeSet(files, head);
    const r = await verifyChain(live);
    assert.deepEqual(r.firstBroken, { file: live, line: 3, reason: '1 line missing at the end: the log ends at seq 5, log.jsonl.head records seq 6' });

    const torn = chainFiles([3, 3]);
    const live2 = writeSet(torn.files, torn.head, (name, text) => (name.endsWith('.jsonl') ? text.slice(0, -40) : text));
    const r2 = await verifyChain(live2);
    assert.equal(r2.firstBroken?.file, live2);
    assert.equal(r2.firstBroken?.line, 3);
    assert.match(r2.firstBroken?.reason ?? '', /incomplete/);
  });

  it('requires the head unless told not to, and warns when the head is behind the log', async () => {
    const { files, head } = chainFiles([2]);
    const live = writeSet(files, undefined);
    assert.match((await verifyChain(live)).firstBroken?.reason ?? '', /head record missing/);
    const r = await verifyChain(live, { requireHead: false });
    assert.equal(r.ok, true);
    assert.equal(r.warnings.length, 1);
    const behind = writeSet(files, { seq: 1, hash: sha256Hex((files[0] as string[])[0] as string) });
    const rb = await verifyChain(behind);
    assert.equal(rb.ok, true);
    assert.match(rb.warnings[0] ?? '', /behind/);
    const wrong = writeSet(files, { seq: 1, hash: 'f'.repeat(64) });
    assert.match((await verifyChain(wrong)).firstBroken?.reason ?? '', /recorded in log\.jsonl\.head/);
    assert.equal(head.seq, 2);
  });

  it('reports a missing middle file by name, and refuses unchained lines', async () => {
    const { files, head } = chainFiles([2, 2, 2, 2]);
    const live = writeSet(files, head);
    const { unlinkSync } = await import('node:fs');
    unlinkSync(`${live}.2`);
    assert.deepEqual((await listRotatedSet(live)).missing, [`${live}.2`]);
    const r = await verifyChain(live);
    assert.equal(r.firstBroken?.file, `${live}.1`);
    assert.equal(r.firstBroken?.line, 1);
    assert.match(r.firstBroken?.reason ?? '', /2 lines missing.*log\.jsonl\.2/);

    const plain = writeSet([['{"a":1}']], undefined);
    assert.match((await verifyChain(plain)).firstBroken?.reason ?? '', /no chain member/);
    await assert.rejects(verifyChain(join(tmpdir(), 'bulwark-none', 'x.jsonl')), /cannot read|no such file/);
  });
});
