// Shared by json-scan.test.ts and json-scan.property.test.ts.
import assert from 'node:assert/strict';
import { scanJson } from './json-scan.js';
import type { BodyRejectReason } from './body-result.js';

export const OPTS = { maxDepth: 64 };

export function expectOk(text: string, maxDepth = OPTS.maxDepth): void {
  assert.deepEqual(scanJson(text, { maxDepth }), { ok: true }, JSON.stringify(text));
}

export function expectRefused(text: string, reason: BodyRejectReason, maxDepth = OPTS.maxDepth): string {
  const r = scanJson(text, { maxDepth });
  assert.equal(r.ok, false, `expected ${reason} for ${JSON.stringify(text).slice(0, 80)}`);
  if (r.ok) return '';
  assert.equal(r.reason, reason, `${JSON.stringify(text).slice(0, 80)}: ${r.detail}`);
  assert.equal(r.status, 400);
  return r.detail;
}

/** Nesting depth as the scanner counts it: `{}` and `[]` are 1, scalars 0. */
export function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let max = 0;
  for (const child of Object.values(v)) max = Math.max(max, depthOf(child));
  return max + 1;
}

export function hasForbiddenKey(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (!Array.isArray(v)) {
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) return true;
    const ctor: unknown = Object.getOwnPropertyDescriptor(v, 'constructor')?.value;
    if (ctor !== null && typeof ctor === 'object' && !Array.isArray(ctor) &&
        Object.prototype.hasOwnProperty.call(ctor, 'prototype')) return true;
  }
  return Object.values(v).some(hasForbiddenKey);
}
