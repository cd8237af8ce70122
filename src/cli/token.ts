import type { Command } from 'commander';
import { sharedFor } from '../stages/auth/index.js';
import { isRoleName, isSubjectValue, ROLE_NAME_RULE } from '../http/identity-values.js';
import { mintToken } from '../stages/auth/token-endpoint.js';
import type { SigningKeys } from '../stages/auth/signing-keys.js';
import { createStore } from '../stores/create-store.js';
import { parseListen } from '../config/units.js';
import { DEFAULT_CONFIG_FILE, loadOrExit } from './load-or-exit.js';

/**
 * `bulwark token`: a short-lived JWT for testing, from the gateway's own issuer. `--sub` signs
 * with the signing key in the configured state store (a running gateway on the same SQLite or
 * Redis store accepts it); `--key` trades an API key at the running gateway's token endpoint.
 */
export function registerToken(program: Command): void {
  program
    .command('token')
    .description("Mint a short-lived JWT from the gateway's own issuer (needs auth.tokenEndpoint).")
    .option('--sub <subject>', 'subject of the token, signed with the key in the state store')
    .option('--roles <roles>', 'comma-separated roles (with --sub)', '')
    .option('--key <apiKey>', 'trade this API key at the running gateway (client_credentials)')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  bulwark token --sub alice --roles ai-user -c bulwark.yaml\n  bulwark token --key "$BULWARK_KEY" -c bulwark.yaml')
    .action(async (opts: { sub?: string; roles: string; key?: string; config: string; json?: boolean }) => {
      const { config } = loadOrExit(opts.config);
      const te = config.auth.tokenEndpoint;
      if (!te) throw new Error('auth.tokenEndpoint is not configured: the gateway has no issuer of its own');
      if ((opts.sub === undefined) === (opts.key === undefined)) throw new Error('give exactly one of --sub or --key');
      let token: string;
      let expiresIn: number;
      if (opts.sub !== undefined) {
        // The gateway would refuse such a token (bad_subject, bad_roles): say so now, not at first use.
        if (!isSubjectValue(opts.sub)) throw new Error('--sub: a subject is printable ASCII with no space at either end');
        const roles = opts.roles.split(',').map((r) => r.trim()).filter(Boolean);
        const bad = roles.find((r) => !isRoleName(r));
        if (bad !== undefined) throw new Error(`--roles: invalid role ${JSON.stringify(bad)}: ${ROLE_NAME_RULE}`);
        if (config.state.store === 'memory') process.stderr.write('bulwark: state.store is memory: a running gateway has its own signing key and will not accept this token; use --key, or a shared store\n');
        const store = createStore(config.state);
        try {
          ({ token, expiresIn } = await mintToken(sharedFor(config, store).signing as SigningKeys, te, { sub: opts.sub, roles }));
        } finally {
          await store.close();
        }
      } else {
        const { host, port } = parseListen(config.server.listen);
        const scheme = config.server.tls ? 'https' : 'http';
        const res = await fetch(`${scheme}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}${te.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', [config.auth.apiKeys?.header ?? 'x-api-key']: opts.key as string },
          body: 'grant_type=client_credentials',
        });
        const body = (await res.json()) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
        if (!res.ok || !body.access_token) throw new Error(`token endpoint refused: ${body.error ?? res.status} ${body.error_description ?? ''}`.trim());
        token = body.access_token;
        expiresIn = body.expires_in ?? 0;
      }
      process.stdout.write(opts.json ? JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: expiresIn }) + '\n' : token + '\n');
    });
}
