/**
 * `hostprov agent` from the build starts the agent bundle with the V8 code cache the build made
 * (cli/agent-launch.ts), and without a usable cache still starts: V8 compiles the bundle as usual. The
 * bundle also runs on its own. The suite's setup builds first (test/setup/temporal.global.ts).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_BUNDLE_FILE, AGENT_CODE_CACHE_FILE, CODE_CACHE_REPORT_ENV, CodeCacheUse } from '../../lib/agent-launch-files';
import { AGENT_BUILD_PATH, AGENT_BUNDLE_PATH } from '../../lib/build-info';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';
import { skipBecause } from '../helpers/skip';

const fromSource = process.env.HOSTPROV_FROM_SOURCE === '1' ? 'HOSTPROV_FROM_SOURCE=1: bin/hostprov runs the sources' : null;
const USAGE = 'Usage: hostprov agent [options]';
// Without NODE_OPTIONS: V8 flags in it (a test runner's) would make V8 refuse the cache, rightly.
const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
const reportEnv = { ...inherited, [CODE_CACHE_REPORT_ENV]: '1' };

describe.skipIf(skipBecause(fromSource, 'the agent launcher tests'))('the built agent and its code cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-agent-launch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The launcher and the bundle copied into `<dir>/<name>/dist`, with `cache` as the code cache if given. */
  function copyOfBuild(name: string, cache?: Buffer): string {
    const dist = join(dir, name, 'dist');
    mkdirSync(dist, { recursive: true });
    copyFileSync(AGENT_BUILD_PATH, join(dist, 'hostprov-agent.mjs'));
    copyFileSync(AGENT_BUNDLE_PATH, join(dist, AGENT_BUNDLE_FILE));
    if (cache) writeFileSync(join(dist, AGENT_CODE_CACHE_FILE), cache);
    return join(dist, 'hostprov-agent.mjs');
  }

  it('bin/hostprov agent uses the cache the build made (same Node, same flags)', async () => {
    const result = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'agent', '--help'], { env: reportEnv, timeoutMs: 60_000 });
    expect(result.stdout).toContain(USAGE);
    expect(result.stderr).toContain(`hostprov agent code cache: ${CodeCacheUse.USED}`);
  });

  it('starts without a cache, and with one V8 refuses, compiling as usual', async () => {
    const without = await run([process.execPath, copyOfBuild('none'), 'agent', '--help'], { env: reportEnv, timeoutMs: 60_000 });
    expect(without.stdout).toContain(USAGE);
    expect(without.stderr).toContain(`hostprov agent code cache: ${CodeCacheUse.ABSENT}`);
    const garbage = Buffer.from('not a V8 code cache, e.g. one from another Node version');
    const refused = await run([process.execPath, copyOfBuild('refused', garbage), 'agent', '--help'], {
      env: reportEnv,
      timeoutMs: 60_000,
    });
    expect(refused.stdout).toContain(USAGE);
    expect(refused.stderr).toContain(`hostprov agent code cache: ${CodeCacheUse.REJECTED}`);
  });

  it('the bundle runs on its own, and refuses bad flags with exit 2 as bin/hostprov does', async () => {
    const help = await run([process.execPath, AGENT_BUNDLE_PATH, 'agent', '--help'], { timeoutMs: 60_000 });
    expect(help.stdout).toContain(USAGE);
    const bad = await run([process.execPath, AGENT_BUNDLE_PATH, 'agent', '--insecure', '--max-connections', '0'], {
      allowFailure: true,
      timeoutMs: 60_000,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-connections: Too small/);
  });
});
