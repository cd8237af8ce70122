import type { Command } from 'commander';
import { createDevCerts } from '../tls/dev-certs.js';

export function registerCerts(program: Command): void {
  const certs = program.command('certs').description('Development certificates for TLS and mutual TLS.');
  certs
    .command('init')
    .description('Write a dev CA, a server certificate for localhost and a client certificate (keys 0600).')
    .option('--dir <dir>', 'output folder', 'certs')
    .option('--client-uri <uri>', 'SAN URI of the client certificate (its mTLS identity)', 'spiffe://bulwark.local/dev-client')
    .option('--host <name...>', 'extra DNS names for the server certificate', [])
    .option('--days <n>', 'validity of the leaf certificates', '90')
    .option('--force', 'replace existing files')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  bulwark certs init --dir certs --client-uri spiffe://corp/agent-runner')
    .action(async (opts: { dir: string; clientUri: string; host: string[]; days: string; force?: boolean; json?: boolean }) => {
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 825) throw new Error('--days: an integer from 1 to 825');
      const files = await createDevCerts({ dir: opts.dir, clientUri: opts.clientUri, hosts: opts.host, days, force: opts.force ?? false });
      if (opts.json) process.stdout.write(JSON.stringify(files, null, 2) + '\n');
      else {
        process.stdout.write(`wrote ${Object.values(files).join(', ')}\n\nserver:\n  tls: { cert: ${files.server}, key: ${files.serverKey}, clientCa: ${files.ca} }\nauth:\n  mtls: { identity: san-uri, roles: { "${opts.clientUri}": [agent] } }\n\ncurl --cacert ${files.ca} --cert ${files.client} --key ${files.clientKey} https://localhost:8443/...\n`);
      }
    });
}
