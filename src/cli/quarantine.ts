import type { Command } from 'commander';
import { withCliState } from './cli-events.js';
import type { BulwarkConfig } from '../config/schema.js';
import type { EventBus } from '../events/bus.js';
import { Quarantine } from '../stages/poisoning/quarantine.js';
import { releaseItem } from '../stages/poisoning/release.js';
import { DEFAULT_CONFIG_FILE } from './load-or-exit.js';

interface QuarantineOptions {
  config: string;
  json?: boolean;
}

interface Ctx {
  q: Quarantine;
  config: BulwarkConfig;
  events: EventBus;
}

/** `bulwark quarantine`: review items the poisoning guard held, in the configured store. */
export function registerQuarantine(program: Command): void {
  const cmd = program.command('quarantine').description('List, release (forward) or drop items held by the poisoning guard.');
  const run = (opts: QuarantineOptions, fn: (c: Ctx) => Promise<void>) => withCliState(opts.config, ({ config, store, events }) => fn({ q: new Quarantine(store), config, events }), 'quarantined items');
  const common = (c: Command) => c.option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE).option('--json', 'machine-readable output');

  common(cmd.command('list').description('Held items, oldest first (the body is not shown).').addHelpText('after', '\nExample:\n  bulwark quarantine list -c bulwark.yaml --json')).action(async (opts: QuarantineOptions) =>
    run(opts, async ({ q }) => {
      const items = await q.list();
      if (opts.json) {
        process.stdout.write(JSON.stringify(items.map(({ body, gatewayHeaders: _h, ...rest }) => ({ ...rest, bytes: Buffer.byteLength(body) })), null, 2) + '\n');
        return;
      }
      if (items.length === 0) return void process.stdout.write('no quarantined items\n');
      for (const i of items) process.stdout.write(`${i.id}  ${i.createdAt}  ${i.route}  ${i.method} ${i.target}  from ${i.userId ?? i.sourceIp}  [${i.reasons.join(', ')}]${i.score !== undefined ? `  score ${i.score}` : ''}\n`);
    }),
  );

  common(cmd.command('release <id>').description('Forward a held item to its route\'s upstream, then delete it.').addHelpText('after', '\nExample:\n  bulwark quarantine release q_0b6c... -c bulwark.yaml')).action(async (id: string, opts: QuarantineOptions) =>
    run(opts, async ({ q, config, events }) => {
      const item = await q.get(id);
      if (!item) throw new Error(`no quarantined item ${id}`);
      const { status } = await releaseItem(config, item);
      if (status >= 400) throw new Error(`the upstream answered ${status}; the item stays in quarantine`);
      await q.drop(id);
      events.emit({ action: 'poison.quarantined', severity: 'low', outcome: 'success', reason: 'released', route: item.route, sourceIp: item.sourceIp, requestId: item.requestId, details: { quarantineId: id, upstreamStatus: status } });
      process.stdout.write(opts.json ? JSON.stringify({ released: id, status }) + '\n' : `released ${id} (upstream answered ${status})\n`);
    }),
  );

  common(cmd.command('drop <id>').description('Delete a held item without forwarding it.').addHelpText('after', '\nExample:\n  bulwark quarantine drop q_0b6c... -c bulwark.yaml')).action(async (id: string, opts: QuarantineOptions) =>
    run(opts, async ({ q, events }) => {
      const item = await q.get(id);
      if (!(await q.drop(id)) || !item) throw new Error(`no quarantined item ${id}`);
      events.emit({ action: 'poison.quarantined', severity: 'low', outcome: 'success', reason: 'dropped', route: item.route, sourceIp: item.sourceIp, requestId: item.requestId, details: { quarantineId: id } });
      process.stdout.write(opts.json ? JSON.stringify({ dropped: id }) + '\n' : `dropped ${id}\n`);
    }),
  );
}
