/**
 * Liveness and stopping by pid, against real processes: a zombie (a dead child its parent has not reaped)
 * must count as gone, or stopping a daemon on a machine whose PID 1 reaps late waits for nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, processGroupMembers, stopChild, stopPid, stopProcessGroup } from '../../lib/process';

describe('process liveness', () => {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) await stopChild(child, { signal: 'SIGKILL' });
  });

  /**
   * A shell that starts a child and becomes `sleep`, which never reaps it: a zombie. The child exits only
   * once its parent has become `sleep`, so the shell cannot reap it first.
   */
  async function zombie(): Promise<{ zombiePid: number; parent: ChildProcess }> {
    const script = 'p=$$; (while [ "$(cat /proc/$p/comm)" != sleep ]; do sleep 0.01; done) & echo $!; exec sleep 60';
    const parent = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(parent);
    const zombiePid = await new Promise<number>((resolvePromise) =>
      parent.stdout?.once('data', (d: Buffer) => resolvePromise(Number(d.toString().trim()))),
    );
    await expect.poll(() => isAlive(zombiePid)).toBe(false);
    return { zombiePid, parent };
  }

  it('counts a zombie as gone although kill(pid, 0) still finds it', async () => {
    const { zombiePid } = await zombie();
    expect(() => process.kill(zombiePid, 0)).not.toThrow();
    expect(isAlive(zombiePid)).toBe(false);
  });

  it('stops a running process by pid', async () => {
    const { parent } = await zombie();
    expect(isAlive(parent.pid!)).toBe(true);
    await stopPid(parent.pid!, { timeoutMs: 5_000 });
    expect(isAlive(parent.pid!)).toBe(false);
  });

  it('escalates to SIGKILL when the process ignores the polite signal', async () => {
    const stubborn = spawn('sh', ['-c', "trap '' TERM; echo ready; while :; do sleep 0.1; done"], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(stubborn);
    await new Promise((r) => stubborn.stdout?.once('data', r));
    await stopPid(stubborn.pid!, { timeoutMs: 300 });
    expect(isAlive(stubborn.pid!)).toBe(false);
  });

  /** A detached shell (its own process group) with a child that ignores SIGTERM and SIGINT: pids of both. */
  async function stubbornGroup(): Promise<{ leader: number; member: number }> {
    const script = "trap '' TERM INT; (trap '' TERM INT; while :; do sleep 0.1; done) & echo $!; while :; do sleep 0.1; done";
    const leader = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    children.push(leader);
    const member = await new Promise<number>((resolvePromise) =>
      leader.stdout?.once('data', (d: Buffer) => resolvePromise(Number(d.toString().trim()))),
    );
    return { leader: leader.pid!, member };
  }

  it('stops a whole process group, escalating to SIGKILL for what ignores the polite signal', async () => {
    const { leader, member } = await stubbornGroup();
    expect(processGroupMembers(leader)).toEqual(expect.arrayContaining([leader, member]));
    await stopProcessGroup(leader, { signal: 'SIGTERM', timeoutMs: 300 });
    expect(processGroupMembers(leader)).toEqual([]);
    expect(isAlive(member)).toBe(false);
  });

  it('skips the grace period of a group stop once hurried', async () => {
    const { leader, member } = await stubbornGroup();
    const hurry = new AbortController();
    // An hour of grace: only the hurry can end this stop within the test's timeout.
    const stopping = stopProcessGroup(leader, { signal: 'SIGTERM', timeoutMs: 3_600_000, hurry: hurry.signal });
    await expect.poll(() => isAlive(member)).toBe(true);
    hurry.abort();
    await stopping;
    expect(processGroupMembers(leader)).toEqual([]);
  });
});
