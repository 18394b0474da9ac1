/**
 * The Node flags `bin/hostprov` gives each kind of process: the commands that host a worker (worker, bench,
 * demo, dev) get a larger young generation (docs/performance.md#the-workers-young-generation); the agent gets
 * OpenSSL's CA store and its own young generation (lib/agent-launch-files.ts AGENT_V8_FLAGS, the flags its code
 * cache is made under), and `bench`, which measures an agent in its own process, gets the agent's too. Each process reports its own `process.execArgv`
 * through a preloaded script, before the command runs (`--help`: nothing else starts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_V8_FLAGS } from '../../lib/agent-launch-files';
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

  it("the agent runs with the agent's V8 flags (those of its code cache) and not the worker's heap setting", async () => {
    const agent = await execArgvOf('agent');
    expect(agent).toContain('--use-openssl-ca');
    expect(AGENT_V8_FLAGS.length).toBeGreaterThan(0);
    for (const flag of AGENT_V8_FLAGS) expect(agent).toContain(flag);
    expect(agent).not.toContain(WORKER_HEAP_FLAG);
  });

  it("bench measures an agent in its own process: it runs with the agent's V8 flags too", async () => {
    const bench = await execArgvOf('bench');
    for (const flag of AGENT_V8_FLAGS) expect(bench).toContain(flag);
  });

  it("the other commands keep V8's default", async () => {
    for (const command of ['install-host', 'worker']) {
      const argv = await execArgvOf(command);
      for (const flag of AGENT_V8_FLAGS) expect(argv).not.toContain(flag);
      expect(argv).not.toContain('--use-openssl-ca');
    }
    expect(await execArgvOf('install-host')).not.toContain(WORKER_HEAP_FLAG);
  });
});
