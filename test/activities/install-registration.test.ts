/**
 * What install-host's recording registers, on SQLite and PostgreSQL: the network with the definition the
 * install builds, the host under its name, in its cluster when the store knows the cluster, and with the
 * agent endpoint when it has none; and the
 * refusals (another definition, another management network, another cluster, another name for a known
 * host, another compatibility level), each final and changing nothing. Twenty installs of one cluster registering the same new network at once all pass.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createAttachmentActivities } from '../../activities/attachments';
import type { RecordAttachmentsInput } from '../../activities/types';
import type { NetworkAttachmentSpec } from '../../model/attachments/attachment';
import type { InstallRegistration } from '../../model/install-host/registration';
import type { HostNetworkingStore } from '../../store/store';
import { useStoreDialects } from '../helpers/store-dialects';

const dialects = useStoreDialects();

const ATTACHMENT: NetworkAttachmentSpec = {
  networkName: 'ovirtmgmt',
  nicName: 'eth0',
  ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } },
  properties: {},
};

const TAGGED: InstallRegistration = {
  network: { name: 'ovirtmgmt', vlan: 100, mtu: 9000, vmNetwork: false, stp: false, defaultRoute: true },
  host: {
    name: 'hv1.example.org',
    clusterId: 'cluster-1',
    clusterLevel: '4.8',
    agentEndpoint: {
      host: '192.0.2.10',
      port: 54321,
      tls: {
        certRef: 'file:/etc/pki/hostprov/client.pem',
        keyRef: 'file:/etc/pki/hostprov/client.key',
        caRef: 'file:/etc/pki/hostprov/ca.pem',
      },
    },
    activeNic: 'eth0',
  },
};

const record = (hostId: string, registration: InstallRegistration): RecordAttachmentsInput => ({
  hostId,
  attachments: [ATTACHMENT],
  requestedBy: 'install-host',
  registration,
});

/** Everything the store holds, to show a refusal changed nothing. */
async function everything(store: HostNetworkingStore) {
  const clusters = await store.clusters.list();
  return {
    networks: await store.networks.list(),
    clusters,
    clusterNetworks: await Promise.all(clusters.map((c) => store.clusters.listNetworks(c.id))),
    hosts: await store.hosts.list(),
    attachments: (await Promise.all((await store.hosts.list()).map((h) => store.attachments.listByHost(h.id)))).flat(),
  };
}

