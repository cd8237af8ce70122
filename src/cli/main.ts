#!/usr/bin/env node
import { Command } from 'commander';
import { registerCheck } from './check.js';
import { registerKeys } from './keys.js';
import { registerToken } from './token.js';
import { registerCerts } from './certs.js';
import { registerBans } from './bans.js';
import { registerEval } from './eval.js';
import { registerQuarantine } from './quarantine.js';
import { registerWatermark } from './watermark.js';
import { registerInventory } from './inventory.js';
import { registerDiscover } from './discover.js';
import { registerAudit } from './audit.js';
import { registerRoutes } from './routes.js';
import { registerStart } from './start.js';

const program = new Command();
program
  .name('bulwark')
  .description('Security gateway for AI-powered APIs.')
  .version('0.1.0')
  .showHelpAfterError()
  .addHelpText('after', '\nExamples:\n  bulwark start --demo\n  bulwark check -c bulwark.yaml\n  bulwark routes -c bulwark.yaml --json');

registerStart(program);
registerCheck(program);
registerRoutes(program);
registerKeys(program);
registerToken(program);
registerCerts(program);
registerBans(program);
registerEval(program);
registerQuarantine(program);
registerWatermark(program);
registerInventory(program);
registerDiscover(program);
registerAudit(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`bulwark: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
