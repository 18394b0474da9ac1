/**
 * The build's code cache for the agent (cli/agent-code-cache.ts): written after the agent served an install
 * in a user and network namespace of its own, where one can be made, so a host's agent finds its request
 * paths compiled; else after `agent --help`. Either way the launcher uses it. Run against the build the
 * suite's setup made (test/setup/temporal.global.ts), copied.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeAgentCodeCache, CodeCacheWorkload } from '../../cli/agent-code-cache';
import {
  AGENT_BUNDLE_FILE,
  AGENT_CODE_CACHE_FILE,
  AGENT_V8_FLAGS,
  CODE_CACHE_REPORT_ENV,
  CodeCacheUse,
} from '../../lib/agent-launch-files';
import { AGENT_BUILD_PATH, AGENT_BUNDLE_PATH } from '../../lib/build-info';
import { run } from '../../lib/process';
import { capturedLogs } from '../vdsm/captured-logs';
import { skipBecause } from '../helpers/skip';

const fromSource = process.env.HOSTPROV_FROM_SOURCE === '1' ? 'HOSTPROV_FROM_SOURCE=1: bin/hostprov runs the sources' : null;

function namespacesUnavailable(): string | null {
  try {
    execFileSync('unshare', ['-rn', 'true'], { stdio: 'ignore' });
    return null;
  } catch {
    return '`unshare -rn` cannot make a user and network namespace here';
  }
}

const { NODE_OPTIONS: _ignored, ...inherited } = process.env;

describe.skipIf(skipBecause(fromSource, 'the agent code cache tests'))('the agent code cache the build makes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-agent-code-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The launcher and the bundle copied into `<dir>/<name>`, without a cache. */
  function copyOfBuild(name: string): { launcher: string; cache: string } {
    const dist = join(dir, name);
    mkdirSync(dist, { recursive: true });
    copyFileSync(AGENT_BUILD_PATH, join(dist, 'hostprov-agent.mjs'));
    copyFileSync(AGENT_BUNDLE_PATH, join(dist, AGENT_BUNDLE_FILE));
    return { launcher: join(dist, 'hostprov-agent.mjs'), cache: join(dist, AGENT_CODE_CACHE_FILE) };
  }

  /** What the agent, started as `bin/hostprov agent` starts it (the agent's V8 flags), said of the cache. */
  async function cacheUse(launcher: string, v8Flags: readonly string[] = AGENT_V8_FLAGS): Promise<string> {
    const result = await run([process.execPath, ...v8Flags, launcher, 'agent', '--help'], {
      env: { ...inherited, [CODE_CACHE_REPORT_ENV]: '1' },
      timeoutMs: 60_000,
    });
    return result.stderr;
  }

  it.skipIf(skipBecause(namespacesUnavailable(), 'the install workload'))(
    'is written after an install in a namespace of its own, and used',
    async () => {
      const { launcher, cache } = copyOfBuild('install');
      const { logger, lines } = capturedLogs('warn');
      await expect(makeAgentCodeCache({ launcher, out: cache, log: logger })).resolves.toBe(CodeCacheWorkload.INSTALL);
      expect(lines).toEqual([]);
      expect(await cacheUse(launcher)).toContain(`hostprov agent code cache: ${CodeCacheUse.USED}`);
    },
    120_000,
  );

  it('falls back to `agent --help` where no namespace can be made, and says so', async () => {
    const { launcher, cache } = copyOfBuild('help');
    const { logger, lines } = capturedLogs('warn');
    await expect(makeAgentCodeCache({ launcher, out: cache, log: logger, unshare: join(dir, 'no-such-unshare') })).resolves.toBe(
      CodeCacheWorkload.HELP,
    );
    expect(lines.join('\n')).toContain('made from `agent --help`');
    expect(existsSync(`${cache}.${process.pid}.tmp`)).toBe(false);
    expect(await cacheUse(launcher)).toContain(`hostprov agent code cache: ${CodeCacheUse.USED}`);
    // Why the build makes it under the agent's flags: V8 refuses it under others.
    expect(await cacheUse(launcher, [])).toContain(`hostprov agent code cache: ${CodeCacheUse.REJECTED}`);
  }, 60_000);
});
