import type { Command } from 'commander';
import { listInventory } from '../inventory/inventory-store.js';
import { createStore } from '../stores/create-store.js';
import { DEFAULT_CONFIG_FILE, loadOrExit } from './load-or-exit.js';

/** `bulwark inventory`: endpoints seen in traffic, from the configured state store. */
export function registerInventory(program: Command): void {
  program
    .command('inventory')
    .description('Endpoints seen in traffic (routed and unregistered): first/last seen, counts by status, clients.')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output')
    .option('--unregistered', 'only endpoints no route publishes (shadow API probes)')
    .addHelpText('after', '\nExample:\n  bulwark inventory -c bulwark.yaml --unregistered')
    .action(async (opts: { config: string; json?: boolean; unregistered?: boolean }) => {
      const { config } = loadOrExit(opts.config);
      if (config.state.store === 'memory') process.stderr.write('note: state.store is memory; a running gateway\'s inventory lives in its own process and is not visible here\n');
      const store = createStore(config.state);
      try {
        const all = await listInventory(store);
        const list = opts.unregistered ? all.filter((e) => e.route === undefined) : all;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
          return;
        }
        if (list.length === 0) {
          process.stdout.write('no endpoints recorded\n');
          return;
        }
        const rows = list.map((e) => [e.method, e.template, e.route ?? 'UNREGISTERED', String(e.count), Object.entries(e.statuses).map(([k, v]) => `${k}:${v}`).join(' '), String(e.clients), e.firstSeen, e.lastSeen]);
        const head = ['METHOD', 'TEMPLATE', 'ROUTE', 'COUNT', 'STATUS', 'CLIENTS', 'FIRST SEEN', 'LAST SEEN'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
        for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()}\n`);
      } finally {
        await store.close();
      }
    });
}
