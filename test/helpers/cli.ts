import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface CliProcess {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Resolves with the first match of `re` in stderr+stdout, or rejects after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function spawnCli(args: readonly string[]): CliProcess {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    waitFor(re, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const tick = () => {
          const m = (err + out).match(re);
          if (m) return resolve(m);
          if (Date.now() - started > ms) return reject(new Error(`timed out waiting for ${re}; output:\n${err}\n${out}`));
          setTimeout(tick, 25);
        };
        tick();
      });
    },
  };
}

/**
 * `runCli` without blocking this process: needed when the command talks to a server the test
 * itself runs (a synchronous spawn would keep that server from answering).
 */
export async function runCliAsync(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(args);
  const status = await p.exited;
  return { status, stdout: p.stdout(), stderr: p.stderr() };
}
