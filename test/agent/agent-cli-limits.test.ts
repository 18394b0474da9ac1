/**
 * `hostprov agent`'s transport limit flags (docs/vdsm-wire-protocol.md#limits) and `--apply-processes`
 * (docs/performance.md#applying-independent-stacks-at-once): bad values are refused before anything starts,
 * and a given limit reaches the running agent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/paths';
import { waitUntil } from '../helpers/fault-injection';
import { run } from '../../lib/process';
import { AgentClient } from '../../vdsm/client/client';
import { AgentConnectionError } from '../../vdsm/client/errors';
import { DEFAULT_TRANSPORT_LIMITS } from '../../vdsm/limits';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
import { testLogger } from '../vdsm/test-verbs';

const agent = (...args: string[]) =>
  run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'agent', ...args], {
    allowFailure: true,
    timeoutMs: 60_000,
    env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' },
  });

/**
 * One option's help text, its wrapped lines joined. (Plain string work: a regular expression over the whole
 * help with nested repetition backtracks exponentially once the help grows.)
 */
function optionHelp(help: string, flag: string): string {
  const blocks = help.split(/\n(?= {2}-)/);
  const block = blocks.find((b) => b.trimStart().startsWith(`${flag} `)) ?? '';
  return block.replace(/\s+/g, ' ');
}

describe('hostprov agent limit flags', () => {
  it('refuses bad values with exit 2, naming each flag', async () => {
    // Would listen on loopback if the flags were accepted; the refusal comes before anything starts. One run
    // reports every bad flag.
    const bad = [
      ['--max-connections', '0', /--max-connections: Too small/],
      ['--max-requests-in-flight', '-3', /--max-requests-in-flight: Too small/],
      ['--max-batch-size', 'two', /--max-batch-size: .*expected number/],
      ['--max-frame-bytes', '100', /--max-frame-bytes: Too small/],
      ['--max-outgoing-bytes', '1.5', /--max-outgoing-bytes: .*expected int/],
      ['--apply-processes', '0', /--apply-processes: Too small/],
    ] as const;
    const result = await agent(
      '--insecure',
      '--listen',
      '127.0.0.1:0',
      '--state-dir',
      '/nonexistent/state',
      '--runtime-dir',
      '/nonexistent/run',
      ...bad.flatMap(([flag, value]) => [flag, value]),
    );
    expect(result.code).toBe(2);
    for (const [, , message] of bad) expect(result.stderr).toMatch(message);
  });

  it('has the defaults the README states', () => {
    expect(DEFAULT_TRANSPORT_LIMITS).toEqual({
      maxConnections: 64,
      maxRequestsInFlight: 32,
      maxBatchSize: 32,
      maxFrameBytes: 4 * 1024 * 1024,
      maxOutgoingBytes: 16 * 1024 * 1024,
    });
  });

  it('lists every limit with its default in --help', async () => {
    const { stdout } = await agent('--help');
    for (const [flag, value] of [
      ['--max-connections', DEFAULT_TRANSPORT_LIMITS.maxConnections],
      ['--max-requests-in-flight', DEFAULT_TRANSPORT_LIMITS.maxRequestsInFlight],
      ['--max-batch-size', DEFAULT_TRANSPORT_LIMITS.maxBatchSize],
      ['--max-frame-bytes', DEFAULT_TRANSPORT_LIMITS.maxFrameBytes],
      ['--max-outgoing-bytes', DEFAULT_TRANSPORT_LIMITS.maxOutgoingBytes],
    ] as const) {
      expect(optionHelp(stdout, flag)).toContain(`(default ${value})`);
    }
  });

  describe('on a running agent', () => {
    let host: AgentProcessHost | undefined;
    afterAll(async () => {
      await host?.close();
    });

    it('applies --max-connections: a second connection is refused while the first is open', async () => {
      host = await createAgentProcessHost();
      await host.start({ extraArgs: ['--max-connections', '1'] });
      const first = await AgentClient.connect(host.endpoint, { logger: testLogger() });
      try {
        const err = await AgentClient.connect(host.endpoint, { logger: testLogger() }).then(
          () => expect.unreachable('the second connection should have been refused'),
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(AgentConnectionError);
        expect((err as Error).message).toContain('Too many connections');
        expect(await first.call('Host.ping2')).toBe(true);
      } finally {
        await first.close();
      }
    });

    it('keeps as many spare ip -batch processes as --apply-processes says an apply may run at once', async () => {
      // Unset: two where this machine has two CPUs or more, one otherwise.
      for (const [processes, flag] of [
        [1, ['--apply-processes', '1']],
        [3, ['--apply-processes', '3']],
        [Math.min(2, availableParallelism()), []],
      ] as const) {
        await host?.close();
        host = await createAgentProcessHost();
        await host.start({ extraArgs: flag });
        const agentPid = host.pid;
        if (agentPid === null) throw new Error('the agent has no pid');
        // The spares are started when the agent is idle; they wait on their stdin for the next apply.
        await waitUntil(`${processes} spare ip -batch processes`, () => spareApplyProcesses(agentPid) === processes, { timeoutMs: 10_000 });
        expect(spareApplyProcesses(agentPid)).toBe(processes);
      }
    });
  });
});

/** Children of `pid` that are `ip -batch -` (the apply's spares; the read sessions are `ip -j -d -batch -`). */
function spareApplyProcesses(pid: number): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent pid is the second field after the command name, which may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.join(' ') === 'ip -batch -') count += 1;
    } catch {
      // The process ended while we looked.
    }
  }
  return count;
}
