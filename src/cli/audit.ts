import type { Command } from 'commander';
import { verifyChain, type VerifyResult } from '../events/audit/verify.js';

interface VerifyOptions {
  json?: boolean;
  head: boolean;
}

function human(file: string, r: VerifyResult): string {
  const files = `${r.files.length} file${r.files.length === 1 ? '' : 's'}`;
  const out: string[] = [];
  if (r.ok) {
    const seq = r.lines > 0 ? `, seq ${r.firstSeq ?? '?'}..${r.lastSeq ?? '?'}` : '';
    const head = r.head ? ', head matches' : '';
    out.push(`OK ${file}: ${r.lines} line${r.lines === 1 ? '' : 's'} in ${files}${seq}${head}`);
    if (r.firstSeq !== undefined && r.firstSeq > 1) out.push(`  the set starts at seq ${r.firstSeq}: earlier lines were rotated out (keep)`);
  } else {
    const b = r.firstBroken;
    out.push(`BROKEN ${b ? `${b.file}${b.line > 0 ? `:${b.line}` : ''}: ${b.reason}` : file}`);
    out.push(`  ${r.lines} line${r.lines === 1 ? '' : 's'} verified before it (${files} in the set)`);
  }
  if (r.dropped > 0) out.push(`  ${r.dropped} event${r.dropped === 1 ? ' was' : 's were'} dropped by the sink (queue full or disk failing), declared in the chain`);
  for (const w of r.warnings) out.push(`  warning: ${w}`);
  return out.join('\n') + '\n';
}

/** `bulwark audit`: checks on the hash-chained security log. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('Check the hash-chained security log (file sink with chain: true).');
  audit
    .command('verify <file>')
    .description('Prove a chained log and its rotated files (<file>.N … <file>.1) complete and unmodified; names the first broken line.')
    .option('--json', 'machine-readable output')
    .option('--no-head', 'do not require <file>.head (lines removed from the end then go unnoticed)')
    .addHelpText(
      'after',
      '\nExit status: 0 when every line is intact, linked and in order up to the head record; 1 at the first line\nthat was changed, removed or reordered (printed as file:line and why).\n\nExamples:\n  bulwark audit verify logs/security.jsonl\n  bulwark audit verify logs/security.jsonl --json',
    )
    .action(async (file: string, opts: VerifyOptions) => {
      const r = await verifyChain(file, { requireHead: opts.head });
      process.stdout.write(opts.json ? JSON.stringify(r, null, 2) + '\n' : human(file, r));
      if (!r.ok) process.exitCode = 1;
    });
}
