/**
 * Host QoS on a real kernel with HFSC: a full-kernel testbed host (a User-Mode Linux guest, testbed/uml/)
 * running the agent, driven over the real client; this machine's kernel has no sch_hfsc, so the namespace
 * tests cannot reach these paths (test/agent/agent-qos.test.ts shows what such a kernel answers). What the
 * host reports as a network's `hostQos` is read back from tc on the device, so a report equal to the
 * request shows the tree in the kernel. A second host's agent kills itself while a change awaits its
 * confirmation, as a crash would, and is started again in the same boot (the guest supervises it as systemd
 * does): the agent that finishes the change puts the previous tree back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capabilities } from '../../model/vdsm/capabilities';
import { VdsmCode } from '../../model/vdsm/error-codes';
import { PausePoint, TEST_CRASH_ENV } from '../../agent/network/test-pause';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { umlUnavailableReason } from '../../testbed/uml/kernel';
import { AgentClient } from '../../vdsm/client/client';
import { AgentRpcError } from '../../vdsm/client/errors';
import { skipBecause } from '../helpers/skip';

const reason = (await testbedUnavailableReason()) ?? (await umlUnavailableReason());
const TIMEOUT_MS = 300_000;

const curve = (m2: number) => ({ m1: 0, d: 0, m2 });
/** A VM network on eth1 and a tagged storage network beside it, each with a QoS as the engine sends it. */
const QNET = { nic: 'eth1', bridged: 'true', hostQos: { out: { ls: { m2: 20 }, ul: { m2: 100_000_000 } } } };
const QVLAN = { nic: 'eth1', vlan: '100', bridged: 'false', hostQos: { out: { ls: { m2: 10 }, rt: { m2: 10_000_000 } } } };

