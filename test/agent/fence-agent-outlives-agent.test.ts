/**
 * A proxy agent killed while its fence agent reboots a host (agent/fencing/fence-run.ts): the fence agent goes
 * on and finishes the reboot, and the agent started again on the same runtime directory answers the repeated
 * request with that run's outcome, waiting for it while it runs, instead of rebooting the host a second
 * time beside it. Real parts: a `hostprov agent` process in a namespace as the proxy, killed with kill -9,
 * the real fence_ipmilan against the testbed's ipmi_sim. The proxy's namespace does not reach the testbed's
 * BMCs, so its fence agent directory holds a `fence_ipmilan` that enters this test's network namespace and
 * runs the installed one.
 *
 * The waiting itself (an earlier process's run that is still going, one past its timeout, one that left no
 * outcome) is shown on stand-in fence agents beside it.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FenceAgentTimeoutError } from '../../agent/fencing/errors';
import { DEFAULT_FENCE_AGENT_DIR } from '../../agent/fencing/fence';
import {
  FENCE_RUNS_SUBDIR,
  fenceRunCommand,
  fenceRunDir,
  fenceRunLeader,
  prepareFenceRunDir,
  pruneFenceRuns,
} from '../../agent/fencing/fence-run';
import { FenceOptionPolicies } from '../../agent/fencing/option-policies';
import { awaitFenceRun, runFenceAgent } from '../../agent/fencing/run-fence-agent';
import { createFenceNodeVerb } from '../../agent/verbs/fence-node';
import { isAlive, processGroupMembers } from '../../lib/process';
import { waitForTcp } from '../../testbed/reachability';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { createTestbed, type Testbed } from '../../testbed/testbed';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
import { standInFenceRequest } from '../helpers/fence-request';
import { skipBecause } from '../helpers/skip';
import { cleanUp, makeStateDir, SERVICE_PORT, SERVING_BOOT_COMMAND } from '../testbed/helpers/fixture';

const request = (agent: string) => standInFenceRequest(agent, 'reboot');

describe('waiting for a fence agent an earlier agent process started', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostprov-fence-runs-'));
    // Stand-ins: one that takes a while and says so, one that never ends on its own.
    await writeFile(join(dir, 'fence_slow'), '#!/bin/sh\ncat >/dev/null\nsleep 1\necho "Success: Rebooted"\necho bmc slow >&2\nexit 0\n', {
      mode: 0o755,
    });
    await writeFile(join(dir, 'fence_stuck'), '#!/bin/sh\ncat >/dev/null\nsleep 600\n', { mode: 0o755 });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  /** A run as a killed agent process leaves it: started, and no one in this process waiting for it. */
  const orphanedRun = (agent: string, key: string, runsDir = dir): string => {
    const runDir = fenceRunDir(runsDir, JSON.stringify(key));
    prepareFenceRunDir(runDir);
    const wrapper = fenceRunCommand(runDir, join(dir, `fence_${agent}`));
    const child = spawn(wrapper.file, wrapper.args, { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.end('action=reboot\n');
    child.unref();
    return runDir;
  };

  it('awaits one that runs, and gets its exit and output; the directory then goes', async () => {
    const started = Date.now();
    const runDir = orphanedRun('slow', 'slow');
    await expect.poll(() => fenceRunLeader(runDir), { timeout: 5_000 }).not.toBeNull();
    const exit = await awaitFenceRun(request('slow'), runDir, started, 60_000);
    expect(exit).toMatchObject({ exitCode: 0, signal: null, stdout: 'Success: Rebooted\n', stderr: 'bmc slow\n' });
    expect(exit?.durationMs).toBeGreaterThanOrEqual(1_000);
    expect(existsSync(runDir)).toBe(false);
  });

  it('kills one past its timeout, with its whole process group, and says so', async () => {
    const runDir = orphanedRun('stuck', 'stuck');
    await expect.poll(() => fenceRunLeader(runDir), { timeout: 5_000 }).not.toBeNull();
    const leader = fenceRunLeader(runDir) ?? 0;
    await expect.poll(() => processGroupMembers(leader).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    const err = await awaitFenceRun(request('stuck'), runDir, Date.now() - 60_000, 1_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FenceAgentTimeoutError);
    expect(processGroupMembers(leader)).toEqual([]);
    expect(existsSync(runDir)).toBe(false);
  });

  it('finds nothing where no run started, or where one was killed before it recorded an outcome', async () => {
    expect(await awaitFenceRun(request('slow'), fenceRunDir(dir, JSON.stringify('never')), Date.now(), 60_000)).toBeNull();
    const runDir = orphanedRun('stuck', 'killed');
    await expect.poll(() => fenceRunLeader(runDir), { timeout: 5_000 }).not.toBeNull();
    const leader = fenceRunLeader(runDir) ?? 0;
    process.kill(-leader, 'SIGKILL');
    await expect.poll(() => processGroupMembers(leader), { timeout: 5_000 }).toEqual([]);
    expect(await awaitFenceRun(request('stuck'), runDir, Date.now(), 60_000)).toBeNull();
    expect(existsSync(runDir)).toBe(false);
  });

  it('clears the runs nothing needs when the agent starts: ended, and no repeat left to ask about them', async () => {
    const runs = join(dir, 'runs');
    const ended = (name: string) => {
      const runDir = join(runs, name);
      prepareFenceRunDir(runDir);
      writeFileSync(join(runDir, 'status'), '0\n');
      return runDir;
    };
    const forgotten = ended('once-forgotten');
    const asked = ended(basename(fenceRunDir(runs, JSON.stringify('asked-again'))));
    const running = orphanedRun('stuck', 'still-running', runs);
    await expect.poll(() => fenceRunLeader(running), { timeout: 5_000 }).not.toBeNull();
    expect(pruneFenceRuns(runs, new Set([asked]))).toBe(1);
    expect([existsSync(forgotten), existsSync(asked), existsSync(running)]).toEqual([false, true, true]);
    process.kill(-(fenceRunLeader(running) ?? 0), 'SIGKILL');
    await expect.poll(() => fenceRunLeader(running), { timeout: 5_000 }).toBeNull();
    // An agent started on this directory, with no record of a run any repeat may ask about, clears them all.
    createFenceNodeVerb({ runsDir: runs, repeatsFile: join(dir, 'no-repeats.json') });
    expect(readdirSync(runs)).toEqual([]);
  });

  it('the agent that starts a run reads its exit and output the same way', async () => {
    const policies = new FenceOptionPolicies();
    const runDir = fenceRunDir(dir, null);
    const exit = await runFenceAgent(request('slow'), { fenceAgentDir: dir, timeoutMs: 60_000, policies, runDir });
    expect(exit).toMatchObject({ exitCode: 0, signal: null, stdout: 'Success: Rebooted\n', stderr: 'bmc slow\n' });
    expect(existsSync(runDir)).toBe(false);
  });
});

const unavailable = await testbedUnavailableReason();

describe.skipIf(skipBecause(unavailable, 'a proxy agent killed while its fence agent runs (testbed)'))(
  'a proxy agent killed while its fence agent reboots a host',
  () => {
    let stateDir: string | undefined;
    let testbed: Testbed | undefined;
    let proxy: AgentProcessHost | undefined;
    let shims: string;

    beforeAll(async () => {
      stateDir = await makeStateDir('fence-outlives');
      testbed = await createTestbed({ stateDir, hosts: [{ name: 'target' }], bootCommand: SERVING_BOOT_COMMAND, powerOffGraceMs: 1_000 });
      shims = await mkdtemp(join(tmpdir(), 'hostprov-fence-shims-'));
      // Each power action it is asked for is counted (its `action=` line: the input also holds the password);
      // with arguments, it is asked for its metadata.
      const installed = `nsenter --net=/proc/${process.pid}/ns/net ${join(DEFAULT_FENCE_AGENT_DIR, 'fence_ipmilan')}`;
      await writeFile(
        join(shims, 'fence_ipmilan'),
        [
          '#!/bin/sh',
          `[ "$#" -gt 0 ] && exec ${installed} "$@"`,
          'input=$(cat)',
          `printf '%s\n' "$input" | grep '^action=' >>${join(shims, 'actions')}`,
          `printf '%s\n' "$input" | exec ${installed}`,
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      proxy = await createAgentProcessHost();
      await proxy.start({ extraArgs: ['--fence-agent-dir', shims] });
      await waitForTcp(testbed.host('target').address, SERVICE_PORT, { timeoutMs: 20_000 });
    });
    afterAll(async () => {
      await proxy?.close();
      await cleanUp(testbed, stateDir);
      if (shims) await rm(shims, { recursive: true, force: true });
    });

    const bed = (): Testbed => {
      if (!testbed) throw new Error('testbed was not built');
      return testbed;
    };
    const agent = (): AgentProcessHost => {
      if (!proxy) throw new Error('no proxy agent');
      return proxy;
    };
    const actions = async () => (await readFile(join(shims, 'actions'), 'utf8')).trim().split('\n');
    const boots = async () => (await readFile(join(bed().host('target').stateDir, 'boots'), 'utf8')).trim().split('\n').length;
    /** The wrappers of fence agents running in the proxy's runtime directory. */
    const runsInProxy = (): number[] => {
      const runs = join(agent().runtimeDir, FENCE_RUNS_SUBDIR);
      return existsSync(runs) ? readdirSync(runs).flatMap((name) => fenceRunLeader(join(runs, name)) ?? []) : [];
    };

    it('reboots once: the fence agent finishes on its own, and the restarted agent answers the repeat with its outcome', async () => {
      const before = { boots: await boots(), pid: await bed().bootPid('target') };
      const params = await bed().fenceNodeParams('target', 'reboot');
      // Three seconds after each power step: the kill comes while the host is off.
      const reboot = { ...params, options: `${String(params.options)}\npower_wait=3` };
      const id = randomUUID();
      const first = agent()
        .call('Host.fenceNode', reboot, { id, timeoutMs: 60_000 })
        .then(
          () => 'answered',
          (err: unknown) => `failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      await expect.poll(() => bed().bootPid('target'), { timeout: 20_000, interval: 50 }).toBeNull();
      const [wrapper] = runsInProxy();
      expect(wrapper).toBeDefined();
      await agent().kill();
      expect(await first).toMatch(/^failed: /);
      // Killed with its agent, the fence agent would have left the host off.
      expect(isAlive(wrapper ?? 0)).toBe(true);

      await agent().start({ extraArgs: ['--fence-agent-dir', shims] });
      const repeat = await agent().call('Host.fenceNode', reboot, { id, timeoutMs: 60_000 });
      expect(repeat).toEqual({ power: 'unknown', operationStatus: 'initiated' });
      expect(runsInProxy()).toEqual([]);
      await waitForTcp(bed().host('target').address, SERVICE_PORT, { timeoutMs: 20_000 });
      expect(await actions()).toEqual(['action=reboot']);
      expect(await boots()).toBe(before.boots + 1);
      expect(await bed().bootPid('target')).not.toBe(before.pid);
      const log = agent().log();
      expect(log).toContain('fence agent started before a restart finished; its outcome answers');
      expect(log).toContain("a repeated request: answered with the first one's outcome, not run again");
      // Asked once more, the agent answers from what it now remembers.
      expect(await agent().call('Host.fenceNode', reboot, { id, timeoutMs: 60_000 })).toEqual(repeat);
      expect(await actions()).toEqual(['action=reboot']);
      expect(readdirSync(join(agent().runtimeDir, FENCE_RUNS_SUBDIR))).toEqual([]);
    });
  },
);
