import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockLlm } from '../../src/demo/mock-llm.js';
import { spawnCli, type CliProcess } from './cli.js';

export interface GatewayProcess {
  url: string;
  file: string;
  process: CliProcess;
  close(): Promise<void>;
}

/**
 * `bulwark start` as a separate process in front of its own mock upstream. `state` and `events`
 * are YAML lines (default: a SQLite store in a temp dir, no sinks); `routes` is the YAML list.
 */
export async function startGatewayProcess(opts: { name: string; routes: string; extra?: string; state?: string; events?: string }): Promise<GatewayProcess> {
  const mock = await startMockLlm();
  const dir = mkdtempSync(join(tmpdir(), `bulwark-${opts.name}-`));
  const file = join(dir, 'bulwark.yaml');
  writeFileSync(file, `version: 1
server: { listen: "127.0.0.1:0" }
${opts.state ?? `state: { store: sqlite, sqlite: { path: "${join(dir, 'state.db')}" } }`}
upstreams:
  llm: { url: "${mock.url}" }
${opts.extra ?? ''}routes:
${opts.routes}${opts.events ?? 'events: { sinks: [] }'}
`);
  const p = spawnCli(['start', '-c', file, '--no-watch']);
  try {
    // The URL also appears in the gateway.started event on stdout (JSON): stop at a quote.
    const [, url] = await p.waitFor(/listening on (http:\/\/[^\s"]+)/);
    return {
      url: url as string,
      file,
      process: p,
      async close() {
        p.child.kill('SIGKILL');
        await p.exited;
        await mock.close();
      },
    };
  } catch (err) {
    p.child.kill('SIGKILL');
    await mock.close();
    throw err;
  }
}
