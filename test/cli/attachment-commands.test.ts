/**
 * `hostprov attachments add|update|remove` through the real bin/hostprov, the real Temporal dev server and
 * a worker on the store, on SQLite and PostgreSQL: each command becomes one HostSetupNetworksRequest on the
 * host's entity workflow, and requests the engine's validation refuses come back `invalid` with their
 * violations, exit 3, before anything is sent to the host or stored (the host's agent endpoint here is
 * deliberately unreachable, so a request that got further would fail instead). The same commands applied to
 * a namespaced host are in test/cli/attachment-apply.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HostSetupNetworksResult } from '../../model/host-setup-networks/contract';
import { HostSetupNetworksRequest } from '../../model/host-setup-networks/request';
import type { NetworkAttachment } from '../../model/host-networking/network-attachment';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { runHostprov } from '../helpers/hostprov-process';
import { skipBecause } from '../helpers/skip';
import { useStoreDialects } from '../helpers/store-dialects';
import { unavailableReason } from '../helpers/temporal';

const dialects = useStoreDialects();
const reason = unavailableReason();

const CommandAnswer = z
  .object({ changeId: z.string(), workflowId: z.string(), request: HostSetupNetworksRequest, result: HostSetupNetworksResult })
  .strict();

describe.skipIf(skipBecause(reason, 'the attachment commands'))('hostprov attachments add|update|remove', () => {
  describe.each(dialects)('on $dialect', (fixture) => {
    let harness: InstallHarness;
    let location = '';
    let management: NetworkAttachment;
    // A host per database: the entity workflow is per host id, and each database has its own worker.
    const hostId = `host-${fixture.dialect}`;

    beforeAll(async () => {
      location = await fixture.freshLocation();
      harness = await createInstallHarness({ secretsDir: '/nonexistent', database: location });
      const { store } = harness;
      const mgmt = await store.networks.create({ name: 'ovirtmgmt' });
      const storage = await store.networks.create({ name: 'storage', vmNetwork: false });
      const cluster = await store.clusters.create({ name: 'Default', compatibilityVersion: '4.8', managementNetworkId: mgmt.id });
      await store.clusters.attachNetwork(cluster.id, storage.id);
      // Port 1 on loopback: nothing listens, so a request that reached the host would fail, not pass.
      await store.hosts.create({
        id: hostId,
        name: 'hv1',
        clusterId: cluster.id,
        agentEndpoint: { host: '127.0.0.1', port: 1, tls: { insecure: true } },
      });
      await store.hosts.recordReportedInterfaces(hostId, {
        nics: [
          { name: 'eth0', mac: '52:54:00:00:00:01', mtu: 1500, speed: 1000 },
          { name: 'eth1', mac: '52:54:00:00:00:02', mtu: 1500, speed: 1000 },
        ],
        bonds: [],
        vlans: [],
        networks: [{ name: 'ovirtmgmt', baseInterface: 'eth0', vlanId: null, bridged: true, mtu: 1500, defaultRoute: true }],
      });
      management = await store.attachments.add(hostId, {
        networkId: mgmt.id,
        nicName: 'eth0',
        ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } },
      });
    }, 180_000);

    afterAll(async () => {
      await harness?.close();
    });

    const hostprov = (...args: string[]) =>
      runHostprov([
        ...args,
        '--database',
        location,
        '--address',
        harness.target.address,
        '--namespace',
        harness.target.namespace,
        '--task-queue',
        harness.taskQueue,
        '--no-payload-encryption',
      ]);

    it('each command is one request; refused ones list their violations, exit 3, and change nothing', async () => {
      const before = await harness.store.attachments.listByHost(hostId);
      // One after the other: they queue on one host's workflow anyway, and each answer is checked alone.
      const add = await hostprov(
        'attachments',
        'add',
        '--host',
        'hv1',
        '--network',
        'storage',
        '--nic',
        'eth9',
        '--ipv4',
        'static:192.0.2.20/24,gateway=192.0.2.1',
        '--ipv6',
        'autoconf',
        '--json',
      );
      const duplicate = await hostprov('attachments', 'add', '--host', hostId, '--network', 'ovirtmgmt', '--nic', 'eth1');
      const update = await hostprov('attachments', 'update', management.id, '--nic', 'eth9', '--json');
      const remove = await hostprov('attachments', 'remove', management.id);

      expect(add.code, add.stderr).toBe(3);
      const added = CommandAnswer.parse(JSON.parse(add.stdout));
      expect(added.request).toMatchObject({
        hostId,
        attachments: [
          {
            networkName: 'storage',
            nicName: 'eth9',
            ipConfiguration: {
              ipv4: { bootProtocol: 'STATIC_IP', address: '192.0.2.20', netmask: '24', gateway: '192.0.2.1' },
              ipv6: { bootProtocol: 'AUTOCONF' },
            },
          },
        ],
        removedAttachments: [],
      });
      expect(added.result.outcome).toBe('invalid');
      expect(added.result.violations.map((v) => v.key)).toContain('HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST');
      expect(added.result.setupNetworksRequest).toBeNull();

      // A second attachment of a network the host has: refused, the existing one must be changed instead.
      expect(duplicate.code, duplicate.stderr).toBe(3);
      expect(duplicate.stdout).toMatch(new RegExp(`^outcome: +invalid\nworkflow: +host-networks/${hostId}/.+\n {2}✗ [A-Z_]+: `));

      expect(update.code, update.stderr).toBe(3);
      const updated = CommandAnswer.parse(JSON.parse(update.stdout));
      expect(updated.request.attachments).toEqual([
        { id: management.id, networkId: management.networkId, nicName: 'eth9', overrideConfiguration: false },
      ]);
      expect(updated.result.violations.map((v) => v.key)).toContain('HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST');

      expect(remove.code, remove.stderr).toBe(3);
      expect(remove.stdout).toMatch(/✗ NETWORK_CANNOT_REMOVE_MANAGEMENT_NETWORK: /);

      expect(await harness.store.attachments.listByHost(hostId)).toEqual(before);
    }, 900_000);

    it('bad flags exit 2 before anything is sent', async () => {
      const bad = await hostprov('attachments', 'add', '--host', 'hv1', '--network', 'storage', '--ipv4', 'static:192.0.2.20');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--ipv4: expected static:192\.0\.2\.10\/24/);
    }, 300_000);
  });
});
