/**
 * The setupNetworks activity against a real agent on a namespaced host, through a relay whose connections
 * are cut while the call is in flight: the activity reconnects and sends the same request id. Our agent joins
 * the running request; an agent behaving like stock VDSM answers 40, and the activity confirms until the
 * host's window has closed and reads the outcome. Either way the host applies exactly once. The same holds
 * when the agent process itself is killed with `kill -9` after the apply and comes back in the same boot.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretResolver } from '../../activities/secrets';
import { connectVdsmAgent, type ConnectAgent } from '../../activities/agent-connection';
import { createSetupNetworksActivity } from '../../activities/setup-networks-with-confirm';
import type { SetupNetworksOutcome } from '../../activities/types';
import { netnsUnavailableReason } from '../../testbed/netns';
import { BRIDGED_MGMT, createAgentHost, type AgentHost } from '../helpers/agent-host';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
import { skipBecause } from '../helpers/skip';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay';

const unavailable = await netnsUnavailableReason();

/** The agent here serves without TLS: the worker must be told to allow that (it refuses by default). */
const access = { secrets: new SecretResolver(), allowInsecureAgents: true };

const input = (port: number, requestId: string, timeoutSeconds: number) => ({
  endpoint: { host: '127.0.0.1', port, tls: { insecure: true as const } },
  requestId,
  networks: {
    ovirtmgmt: BRIDGED_MGMT,
  },
  bondings: {},
  options: { connectivityCheck: 'true', connectivityTimeout: String(timeoutSeconds) },
  connectivityTimeoutSeconds: timeoutSeconds,
});

/**
 * Runs the activity through a relay that forwards only the first connection (the setupNetworks session) and
 * holds the confirm polls, so the call is certainly still waiting for a confirmation when its session is
 * cut; then releases the polls and returns the outcome.
 */
async function cutMidCall(
  h: AgentHost,
  relay: TcpRelay,
  activity: ReturnType<typeof createSetupNetworksActivity>,
  requestId: string,
  timeoutSeconds: number,
): Promise<SetupNetworksOutcome> {
  const running = new MockActivityEnvironment().run(
    activity,
    input(relay.port, requestId, timeoutSeconds),
  ) as Promise<SetupNetworksOutcome>;
  await appliedBy(h, requestId);
  expect(relay.cutAll()).toBeGreaterThan(0);
  relay.release();
  return await running;
}