async function refusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe.each(dialects)('install registration on $dialect', (fixture) => {
  it('a new network gets the definition the install builds; a new host its name, and no cluster the store does not know', async () => {
    const { store } = await fixture.freshStore();
    await createAttachmentActivities(store).recordAttachments(record('host-1', TAGGED));
    expect(await store.networks.getByName('ovirtmgmt')).toMatchObject({ vlan: 100, mtu: 9000, vmNetwork: false, stp: false });
    expect(await store.hosts.get('host-1')).toMatchObject({
      name: 'hv1.example.org',
      clusterId: null,
      agentEndpoint: TAGGED.host.agentEndpoint,
      activeNic: 'eth0',
    });
    expect(await store.clusters.list()).toEqual([]);
    expect(await store.attachments.listByHost('host-1')).toEqual([expect.objectContaining({ networkName: 'ovirtmgmt', nicName: 'eth0' })]);
  });

  it('a known cluster whose management network this is takes a new host, and a host that has no cluster yet', async () => {
    const { store } = await fixture.freshStore();
    const network = await store.networks.create({ name: 'ovirtmgmt', vlan: 100, mtu: 9000, vmNetwork: false });
    await store.clusters.create({ id: 'cluster-1', name: 'Default', compatibilityVersion: '4.8', managementNetworkId: network.id });
    // An operator's endpoint (a relay here) stays; a host without one gets the install's.
    const relay = { host: '127.0.0.1', port: 40000, tls: { insecure: true as const } };
    await store.hosts.create({ id: 'host-2', name: 'hv2', agentEndpoint: relay });
    await store.hosts.create({ id: 'host-3', name: 'hv3' });
    const activities = createAttachmentActivities(store);
    await activities.recordAttachments(record('host-1', TAGGED));
    await activities.recordAttachments(record('host-2', { ...TAGGED, host: { ...TAGGED.host, name: 'hv2', clusterLevel: '4.08' } }));
    // Recorded by an install scheduled before the level was passed (a retry): no level to compare.
    const { clusterLevel: _none, ...withoutLevel } = TAGGED.host;
    await activities.recordAttachments(record('host-3', { ...TAGGED, host: { ...withoutLevel, name: 'hv3' } }));
    // Recorded again (a retried activity): nothing more changes.
    const before = await everything(store);
    await activities.recordAttachments(record('host-1', TAGGED));
    const after = await everything(store);
    expect({ networks: after.networks, hosts: after.hosts }).toEqual({ networks: before.networks, hosts: before.hosts });
    expect(await store.hosts.get('host-1')).toMatchObject({ name: 'hv1.example.org', clusterId: 'cluster-1' });
    expect(await store.hosts.get('host-2')).toMatchObject({ name: 'hv2', clusterId: 'cluster-1', agentEndpoint: relay });
    expect(await store.hosts.get('host-3')).toMatchObject({
      name: 'hv3',
      clusterId: 'cluster-1',
      agentEndpoint: TAGGED.host.agentEndpoint,
      activeNic: 'eth0',
    });
    // A host the store only named after its id (an intent recorded without a registration) takes the install's name,
    // unless another host has it: refused, and nothing changes.
    await store.hosts.ensure('host-4');
    const unnamed = await everything(store);
    const taken = await refusal(activities.recordAttachments(record('host-4', { ...TAGGED, host: { ...TAGGED.host, name: 'hv3' } })));
    expect(taken).toMatchObject({ type: 'StoreConstraintError', nonRetryable: true });
    expect(taken.message).toContain('another host is named hv3 in the store');
    expect(await everything(store)).toEqual(unnamed);
    await activities.recordAttachments(record('host-4', { ...TAGGED, host: { ...TAGGED.host, name: 'hv4' } }));
    expect(await store.hosts.get('host-4')).toMatchObject({ name: 'hv4', clusterId: 'cluster-1' });
    // The active NIC is what the latest install found.
    await activities.recordAttachments(record('host-3', { ...TAGGED, host: { ...TAGGED.host, name: 'hv3', activeNic: 'bond0.100' } }));
    expect(await store.hosts.get('host-3')).toMatchObject({ activeNic: 'bond0.100' });
    // The stored MTU 0 is the default, 1500: an install of MTU 1500 builds the same network.
    await store.networks.update(network.id, { mtu: 0, vlan: null, vmNetwork: true, stp: false });
    await activities.recordAttachments(
      record('host-1', {
        ...TAGGED,
        network: { name: 'ovirtmgmt', vlan: null, mtu: 1500, vmNetwork: true, stp: false, defaultRoute: true },
      }),
    );
  });

  it('compensation takes back a network the install created, unless another host uses it by then; a stored one stays', async () => {
    const { store } = await fixture.freshStore();
    const activities = createAttachmentActivities(store);
    const first = await activities.recordAttachments(record('host-1', TAGGED));
    const created = (await store.networks.getByName('ovirtmgmt'))!;
    expect(first.createdNetworkIds).toEqual([created.id]);
    expect(await activities.compensateAttachments(first)).toEqual({ restored: 0, removed: 1, networksRemoved: 1 });
    expect(await store.networks.list()).toEqual([]);

    // Created by host-1's install, used by host-2's meanwhile: host-1's compensation leaves it.
    const again = await activities.recordAttachments(record('host-1', TAGGED));
    const second = await activities.recordAttachments(record('host-2', { ...TAGGED, host: { ...TAGGED.host, name: 'hv2' } }));
    expect(second.createdNetworkIds).toBeUndefined();
    expect(await activities.compensateAttachments(again)).toEqual({ restored: 0, removed: 1, networksRemoved: 0 });
    expect(await store.networks.list()).toEqual([expect.objectContaining({ name: 'ovirtmgmt', mtu: 9000 })]);
    expect(await store.attachments.listByHost('host-2')).toHaveLength(1);
  });

  /** Each refusal: what the store holds first, and the words the message must carry. */
  const REFUSALS: Array<{
    title: string;
    given: (store: HostNetworkingStore) => Promise<unknown>;
    /** @default TAGGED */
    wanted?: InstallRegistration;
    says: string[];
  }> = [
    {
      title: 'a network the store defines otherwise, naming each difference',
      given: (store) => store.networks.create({ name: 'ovirtmgmt', vlan: 10, mtu: 0, vmNetwork: true, stp: true }),
      says: [
        'network ovirtmgmt is defined otherwise in the store (vlan 10 → 100, mtu 1500 → 9000, vmNetwork true → false)',
        'hostprov networks update',
      ],
    },
    {
      title: "another network than the cluster's management network",
      given: async (store) => {
        const mgmt = await store.networks.create({ name: 'mgmt' });
        await store.clusters.create({ id: 'cluster-1', name: 'Default', compatibilityVersion: '4.8', managementNetworkId: mgmt.id });
      },
      says: ['cluster Default (cluster-1) has mgmt as its management network, and the install builds ovirtmgmt'],
    },
    {
      title: 'a host the store has in another cluster',
      given: async (store) => {
        const network = await store.networks.create({ name: 'ovirtmgmt', vlan: 100, mtu: 9000, vmNetwork: false });
        for (const [id, name] of [
          ['cluster-1', 'Default'],
          ['cluster-2', 'Other'],
        ] as const)
          await store.clusters.create({ id, name, compatibilityVersion: '4.8', managementNetworkId: network.id });
        await store.hosts.create({ id: 'host-1', name: 'hv1', clusterId: 'cluster-2' });
      },
      says: ['host host-1 is in cluster cluster-2 in the store, and the install names cluster cluster-1', 'hostprov hosts update'],
    },
    {
      title: "the default route off a management network that holds the cluster's default-route role",
      given: async (store) => {
        const network = await store.networks.create({ name: 'ovirtmgmt', vlan: 100, mtu: 9000, vmNetwork: false });
        await store.clusters.create({ id: 'cluster-1', name: 'Default', compatibilityVersion: '4.8', managementNetworkId: network.id });
      },
      wanted: { ...TAGGED, network: { ...TAGGED.network, defaultRoute: false } },
      says: ['cluster Default (cluster-1) gives the default route to ovirtmgmt, and the install keeps it off ovirtmgmt'],
    },
    {
      title: 'the default route on a management network whose cluster gives it to another network',
      given: async (store) => {
        const network = await store.networks.create({ name: 'ovirtmgmt', vlan: 100, mtu: 9000, vmNetwork: false });
        const uplink = await store.networks.create({ name: 'uplink' });
        await store.clusters.create({ id: 'cluster-1', name: 'Default', compatibilityVersion: '4.8', managementNetworkId: network.id });
        await store.clusters.attachNetwork('cluster-1', uplink.id, { defaultRoute: true });
      },
      says: ['cluster Default (cluster-1) gives the default route to uplink, and the install puts it on ovirtmgmt'],
    },
    {
      title: 'a known host under another name',
      given: (store) => store.hosts.create({ id: 'host-1', name: 'hv1' }),
      says: ['host host-1 is named hv1 in the store, and the install names it hv1.example.org', 'hostprov hosts update --name'],
    },
    {
      title: "a cluster level other than the stored cluster's compatibility version",
      given: async (store) => {
        const network = await store.networks.create({ name: 'ovirtmgmt', vlan: 100, mtu: 9000, vmNetwork: false });
        await store.clusters.create({ id: 'cluster-1', name: 'Default', compatibilityVersion: '4.7', managementNetworkId: network.id });
      },
      says: [
        'cluster Default (cluster-1) has compatibility version 4.7 in the store, and the install was told level 4.8',
        'hostprov clusters update --compatibility-version',
      ],
    },
    {
      title: 'a new host with the name of another',
      given: (store) => store.hosts.create({ id: 'old-host', name: 'hv1.example.org' }),
      says: ['another host is named hv1.example.org in the store'],
    },
  ];

  it.each(REFUSALS)('refuses $title for good, and changes nothing', async ({ given, wanted = TAGGED, says }) => {
    const { store } = await fixture.freshStore();
    await given(store);
    const before = await everything(store);
    const err = await refusal(createAttachmentActivities(store).recordAttachments(record('host-1', wanted)));
    expect(err).toMatchObject({ type: 'StoreConstraintError', nonRetryable: true });
    for (const words of says) expect(err.message).toContain(words);
    expect(err.message).toContain('nothing was changed');
    expect(await everything(store)).toEqual(before);
  });

  it('a registration that names a network no attachment has is bad input', async () => {
    const { store } = await fixture.freshStore();
    const input = record('host-1', { ...TAGGED, network: { ...TAGGED.network, name: 'other' } });
    const err = await refusal(createAttachmentActivities(store).recordAttachments(input));
    expect(err).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(await everything(store)).toEqual({ networks: [], clusters: [], clusterNetworks: [], hosts: [], attachments: [] });
  });

  it("registers again when another install's compensation took the new network back before this intent", async () => {
    const { store } = await fixture.freshStore();
    let taken = 0;
    // The other install's compensation, run at the worst moment: after this registration, before this intent.
    const racing: HostNetworkingStore = {
      ...store,
      attachments: {
        ...store.attachments,
        async recordIntent(...args) {
          if (taken++ === 0) await store.networks.remove((await store.networks.getByName('ovirtmgmt'))!.id);
          return store.attachments.recordIntent(...args);
        },
      },
    };
    const snapshot = await createAttachmentActivities(racing).recordAttachments(record('host-1', TAGGED));
    const network = await store.networks.getByName('ovirtmgmt');
    expect(network).toMatchObject({ vlan: 100, mtu: 9000, vmNetwork: false });
    expect(snapshot.createdNetworkIds).toEqual([network!.id]);
    expect(await store.attachments.listByHost('host-1')).toEqual([expect.objectContaining({ networkId: network!.id })]);
    expect(taken).toBe(2);
  });

  it('twenty installs registering the same new network at once all pass, with one network row', async () => {
    const { store } = await fixture.freshStore();
    const activities = createAttachmentActivities(store);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        activities.recordAttachments(record(`host-${i}`, { ...TAGGED, host: { ...TAGGED.host, name: `hv${i}` } })),
      ),
    );
    expect(await store.networks.list()).toEqual([expect.objectContaining({ name: 'ovirtmgmt', vlan: 100, mtu: 9000 })]);
    expect((await store.hosts.list()).map((h) => h.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `hv${i}`).sort());
  });
});
