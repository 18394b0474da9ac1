/**
 * The agent's test-only hooks (agent/network/test-pause.ts): the crash hook kills the process at its point
 * once per runtime directory, as the full-kernel test of a killed agent needs (test/agent/full-kernel-qos.test.ts),
 * and `hostprov agent` refuses a bad or contradictory setting before anything starts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crashedMarkerFile, PausePoint, TEST_CRASH_ENV, TEST_PAUSE_ENV } from '../../agent/network/test-pause';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';

const dir = mkdtempSync(join(tmpdir(), 'hostprov-test-hooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const child = (at: PausePoint, point: PausePoint) =>
  run([process.execPath, '--import', 'tsx', join(PROJECT_ROOT, 'test/agent/fixtures/crash-hook-child.ts'), dir, at, point], {
    allowFailure: true,
    timeoutMs: 60_000,
  });

describe('the crash hook', () => {
  it('kills the process at its point only, once: a process started again goes on', async () => {
    const at = PausePoint.AWAITING_CONFIRMATION;
    const elsewhere = await child(at, PausePoint.BEFORE_APPLY);
    expect(elsewhere).toMatchObject({ code: 0, stdout: 'went on\n' });
    expect(existsSync(crashedMarkerFile(dir, at))).toBe(false);

    const crashed = await child(at, at);
    // Killed by a signal: no exit code (run's 60 s timeout would kill it too, but leave no marker).
    expect(crashed).toMatchObject({ code: null, stdout: '' });
    expect(existsSync(crashedMarkerFile(dir, at))).toBe(true);

    expect(await child(at, at)).toMatchObject({ code: 0, stdout: 'went on\n' });
  });
});

describe('hostprov agent with a test hook', () => {
  const agent = (env: Record<string, string>) =>
    run(
      [join(PROJECT_ROOT, 'bin', 'hostprov'), 'agent', '--insecure', '--listen', '127.0.0.1:0'],
      // Would listen on loopback if the settings were accepted; the refusal comes before anything starts.
      { allowFailure: true, timeoutMs: 60_000, env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn', ...env } },
    );

  it('refuses an unknown point, and both hooks at once, with exit 2', async () => {
    const unknown = await agent({ [TEST_CRASH_ENV]: 'after-lunch' });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`${TEST_CRASH_ENV}: expected one of before-apply, mid-batch`);
    const both = await agent({ [TEST_CRASH_ENV]: PausePoint.BEFORE_APPLY, [TEST_PAUSE_ENV]: PausePoint.BEFORE_APPLY });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain(`give ${TEST_PAUSE_ENV} or ${TEST_CRASH_ENV}, not both`);
  });
});
