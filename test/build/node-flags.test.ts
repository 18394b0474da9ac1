/**
 * The Node flags `bin/hostprov` gives each kind of process: the commands that host a worker (worker, bench,
 * demo, dev) get a larger young generation (docs/performance.md#the-workers-young-generation); the agent gets
 * OpenSSL's CA store and not the worker's heap setting. Each process reports its own `process.execArgv`
 * through a preloaded script, before the command runs (`--help`: nothing else starts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';

const WORKER_HEAP_FLAG = '--max-semi-space-size=64';

describe('the Node flags of each hostprov command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-node-flags-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const report = join(dir, 'report-exec-argv.cjs');
  writeFileSync(report, 'process.stderr.write(`EXECARGV ${JSON.stringify(process.execArgv)}\\n`);\n');

  async function execArgvOf(command: string): Promise<string[]> {
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    const result = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), command, '--help'], {
      env: { ...env, NODE_OPTIONS: `--require ${report}` },
      timeoutMs: 60_000,
    });
    const line = result.stderr.split('\n').find((l) => l.startsWith('EXECARGV '));
    if (!line) throw new Error(`hostprov ${command} --help reported no execArgv: ${result.stderr}`);
    return JSON.parse(line.slice('EXECARGV '.length)) as string[];
  }

  it.each(['worker', 'bench', 'demo', 'dev'])('hostprov %s hosts a worker: a larger young generation', async (command) => {
    expect(await execArgvOf(command)).toContain(WORKER_HEAP_FLAG);
  });

  it("the agent and the other commands keep V8's default", async () => {
    const agent = await execArgvOf('agent');
    expect(agent).toContain('--use-openssl-ca');
    expect(agent).not.toContain(WORKER_HEAP_FLAG);
    const client = await execArgvOf('install-host');
    expect(client).not.toContain(WORKER_HEAP_FLAG);
    expect(client).not.toContain('--use-openssl-ca');
  });
});
