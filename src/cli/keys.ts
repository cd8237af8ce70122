import type { BulwarkConfig } from '../config/schema.js';
import type { Command } from 'commander';
import { createCliEventBus } from './cli-events.js';
import { parseDuration } from '../config/units.js';
import { sha256, type ApiKeyRecord } from '../stages/auth/api-key-store.js';
import { apiKeyStoreFor } from '../stages/auth/api-key-pepper.js';
import { createStore } from '../stores/create-store.js';
import { DEFAULT_CONFIG_FILE, loadOrExit } from './load-or-exit.js';

interface KeysOptions {
  config: string;
  json?: boolean;
}

/**
 * `bulwark keys`: API keys in the store the config names, so a running gateway on the SQLite (or
 * Redis) store sees a new or revoked key at once. With the memory store there is no shared store:
 * `create` prints the config entry (a sha256 hash) to declare the key in `auth.apiKeys.keys`.
 */
/** Why a key id is not in the store, with what to do when it is one the config declares. */
function notStored(config: BulwarkConfig, id: string, state = ''): string {
  if (config.auth.apiKeys?.keys?.some((k) => k.id === id)) return `${id} is declared in the config (auth.apiKeys.keys), not stored: remove or replace it there, then reload the gateway`;
  return `no ${state}stored key ${id}`;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Create, list, revoke and rotate API keys (shown once, stored hashed).');
  const open = (opts: KeysOptions) => {
    const { config } = loadOrExit(opts.config);
    const store = createStore(config.state);
    const events = createCliEventBus(config);
    return { config, store, events, keys: apiKeyStoreFor(config, store) };
  };
  // Every subcommand opens the store, works, and closes it (also on errors).
  const withKeys = async (opts: KeysOptions, fn: (ctx: ReturnType<typeof open>) => Promise<void>) => {
    const ctx = open(opts);
    try {
      await fn(ctx);
    } finally {
      await ctx.store.close();
      await ctx.events.close();
    }
  };
  const out = (opts: KeysOptions, json: unknown, text: string) => process.stdout.write(opts.json ? JSON.stringify(json, null, 2) + '\n' : text);

  keys
    .command('create')
    .description('Create a key; the key is printed once and never stored.')
    .requiredOption('--name <name>', 'a label for the key')
    .option('--roles <roles>', 'comma-separated roles', '')
    .option('--expires <duration>', 'lifetime, e.g. 90d')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  bulwark keys create --name ci-bot --roles ai-user --expires 90d -c bulwark.yaml')
    .action(async (opts: KeysOptions & { name: string; roles: string; expires?: string }) => {
      await withKeys(opts, async (ctx) => {
      const ttl = opts.expires !== undefined ? parseDuration(opts.expires) : undefined;
      if (opts.expires !== undefined && (ttl === undefined || typeof ttl !== 'number')) throw new Error(`--expires: expected a duration such as 90d, got ${opts.expires}`);
      const roles = opts.roles.split(',').map((r) => r.trim()).filter(Boolean);
      const { key, record } = await ctx.keys.create({ name: opts.name, roles, expiresAt: ttl !== undefined ? new Date(Date.now() + ttl) : undefined });
      ctx.events.emit({ action: 'key.created', severity: 'medium', outcome: 'success', details: { keyId: record.id, name: record.name, roles } });
      const memory = ctx.config.state.store === 'memory';
      const declare = { id: record.id, name: record.name, roles, hash: sha256(key) };
      out(
        opts,
        { id: record.id, key, name: record.name, roles, expiresAt: record.expiresAt ?? null, ...(memory ? { declare } : {}) },
        `key:     ${key}\nid:      ${record.id}\nroles:   ${roles.join(',') || '-'}\nexpires: ${record.expiresAt ?? 'never'}\nThe key is shown once; only its hash is stored.\n` +
          (memory ? `state.store is memory: nothing is shared with a running gateway. Declare the key in the config instead:\nauth:\n  apiKeys:\n    keys:\n      - ${JSON.stringify(declare)}\n` : ''),
      );
      });
    });

  keys
    .command('list')
    .description('List keys (never the keys themselves).')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  bulwark keys list -c bulwark.yaml --json')
    .action(async (opts: KeysOptions) => {
      await withKeys(opts, async (ctx) => {
      const stored = (await ctx.keys.list()).map(({ hash: _hash, ...rest }) => ({ ...rest, source: 'store' as const }));
      // Keys declared in the config are valid too; they are listed so that nothing valid is hidden.
      const declared = (ctx.config.auth.apiKeys?.keys ?? []).map((k) => ({ id: k.id, name: k.name ?? '', roles: k.roles, source: 'config' as const }));
      const status = (r: Omit<ApiKeyRecord, 'hash'>) => (r.revokedAt ? 'revoked' : r.graceUntil ? `grace until ${r.graceUntil}` : r.expiresAt && Date.parse(r.expiresAt) < Date.now() ? 'expired' : 'active');
      const lines = [
        ...stored.map((r) => `${r.id}  ${r.name}  roles=${r.roles.join(',') || '-'}  ${status(r)}  last used ${r.lastUsedAt ?? 'never'}`),
        ...declared.map((r) => `${r.id}  ${r.name || '-'}  roles=${r.roles.join(',') || '-'}  declared in the config (auth.apiKeys.keys)`),
      ];
      out(opts, [...stored, ...declared], lines.length === 0 ? 'no keys\n' : lines.join('\n') + '\n');
      });
    });

  keys
    .command('revoke <id>')
    .description('Revoke a key at once.')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  bulwark keys revoke k3x7q2mfa9zt -c bulwark.yaml')
    .action(async (id: string, opts: KeysOptions) => {
      await withKeys(opts, async (ctx) => {
      const r = await ctx.keys.revoke(id);
      if (!r) throw new Error(notStored(ctx.config, id));
      ctx.events.emit({ action: 'key.revoked', severity: 'medium', outcome: 'success', details: { keyId: id } });
      out(opts, { id, revokedAt: r.revokedAt }, `revoked ${id}\n`);
      });
    });

  keys
    .command('rotate <id>')
    .description('Create a replacement key; the old one keeps working for the grace period.')
    .option('--grace <duration>', 'how long the old key stays valid', '24h')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  bulwark keys rotate k3x7q2mfa9zt --grace 24h -c bulwark.yaml')
    .action(async (id: string, opts: KeysOptions & { grace: string }) => {
      await withKeys(opts, async (ctx) => {
      const grace = parseDuration(opts.grace);
      if (grace === undefined) throw new Error(`--grace: expected a duration such as 24h, got ${opts.grace}`);
      const r = await ctx.keys.rotate(id, grace);
      if (!r) throw new Error(notStored(ctx.config, id, 'active '));
      ctx.events.emit({ action: 'key.created', severity: 'medium', outcome: 'success', details: { keyId: r.record.id, rotatedFrom: id } });
      out(opts, { id: r.record.id, key: r.key, name: r.record.name, roles: r.record.roles, expiresAt: r.record.expiresAt ?? null, replaces: id, oldValidUntil: r.old.graceUntil }, `key:     ${r.key}\nid:      ${r.record.id}\nreplaces ${id}, which stays valid until ${r.old.graceUntil}\n`);
      });
    });
}
