/**
 * The confirmation signal (vdsm/confirmation-signal.ts, docs/vdsm-wire-protocol.md#the-confirmation-signal):
 * our agent names itself in CONNECTED and, once a change under a connectivity check is in the kernel,
 * publishes `|hostprov|awaiting_confirmation|<request id>` to its event subscribers. In VDSM compatibility
 * mode it does neither, like stock VDSM. Real agent, real kernel (a namespace), real client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../vdsm/client/client';
import { awaitingConfirmationEvent, announcesAwaitingConfirmation, HOSTPROV_AGENT_SERVER } from '../../vdsm/confirmation-signal';
import type { AgentEvent } from '../../vdsm/verbs';
import { netnsUnavailableReason } from '../../testbed/netns';
import { BRIDGED_MGMT, createAgentHost, type AgentHost } from '../helpers/agent-host';
import { skipBecause } from '../helpers/skip';

const unavailable = await netnsUnavailableReason();

const bridgedMgmt = (timeoutSeconds: number) => ({
  networks: {
    ovirtmgmt: BRIDGED_MGMT,
  },
  bondings: {},
  options: { connectivityCheck: 'true', connectivityTimeout: String(timeoutSeconds) },
});

/** A client that subscribes to events and keeps every one it gets. */
async function listeningClient(h: AgentHost): Promise<{ client: AgentClient; events: AgentEvent[] }> {
  const events: AgentEvent[] = [];
  const client = await AgentClient.connect(
    { host: '127.0.0.1', port: h.agent.address.port, tls: { insecure: true } },
    { onEvent: (e) => events.push(e) },
  );
  return { client, events };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(skipBecause(unavailable, 'confirmation signal tests'))('the confirmation signal', () => {
  describe('our agent', () => {
    let h: AgentHost;
    beforeAll(async () => {
      h = await createAgentHost();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('names itself in CONNECTED', async () => {
      await h.client.call('Host.ping2');
      expect(h.client.server).toBe(HOSTPROV_AGENT_SERVER);
      expect(announcesAwaitingConfirmation(h.client.server)).toBe(true);
    });

    it('announces the change once it is in the kernel, and keeps it when confirmed after that', async () => {
      const { client, events } = await listeningClient(h);
      try {
        const requestId = `signal-${Date.now()}`;
        const call = client.call('Host.setupNetworks', bridgedMgmt(30), { id: requestId, timeoutMs: 60_000 });
        let appliedWhenAnnounced: boolean | undefined;
        await until('the announcement', async () => {
          const announced = events.some((e) => e.method === awaitingConfirmationEvent(requestId));
          if (announced) appliedWhenAnnounced = (await h.journal()).some((e) => e.kind === 'apply' && e.requestId === requestId);
          return announced;
        });
        expect(appliedWhenAnnounced).toBe(true);
        expect(events.find((e) => e.method === awaitingConfirmationEvent(requestId))?.params).toMatchObject({ requestId });

        await h.client.call('Host.confirmConnectivity');
        await expect(call).resolves.toMatchObject({ code: 0 });
        expect((await h.journal()).some((e) => e.kind === 'rollback' && e.requestId === requestId)).toBe(false);
        expect((await h.kernel()).links.find((l) => l.name === 'ovirtmgmt')).toMatchObject({ kind: 'bridge' });
      } finally {
        await client.close();
      }
    });
  });

  describe('our agent in VDSM compatibility mode', () => {
    let h: AgentHost;
    beforeAll(async () => {
      h = await createAgentHost({ compatibility: 'vdsm' });
    });
    afterAll(async () => {
      await h?.close();
    });

    it('sends no server header and no announcement, like stock VDSM', async () => {
      const { client, events } = await listeningClient(h);
      try {
        await client.call('Host.ping2');
        expect(client.server).toBeUndefined();
        expect(announcesAwaitingConfirmation(client.server)).toBe(false);

        const requestId = `compat-${Date.now()}`;
        const call = client.call('Host.setupNetworks', bridgedMgmt(30), { id: requestId, timeoutMs: 60_000 });
        await until('the apply', async () => (await h.journal()).some((e) => e.kind === 'apply' && e.requestId === requestId));
        await h.client.call('Host.confirmConnectivity');
        await expect(call).resolves.toMatchObject({ code: 0 });
        // The call's answer came after any announcement would have: the events seen are all there are.
        expect(events.filter((e) => e.method.startsWith('|hostprov|'))).toEqual([]);
      } finally {
        await client.close();
      }
    });
  });
});
