/**
 * A refresh decided by the pure model is recorded by the store as it is: the new interface report (with
 * the networks' IP data and the host's name servers) round-trips, and the attachment changes go through
 * `recordIntent` in one transaction. Afterwards the out-of-sync report computed from what the store holds
 * finds the host in sync. On SQLite and PostgreSQL alike.
 */
import { describe, expect, it } from 'vitest';
import { reportedInterfacesFromCapabilities } from '../../model/host-networking/reported-interfaces';
import { HostSyncState, hostSyncReport } from '../../model/network-sync/host-report';
import { RefreshContext } from '../../model/refresh/context';
import { RefreshActionKind, refreshHost } from '../../model/refresh/refresh-host';
import type { HostNetworkingStore } from '../../store/store';
import { useStoreDialects } from '../helpers/store-dialects';
import { attachment, capabilities, CLUSTER, HOST, N, network } from '../model/network-sync/world';

const dialects = useStoreDialects();

type Json = ReturnType<typeof JSON.parse>;

async function seed(store: HostNetworkingStore): Promise<void> {
  for (const key of ['ovirtmgmt', 'display', 'storage', 'vmnet', 'migration'] as const) {
    const n = network(key);
    await store.networks.create({ id: n.id, name: n.name, vlan: n.vlan, mtu: n.mtu, vmNetwork: n.vmNetwork, dnsServers: n.dnsServers });
  }
  await store.clusters.create({ id: CLUSTER, name: 'Default', compatibilityVersion: '4.8', managementNetworkId: N.ovirtmgmt });
  await store.clusters.attachNetwork(CLUSTER, N.display, { display: true });
  for (const id of [N.storage, N.vmnet, N.migration]) await store.clusters.attachNetwork(CLUSTER, id);
  await store.hosts.create({ id: HOST, name: 'hv1.example.test', clusterId: CLUSTER });
  await store.hosts.recordReportedInterfaces(HOST, reportedInterfacesFromCapabilities(capabilities()));
  // storage has no attachment yet
  for (const key of ['ovirtmgmt', 'display', 'vmnet'] as const) {
    const a = attachment(key);
    await store.attachments.add(HOST, { networkId: a.networkId, nicName: a.nicName, ipConfiguration: a.ipConfiguration });
  }
}

async function loadContext(store: HostNetworkingStore): Promise<RefreshContext> {
  return RefreshContext.parse({
    host: await store.hosts.get(HOST),
    clusterNetworks: await store.clusters.listNetworks(CLUSTER),
    networks: await store.networks.list(),
    attachments: await store.attachments.listByHost(HOST),
  });
}

describe.each(dialects)('refresh recorded by the store on $dialect', (fixture) => {
  it('records the report and the attachment changes of a refresh, after which the host is in sync', async () => {
    const { store } = await fixture.freshStore();
    await seed(store);
    const before = await loadContext(store);
    const displayId = before.attachments.find((a) => a.networkId === N.display)?.id;
    const vmnetId = before.attachments.find((a) => a.networkId === N.vmnet)?.id;

    // on the host: eth1 is gone and display's bridge now has eth4; vmnet's bridge was deleted
    const caps = capabilities((c: Json) => {
      delete c.nics.eth1;
      c.bridges.display.ports = ['eth4'];
      c.networks.display.ports = ['eth4'];
      c.networks.display.southbound = 'eth4';
      delete c.networks.vmnet;
      delete c.bridges.vmnet;
    });
    const result = refreshHost(before, caps);
    expect(result.actions.map((a) => a.kind)).toEqual([
      RefreshActionKind.REMOVED_NETWORK_NOT_REPORTED,
      RefreshActionKind.MOVED,
      RefreshActionKind.CREATED,
    ]);

    // the report first: the store checks each attachment's NIC against the recorded report
    const host = await store.hosts.recordReportedInterfaces(HOST, result.reportedInterfaces);
    expect(host.reportedInterfaces).toEqual(result.reportedInterfaces);
    const { attachments } = await store.attachments.recordIntent(HOST, result.attachmentChanges, { requestedBy: 'refresh' });

    expect(attachments.map((a) => [a.networkName, a.nicName])).toEqual([
      ['display', 'eth4'],
      ['ovirtmgmt', 'eth0'],
      ['storage', 'bond0'],
    ]);
    expect(attachments.find((a) => a.networkName === 'display')?.id).toBe(displayId);
    expect(attachments.some((a) => a.id === vmnetId)).toBe(false);
    expect(attachments.find((a) => a.networkName === 'storage')?.ipConfiguration).toEqual({
      ipv4: { bootProtocol: 'STATIC_IP', address: '198.51.100.10', netmask: '255.255.255.0', gateway: '198.51.100.1' },
      ipv6: { bootProtocol: 'NONE' },
    });

    const after = await loadContext(store);
    const sync = hostSyncReport({
      networks: after.networks,
      clusterNetworks: after.clusterNetworks,
      attachments: after.attachments,
      reported: after.host.reportedInterfaces ?? result.reportedInterfaces,
    });
    expect(sync.state).toBe(HostSyncState.IN_SYNC);
    expect(sync.unmanagedNetworks.map((n) => n.name)).toEqual(['legacy']);
    // a second refresh from the same capabilities changes nothing
    expect(refreshHost(after, caps).attachmentChanges).toEqual({ upserts: [], removals: [] });
  });
});
