import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../../stores/store.js';
import { generateApiKey, parseApiKey } from './api-key-format.js';
import { isRoleName, ROLE_NAME_RULE } from '../../http/identity-values.js';

/** What the store keeps for a key. Never the key or its secret. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  roles: string[];
  /** `hmac-sha256:<hex>` keyed with the store's pepper, or `sha256:<hex>` for keys declared in config. */
  hash: string;
  createdAt: string;
  expiresAt?: string | undefined;
  revokedAt?: string | undefined;
  /** Set on rotation: the key keeps working until then. */
  graceUntil?: string | undefined;
  lastUsedAt?: string | undefined;
}

export type ApiKeyCheck = { ok: true; record: ApiKeyRecord } | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

const PREFIX = 'apikey:';
const PEPPER_KEY = 'apikey-pepper';

/**
 * API keys in the state store (memory, SQLite, Redis): one record per key id, the secret hashed
 * with a pepper. By default the pepper lives in the same store (so every instance sharing the
 * store verifies the same keys, with nothing to configure); a configured pepper keeps it out of
 * the store (see api-key-pepper.ts). Lookups are by id, then a constant-time comparison of hashes.
 */
export class ApiKeyStore {
  readonly #store: Store;
  readonly #declared: Map<string, ApiKeyRecord>;
  #pepper: Buffer | undefined;

  /** `pepper`: the configured one (`auth.apiKeys.pepper`/`pepperFile`); the store is then never asked for one. */
  constructor(store: Store, declared: readonly ApiKeyRecord[] = [], options: { pepper?: Buffer } = {}) {
    this.#store = store;
    this.#declared = new Map(declared.map((r) => [r.id, r]));
    this.#pepper = options.pepper;
  }

  async #getPepper(): Promise<Buffer> {
    if (this.#pepper) return this.#pepper;
    await this.#store.setIfAbsent(PEPPER_KEY, randomBytes(32).toString('hex'));
    const hex = await this.#store.get(PEPPER_KEY);
    if (!hex) throw new Error('api key pepper missing from the state store');
    this.#pepper = Buffer.from(hex, 'hex');
    return this.#pepper;
  }

  async create(input: { name: string; roles: readonly string[]; expiresAt?: Date | undefined }): Promise<{ key: string; record: ApiKeyRecord }> {
    const bad = input.roles.find((r) => !isRoleName(r));
    if (bad !== undefined) throw new RangeError(`invalid role ${JSON.stringify(bad)}: ${ROLE_NAME_RULE}`);
    const { key, id, secret } = generateApiKey();
    const record: ApiKeyRecord = {
      id, name: input.name, roles: [...input.roles], hash: await this.#hash(secret), createdAt: new Date().toISOString(),
      ...(input.expiresAt ? { expiresAt: input.expiresAt.toISOString() } : {}),
    };
    await this.#store.set(PREFIX + id, JSON.stringify(record));
    return { key, record };
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const raw = await this.#store.get(PREFIX + id);
    if (raw !== undefined) return JSON.parse(raw) as ApiKeyRecord;
    return this.#declared.get(id);
  }

  async list(): Promise<ApiKeyRecord[]> {
    const ids = (await this.#store.keys(PREFIX, 10_000)).map((k) => k.slice(PREFIX.length));
    const stored = (await Promise.all(ids.map((id) => this.get(id)))).filter((r): r is ApiKeyRecord => r !== undefined);
    return [...stored, ...[...this.#declared.values()].filter((d) => !ids.includes(d.id))];
  }

  async revoke(id: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.get(id);
    if (!r || !(await this.#store.get(PREFIX + id))) return undefined;
    r.revokedAt = new Date().toISOString();
    await this.#store.set(PREFIX + id, JSON.stringify(r));
    return r;
  }

  /** A new key with the same name and roles; the old one keeps working for `graceMs`. */
  async rotate(id: string, graceMs: number): Promise<{ key: string; record: ApiKeyRecord; old: ApiKeyRecord } | undefined> {
    const old = await this.get(id);
    if (!old || old.revokedAt || !(await this.#store.get(PREFIX + id))) return undefined;
    const created = await this.create({ name: old.name, roles: old.roles, expiresAt: old.expiresAt ? new Date(old.expiresAt) : undefined });
    old.graceUntil = new Date(Date.now() + graceMs).toISOString();
    await this.#store.set(PREFIX + id, JSON.stringify(old));
    return { ...created, old };
  }

  /** Verifies a presented key. Every failure looks the same to the caller's client. */
  async check(presented: string, now = Date.now()): Promise<ApiKeyCheck> {
    const parsed = parseApiKey(presented);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const record = await this.get(parsed.id);
    if (!record) return { ok: false, reason: 'unknown' };
    const expected = Buffer.from(record.hash.slice(record.hash.indexOf(':') + 1), 'hex');
    const actual = Buffer.from((record.hash.startsWith('sha256:') ? sha256(presented) : await this.#hash(parsed.secret)).split(':')[1] ?? '', 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return { ok: false, reason: 'unknown' };
    const state = keyState(record, now);
    return state === 'valid' ? { ok: true, record } : { ok: false, reason: state };
  }

  async touch(id: string): Promise<void> {
    const raw = await this.#store.get(PREFIX + id);
    if (!raw) return;
    const r = JSON.parse(raw) as ApiKeyRecord;
    r.lastUsedAt = new Date().toISOString();
    await this.#store.set(PREFIX + id, JSON.stringify(r));
  }

  async #hash(secret: string): Promise<string> {
    return `hmac-sha256:${createHmac('sha256', await this.#getPepper()).update(secret).digest('hex')}`;
  }
}

/**
 * Whether a key may be used now: revoked, past its expiry or past its rotation grace (both
 * `expired`), else valid. The one rule for keys presented and for the tokens they minted.
 */
export function keyState(record: ApiKeyRecord, now = Date.now()): 'valid' | 'revoked' | 'expired' {
  if (record.revokedAt) return 'revoked';
  if (record.graceUntil && Date.parse(record.graceUntil) <= now) return 'expired';
  if (record.expiresAt && Date.parse(record.expiresAt) <= now) return 'expired';
  return 'valid';
}

/** The hash to put in config for a declared key (`bulwark keys hash`): sha256 of the whole key. */
export function sha256(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}
