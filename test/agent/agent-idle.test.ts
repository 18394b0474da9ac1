/**
 * An idle agent sleeps: without `--metrics-listen` it loads no metrics (agent/agent-service.ts), so nothing
 * wakes its main thread while nobody calls it. With metrics, prom-client samples the event-loop lag on a
 * timer (EVENT_LOOP_MONITORING_PRECISION_MS), which wakes it about ten times a second. Counted as the
 * main thread's voluntary context switches (/proc/<pid>/status), a real process in its own namespace.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_LOOP_MONITORING_PRECISION_MS } from '../../agent/metrics';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';

/** Long enough for the lag timer to fire 20 times. */
const WINDOW_MS = 20 * EVENT_LOOP_MONITORING_PRECISION_MS;

function voluntarySwitches(pid: number): number {
  const line = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line?.[1]) throw new Error(`no voluntary_ctxt_switches for pid ${pid}`);
  return Number(line[1]);
}

/** Wake-ups of the agent's main thread during WINDOW_MS of idleness, after a second to settle from its start. */
async function idleWakeUps(host: AgentProcessHost): Promise<number> {
  const pid = host.pid;
  if (pid === null) throw new Error('the agent is not running');
  await new Promise((r) => setTimeout(r, 1_000));
  const before = voluntarySwitches(pid);
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  return voluntarySwitches(pid) - before;
}

describe('an idle agent', () => {
  let host: AgentProcessHost;
  beforeAll(async () => {
    host = await createAgentProcessHost();
  }, 120_000);
  afterAll(async () => {
    await host?.close();
  });

  it('without --metrics-listen, is not woken while nobody calls it', async () => {
    await host.start();
    try {
      expect(await idleWakeUps(host)).toBeLessThan(5);
    } finally {
      await host.kill();
    }
  });

  it('with --metrics-listen, is woken by the event-loop lag sampling', async () => {
    await host.start({ extraArgs: ['--metrics-listen', '127.0.0.1:9464'] });
    expect(await idleWakeUps(host)).toBeGreaterThanOrEqual(10);
  });
});
