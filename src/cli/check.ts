import type { Command } from 'commander';
import { findUnenforced } from '../config/unenforced.js';
import { availableFeatures } from '../gateway/features.js';
import { parseListen } from '../config/units.js';
import { DEFAULT_CONFIG_FILE, loadOrExit } from './load-or-exit.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('Validate a config file and lint its security posture; exit 1 on errors.')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  bulwark check -c bulwark.yaml')
    .action((opts: { config: string; json?: boolean }) => {
      const { config } = loadOrExit(opts.config);
      const warnings: string[] = [];
      const { host } = parseListen(config.server.listen);
      if (!config.server.tls && !['127.0.0.1', 'localhost', '::1'].includes(host)) {
        warnings.push(`server.listen: plain HTTP on ${host}; credentials and prompts cross the network unencrypted (set server.tls)`);
      }
      // A setting no stage enforces is an error, not a warning: `start` refuses it, so a green
      // `check` must mean the file can run.
      const errors = findUnenforced(config, availableFeatures()).map((u) => `${u.path}: not enforced by this version (${u.feature}); \`bulwark start\` refuses this config`);
      config.routes.forEach((r, i) => {
        if (r.mode === 'monitor') warnings.push(`routes[${i}] (${r.name}): mode monitor blocks nothing`);
        if (r.onError === 'allow') warnings.push(`routes[${i}] (${r.name}): onError allow lets requests through when a check fails`);
        if (r.kind === 'passthrough') warnings.push(`routes[${i}] (${r.name}): kind passthrough forwards bodies without JSON screening`);
        if (!r.auth) warnings.push(`routes[${i}] (${r.name}): no auth: anyone who reaches the gateway can call it (set auth, or auth.public: true to say it is meant)`);
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify({ ok: errors.length === 0, file: opts.config, routes: config.routes.length, errors, warnings }, null, 2) + '\n');
      } else {
        for (const e of errors) process.stdout.write(`error: ${e}\n`);
        for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
        const counts = `${config.routes.length} route${config.routes.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`;
        process.stdout.write(errors.length === 0 ? `ok: ${opts.config} is valid (${counts})\n` : `invalid: ${opts.config} has ${errors.length} error${errors.length === 1 ? '' : 's'} (${counts})\n`);
      }
      if (errors.length > 0) process.exitCode = 1;
    });
}
