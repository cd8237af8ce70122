import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { identifyWithStore } from '../stages/output-guard/watermark/registry.js';
import { createStore } from '../stores/create-store.js';
import { DEFAULT_CONFIG_FILE, loadOrExit } from './load-or-exit.js';

interface IdentifyOptions {
  config: string;
  json?: boolean;
}

async function readInput(file: string | undefined): Promise<string> {
  if (file !== undefined && file !== '-') return readFileSync(file, 'utf8');
  if (process.stdin.isTTY) throw new Error('give a FILE, or pipe the text on stdin (FILE "-")');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** `bulwark watermark identify`: which client a leaked text was served to, from its invisible tags. */
export function registerWatermark(program: Command): void {
  const cmd = program.command('watermark').description('Trace leaked answers through their invisible per-client watermark.');
  cmd
    .command('identify [file]')
    .description('Which client a text (FILE, or stdin with "-") was served to, when, and how sure. Exit 0 when found, 1 when not.')
    .option('-c, --config <file>', 'config file (its state store holds the watermark key and client registry)', DEFAULT_CONFIG_FILE)
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nExamples:\n  bulwark watermark identify leaked.txt -c bulwark.yaml\n  pbpaste | bulwark watermark identify - --json\n\n' +
        'Paste the text as found: the tags are invisible characters, so copy it without retyping.\n' +
        'About 300 characters (a paragraph) carry at least one complete tag.',
    )
    .action(async (file: string | undefined, opts: IdentifyOptions) => {
      const text = await readInput(file);
      const { config } = loadOrExit(opts.config);
      if (config.state.store === 'memory') {
        process.stderr.write('note: state.store is memory, so the gateway\'s watermark key and client registry are not visible here; use sqlite or redis\n');
      }
      const store = createStore(config.state);
      try {
        const r = await identifyWithStore(text, store);
        if (opts.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        else if (!r.found) process.stdout.write(`no watermark found: ${r.confidence}\n`);
        else {
          process.stdout.write(
            `client:     ${r.clientId ?? '(not in the registry)'}  (tag ${r.clientTag})\n` +
              (r.candidates ? `candidates: ${r.candidates.join(', ')}\n` : '') +
              `served:     ${r.time} (UTC, minute precision)\n` +
              `tags:       ${r.tagsFound} found, ${r.verified} verified\n` +
              `confidence: ${r.confidence}\n`,
          );
        }
        process.exitCode = r.found ? 0 : 1;
      } finally {
        await store.close();
      }
    });
}
