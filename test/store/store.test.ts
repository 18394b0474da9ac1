/**
 * The store suite, on SQLite and on PostgreSQL alike: CRUD, the rules (typed errors, nothing changed),
 * recordIntent/restore exactness on a host that already holds attachments, and two concurrent intents on
 * one host.
 */
import { describe, expect, it, vi } from 'vitest';
import type { NetworkAttachment } from '../../model/host-networking/network-attachment';
import type { ReportedInterfacesInput } from '../../model/host-networking/reported-interfaces';
import { translateDbError } from '../../store/db-errors';
import { StoreConstraint, StoreConstraintError, StoreInputError, StoreNotFoundError } from '../../store/errors';
import { openStore } from '../../store/open';
import { INTENT_KEY_RETENTION_DAYS, type HostNetworkingStore } from '../../store/store';
import { useStoreDialects } from '../helpers/store-dialects';

const dialects = useStoreDialects();

const REPORT: ReportedInterfacesInput = {
  nics: [
    { name: 'eth0', mac: '52:54:00:00:00:01', mtu: 1500, speed: 1000 },
    { name: 'eth1', mac: '52:54:00:00:00:02', mtu: 1500, speed: 1000 },
    { name: 'eth2', mac: '52:54:00:00:00:03', mtu: 9000, speed: 10000 },
    { name: 'eth3', mac: '52:54:00:00:00:04', mtu: 9000, speed: 10000 },
  ],
  bonds: [
    {
      name: 'bond0',
      mac: '52:54:00:00:00:03',
      mtu: 9000,
      slaves: ['eth2', 'eth3'],
      options: { mode: '4', miimon: '100' },
      activeSlave: null,
    },
  ],
  vlans: [{ name: 'eth1.100', baseInterface: 'eth1', vlanId: 100, mtu: 1500 }],
  networks: [{ name: 'ovirtmgmt', baseInterface: 'eth0', vlanId: null, bridged: true, mtu: 1500, defaultRoute: true }],
};

/** A cluster with four networks and one host that reported REPORT. */
async function seed(store: HostNetworkingStore) {
  const mgmt = await store.networks.create({ name: 'ovirtmgmt', mtu: 1500, dnsServers: ['192.0.2.53'] });
  const storage = await store.networks.create({ name: 'storage', vlan: 100, mtu: 9000, vmNetwork: false });
  const display = await store.networks.create({ name: 'display', qos: { outAverageLinkshare: 10 } });
  const migration = await store.networks.create({ name: 'migration', vlan: 200, customProperties: { bridge_opts: 'forward_delay=1500' } });
  const cluster = await store.clusters.create({
    id: 'cluster-1',
    name: 'Default',
    compatibilityVersion: '4.8',
    managementNetworkId: mgmt.id,
  });
  for (const n of [storage, display, migration]) await store.clusters.attachNetwork(cluster.id, n.id);
  const host = await store.hosts.create({
    id: 'host-1',
    name: 'hv1.example.test',
    clusterId: cluster.id,
    agentEndpoint: {
      host: 'hv1.example.test',
      port: 54321,
      tls: { certRef: 'file:/etc/pki/hostprov/client.pem', keyRef: 'env:CLIENT_KEY', caRef: 'file:/etc/pki/hostprov/ca.pem' },
    },
  });
  await store.hosts.recordReportedInterfaces(host.id, REPORT);
  return { mgmt, storage, display, migration, cluster, host };
}

/** Three attachments the host already holds: static ovirtmgmt, DHCP storage on a bond, display without a NIC. */
async function seedAttachments(store: HostNetworkingStore, s: Awaited<ReturnType<typeof seed>>): Promise<NetworkAttachment[]> {
  await store.attachments.add(
    s.host.id,
    {
      networkId: s.mgmt.id,
      nicName: 'eth0',
      ipConfiguration: {
        ipv4: { bootProtocol: 'STATIC_IP', address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1' },
        ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8::10', prefix: 64, gateway: '2001:db8::1' },
      },
      properties: { bridge_opts: 'forward_delay=1500' },
      dns: { nameServers: ['192.0.2.53', '2001:db8::53'] },
    },
    { requestedBy: 'seed' },
  );
  await store.attachments.add(
    s.host.id,
    {
      networkId: s.storage.id,
      nicName: 'bond0',
      ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'AUTOCONF' } },
      qos: { outAverageLinkshare: 50, outAverageUpperlimit: 2000 },
    },
    { requestedBy: 'seed' },
  );
  await store.attachments.add(s.host.id, { networkId: s.display.id, nicName: null }, { requestedBy: 'seed' });
  return store.attachments.listByHost(s.host.id);
}

