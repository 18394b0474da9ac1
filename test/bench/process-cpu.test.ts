/** The /proc/<pid>/stat reading behind `bench install-host`'s CPU per install (bench/process-cpu.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuSnapshot, groupCpuMs, parseProcStat, pidCpuMs, ProcStatFormatError } from '../../bench/process-cpu';

describe('parseProcStat', () => {
  it('reads the process group and utime + stime + cutime + cstime, whatever the command name holds', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    const line = '4242 (ip -j) (x)) S 1 4200 4200 0 -1 4194560 100 0 0 0 7 3 11 5 20 0 1 0 123 456 789';
    expect(parseProcStat(line)).toEqual({ pgrp: 4200, ticks: 7 + 3 + 11 + 5 });
  });

  it('reads this process', () => {
    const own = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(own.pgrp).toBeGreaterThan(0);
    expect(own.ticks).toBeGreaterThanOrEqual(0);
  });

  it('refuses what is not a stat line', () => {
    expect(() => parseProcStat('hello world')).toThrow(ProcStatFormatError);
  });
});

describe('CPU between two snapshots', () => {
  it('counts the CPU this process burns, and nothing for a group that has no process', async () => {
    const before = await cpuSnapshot();
    const until = performance.now() + 300;
    let spin = 0;
    while (performance.now() < until) spin += 1;
    const after = await cpuSnapshot();
    expect(spin).toBeGreaterThan(0);
    // 300 ms of spinning is at least a few clock ticks of CPU, even on a busy machine.
    expect(pidCpuMs(before, after, process.pid)).toBeGreaterThan(0);
    expect(groupCpuMs(before, after, new Set([-1]))).toBe(0);
    expect(pidCpuMs(before, after, -1)).toBe(0);
  });
});
