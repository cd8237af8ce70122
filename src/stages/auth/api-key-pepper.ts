import { readFileSync } from 'node:fs';
import type { BulwarkConfig } from '../../config/schema.js';
import type { Store } from '../../stores/store.js';
import { ApiKeyStore, type ApiKeyRecord } from './api-key-store.js';

type ApiKeysConfig = NonNullable<BulwarkConfig['auth']['apiKeys']>;

/** A configured pepper has at least this many characters (64 hex digits: 32 bytes). */
export const MIN_PEPPER_CHARS = 32;
const HEX_32_BYTES = /^[0-9a-fA-F]{64}$/;

/** Why a value cannot be the pepper, in words that never repeat it; undefined when it can. */
export function pepperProblem(value: string): string | undefined {
  if (value.length < MIN_PEPPER_CHARS) return `the pepper must be at least ${MIN_PEPPER_CHARS} characters (e.g. \`openssl rand -hex 32\`); this one has ${value.length}`;
  if (/^(.)\1*$/s.test(value)) return 'a repeated character is not a pepper';
  return undefined;
}

/**
 * The HMAC key a pepper stands for. 64 hex digits are read as 32 bytes: that is the form of the
 * store-held pepper (`apikey-pepper` in the state store), so moving that value into the config
 * keeps every existing key valid. Anything else is used as its UTF-8 bytes.
 */
export function pepperBytes(value: string): Buffer {
  return HEX_32_BYTES.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'utf8');
}

/** A pepper file's content: the whole file without its trailing line break. Never logged. */
export function readPepperFile(path: string): { ok: true; value: string } | { ok: false; message: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, message: `cannot read the pepper file (${(err as NodeJS.ErrnoException).code ?? 'EIO'})` };
  }
  const value = text.replace(/\r?\n$/, '');
  const problem = pepperProblem(value);
  return problem ? { ok: false, message: problem } : { ok: true, value };
}

/** The configured pepper (`pepper` or `pepperFile`), or undefined for the store-held default. */
export function configuredPepper(cfg: ApiKeysConfig | undefined): Buffer | undefined {
  if (cfg?.pepper !== undefined) return pepperBytes(cfg.pepper);
  if (cfg?.pepperFile === undefined) return undefined;
  const read = readPepperFile(cfg.pepperFile);
  // Checked at load too; a file changed since then fails here, at build, closed.
  if (!read.ok) throw new Error(`auth.apiKeys.pepperFile: ${read.message}`);
  return pepperBytes(read.value);
}

/** The API keys as the config defines them: its pepper (or the store's), its declared keys. */
export function apiKeyStoreFor(config: BulwarkConfig, store: Store, declared: readonly ApiKeyRecord[] = []): ApiKeyStore {
  const pepper = configuredPepper(config.auth.apiKeys);
  return new ApiKeyStore(store, declared, pepper ? { pepper } : {});
}