async function expectConstraint(promise: Promise<unknown>, constraint: StoreConstraint): Promise<StoreConstraintError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${constraint}`).toBeInstanceOf(StoreConstraintError);
  expect((err as StoreConstraintError).constraint).toBe(constraint);
  expect((err as Error).message).not.toMatch(/\b(INSERT|UPDATE|SELECT|DELETE)\b/);
  return err as StoreConstraintError;
}

describe.each(dialects)('store on $dialect', (fixture) => {
  describe('networks', () => {
    it('creates, reads, lists, updates and removes networks with every field', async () => {
      const { store } = await fixture.freshStore();
      const created = await store.networks.create({
        name: 'storage',
        vlan: 100,
        mtu: 9000,
        vmNetwork: false,
        stp: true,
        dnsServers: ['192.0.2.53'],
        qos: { outAverageLinkshare: 20, outAverageRealtime: 100 },
        customProperties: { bridge_opts: 'x=1' },
      });
      const defaults = await store.networks.create({ name: 'a-first' });
      expect(defaults).toMatchObject({ vlan: null, mtu: 0, vmNetwork: true, stp: false, dnsServers: [], qos: null, customProperties: {} });
      expect(await store.networks.get(created.id)).toEqual(created);
      expect(await store.networks.getByName('storage')).toEqual(created);
      expect((await store.networks.list()).map((n) => n.name)).toEqual(['a-first', 'storage']);

      const updated = await store.networks.update(created.id, { mtu: 1500, qos: null, dnsServers: [] });
      expect(updated).toMatchObject({ mtu: 1500, qos: null, dnsServers: [], vlan: 100, stp: true, createdAt: created.createdAt });
      expect(await store.networks.get(created.id)).toEqual(updated);

      await store.networks.remove(defaults.id);
      expect(await store.networks.get(defaults.id)).toBeNull();
      await expect(store.networks.remove(defaults.id)).rejects.toBeInstanceOf(StoreNotFoundError);
    });

    it('refuses a duplicate name and bad values with typed errors, changing nothing', async () => {
      const { store } = await fixture.freshStore();
      const first = await store.networks.create({ name: 'ovirtmgmt' });
      await expectConstraint(store.networks.create({ name: 'ovirtmgmt', vlan: 5 }), StoreConstraint.NETWORK_NAME_UNIQUE);
      const bad = await store.networks.create({ name: 'x', vlan: 5000 }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(StoreInputError);
      expect((bad as StoreInputError).issues.join()).toMatch(/vlan/);
      await expect(store.networks.create({ name: 'bad name' })).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.networks.update(first.id, { dnsServers: ['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4'] })).rejects.toBeInstanceOf(
        StoreInputError,
      );
      expect(await store.networks.list()).toEqual([first]);
    });

    it('refuses to remove a network a cluster or a host still uses', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      await expectConstraint(store.networks.remove(s.mgmt.id), StoreConstraint.NETWORK_IN_USE);
      const loose = await store.networks.create({ name: 'loose' });
      await store.attachments.add(s.host.id, { networkId: loose.id, nicName: 'eth1' });
      await expectConstraint(store.networks.remove(loose.id), StoreConstraint.NETWORK_IN_USE);
    });

    it('ensure returns the network of that name, creating it once', async () => {
      const { store } = await fixture.freshStore();
      const [a, b] = await Promise.all([store.networks.ensure('ovirtmgmt'), store.networks.ensure('ovirtmgmt')]);
      expect(a).toEqual(b);
      expect(await store.networks.list()).toHaveLength(1);
    });
  });

  describe('clusters and network roles', () => {
    it('creates a cluster with its management network, which also holds the default route', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      expect(await store.clusters.get(s.cluster.id)).toEqual(s.cluster);
      const roles = Object.fromEntries((await store.clusters.listNetworks(s.cluster.id)).map((cn) => [cn.networkId, cn.roles]));
      expect(roles[s.mgmt.id]).toEqual({ management: true, defaultRoute: true, display: false, migration: false, required: true });
      expect(roles[s.storage.id]).toEqual({ management: false, defaultRoute: false, display: false, migration: false, required: false });
      const renamed = await store.clusters.update(s.cluster.id, { name: 'Prod', compatibilityVersion: '4.7' });
      expect(await store.clusters.list()).toEqual([renamed]);
    });

    it('keeps exactly one management network: no second one, no detaching or demoting it, moving it is atomic', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      await expectConstraint(
        store.clusters.updateNetworkRoles(s.cluster.id, s.storage.id, { management: true }),
        StoreConstraint.CLUSTER_ONE_MANAGEMENT,
      );
      const extra = await store.networks.create({ name: 'extra' });
      await expectConstraint(
        store.clusters.attachNetwork(s.cluster.id, extra.id, { management: true }),
        StoreConstraint.CLUSTER_ONE_MANAGEMENT,
      );
      expect(await store.clusters.getNetwork(s.cluster.id, extra.id)).toBeNull();
      await expectConstraint(
        store.clusters.updateNetworkRoles(s.cluster.id, s.mgmt.id, { management: false }),
        StoreConstraint.CLUSTER_MANAGEMENT_REQUIRED,
      );
      await expectConstraint(store.clusters.detachNetwork(s.cluster.id, s.mgmt.id), StoreConstraint.CLUSTER_MANAGEMENT_REQUIRED);
      await expectConstraint(store.clusters.attachNetwork(s.cluster.id, s.storage.id), StoreConstraint.CLUSTER_NETWORK_UNIQUE);

      const moved = await store.clusters.setManagementNetwork(s.cluster.id, s.storage.id);
      expect(moved.roles).toMatchObject({ management: true, required: true });
      const managers = (await store.clusters.listNetworks(s.cluster.id)).filter((cn) => cn.roles.management);
      expect(managers.map((cn) => cn.networkId)).toEqual([s.storage.id]);
      // The default route stays where it was: moving management does not move the route.
      expect((await store.clusters.getNetwork(s.cluster.id, s.mgmt.id))?.roles.defaultRoute).toBe(true);
    });

    it('keeps at most one default-route network: setting it moves it, detaching its network hands it back', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      await store.clusters.updateNetworkRoles(s.cluster.id, s.display.id, { defaultRoute: true, display: true });
      const holders = async () =>
        (await store.clusters.listNetworks(s.cluster.id)).filter((cn) => cn.roles.defaultRoute).map((cn) => cn.networkId);
      expect(await holders()).toEqual([s.display.id]);
      const extra = await store.networks.create({ name: 'extra' });
      await store.clusters.attachNetwork(s.cluster.id, extra.id, { defaultRoute: true });
      expect(await holders()).toEqual([extra.id]);
      await store.clusters.detachNetwork(s.cluster.id, extra.id);
      expect(await holders()).toEqual([s.mgmt.id]);
      expect((await store.clusters.getNetwork(s.cluster.id, s.display.id))?.roles).toMatchObject({ display: true, defaultRoute: false });
    });

    it('backs both role rules with unique indexes that refuse a second holder written behind the store', async () => {
      const { store, location } = await fixture.freshStore();
      const s = await seed(store);
      const flag = fixture.dialect === 'postgres' ? 'true' : '1';
      const sneak = async (column: string, networkId: string) =>
        translateDbError(
          await fixture.sql(location, `UPDATE cluster_networks SET ${column} = ${flag} WHERE network_id = '${networkId}'`).then(
            () => null,
            (e: unknown) => e,
          ),
        );
      await expectConstraint(
        sneak('management', s.storage.id).then((e) => Promise.reject(e)),
        StoreConstraint.CLUSTER_ONE_MANAGEMENT,
      );
      await expectConstraint(
        sneak('default_route', s.storage.id).then((e) => Promise.reject(e)),
        StoreConstraint.CLUSTER_ONE_DEFAULT_ROUTE,
      );
    });

    it('refuses to remove a cluster that has hosts, and removes its roles with it otherwise', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      await expectConstraint(store.clusters.remove(s.cluster.id), StoreConstraint.CLUSTER_IN_USE);
      await store.hosts.update(s.host.id, { clusterId: null });
      await store.clusters.remove(s.cluster.id);
      expect(await store.clusters.get(s.cluster.id)).toBeNull();
      expect(await store.clusters.listNetworks(s.cluster.id)).toEqual([]);
      await store.networks.remove(s.storage.id);
    });
  });

  describe('hosts', () => {
    it('keeps the agent endpoint by reference, the active NIC and the last reported interfaces', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const host = await store.hosts.update(s.host.id, { activeNic: 'eth0' });
      expect(await store.hosts.get(s.host.id)).toEqual(host);
      expect(host).toMatchObject({
        clusterId: s.cluster.id,
        activeNic: 'eth0',
        reportedInterfaces: REPORT,
        agentEndpoint: { tls: { keyRef: 'env:CLIENT_KEY' } },
      });
      expect(host.interfacesReportedAt).not.toBeNull();
      const later = await store.hosts.recordReportedInterfaces(s.host.id, { ...REPORT, vlans: [] }, '2030-01-01T00:00:00.000Z');
      expect(later).toMatchObject({ interfacesReportedAt: '2030-01-01T00:00:00.000Z', reportedInterfaces: { vlans: [] } });
      expect(await store.hosts.list()).toEqual([later]);
    });

    it('refuses secrets in the endpoint, an unknown cluster, a duplicate name and a report naming one interface twice', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const secret = { host: 'hv2', port: 54321, tls: { certRef: '-----BEGIN CERTIFICATE-----', keyRef: 'env:K', caRef: 'env:CA' } };
      await expect(store.hosts.create({ id: 'host-2', name: 'hv2', agentEndpoint: secret as never })).rejects.toBeInstanceOf(
        StoreInputError,
      );
      await expect(store.hosts.create({ id: 'host-2', name: 'hv2', clusterId: 'nope' })).rejects.toBeInstanceOf(StoreNotFoundError);
      await expectConstraint(store.hosts.create({ id: 'host-2', name: s.host.name }), StoreConstraint.HOST_NAME_UNIQUE);
      await expect(
        store.hosts.recordReportedInterfaces(s.host.id, {
          ...REPORT,
          vlans: [{ name: 'eth0', baseInterface: 'eth1', vlanId: 5, mtu: 1500 }],
        }),
      ).rejects.toBeInstanceOf(StoreInputError);
      expect((await store.hosts.list()).map((h) => h.id)).toEqual([s.host.id]);
      expect((await store.hosts.get(s.host.id))?.reportedInterfaces).toEqual(REPORT);
    });

    it('removing a host removes its attachments; ensure registers an unknown host once', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      await seedAttachments(store, s);
      await store.hosts.remove(s.host.id);
      expect(await store.attachments.listByNetwork(s.mgmt.id)).toEqual([]);
      const [a, b] = await Promise.all([store.hosts.ensure('engine-guid-1'), store.hosts.ensure('engine-guid-1')]);
      expect(a).toEqual(b);
      expect(a).toMatchObject({ id: 'engine-guid-1', name: 'engine-guid-1', clusterId: null, agentEndpoint: null });
    });
  });

  describe('attachments', () => {
    it('stores every field of the entity and finds attachments by id, host, NIC and network', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const rows = await seedAttachments(store, s);
      expect(rows.map((a) => [a.networkName, a.nicName])).toEqual([
        ['display', null],
        ['ovirtmgmt', 'eth0'],
        ['storage', 'bond0'],
      ]);
      const mgmt = rows.find((a) => a.networkName === 'ovirtmgmt');
      expect(mgmt).toMatchObject({
        hostId: s.host.id,
        networkId: s.mgmt.id,
        ipConfiguration: {
          ipv4: { bootProtocol: 'STATIC_IP', address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1' },
          ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8::10', prefix: 64, gateway: '2001:db8::1' },
        },
        properties: { bridge_opts: 'forward_delay=1500' },
        qos: null,
        dns: { nameServers: ['192.0.2.53', '2001:db8::53'] },
        requestedBy: 'seed',
      });
      expect(rows.find((a) => a.networkName === 'storage')?.qos).toEqual({ outAverageLinkshare: 50, outAverageUpperlimit: 2000 });
      for (const row of rows) expect(await store.attachments.get(row.id)).toEqual(row);
      expect(await store.attachments.listByNic(s.host.id, 'bond0')).toEqual(rows.filter((a) => a.nicName === 'bond0'));
      expect(await store.attachments.listByNic(s.host.id, 'eth3')).toEqual([]);
      expect(await store.attachments.listByNetwork(s.mgmt.id)).toEqual([mgmt]);
      expect(await store.attachments.get('00000000-0000-4000-8000-000000000000')).toBeNull();
      expect(await store.attachments.get('not-a-uuid')).toBeNull();
    });

    it('refuses the same network twice on a host, whatever the NIC', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const before = await seedAttachments(store, s);
      const err = await expectConstraint(
        store.attachments.add(s.host.id, { networkId: s.mgmt.id, nicName: 'eth1' }),
        StoreConstraint.ATTACHMENT_HOST_NETWORK_UNIQUE,
      );
      expect(err.message).toContain('ovirtmgmt');
      await expectConstraint(
        store.attachments.add(s.host.id, { networkId: s.mgmt.id, nicName: 'eth0' }),
        StoreConstraint.ATTACHMENT_HOST_NETWORK_UNIQUE,
      );
      expect(await store.attachments.listByHost(s.host.id)).toEqual(before);
    });

    it('refuses a VLAN device as the NIC in every write path', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const before = await seedAttachments(store, s);
      const err = await expectConstraint(
        store.attachments.add(s.host.id, { networkId: s.migration.id, nicName: 'eth1.100' }),
        StoreConstraint.ATTACHMENT_NIC_NOT_VLAN,
      );
      expect(err.message).toContain('eth1');
      const storage = before.find((a) => a.networkName === 'storage');
      await expectConstraint(store.attachments.update(storage?.id ?? '', { nicName: 'eth1.100' }), StoreConstraint.ATTACHMENT_NIC_NOT_VLAN);
      await expectConstraint(
        store.attachments.recordIntent(s.host.id, { upserts: [{ networkId: s.migration.id, nicName: 'eth1.100' }] }),
        StoreConstraint.ATTACHMENT_NIC_NOT_VLAN,
      );
      expect(await store.attachments.listByHost(s.host.id)).toEqual(before);
    });

    it('updates and removes single attachments; an update cannot reach another network', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const [display] = await seedAttachments(store, s);
      const updated = await store.attachments.update(
        display?.id ?? '',
        { nicName: 'eth1', ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } } },
        { requestedBy: 'op' },
      );
      expect(updated).toMatchObject({ nicName: 'eth1', networkName: 'display', requestedBy: 'op', createdAt: display?.createdAt });
      expect(await store.attachments.get(updated.id)).toEqual(updated);
      await expect(store.attachments.update(updated.id, { networkId: s.mgmt.id } as never)).rejects.toBeInstanceOf(StoreInputError);
      await store.attachments.remove(updated.id);
      expect(await store.attachments.get(updated.id)).toBeNull();
      await expect(store.attachments.remove(updated.id)).rejects.toBeInstanceOf(StoreNotFoundError);
      await expect(store.attachments.add('no-such-host', { networkId: s.mgmt.id })).rejects.toBeInstanceOf(StoreNotFoundError);
    });
  });

  describe('recordIntent and restore', () => {
    it('returns the exact previous rows of every touched attachment and restores them exactly, idempotently', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const original = await seedAttachments(store, s);
      const [display, mgmt, storage] = original as [NetworkAttachment, NetworkAttachment, NetworkAttachment];

      const { snapshot, attachments } = await store.attachments.recordIntent(
        s.host.id,
        {
          upserts: [
            // by network: replaces the stored ovirtmgmt row in place
            { networkId: s.mgmt.id, nicName: 'bond0', ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } } },
            // by id
            { id: storage.id, networkId: s.storage.id, nicName: 'eth1', properties: { ethtool_opts: '--offload eth1 rx off' } },
            // new
            {
              networkId: s.migration.id,
              nicName: 'eth0',
              ipConfiguration: {
                ipv4: { bootProtocol: 'STATIC_IP', address: '198.51.100.7', netmask: '24', gateway: '198.51.100.1' },
                ipv6: { bootProtocol: 'NONE' },
              },
            },
          ],
          removals: [display.id],
        },
        { requestedBy: 'workflow-1' },
      );

      const added = attachments.find((a) => a.networkName === 'migration');
      expect(added).toBeDefined();
      expect(snapshot.hostId).toBe(s.host.id);
      expect(new Map(snapshot.entries.map((e) => [e.id, e.before]))).toEqual(
        new Map<string, NetworkAttachment | null>([
          [display.id, display],
          [mgmt.id, mgmt],
          [storage.id, storage],
          [added?.id ?? '', null],
        ]),
      );
      expect(attachments.map((a) => [a.networkName, a.id, a.nicName, a.requestedBy])).toEqual([
        ['migration', added?.id, 'eth0', 'workflow-1'],
        ['ovirtmgmt', mgmt.id, 'bond0', 'workflow-1'],
        ['storage', storage.id, 'eth1', 'workflow-1'],
      ]);
      expect(attachments.find((a) => a.id === mgmt.id)?.createdAt).toBe(mgmt.createdAt);
      expect(await store.attachments.listByHost(s.host.id)).toEqual(attachments);

      // The snapshot travels as JSON (workflow history) and comes back exact.
      const travelled = JSON.parse(JSON.stringify(snapshot)) as typeof snapshot;
      expect(await store.attachments.restore(travelled)).toEqual({ restored: 3, removed: 1 });
      expect(await store.attachments.listByHost(s.host.id)).toEqual(original);
      expect(await store.attachments.restore(travelled)).toEqual({ restored: 3, removed: 0 });
      expect(await store.attachments.listByHost(s.host.id)).toEqual(original);
    });

    it('records a keyed intent once: the same key again writes nothing and returns the first snapshot', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const original = await seedAttachments(store, s);
      const mgmt = original.find((a) => a.networkName === 'ovirtmgmt');
      const key = 'install-host-1/run-1/3';
      const first = await store.attachments.recordIntent(
        s.host.id,
        { upserts: [{ networkId: s.mgmt.id, nicName: 'eth1' }] },
        { requestedBy: 'first', intentKey: key },
      );
      expect(first.snapshot.entries).toEqual([{ id: mgmt?.id, before: mgmt }]);

      // The retry of a request whose first attempt committed: it must not take that write for "before".
      const [again, concurrent] = await Promise.all([
        store.attachments.recordIntent(
          s.host.id,
          { upserts: [{ networkId: s.mgmt.id, nicName: 'eth1' }] },
          { requestedBy: 'retry', intentKey: key },
        ),
        store.attachments.recordIntent(
          s.host.id,
          { upserts: [{ networkId: s.mgmt.id, nicName: 'eth2' }] },
          { requestedBy: 'retry', intentKey: key },
        ),
      ]);
      expect(again.snapshot).toEqual(first.snapshot);
      expect(concurrent.snapshot).toEqual(first.snapshot);
      expect(await store.attachments.listByHost(s.host.id)).toEqual(first.attachments);

      // Restoring the first snapshot puts back what was there before the request.
      await store.attachments.restore(again.snapshot);
      expect(await store.attachments.listByHost(s.host.id)).toEqual(original);

      // Another key is another request.
      const other = await store.attachments.recordIntent(
        s.host.id,
        { upserts: [{ networkId: s.mgmt.id, nicName: 'eth1' }] },
        { intentKey: `${key}-2` },
      );
      expect(other.snapshot.entries).toEqual([{ id: mgmt?.id, before: mgmt }]);
    });

    it('refuses a key recorded for another host, and a malformed key, changing nothing', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const other = await store.hosts.ensure('host-2');
      await store.attachments.recordIntent(s.host.id, { upserts: [{ networkId: s.mgmt.id, nicName: 'eth0' }] }, { intentKey: 'k' });
      const before = await store.attachments.listByHost(other.id);
      for (const intentKey of ['k', '', 'a\u0000b']) {
        const err = await store.attachments
          .recordIntent(other.id, { upserts: [{ networkId: s.mgmt.id }] }, { intentKey })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreInputError);
        expect(await store.attachments.listByHost(other.id)).toEqual(before);
      }
    });

    it('forgets a key after the retention: recording under it again is a new request', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(Date.now() - (INTENT_KEY_RETENTION_DAYS + 1) * 86_400_000);
        await store.attachments.recordIntent(s.host.id, { upserts: [{ networkId: s.mgmt.id, nicName: 'eth0' }] }, { intentKey: 'old' });
      } finally {
        vi.useRealTimers();
      }
      // Any keyed recording forgets the expired keys.
      const now = await store.attachments.recordIntent(
        s.host.id,
        { upserts: [{ networkId: s.storage.id, nicName: 'eth1' }] },
        { intentKey: 'new' },
      );
      const mgmt = now.attachments.find((a) => a.networkName === 'ovirtmgmt');
      const again = await store.attachments.recordIntent(
        s.host.id,
        { upserts: [{ networkId: s.mgmt.id, nicName: 'eth0' }] },
        { intentKey: 'old' },
      );
      expect(again.snapshot.entries).toEqual([{ id: mgmt?.id, before: mgmt }]);
    });

    it('changes nothing when any change in the request is refused', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const original = await seedAttachments(store, s);
      const refused = [
        {
          upserts: [
            { networkId: s.migration.id, nicName: 'eth1' },
            { networkId: '00000000-0000-4000-8000-000000000000', nicName: 'eth0' },
          ],
        },
        { upserts: [{ networkId: s.migration.id, nicName: 'eth1' }], removals: ['00000000-0000-4000-8000-000000000001'] },
        { upserts: [{ id: original[0]?.id, networkId: s.mgmt.id, nicName: 'eth1' }] },
        { upserts: [{ networkId: s.migration.id }, { networkId: s.migration.id }] },
      ];
      for (const changes of refused) {
        const err = await store.attachments.recordIntent(s.host.id, changes).catch((e: unknown) => e);
        expect(
          [StoreNotFoundError, StoreConstraintError, StoreInputError].some((c) => err instanceof c),
          String(err),
        ).toBe(true);
        expect(await store.attachments.listByHost(s.host.id)).toEqual(original);
      }
    });

    it('refuses a snapshot whose rows belong to another host, and one that is not a snapshot', async () => {
      const { store } = await fixture.freshStore();
      const s = await seed(store);
      const original = await seedAttachments(store, s);
      const { snapshot } = await store.attachments.recordIntent(s.host.id, { removals: [original[0]?.id ?? ''] });
      await expect(store.attachments.restore({ ...snapshot, hostId: 'host-2' })).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.attachments.restore({ hostId: s.host.id } as never)).rejects.toBeInstanceOf(StoreInputError);
      expect(await store.attachments.listByHost(s.host.id)).toHaveLength(2);
    });

    it('serializes two concurrent intents on one host (separate connections): the second sees the first', async () => {
      const { store, location } = await fixture.freshStore();
      const other = await openStore(location);
      try {
        const s = await seed(store);
        const original = await seedAttachments(store, s);
        const mgmt = original.find((a) => a.networkName === 'ovirtmgmt') as NetworkAttachment;
        const intent = (target: HostNetworkingStore, nic: string, by: string) =>
          target.attachments.recordIntent(
            s.host.id,
            {
              upserts: [
                { networkId: s.mgmt.id, nicName: nic },
                { networkId: s.migration.id, nicName: nic },
              ],
            },
            { requestedBy: by },
          );
        const [a, b] = await Promise.all([intent(store, 'eth2', 'a'), intent(other, 'eth3', 'b')]);

        // Exactly one ran first and saw the original rows; the other saw the first one's rows.
        const [first, second] = a.snapshot.entries.find((e) => e.id === mgmt.id)?.before?.requestedBy === 'seed' ? [a, b] : [b, a];
        expect(first.snapshot.entries).toEqual([
          { id: mgmt.id, before: mgmt },
          { id: expect.any(String), before: null },
        ]);
        expect(second.snapshot.entries.map((e) => e.before)).toEqual(
          first.attachments
            .filter((r) => r.networkName === 'ovirtmgmt' || r.networkName === 'migration')
            .sort((x, y) => (x.networkName === 'ovirtmgmt' ? -1 : y.networkName === 'ovirtmgmt' ? 1 : 0)),
        );
        expect(await store.attachments.listByHost(s.host.id)).toEqual(second.attachments);

        // Undone in reverse order, the host is back exactly where it started.
        await other.attachments.restore(second.snapshot);
        await store.attachments.restore(first.snapshot);
        expect(await store.attachments.listByHost(s.host.id)).toEqual(original);
      } finally {
        await other.close();
      }
    });
  });
});
