/**
 * One `bin/hostprov` run to its end, as an operator's shell runs it: exit code, stdout and stderr apart,
 * and stdout parsed with a zod schema when the command printed JSON.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { z } from 'zod';
import { PROJECT_ROOT } from '../../lib/paths';

const BIN = join(PROJECT_ROOT, 'bin', 'hostprov');

export interface HostprovExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runHostprov(args: readonly string[], env: Record<string, string> = {}): Promise<HostprovExit> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOSTPROV_LOG_FORMAT: 'json', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** The run's stdout parsed with `schema`, after checking it exited 0 (the output is in the message if not). */
export function jsonOutput<S extends z.ZodType>(run: HostprovExit, schema: S): z.output<S> {
  if (run.code !== 0) throw new Error(`hostprov exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  return schema.parse(JSON.parse(run.stdout));
}
