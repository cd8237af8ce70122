import type { Command } from 'commander';
import { withCliState } from './cli-events.js';
import { parseDuration } from '../config/units.js';
import { Bans, type BanTarget } from '../stages/ban/bans.js';
import { DEFAULT_CONFIG_FILE } from './load-or-exit.js';

interface BansOptions {
  config: string;
  json?: boolean;
}

function target(spec: string): BanTarget {
  const m = /^(ip|identity):(.+)$/.exec(spec);
  if (!m) throw new Error(`expected ip:<address> or identity:<subject>, got ${spec}`);
  return { kind: m[1] as BanTarget['kind'], value: m[2] as string };
}

/** `bulwark bans`: the ban list in the configured store (shared with running gateways on SQLite or Redis). */
export function registerBans(program: Command): void {
  const bans = program.command('bans').description('List, add and remove bans of addresses and identities.');
  const withBans = (opts: BansOptions, fn: (b: Bans) => Promise<void>) => withCliState(opts.config, ({ config, store, events }) => fn(new Bans(store, events, config.server.ipv6Prefix)), 'bans');
  const common = (c: Command) => c.option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE).option('--json', 'machine-readable output');

  common(bans.command('list').description('Active bans.').addHelpText('after', '\nExample:\n  bulwark bans list -c bulwark.yaml --json')).action(async (opts: BansOptions) =>
    withBans(opts, async (b) => {
      const list = await b.list();
      process.stdout.write(opts.json ? JSON.stringify(list, null, 2) + '\n' : list.length === 0 ? 'no bans\n' : list.map((r) => `${r.kind}:${r.value}${r.network ? ` [${r.network}]` : ''}  until ${r.until}  (${r.reason})`).join('\n') + '\n');
    }),
  );

  common(
    bans
      .command('add <target>')
      .description('Ban ip:<address> (an IPv6 address bans its server.ipv6Prefix network) or identity:<subject> for a while.')
      .option('--for <duration>', 'how long', '1h')
      .option('--reason <text>', 'why', 'manual')
      .addHelpText('after', '\nExample:\n  bulwark bans add ip:203.0.113.7 --for 15m --reason scraping -c bulwark.yaml'),
  ).action(async (spec: string, opts: BansOptions & { for: string; reason: string }) =>
    withBans(opts, async (b) => {
      const ms = parseDuration(opts.for);
      if (ms === undefined || ms <= 0) throw new Error(`--for: expected a duration such as 15m, got ${opts.for}`);
      const r = await b.add(target(spec), ms, opts.reason);
      process.stdout.write(opts.json ? JSON.stringify(r) + '\n' : `banned ${r.kind}:${r.value} until ${r.until}\n`);
    }),
  );

  common(bans.command('remove <target>').description('Lift a ban.').addHelpText('after', '\nExample:\n  bulwark bans remove ip:203.0.113.7 -c bulwark.yaml')).action(async (spec: string, opts: BansOptions) =>
    withBans(opts, async (b) => {
      const removed = await b.remove(target(spec));
      if (!removed) throw new Error(`no ban for ${spec}`);
      process.stdout.write(opts.json ? JSON.stringify({ removed: spec }) + '\n' : `lifted ${spec}\n`);
    }),
  );
}
