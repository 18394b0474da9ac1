/**
 * `run` with the same contract as lib/process.ts's, safe for commands that exit before we finish writing
 * their stdin. lib/process.ts's `run` always writes stdin (`end('')`) without an 'error' listener, so a
 * command that exits at once (`true`, `ip` for a gone namespace) or cannot start crashes the whole process
 * with an unhandled EPIPE. The testbed runs hundreds of such commands; until lib/process.ts handles that,
 * everything under testbed/ runs commands through here.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { CommandFailedError, type RunResult } from '../lib/process';

export type RunOptions = SpawnOptions & { input?: string; allowFailure?: boolean; timeoutMs?: number };

/** Runs a command to completion, optionally feeding `input` on stdin. Rejects on non-zero exit unless `allowFailure`. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { input, allowFailure = false, timeoutMs, ...spawnOptions } = options;
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('run: empty argv');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { ...spawnOptions, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = timeoutMs ? setTimeout(() => child.kill('SIGKILL'), timeoutMs) : undefined;
    child.once('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      const result = { code, stdout, stderr };
      if (code !== 0 && !allowFailure) reject(new CommandFailedError(argv, result));
      else resolvePromise(result);
    });
    if (child.stdin) {
      // A command may exit without reading its input; that is its answer, not a crash of ours.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}
