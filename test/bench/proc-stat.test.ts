/** The /proc/<pid>/stat reading behind the benchmarks' process groups and CPU per install (bench/proc-stat.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { groupCpuMs, parseProcStat, pidCpuMs, processGroups, ProcStatFormatError, readProcSnapshot } from '../../bench/proc-stat';

describe('parseProcStat', () => {
  it('reads the process group and utime + stime + cutime + cstime, whatever the command name holds', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    const line = '4242 (ip -j) (x)) S 1 4200 4200 0 -1 4194560 100 0 0 0 7 3 11 5 20 0 1 0 123 456 789';
    expect(parseProcStat(line)).toEqual({ state: 'S', pgrp: 4200, cpuMs: (7 + 3 + 11 + 5) * 10 });
  });

  it('reads this process', () => {
    const own = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(own.pgrp).toBeGreaterThan(0);
    expect(own.cpuMs).toBeGreaterThanOrEqual(0);
    expect(own.state).toBe('R');
  });

  it('refuses what is not a stat line', () => {
    expect(() => parseProcStat('hello world')).toThrow(ProcStatFormatError);
  });
});

describe('CPU between two snapshots', () => {
  it('counts the CPU this process burns, and nothing for a group that has no process', async () => {
    const before = await readProcSnapshot();
    const until = performance.now() + 300;
    let spin = 0;
    while (performance.now() < until) spin += 1;
    const after = await readProcSnapshot();
    expect(spin).toBeGreaterThan(0);
    // 300 ms of spinning is at least a few clock ticks of CPU, even on a busy machine.
    expect(pidCpuMs(before, after, process.pid)).toBeGreaterThan(0);
    expect(groupCpuMs(before, after, new Set([-1]))).toBe(0);
    expect(pidCpuMs(before, after, -1)).toBe(0);
  });

  it('groups live processes by process group, zombies left out', () => {
    const snapshot = new Map([
      [10, { state: 'S', pgrp: 10, cpuMs: 0 }],
      [11, { state: 'R', pgrp: 10, cpuMs: 0 }],
      [12, { state: 'Z', pgrp: 10, cpuMs: 0 }],
      [20, { state: 'S', pgrp: 20, cpuMs: 0 }],
    ]);
    expect(processGroups(snapshot)).toEqual(
      new Map([
        [10, [10, 11]],
        [20, [20]],
      ]),
    );
  });
});
