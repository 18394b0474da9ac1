import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One real Temporal dev server and one workflow bundle for the whole run (test/setup/temporal.global.ts).
    globalSetup: ['test/setup/temporal.global.ts'],
    // A failed test prints what the agents of its testbeds logged meanwhile (test/setup/lab-logs.ts).
    setupFiles: ['test/setup/lab-logs.ts'],
    // Forks, not threads: the Temporal core bridge and worker threads misbehave in vitest's thread pool.
    pool: 'forks',
    // At least two files at once: most tests wait on real processes (servers, agents, guests), not on the CPU,
    // and vitest's default (cores - 1) runs them one by one on a 2-core CI machine. The tests claim their own
    // subnets, ports and directories, so files may run side by side.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Keep CI output readable: warnings and errors only, unless asked (HOSTPROV_LOG_LEVEL=info npx vitest ...).
    env: { HOSTPROV_LOG_LEVEL: process.env.HOSTPROV_LOG_LEVEL ?? 'warn' },
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: ['default', './test/setup/count-reporter.ts'],
  },
});
