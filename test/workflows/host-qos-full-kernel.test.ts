/**
 * Host QoS through the engine's path, end to end: a data-center network with a QoS, attached to a
 * full-kernel testbed host (a User-Mode Linux guest with HFSC, testbed/uml/) by hostSetupNetworks through the
 * per-host entity workflow, on the real Temporal dev server with the real store and the agent over mutual
 * TLS. The payload carries the QoS as the engine sends it, the host shapes its NIC, reports it back, and a
 * refresh finds the attachment in sync; an attachment's own QoS overrides the network's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientEndpoint } from '../../activities/agent-endpoint';
import { SecretResolver } from '../../activities/secrets';
import type { HostSetupNetworksRequestInput } from '../../model/host-setup-networks/request';
import { Capabilities } from '../../model/vdsm/capabilities';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { umlUnavailableReason } from '../../testbed/uml/kernel';
import { AgentClient } from '../../vdsm/client/client';
import { requestHostNetworkChange } from '../../workflow-client/host-networks';
import { refreshHostNetworksNow } from '../../workflow-client/refresh';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason()) ?? (await umlUnavailableReason());
const curve = (m2: number) => ({ m1: 0, d: 0, m2 });

describe.skipIf(skipBecause(reason, 'host QoS through hostSetupNetworks on a full-kernel host'))(
  'host QoS through hostSetupNetworks on a full-kernel host',
  () => {
    let harness: InstallHarness;
    let lab: AgentLab;
    let hostId = '';
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-qos-e2e-'));

    beforeAll(async () => {
      harness = await createInstallHarness({ secretsDir: dir });
      lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'shaped', kind: 'uml', nics: 2 }] });
      const { store } = harness;
      const management = await store.networks.create({ name: 'ovirtmgmt' });
      const storage = await store.networks.create({
        name: 'storage',
        vlan: 100,
        vmNetwork: false,
        qos: { outAverageLinkshare: 20, outAverageUpperlimit: 100, outAverageRealtime: 10 },
      });
      const cluster = await store.clusters.create({ name: 'lab', compatibilityVersion: '4.8', managementNetworkId: management.id });
      await store.clusters.attachNetwork(cluster.id, storage.id);
      await lab.waitForAgents(180_000);
      const request = lab.installRequest('shaped', {
        policy: { connectivityTimeoutSeconds: 60, reboot: false, commitMode: 'set-safe', agentWaitSeconds: 120 },
      });
      const { result } = await harness.install(request);
      expect(result.outcome, JSON.stringify(result.steps)).toBe('configured');
      hostId = request.host.id;
      await store.hosts.update(hostId, {
        clusterId: cluster.id,
        agentEndpoint: { ...request.agent, host: lab.testbed.host('shaped').address },
      });
    }, 300_000);
    afterAll(async () => {
      await lab?.destroy();
      await harness?.close();
      rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    async function capabilities(): Promise<Capabilities> {
      const request = lab.installRequest('shaped');
      const endpoint = clientEndpoint(
        { ...request.agent, host: lab.testbed.host('shaped').address, port: request.agent.port ?? 54321 },
        { secrets: new SecretResolver({ secretsDir: dir }) },
      );
      const client = await AgentClient.connect(endpoint);
      try {
        return Capabilities.parse(await client.call('Host.getCapabilities', {}, { timeoutMs: 60_000 }));
      } finally {
        await client.close();
      }
    }
    const setupNetworks = async (request: Omit<HostSetupNetworksRequestInput, 'version'>) =>
      (
        await requestHostNetworkChange(
          harness.client,
          { kind: 'setup-networks', request: { version: 1, ...request } },
          { taskQueue: harness.taskQueue },
        )
      ).result;
    const storageInSync = async () => {
      const refreshed = await refreshHostNetworksNow(harness.client, hostId, { taskQueue: harness.taskQueue });
      const report = refreshed.sync?.attachments.find((a) => a.networkName === 'storage');
      expect(report, JSON.stringify(refreshed.sync, null, 2)).toBeDefined();
      return report?.differences ?? [];
    };

    it("shapes the network's NIC with the network's QoS, reports it back, and a refresh finds it in sync", async () => {
      const result = await setupNetworks({ hostId, attachments: [{ networkName: 'storage', nicName: 'eth1' }] });
      expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
      expect(result.setupNetworksRequest?.networks.storage).toMatchObject({
        hostQos: { out: { ls: { m2: 20 }, ul: { m2: 100_000_000 }, rt: { m2: 10_000_000 } } },
      });
      expect((await capabilities()).networks.storage?.hostQos).toEqual({
        out: { ls: curve(20), ul: curve(100_000_000), rt: curve(10_000_000) },
      });
      expect(await storageInSync()).toEqual([]);
    }, 180_000);

    it("takes the attachment's own QoS over the network's, and is in sync with it", async () => {
      const attachment = (await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'storage');
      const result = await setupNetworks({
        hostId,
        attachments: [{ id: attachment!.id, nicName: 'eth1', qos: { outAverageLinkshare: 40, outAverageUpperlimit: 50 } }],
      });
      expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
      expect((await capabilities()).networks.storage?.hostQos).toEqual({ out: { ls: curve(40), ul: curve(50_000_000) } });
      expect(await storageInSync()).toEqual([]);
    }, 180_000);
  },
);
