#!/usr/bin/env node
// `npm start` and `npm run bench` build first when dist/ is missing or older than src/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}
const stamp = 'dist/cli/main.js';
if (!existsSync(stamp) || statSync(stamp).mtimeMs < newest('src')) {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
