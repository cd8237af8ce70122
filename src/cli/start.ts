import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { configSchema, type BulwarkConfig } from '../config/schema.js';
import { findUnenforced } from '../config/unenforced.js';
import { demoConfig } from '../demo/demo-config.js';
import { demoInstructions } from '../demo/instructions.js';
import { startMockLlm, type MockLlm } from '../demo/mock-llm.js';
import { createGateway, type Gateway } from '../gateway/create-gateway.js';
import { availableFeatures } from '../gateway/features.js';
import { DEFAULT_CONFIG_FILE, loadOrExit } from './load-or-exit.js';
import { apiKeyStoreFor } from '../stages/auth/api-key-pepper.js';
import { sharedFor } from '../stages/auth/index.js';
import type { SigningKeys } from '../stages/auth/signing-keys.js';
import { mintToken } from '../stages/auth/token-endpoint.js';

interface StartOptions {
  config: string;
  demo?: boolean;
  port?: string;
  watch: boolean;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('Run the gateway. SIGHUP or a change of the config file reloads it; SIGTERM drains and exits.')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--demo', 'start a mock OpenAI-compatible upstream and a demo config, and print what to try')
    .option('--port <port>', 'demo: data port (default 8080, or a free one when 8080 is taken)')
    .option('--no-watch', 'do not reload when the config file changes')
    .addHelpText('after', '\nExamples:\n  bulwark start --demo\n  bulwark start -c bulwark.yaml')
    .action(async (opts: StartOptions) => {
      if (opts.demo) await startDemo(opts);
      else if (opts.port !== undefined) throw new Error('--port is for --demo; set server.listen in the config file');
      else await startFromFile(opts);
    });
}

/**
 * A shared store that cannot be reached at start is said at once: /healthz answers (the process
 * is alive), but every check that needs the store follows `state.redis.onError` until it returns.
 */
async function warnIfStoreDown(gw: Gateway, onError: string): Promise<void> {
  if (gw.store.kind === 'memory') return;
  const probe = gw.store.get('bulwark:startup-probe');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 3000).unref());
  const result = await Promise.race([probe.then(() => 'ok' as const, () => 'error' as const), timeout]);
  if (result === 'ok') return;
  const policy = gw.store.kind === 'redis' ? onError : 'deny';
  const effect = policy === 'deny' ? 'requests that need it are refused (500)' : policy === 'local' ? 'limits and bans count per instance' : 'limits and bans are skipped';
  process.stderr.write(`bulwark: warning: the ${gw.store.kind} state store is not reachable; until it is, ${effect}${gw.store.kind === 'redis' ? ` (state.redis.onError: ${onError})` : ''}\n`);
}

async function startFromFile(opts: StartOptions): Promise<void> {
  const { file, config } = loadOrExit(opts.config);
  refuseUnenforced(config);
  const gw = await createGateway({ config, configFile: file });
  process.stderr.write(`bulwark: ${config.routes.length} route${config.routes.length === 1 ? '' : 's'}, listening on ${gw.url}\n`);
  void warnIfStoreDown(gw, config.state.redis.onError);
  let watcher: FSWatcher | undefined;
  if (opts.watch) {
    let timer: NodeJS.Timeout | undefined;
    // The directory is watched, not the file: editors often save by renaming a new file over the
    // old one, which would silently end a watch on the old inode. Saves come in several writes;
    // wait for them to settle.
    watcher = watch(dirname(file), (_event, name) => {
      if (name !== null && name !== basename(file)) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reloadAndSay(gw, 'file change'), 250);
    });
  }
  process.on('SIGHUP', () => void reloadAndSay(gw, 'SIGHUP'));
  onShutdown(async () => {
    watcher?.close();
    await gw.close();
  });
}

async function reloadAndSay(gw: Gateway, why: string): Promise<void> {
  const before = gw.runtime().config;
  const ok = await gw.reload();
  if (!ok) {
    process.stderr.write(`bulwark: config rejected (${why}); still serving the previous config (see the config.rejected event)\n`);
    return;
  }
  const after = gw.runtime().config;
  const restart = [
    before.server.listen !== after.server.listen ? 'server.listen' : '',
    JSON.stringify(before.server.tls) !== JSON.stringify(after.server.tls) ? 'server.tls' : '',
    before.state.store !== after.state.store ? 'state.store' : '',
  ].filter(Boolean);
  process.stderr.write(`bulwark: config reloaded (${why})${restart.length ? `; changes to ${restart.join(', ')} take effect after a restart` : ''}\n`);
}

function refuseUnenforced(config: BulwarkConfig): void {
  const missing = findUnenforced(config, availableFeatures());
  if (missing.length === 0) return;
  process.stderr.write(
    `bulwark: refusing to start: this version does not enforce these settings, and running without them would look protected while being open:\n${missing.map((m) => `  ${m.path} (${m.feature})`).join('\n')}\nRemove them, or run a version that enforces them.\n`,
  );
  process.exit(1);
}

async function startDemo(opts: StartOptions): Promise<void> {
  const mock: MockLlm = await startMockLlm();
  const wanted = opts.port ?? process.env.BULWARK_DEMO_PORT ?? '8080';
  let gw: Gateway;
  try {
    gw = await createGateway({ config: configSchema.parse(demoConfig(mock.url, `127.0.0.1:${wanted}`)) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || opts.port) throw err;
    gw = await createGateway({ config: configSchema.parse(demoConfig(mock.url, '127.0.0.1:0')) });
  }
  const cfg = gw.runtime().config;
  const { key } = await apiKeyStoreFor(cfg, gw.store).create({ name: 'demo', roles: ['ai-user'] });
  const { token } = await mintToken(sharedFor(cfg, gw.store).signing as SigningKeys, cfg.auth.tokenEndpoint as NonNullable<typeof cfg.auth.tokenEndpoint>, { sub: 'demo-user', roles: ['ai-user'] });
  process.stdout.write(demoInstructions(gw.url, mock.url, { apiKey: key, jwt: token }));
  onShutdown(async () => {
    await gw.close();
    await mock.close();
  });
}

function onShutdown(fn: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`bulwark: ${signal}: draining in-flight requests\n`);
    fn().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
