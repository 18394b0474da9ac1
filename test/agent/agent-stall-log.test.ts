/**
 * The agent says when its event loop did not run for 5 s or more while a client is connected
 * (lib/event-loop-stalls.ts, started by vdsm/server.ts `whileConnected`): from the caller's side a stalled
 * agent and a broken path look alike. A real agent process in its own namespace is stopped with SIGSTOP (it
 * gets no CPU, as on a starved machine) and continued. With nobody connected the same stop is not reported:
 * the watch's timer does not run then, so nothing wakes an idle agent (test/agent/agent-idle.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../vdsm/client/client';
import { EVENT_LOOP_STALL_MESSAGE } from '../../lib/event-loop-stalls';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
import { stopProcessFor } from '../helpers/fault-injection';
import { logLines } from '../helpers/agent-observe';
import { testLogger } from '../vdsm/test-verbs';

/** Longer than the watch's 5 s limit plus its 0.5 s tick. */
const STOP_MS = 6_500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an agent whose process does not run for a while', () => {
  let host: AgentProcessHost;
  beforeAll(async () => {
    host = await createAgentProcessHost();
    await host.start();
  }, 120_000);
  afterAll(async () => {
    await host?.close();
  });

  async function stopFor(ms: number): Promise<void> {
    if (host.pid === null) throw new Error('the agent is not running');
    await stopProcessFor(host.pid, ms);
  }

  const stalls = () => logLines(host).filter((line) => line.msg.startsWith(EVENT_LOOP_STALL_MESSAGE));

  it('logs how long, when a client was connected meanwhile', async () => {
    const client = await AgentClient.connect(host.endpoint, { logger: testLogger() });
    try {
      expect(await client.call('Host.ping2')).toBe(true);
      await stopFor(STOP_MS);
      // The same session is answered again: the client's heart-beat limit (30 s) was not reached.
      expect(await client.call('Host.ping2')).toBe(true);
      const deadline = Date.now() + 5_000;
      while (stalls().length === 0 && Date.now() < deadline) await sleep(100);
      const [line, ...more] = stalls();
      expect(line, host.log()).toBeDefined();
      expect(more).toEqual([]);
      expect(line?.level).toBe(40);
      // The gap less one tick: at least the stop less that tick, at most the stop and the time to continue it.
      expect(line?.stalledMs).toBeGreaterThanOrEqual(STOP_MS - 600);
      expect(line?.stalledMs).toBeLessThan(STOP_MS + 3_000);
    } finally {
      await client.close();
    }
  }, 30_000);

  it('logs nothing when nobody was connected: the watch runs only while someone is', async () => {
    const before = stalls().length;
    // The connections of the test before (and of the start's ping) are closed on the agent's side too.
    await sleep(1_000);
    await stopFor(STOP_MS);
    await sleep(1_500);
    // Answered, and still nothing: connecting starts the watch afresh.
    expect(await host.call('Host.ping2', {})).toBe(true);
    await sleep(1_000);
    expect(stalls().length).toBe(before);
  }, 30_000);
});
