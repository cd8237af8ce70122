#!/usr/bin/env node
// Node 20's test runner has no glob support, so the file list is found here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['src', 'test'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
}
for (const r of roots) {
  if (statSync(r, { throwIfNoEntry: false })?.isDirectory()) walk(r);
  else if (r.endsWith('.test.ts')) files.push(r);
}
files.sort();
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=60000', ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
