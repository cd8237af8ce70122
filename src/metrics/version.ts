import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** Bulwark's version from its package.json (two levels up from src/metrics and dist/metrics). */
export function bulwarkVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