async function appliedBy(h: AgentHost, requestId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await h.journal()).some((e) => e.kind === 'apply' && e.requestId === requestId)) {
    if (Date.now() > deadline) throw new Error('setupNetworks never reached the agent');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(skipBecause(unavailable, 'setupNetworks activity tests'))('setupNetworksWithConfirm', () => {
  describe('against our agent', () => {
    let h: AgentHost;
    let relay: TcpRelay;
    beforeAll(async () => {
      h = await createAgentHost();
      relay = await startTcpRelay({ host: '127.0.0.1', port: h.agent.address.port }, { holdAfterFirst: true });
    });
    afterAll(async () => {
      await relay?.close();
      await h?.close();
    });

    it('survives the session dying mid-call: same request id, the agent joins it, one apply, confirmed', async () => {
      const requestId = `relay-${Date.now()}`;
      const outcome = await cutMidCall(h, relay, createSetupNetworksActivity(access, { confirmIntervalMs: 200 }), requestId, 20);
      expect(outcome).toMatchObject({ status: 'applied', tookOverInFlight: true });
      expect((await h.journal()).filter((e) => e.kind === 'apply' && e.requestId === requestId)).toHaveLength(1);
      expect((await h.kernel()).links.find((l) => l.name === 'ovirtmgmt')).toBeDefined();
    });
  });

  describe('against our agent, which announces when the change is in the kernel', () => {
    let h: AgentHost;
    beforeAll(async () => {
      h = await createAgentHost();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('confirms on the announcement (a blind cadence of 60 s would miss the 5 s window): kept, no rollback', async () => {
      const requestId = `signal-${Date.now()}`;
      const activity = createSetupNetworksActivity(access, { confirmIntervalMs: 60_000 });
      const env = new MockActivityEnvironment();
      const beats: unknown[] = [];
      env.on('heartbeat', (details: unknown) => beats.push(details));
      const outcome = (await env.run(activity, input(h.agent.address.port, requestId, 5))) as SetupNetworksOutcome;
      expect(outcome).toMatchObject({ status: 'applied', tookOverInFlight: false });
      expect(outcome.confirmations).toBeGreaterThanOrEqual(1);
      // Over well within FIRST_PROGRESS_BEAT_MS: no heartbeat call, so no write on the server.
      expect(beats).toEqual([]);
      const journal = (await h.journal()).filter((e) => e.requestId === requestId);
      expect(journal.map((e) => e.kind)).toEqual(['apply']);
    });

    it('with readCapabilitiesAfter and commitOnSuccess: returns what the host reports right after, the change committed', async () => {
      const requestId = `read-back-${Date.now()}`;
      const activity = createSetupNetworksActivity(access, { confirmIntervalMs: 200 });
      const request = input(h.agent.address.port, requestId, 5);
      const outcome = (await new MockActivityEnvironment().run(activity, {
        ...request,
        networks: { ovirtmgmt: { ...BRIDGED_MGMT, mtu: 1400 } },
        options: { ...request.options, commitOnSuccess: true },
        readCapabilitiesAfter: true,
      })) as SetupNetworksOutcome;
      expect(outcome).toMatchObject({ status: 'applied' });
      const capabilities = outcome.status === 'applied' ? outcome.capabilities : undefined;
      // What this change made: the network at its new MTU, committed by the host before it answered.
      expect(capabilities?.networks.ovirtmgmt).toMatchObject({ bridged: true, mtu: '1400' });
      expect(capabilities?.netConfigDirty).toBe('False');
      expect((await h.journal()).filter((e) => e.requestId === requestId).map((e) => e.kind)).toEqual(['apply', 'persist']);
    });
  });

  describe('against our agent, its announcement lost', () => {
    let h: AgentHost;
    beforeAll(async () => {
      h = await createAgentHost();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('the cadence confirms from ANNOUNCED_FALLBACK_AFTER_MS (at most a quarter of the window) on, not before: kept', async () => {
      const requestId = `lost-${Date.now()}`;
      // The real agent, which names itself as one that announces; only its events never reach the activity.
      const confirmsAt: number[] = [];
      const connect: ConnectAgent = async (endpoint, options) => {
        const connection = await connectVdsmAgent(endpoint, { ...options, onEvent: undefined });
        return {
          server: connection.server,
          close: () => connection.close(),
          call: (method, params, callOptions) => {
            if (method === 'Host.confirmConnectivity') confirmsAt.push(Date.now());
            return connection.call(method, params, callOptions);
          },
        };
      };
      const activity = createSetupNetworksActivity(access, { confirmIntervalMs: 200 }, connect);
      const started = Date.now();
      // An 8 s window: the fallback waits 2 s (a quarter), where the engine's cadence would poll at once.
      const outcome = (await new MockActivityEnvironment().run(
        activity,
        input(h.agent.address.port, requestId, 8),
      )) as SetupNetworksOutcome;
      expect(outcome).toMatchObject({ status: 'applied' });
      expect(confirmsAt.length).toBeGreaterThan(0);
      expect(confirmsAt[0]! - started).toBeGreaterThanOrEqual(2000);
      const journal = (await h.journal()).filter((e) => e.requestId === requestId);
      expect(journal.map((e) => e.kind)).toEqual(['apply']);
    });
  });

  describe('against an agent that behaves like stock VDSM (40 to a resent request)', () => {
    // The management path drops confirmations until the resent request has had its 40, so the host is
    // certainly still waiting when the resend arrives; then confirmations get through within its window.
    let h: AgentHost;
    let relay: TcpRelay;
    let confirmationsPass = false;
    let answered40: () => void;
    const resendRefused = new Promise<void>((r) => (answered40 = r));
    beforeAll(async () => {
      h = await createAgentHost({ compatibility: 'vdsm' });
      relay = await startTcpRelay(
        { host: '127.0.0.1', port: h.agent.address.port },
        {
          inspect(chunk, from) {
            const text = chunk.toString('utf8');
            if (from === 'agent' && text.includes('"code":40')) answered40();
            return from === 'client' && text.includes('Host.confirmConnectivity') && !confirmationsPass ? 'drop' : 'forward';
          },
        },
      );
    });
    afterAll(async () => {
      await relay?.close();
      await h?.close();
    });

    it("keeps confirming through the host's window, then reads from capabilities that the change stayed", async () => {
      const requestId = `vdsm-${Date.now()}`;
      const activity = createSetupNetworksActivity(access, { confirmIntervalMs: 200, windowSlackMs: 2_000 });
      const env = new MockActivityEnvironment();
      const beats: Array<{ requestId: string; sentAt: number }> = [];
      env.on('heartbeat', (details: { requestId: string; sentAt: number }) => beats.push(details));
      const started = Date.now();
      const running = env.run(activity, input(relay.port, requestId, 6)) as Promise<SetupNetworksOutcome>;
      await appliedBy(h, requestId);
      expect(relay.cutAll()).toBeGreaterThan(0);
      await resendRefused;
      confirmationsPass = true;

      const outcome = await running;
      expect(outcome).toMatchObject({ status: 'applied', tookOverInFlight: false });
      expect(outcome.confirmations).toBeGreaterThan(0);
      // A long attempt sends its progress (FIRST_PROGRESS_BEAT_MS in), with when the request was first sent,
      // for a takeover.
      expect(beats.length).toBeGreaterThan(0);
      expect(beats[0]).toMatchObject({ requestId });
      expect(beats[0]!.sentAt).toBeGreaterThanOrEqual(started);
      const journal = await h.journal();
      expect(journal.filter((e) => e.kind === 'apply')).toHaveLength(1);
      expect(journal.some((e) => e.kind === 'rollback')).toBe(false);
      expect((await h.kernel()).links.find((l) => l.name === 'ovirtmgmt')).toBeDefined();
    });
  });

  describe('against our agent killed with kill -9 after the apply and restarted in the same boot', () => {
    let h: AgentProcessHost;
    let relay: TcpRelay;
    beforeAll(async () => {
      h = await createAgentProcessHost();
      await h.start();
      relay = await startTcpRelay(h.endpoint, { holdAfterFirst: true });
    });
    afterAll(async () => {
      await relay?.close();
      await h?.close();
    });

    it("the activity resends, joins the restarted agent's pending change, confirms it: applied once", async () => {
      const requestId = `killed-${Date.now()}`;
      const activity = createSetupNetworksActivity(access, { confirmIntervalMs: 200 });
      // Confirm polls are held until the agent is back, so the first process certainly dies unconfirmed.
      const running = new MockActivityEnvironment().run(activity, input(relay.port, requestId, 60)) as Promise<SetupNetworksOutcome>;
      const deadline = Date.now() + 30_000;
      while (!h.journal().some((e) => e.kind === 'apply' && e.requestId === requestId)) {
        if (Date.now() > deadline) throw new Error('setupNetworks never reached the agent');
        await new Promise((r) => setTimeout(r, 50));
      }
      await h.kill();
      await h.start();
      relay.release();

      expect(await running).toMatchObject({ status: 'applied', tookOverInFlight: true });
      const journal = h.journal().filter((e) => e.requestId === requestId);
      expect(journal.map((e) => e.kind)).toEqual(['apply', 'recover-keep']);
      expect((await h.kernel()).links.find((l) => l.name === 'ovirtmgmt')).toMatchObject({ kind: 'bridge' });
    });
  });
});
