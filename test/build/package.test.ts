/**
 * What `npm pack` ships works after `npm install -g`: the packed tarball is installed into a temporary
 * prefix (dependencies from the npm registry or its cache), and the installed `hostprov` answers --help,
 * runs `hostprov agent` from its self-contained build, and serves as an agent inside a test namespace.
 *
 * Installed with `--ignore-scripts`: the one install script that matters, better-sqlite3's, compiles SQLite
 * from source where no prebuilt binary can be downloaded (here: minutes, more than the suite can spend),
 * and nothing tested here opens SQLite. The agent bundle has no dependencies at all.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';
import { netnsUnavailableReason } from '../../testbed/netns';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
import { skipBecause } from '../helpers/skip';

const INSTALL_TIMEOUT_MS = 10 * 60_000;
const netnsReason = await netnsUnavailableReason();

describe('npm pack, then npm install -g', () => {
  let dir: string;
  let hostprov: string;
  let packageDir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-pack-'));
    // prepack runs scripts/build (a no-op when dist/ is current).
    execFileSync('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${dir}`);
    const prefix = join(dir, 'prefix');
    await run(
      [
        'npm',
        'install',
        '-g',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        join(dir, tarball),
      ],
      {
        cwd: dir,
        timeoutMs: INSTALL_TIMEOUT_MS,
      },
    );
    hostprov = join(prefix, 'bin', 'hostprov');
    packageDir = join(prefix, 'lib', 'node_modules', 'hostprov');
  }, INSTALL_TIMEOUT_MS + 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the build and runs it, without tsx', async () => {
    for (const file of ['hostprov.mjs', 'hostprov-agent.mjs', 'workflow-bundle.js', '.build-stamp'])
      expect(existsSync(join(packageDir, 'dist', file)), file).toBe(true);
    expect(existsSync(join(packageDir, 'test'))).toBe(false);
    // Proof that the build runs: without tsx, only the compiled files can.
    rmSync(join(packageDir, 'node_modules', 'tsx'), { recursive: true, force: true });
    const help = await run([hostprov, '--help'], { cwd: dir, timeoutMs: 60_000 });
    for (const command of ['agent', 'worker', 'install-host', 'dev']) expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    const agentHelp = await run([hostprov, 'agent', '--help'], { cwd: dir, timeoutMs: 60_000 });
    expect(agentHelp.stdout).toContain('--listen <addr:port>');
    expect(agentHelp.stdout).toContain('--max-connections <n>');
  });

  it('refuses bad agent flags with exit 2, as the checkout does', async () => {
    const result = await run([hostprov, 'agent', '--insecure', '--listen', '127.0.0.1:0', '--max-connections', '0'], {
      cwd: dir,
      allowFailure: true,
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--max-connections: Too small/);
  });

  describe.skipIf(skipBecause(netnsReason, 'the installed agent in a namespace'))('the installed agent', () => {
    let host: AgentProcessHost | undefined;
    afterAll(async () => {
      await host?.close();
    });

    it('serves in a test namespace: ping and capabilities answer', async () => {
      host = await createAgentProcessHost();
      await host.start({ program: hostprov });
      expect(await host.call('Host.ping2', {})).toBe(true);
      const caps = await host.call<{ nics?: Record<string, unknown> }>('Host.getCapabilities', {});
      expect(Object.keys(caps.nics ?? {})).toContain('eth0');
      expect(host.log()).not.toMatch(/"level":50/);
    });
  });
});
