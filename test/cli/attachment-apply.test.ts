/**
 * `hostprov attachments add`, `update` and `remove` through the real bin/hostprov to a `configured`
 * outcome, on SQLite and PostgreSQL: the real Temporal dev server, a worker on the store, and a host that is
 * a network namespace running our agent (ovirtmgmt from install-host first, as an enrolled host has). After
 * each command the kernel (the agent's capabilities) and the store rows show the change. Three bin/hostprov
 * runs per database: each start costs seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clientEndpoint } from '../../activities/agent-endpoint';
import { SecretResolver } from '../../activities/secrets';
import { HostSetupNetworksResult } from '../../model/host-setup-networks/contract';
import { HostSetupNetworksRequest } from '../../model/host-setup-networks/request';
import { Capabilities } from '../../model/vdsm/capabilities';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { AgentClient } from '../../vdsm/client/client';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { jsonOutput, runHostprov } from '../helpers/hostprov-process';
import { skipBecause } from '../helpers/skip';
import { useStoreDialects } from '../helpers/store-dialects';
import { unavailableReason } from '../helpers/temporal';

const dialects = useStoreDialects();
const reason = unavailableReason() ?? (await testbedUnavailableReason());

const CommandAnswer = z
  .object({ changeId: z.string(), workflowId: z.string(), request: HostSetupNetworksRequest, result: HostSetupNetworksResult })
  .strict();

describe.skipIf(skipBecause(reason, 'the applied attachment commands'))(
  'hostprov attachments add, update, remove on a namespaced host',
  () => {
    describe.each(dialects)('on $dialect', (fixture) => {
      let harness: InstallHarness;
      let lab: AgentLab;
      let location = '';
      const dir = mkdtempSync(join(tmpdir(), 'hostprov-cli-apply-'));
      const hostName = `cli${fixture.dialect === 'sqlite' ? 'lite' : 'pg'}`;

      beforeAll(async () => {
        location = await fixture.freshLocation();
        harness = await createInstallHarness({ secretsDir: dir, database: location });
        lab = await createAgentLab({ stateDir: dir, hosts: [{ name: hostName, nics: 3 }] });
        const { store } = harness;
        const management = await store.networks.create({ name: 'ovirtmgmt' });
        const storage = await store.networks.create({ name: 'netcli', vmNetwork: false });
        const cluster = await store.clusters.create({ name: 'lab', compatibilityVersion: '4.8', managementNetworkId: management.id });
        await store.clusters.attachNetwork(cluster.id, storage.id);
        await lab.waitForAgents();
        const request = lab.installRequest(hostName, {
          policy: { connectivityTimeoutSeconds: 30, reboot: false, commitMode: 'set-safe', agentWaitSeconds: 60 },
        });
        const { result } = await harness.install(request);
        expect(result.outcome, JSON.stringify(result.steps)).toBe('configured');
        await store.hosts.update(request.host.id, {
          clusterId: cluster.id,
          agentEndpoint: { ...request.agent, host: lab.testbed.host(hostName).address },
        });
      }, 240_000);

      afterAll(async () => {
        await lab?.destroy();
        await harness?.close();
        rmSync(dir, { recursive: true, force: true });
      });

      const hostprov = async (...args: string[]) =>
        jsonOutput(
          await runHostprov([
            ...args,
            '--json',
            '--database',
            location,
            '--address',
            harness.target.address,
            '--namespace',
            harness.target.namespace,
            '--task-queue',
            harness.taskQueue,
            '--no-payload-encryption',
          ]),
          CommandAnswer,
        );

      async function capabilities(): Promise<Capabilities> {
        const request = lab.installRequest(hostName);
        const endpoint = clientEndpoint(
          { ...request.agent, host: lab.testbed.host(hostName).address, port: request.agent.port ?? 54321 },
          { secrets: new SecretResolver({ secretsDir: dir }) },
        );
        const client = await AgentClient.connect(endpoint);
        try {
          return Capabilities.parse(await client.call('Host.getCapabilities', {}));
        } finally {
          await client.close();
        }
      }

      it('each command exits 0 with `configured`, and the kernel and the rows follow', async () => {
        const hostId = lab.installRequest(hostName).host.id;
        const subnet = lab.testbed.host(hostName).address.split('.').slice(0, 3).join('.');
        const rows = () => harness.store.attachments.listByHost(hostId);

        // add: netcli on eth1 with a static address
        const added = await hostprov(
          'attachments',
          'add',
          '--host',
          hostId,
          '--network',
          'netcli',
          '--nic',
          'eth1',
          '--ipv4',
          `static:${subnet}.61/24`,
        );
        expect(added.result.outcome, JSON.stringify(added.result, null, 2)).toBe('configured');
        let caps = await capabilities();
        expect(caps.networks.netcli).toMatchObject({ iface: 'eth1', addr: `${subnet}.61`, bridged: false });
        expect(caps.netConfigDirty).toBe('False');
        const row = (await rows()).find((r) => r.networkName === 'netcli');
        expect(row).toMatchObject({ nicName: 'eth1', ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: `${subnet}.61` } } });

        // update: the same attachment moves to eth2 with another address
        const updated = await hostprov('attachments', 'update', row!.id, '--nic', 'eth2', '--ipv4', `static:${subnet}.62/24`);
        expect(updated.result.outcome, JSON.stringify(updated.result, null, 2)).toBe('configured');
        caps = await capabilities();
        expect(caps.networks.netcli).toMatchObject({ iface: 'eth2', addr: `${subnet}.62` });
        expect(caps.nics.eth1?.addr ?? '').toBe('');
        expect(await rows()).toContainEqual(
          expect.objectContaining({
            id: row!.id,
            nicName: 'eth2',
            ipConfiguration: expect.objectContaining({ ipv4: expect.objectContaining({ address: `${subnet}.62` }) }),
          }),
        );

        // remove: the network leaves the kernel and the store; ovirtmgmt stays
        const removed = await hostprov('attachments', 'remove', row!.id);
        expect(removed.result.outcome, JSON.stringify(removed.result, null, 2)).toBe('configured');
        expect(removed.request.removedAttachments).toEqual([row!.id]);
        caps = await capabilities();
        expect(caps.networks.netcli).toBeUndefined();
        expect(caps.nics.eth2?.addr ?? '').toBe('');
        expect(Object.keys(caps.networks)).toEqual(['ovirtmgmt']);
        expect((await rows()).map((r) => `${r.networkName}@${r.nicName}`)).toEqual(['ovirtmgmt@eth0']);
      }, 600_000);
    });
  },
);