describe.skipIf(skipBecause(reason, 'host QoS tests on a full-kernel host'))('host QoS on a real kernel', () => {
  let lab: AgentLab;
  let client: AgentClient;
  let confirming = true;
  let stopped = false;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-fullkernel-qos-'));
  const caps = async () => Capabilities.parse(await client.call('Host.getCapabilities', {}, { timeoutMs: 60_000 }));
  const qosReport = async () => {
    const report = await caps();
    return Object.fromEntries(Object.entries(report.networks).map(([name, net]) => [name, net.hostQos ?? null]));
  };
  const setup = (networks: Record<string, unknown>, connectivityTimeout = 30, bondings: Record<string, unknown> = {}) =>
    client.call(
      'Host.setupNetworks',
      { networks, bondings, options: { connectivityCheck: 'true', connectivityTimeout: String(connectivityTimeout) } },
      { timeoutMs: 120_000 },
    );
  /** Sends a change nobody confirms, and expects the host to roll it back (code 10). */
  const rolledBackUnconfirmed = async (networks: Record<string, unknown>, bondings: Record<string, unknown> = {}) => {
    confirming = false;
    try {
      await expect(setup(networks, 4, bondings)).rejects.toSatisfy(
        (err: unknown) => err instanceof AgentRpcError && err.code === VdsmCode.LOST_CONNECTION,
      );
    } finally {
      confirming = true;
    }
  };
  const connect = async () => {
    client = await AgentClient.connect({ host: lab.testbed.host('qos').address, port: 54321, tls: { insecure: true } });
  };

  beforeAll(async () => {
    lab = await createAgentLab({
      stateDir: dir,
      tls: false,
      hosts: [
        { name: 'qos', kind: 'uml', nics: 3 },
        { name: 'qcrash', kind: 'uml', nics: 2, agentEnv: { [TEST_CRASH_ENV]: PausePoint.AWAITING_CONFIRMATION } },
      ],
    });
    await lab.waitForAgents(180_000);
    await connect();
    void (async () => {
      while (!stopped) {
        if (confirming) await client.call('Host.confirmConnectivity', {}, { timeoutMs: 5_000 }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
  }, TIMEOUT_MS);
  afterAll(async () => {
    stopped = true;
    await client?.close().catch(() => undefined);
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it(
    "shapes the networks' device as VDSM does, and reports each network's QoS from the kernel",
    async () => {
      expect(await setup({ qnet: QNET, qvlan: QVLAN })).toEqual({ code: 0, message: 'Done' });
      expect(await qosReport()).toMatchObject({
        qnet: { out: { ls: curve(20), ul: curve(100_000_000) } },
        qvlan: { out: { ls: curve(10), rt: curve(10_000_000) } },
      });
    },
    TIMEOUT_MS,
  );

  it(
    'an unconfirmed change of a QoS puts the tree back exactly',
    async () => {
      const before = await qosReport();
      await rolledBackUnconfirmed({ qvlan: { ...QVLAN, hostQos: { out: { ls: { m2: 40 }, ul: { m2: 50_000_000 } } } } });
      expect(await qosReport()).toEqual(before);
    },
    TIMEOUT_MS,
  );

  it(
    'changes one network’s QoS and keeps the other’s',
    async () => {
      const changed = { ...QVLAN, hostQos: { out: { ls: { m2: 40 }, ul: { m2: 50_000_000 } } } };
      expect(await setup({ qvlan: changed })).toEqual({ code: 0, message: 'Done' });
      expect(await qosReport()).toMatchObject({
        qnet: { out: { ls: curve(20), ul: curve(100_000_000) } },
        qvlan: { out: { ls: curve(40), ul: curve(50_000_000) } },
      });
    },
    TIMEOUT_MS,
  );

  it(
    'the safe configuration shapes the device again at boot',
    async () => {
      expect(await client.call('Host.setSafeNetworkConfig', {})).toBe(true);
      const before = await qosReport();
      confirming = false;
      await client.close().catch(() => undefined);
      await lab.testbed.powerOff('qos');
      await lab.testbed.powerOn('qos');
      await lab.waitForAgents(180_000);
      await connect();
      confirming = true;
      expect(await qosReport()).toEqual(before);
    },
    TIMEOUT_MS,
  );

  it(
    'a network that gives its QoS up reports none, and the last one leaves the device its default queueing',
    async () => {
      expect(await setup({ qnet: { nic: 'eth1', bridged: 'true' } })).toEqual({ code: 0, message: 'Done' });
      expect(await qosReport()).toMatchObject({ qnet: null, qvlan: { out: { ls: curve(40) } } });
      // The agent verifies each device it changed by reading tc back: here, that eth1 has no tree left.
      expect(await setup({ qvlan: { remove: 'true' } })).toEqual({ code: 0, message: 'Done' });
      expect(await qosReport()).toEqual({ qnet: null });
      // And a new tree can be built on it.
      expect(await setup({ qnet: QNET })).toEqual({ code: 0, message: 'Done' });
      expect(await qosReport()).toMatchObject({ qnet: { out: { ls: curve(20), ul: curve(100_000_000) } } });
    },
    TIMEOUT_MS,
  );

  const QBOND = { bonding: 'bond1', bridged: 'false', hostQos: { out: { ls: { m2: 30 }, ul: { m2: 20_000_000 } } } };

  it(
    'a bond made again with another mode gets its tree again; unconfirmed, the bond and its tree come back',
    async () => {
      expect(await setup({ qbond: QBOND }, 30, { bond1: { nics: ['eth2'], options: 'mode=1 miimon=100' } })).toEqual({
        code: 0,
        message: 'Done',
      });
      const shaped = { out: { ls: curve(30), ul: curve(20_000_000) } };
      expect(await qosReport()).toMatchObject({ qbond: shaped });
      // A mode change deletes the bond and makes it again (model/network/plan/merge.ts): its queueing goes with it.
      expect(await setup({}, 30, { bond1: { nics: ['eth2'], options: 'mode=2 miimon=100' } })).toEqual({ code: 0, message: 'Done' });
      expect(await qosReport()).toMatchObject({ qbond: shaped });
      await rolledBackUnconfirmed({}, { bond1: { nics: ['eth2'], options: 'mode=4 miimon=100' } });
      expect((await caps()).bondings.bond1?.opts).toMatchObject({ mode: '2' });
      expect(await qosReport()).toMatchObject({ qbond: shaped });
    },
    TIMEOUT_MS,
  );

  it(
    'removes a bond with its shaped network in one request',
    async () => {
      expect(await setup({ qbond: { remove: 'true' } }, 30, { bond1: { remove: 'true' } })).toEqual({ code: 0, message: 'Done' });
      const report = await caps();
      expect(report.bondings).toEqual({});
      expect(report.networks.qbond).toBeUndefined();
    },
    TIMEOUT_MS,
  );

  it(
    'an agent killed while a QoS change awaits its confirmation: the agent started again puts the previous tree back',
    async () => {
      const endpoint = { host: lab.testbed.host('qcrash').address, port: 54321, tls: { insecure: true as const } };
      let crashing = await AgentClient.connect(endpoint);
      const report = async () =>
        Capabilities.parse(await crashing.call('Host.getCapabilities', {}, { timeoutMs: 60_000 })).networks.qnet?.hostQos ?? null;
      const change = (hostQos: unknown, connectivityCheck: 'true' | 'false') =>
        crashing.call(
          'Host.setupNetworks',
          { networks: { qnet: { ...QNET, hostQos } }, bondings: {}, options: { connectivityCheck, connectivityTimeout: '8' } },
          { timeoutMs: 120_000 },
        );
      try {
        // Without a connectivity check the change never awaits a confirmation, so the hook does not fire.
        expect(await change(QNET.hostQos, 'false')).toEqual({ code: 0, message: 'Done' });
        const before = await report();
        expect(before).toMatchObject({ out: { ls: curve(20), ul: curve(100_000_000) } });

        // Applied (the tree changed in the kernel), verified, recorded as awaiting: then the process dies.
        await expect(change({ out: { ls: { m2: 40 }, ul: { m2: 50_000_000 } } }, 'true')).rejects.toThrow(/connection closed/);
        await crashing.close().catch(() => undefined);
        await lab.waitForAgents(180_000);
        crashing = await AgentClient.connect(endpoint);
        // It answers while it waits out the change's deadline (a confirmation could still come), then rolls back.
        const recovered = () => lab.journal('qcrash').filter((e) => e.kind === 'recover-rollback');
        for (const deadline = Date.now() + 60_000; recovered().length === 0 && Date.now() < deadline;)
          await new Promise((r) => setTimeout(r, 250));
        expect(recovered()).toEqual([
          expect.objectContaining({ outcome: 'ok', detail: expect.stringMatching(/connectivity check failed/) }),
        ]);
        expect(await report()).toEqual(before);

        // Once per boot: the agent started again keeps a confirmed change.
        let settled = false;
        const kept = change({ out: { ls: { m2: 40 }, ul: { m2: 50_000_000 } } }, 'true').finally(() => (settled = true));
        while (!settled) {
          await crashing.call('Host.confirmConnectivity', {}, { timeoutMs: 5_000 }).catch(() => undefined);
          await new Promise((r) => setTimeout(r, 300));
        }
        expect(await kept).toEqual({ code: 0, message: 'Done' });
        expect(await report()).toMatchObject({ out: { ls: curve(40), ul: curve(50_000_000) } });
      } finally {
        await crashing.close().catch(() => undefined);
      }
    },
    TIMEOUT_MS,
  );
});
