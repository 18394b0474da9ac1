/**
 * The host networking commands through the real `bin/hostprov`, against a SQLite file and a throwaway
 * PostgreSQL: networks, clusters (with roles), hosts and the attachment queries, each round trip checked
 * in the store and in the `--json` shapes (parsed with the model's schemas); bad input exits 2 and the
 * store is unchanged; rules refuse with exit 3 and name the rule; a missing row exits 4. `hosts remove`
 * also ends the host's monitoring in Temporal, so it talks to the run's dev server (these hosts have none
 * to end: host-lifecycle.test.ts removes a monitored one).
 *
 * Each command and query runs once per database (text renderings on SQLite only: they do not depend on
 * the database), and the store is read back directly (the test holds its own connection) rather than
 * through more runs: a start of bin/hostprov costs seconds. The permutations of bad flags are unit tests
 * (host-networking-flags.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Cluster } from '../../model/host-networking/cluster';
import { Host } from '../../model/host-networking/host';
import { Network } from '../../model/host-networking/network';
import { NetworkAttachment } from '../../model/host-networking/network-attachment';
import { ClusterView } from '../../cli/host-networking/cluster-view';
import { changeRecordSchema } from '../../cli/host-networking/output';
import { openStore } from '../../store/open';
import type { HostNetworkingStore } from '../../store/store';
import { jsonOutput, runHostprov, type HostprovExit } from '../helpers/hostprov-process';
import { useStoreDialects } from '../helpers/store-dialects';
import { temporalTarget } from '../helpers/temporal';

const dialects = useStoreDialects();
const temporal = temporalTarget();
/** `hosts remove` ends the host's monitoring first, on the run's dev server (without one it exits 1, naming it). */
const temporalFlags =
  'unavailable' in temporal ? [] : ['--address', temporal.address, '--namespace', temporal.namespace, '--no-payload-encryption'];

/** Dozens of bin/hostprov starts per test; on a loaded machine each takes several seconds. */
const TIMEOUT_MS = 900_000;

const NetworkChange = changeRecordSchema(Network);
const ClusterChange = changeRecordSchema(ClusterView);
const HostChange = changeRecordSchema(Host);

function expectExit(run: HostprovExit, code: number, stderr: RegExp): void {
  expect(run.code, `${run.stderr}\n${run.stdout}`).toBe(code);
  expect(run.stderr).toMatch(stderr);
  expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
}

/** Everything the store holds, for "nothing changed" comparisons. */
async function snapshot(store: HostNetworkingStore) {
  const clusters = await store.clusters.list();
  const hosts = await store.hosts.list();
  return {
    networks: await store.networks.list(),
    clusters,
    roles: await Promise.all(clusters.map((c) => store.clusters.listNetworks(c.id))),
    hosts,
    attachments: await Promise.all(hosts.map((h) => store.attachments.listByHost(h.id))),
  };
}

describe.each(dialects)('hostprov host networking commands on $dialect', (fixture) => {
  let location = '';
  let store: HostNetworkingStore;
  const hostprov = (...args: string[]) => runHostprov([...args, '--database', location]);
  /** Text renderings do not depend on the database: checked on SQLite only. */
  const textToo = fixture.dialect === 'sqlite';

  beforeAll(async () => {
    location = await fixture.freshLocation();
    store = await openStore(location);
  });
  afterAll(async () => {
    await store?.close();
  });

  it(
    'networks: create, get, list, update, and bad input exits 2 leaving the store unchanged',
    async () => {
      const [mgmt, storage, display] = await Promise.all([
        hostprov('networks', 'create', '--name', 'ovirtmgmt'),
        hostprov(
          'networks',
          'create',
          '--name',
          'storage',
          '--vlan',
          '100',
          '--mtu',
          '9000',
          '--no-vm-network',
          '--dns-servers',
          '192.0.2.53,2001:db8::53',
          '--qos',
          'linkshare=50,upperlimit=2000',
          '--property',
          'bridge_opts=forward_delay=1500',
          '--json',
        ),
        hostprov('networks', 'create', '--name', 'display', '--stp', '--json'),
      ]);
      expect(mgmt.code, mgmt.stderr).toBe(0);
      expect(mgmt.stdout).toMatch(/^created network ovirtmgmt\n/);
      expect(mgmt.stdout).toMatch(/vm network: +yes \(bridged\)/);
      const created = jsonOutput(storage, NetworkChange);
      expect(created).toMatchObject({ action: 'created', entity: 'network', before: null });
      expect(created.after).toMatchObject({
        name: 'storage',
        vlan: 100,
        mtu: 9000,
        vmNetwork: false,
        stp: false,
        dnsServers: ['192.0.2.53', '2001:db8::53'],
        qos: { outAverageLinkshare: 50, outAverageUpperlimit: 2000 },
        customProperties: { bridge_opts: 'forward_delay=1500' },
      });
      expect(jsonOutput(display, NetworkChange).after).toMatchObject({ name: 'display', stp: true, vmNetwork: true, vlan: null, mtu: 0 });
      expect(await store.networks.get(created.after!.id)).toEqual(created.after);

      const before = await snapshot(store);
      const bad = await Promise.all([
        hostprov('networks', 'create', '--name', 'jumbo', '--mtu', '12'),
        hostprov('networks', 'create', '--name', 'storage'),
      ]);
      expectExit(bad[0]!, 2, /--mtu: MTU is 0 \(default\) or 68\.\.65535/);
      expectExit(bad[1]!, 3, /refused by rule networks_name_key \(network names are unique\)/);
      expect(await snapshot(store)).toEqual(before);

      const [updated, missing] = await Promise.all([
        hostprov('networks', 'update', 'storage', '--mtu', '1500', '--vlan', 'none', '--no-properties'),
        hostprov('networks', 'get', 'nowhere'),
      ]);
      expect(updated.code, updated.stderr).toBe(0);
      expect(updated.stdout.split('\n')).toEqual(
        expect.arrayContaining(['  vlan: 100 → -', '  mtu: 9000 → 1500', '  customProperties.bridge_opts: forward_delay=1500 → -']),
      );
      expectExit(missing, 4, /network nowhere does not exist/);

      const [got, listed, table] = await Promise.all([
        hostprov('networks', 'get', created.after!.id, '--json'),
        hostprov('networks', 'list', '--json'),
        textToo ? hostprov('networks', 'list') : null,
      ]);
      const stored = await store.networks.getByName('storage');
      expect(stored).toMatchObject({ vlan: null, mtu: 1500, customProperties: {} });
      expect(jsonOutput(got, Network)).toEqual(stored);
      expect(jsonOutput(listed, z.array(Network)).map((n) => n.name)).toEqual(['display', 'ovirtmgmt', 'storage']);
      if (table) {
        expect(table.stdout.split('\n')[0]).toMatch(/^NAME +VLAN +MTU +VM +STP +DNS +QOS +ID$/);
        expect(table.stdout).toMatch(/\nstorage +- +1500 +no +off +192\.0\.2\.53,2001:db8::53 /);
      }
    },
    TIMEOUT_MS,
  );

  it(
    'clusters: create, roles, one management network, set-management, update, and refusals that change nothing',
    async () => {
      const created = jsonOutput(
        await hostprov(
          'clusters',
          'create',
          '--name',
          'Default',
          '--compatibility-version',
          '4.8',
          '--management-network',
          'ovirtmgmt',
          '--id',
          'cluster-1',
          '--json',
        ),
        ClusterChange,
      );
      expect(created.after!.cluster).toMatchObject({ id: 'cluster-1', name: 'Default', compatibilityVersion: '4.8' });
      expect(created.after!.networks.map((n) => [n.networkName, n.roles])).toEqual([
        ['ovirtmgmt', { management: true, defaultRoute: true, display: false, migration: false, required: true }],
      ]);

      const attached = jsonOutput(
        await hostprov('clusters', 'attach-network', 'Default', 'storage', '--default-route', '--migration', '--json'),
        ClusterChange,
      );
      const roles = (view: ClusterView | null) => Object.fromEntries((view?.networks ?? []).map((n) => [n.networkName, n.roles]));
      expect(roles(attached.after)).toEqual({
        ovirtmgmt: { management: true, defaultRoute: false, display: false, migration: false, required: true },
        storage: { management: false, defaultRoute: true, display: false, migration: true, required: false },
      });

      const before = await snapshot(store);
      const refused = await Promise.all([
        hostprov('clusters', 'attach-network', 'Default', 'display', '--management'),
        hostprov('networks', 'remove', 'storage'),
      ]);
      expectExit(
        refused[0]!,
        3,
        /refused by rule cluster_networks_one_management \(a cluster has exactly one management network; move the role with `hostprov clusters set-management`\)/,
      );
      expectExit(
        refused[1]!,
        3,
        /refused by rule network_in_use \(a network attached to a cluster or a host cannot be removed\): network storage is attached to cluster cluster-1/,
      );
      expect(await snapshot(store)).toEqual(before);

      // One after the other: each prints the difference it made, which a concurrent change would blur.
      const display = await hostprov('clusters', 'attach-network', 'Default', 'display', '--display');
      const moved = await hostprov('clusters', 'set-management', 'Default', 'storage', '--json');
      expect(display.code, display.stderr).toBe(0);
      expect(display.stdout).toBe('attached network display to cluster Default\n  networks.display: - → display\n');
      const management = jsonOutput(moved, ClusterChange);
      expect(roles(management.after).storage).toMatchObject({ management: true, required: true, defaultRoute: true });
      expect(roles(management.after).ovirtmgmt).toMatchObject({ management: false });

      const rolesChanged = await hostprov(
        'clusters',
        'update-network',
        'Default',
        'display',
        '--no-display',
        '--migration',
        '--default-route',
      );
      const renamed = await hostprov('clusters', 'update', 'Default', '--name', 'Main', '--compatibility-version', '4.7', '--json');
      expect(rolesChanged.stdout.split('\n')).toEqual(
        expect.arrayContaining([
          '  networks.display: display → defaultRoute,migration',
          '  networks.storage: management,defaultRoute,migration,required → management,migration,required',
        ]),
      );
      expect(jsonOutput(renamed, ClusterChange).after!.cluster).toMatchObject({ name: 'Main', compatibilityVersion: '4.7' });

      const [got, listed, table, detail] = await Promise.all([
        hostprov('clusters', 'get', 'Main', '--json'),
        hostprov('clusters', 'list', '--json'),
        textToo ? hostprov('clusters', 'list') : null,
        textToo ? hostprov('clusters', 'get', 'cluster-1') : null,
      ]);
      const view = jsonOutput(got, ClusterView);
      expect(view.cluster).toEqual(await store.clusters.get('cluster-1'));
      expect(view.networks.map(({ networkName, ...row }) => [networkName, row])).toEqual(
        await Promise.all(
          (await store.clusters.listNetworks('cluster-1')).map(async (row) => [(await store.networks.get(row.networkId))!.name, row]),
        ).then((rows) => rows.sort()),
      );
      expect(jsonOutput(listed, z.array(Cluster))).toEqual([await store.clusters.get('cluster-1')]);
      if (table && detail) {
        expect(table.stdout).toMatch(/^NAME +COMPATIBILITY +MANAGEMENT +NETWORKS +ID\nMain +4\.7 +storage +3 +cluster-1\n$/);
        expect(detail.stdout).toMatch(/\ndisplay +- +yes +- +yes +- +[0-9a-f-]{36}\n/);
      }

      const detached = await hostprov('clusters', 'detach-network', 'Main', 'display', '--json');
      const after = jsonOutput(detached, ClusterChange).after!;
      expect(after.networks.map((n) => n.networkName)).toEqual(['ovirtmgmt', 'storage']);
      // The detached default-route network hands the role back to the management network.
      expect(roles(after).storage).toMatchObject({ management: true, defaultRoute: true });
    },
    TIMEOUT_MS,
  );

  it(
    'hosts and attachment queries: create, get, list, update; queries by id, host and NIC; removals and their rules',
    async () => {
      const agent = [
        '--agent-host',
        '192.0.2.10',
        '--agent-cert',
        'file:/etc/pki/hostprov/client.pem',
        '--agent-key',
        'env:HOSTPROV_SECRET_KEY',
        '--agent-ca',
        'file:/etc/pki/hostprov/ca.pem',
      ];
      const before = await snapshot(store);
      const bad = await hostprov(
        'hosts',
        'create',
        '--id',
        'host-x',
        '--name',
        'hvx',
        '--agent-host',
        '192.0.2.10',
        '--agent-cert',
        '/etc/pki/hostprov/client.pem',
        '--agent-key',
        'env:K',
        '--agent-ca',
        'env:C',
      );
      expectExit(bad, 2, /--agent-cert: must be a reference like "file:\/abs\/path" or "env:NAME", never the secret itself/);
      expect(await snapshot(store)).toEqual(before);

      const [created, plain] = await Promise.all([
        hostprov('hosts', 'create', '--id', 'host-1', '--name', 'hv1.example.test', '--cluster', 'Main', ...agent, '--json'),
        hostprov(
          'hosts',
          'create',
          '--id',
          'host-2',
          '--name',
          'hv2.example.test',
          '--agent-host',
          '192.0.2.11',
          '--agent-port',
          '54322',
          '--agent-insecure',
        ),
      ]);
      const host = jsonOutput(created, HostChange).after!;
      expect(host).toMatchObject({
        id: 'host-1',
        clusterId: 'cluster-1',
        agentEndpoint: {
          host: '192.0.2.10',
          port: 54321,
          tls: { certRef: 'file:/etc/pki/hostprov/client.pem', keyRef: 'env:HOSTPROV_SECRET_KEY', caRef: 'file:/etc/pki/hostprov/ca.pem' },
        },
      });
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stdout).toMatch(/agent: +192\.0\.2\.11:54322 \(no TLS\)/);

      // Attachments are written by the hostSetupNetworks workflow; here the store holds two, as a host would.
      await store.hosts.recordReportedInterfaces('host-1', {
        nics: [
          { name: 'eth0', mac: '52:54:00:00:00:01', mtu: 1500, speed: 1000 },
          { name: 'eth1', mac: '52:54:00:00:00:02', mtu: 1500, speed: 1000 },
          { name: 'eth2', mac: '52:54:00:00:00:03', mtu: 9000, speed: 10000 },
        ],
        bonds: [
          { name: 'bond0', mac: '52:54:00:00:00:02', mtu: 1500, slaves: ['eth1', 'eth2'], options: { mode: '4' }, activeSlave: null },
        ],
        vlans: [],
      });
      const storage = (await store.networks.getByName('storage'))!;
      const mgmt = (await store.networks.getByName('ovirtmgmt'))!;
      const onBond = await store.attachments.add(
        'host-1',
        {
          networkId: storage.id,
          nicName: 'bond0',
          ipConfiguration: {
            ipv4: { bootProtocol: 'STATIC_IP', address: '192.0.2.20', netmask: '255.255.255.0', gateway: '192.0.2.1' },
            ipv6: { bootProtocol: 'AUTOCONF' },
          },
        },
        { requestedBy: 'test' },
      );
      const onEth0 = await store.attachments.add('host-1', {
        networkId: mgmt.id,
        nicName: 'eth0',
        ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } },
        dns: { nameServers: ['192.0.2.53'] },
      });

      const updated = await hostprov(
        'hosts',
        'update',
        'hv2.example.test',
        '--name',
        'hv2',
        '--cluster',
        'cluster-1',
        '--no-agent',
        '--active-nic',
        'eth0',
      );
      expect(updated.code, updated.stderr).toBe(0);
      expect(updated.stdout.split('\n')).toEqual(
        expect.arrayContaining([
          'updated host hv2 (host-2)',
          '  name: hv2.example.test → hv2',
          '  clusterId: - → cluster-1',
          '  agentEndpoint: {"host":"192.0.2.11","port":54322,"tls":{"insecure":true}} → -',
          '  activeNic: - → eth0',
        ]),
      );

      const [hostJson, hostsJson, byHost, byNic, byId, missingAttachment] = await Promise.all([
        hostprov('hosts', 'get', 'hv1.example.test', '--json'),
        hostprov('hosts', 'list', '--json'),
        hostprov('attachments', 'list', '--host', 'hv1.example.test', '--json'),
        hostprov('attachments', 'list', '--host', 'host-1', '--nic', 'bond0', '--json'),
        hostprov('attachments', 'get', onEth0.id, '--json'),
        hostprov('attachments', 'get', '00000000-0000-4000-8000-000000000000'),
      ]);
      expect(jsonOutput(hostJson, Host)).toEqual(await store.hosts.get('host-1'));
      expect(jsonOutput(hostsJson, z.array(Host))).toEqual(await store.hosts.list());
      expect(jsonOutput(byHost, z.array(NetworkAttachment))).toEqual(await store.attachments.listByHost('host-1'));
      expect(jsonOutput(byNic, z.array(NetworkAttachment))).toEqual([onBond]);
      expect(jsonOutput(byId, NetworkAttachment)).toEqual(onEth0);
      expectExit(missingAttachment, 4, /attachment 00000000-0000-4000-8000-000000000000 does not exist/);
      if (textToo) {
        const [hostText, hostsTable, byIdText, table] = await Promise.all([
          hostprov('hosts', 'get', 'host-1'),
          hostprov('hosts', 'list'),
          hostprov('attachments', 'get', onBond.id),
          hostprov('attachments', 'list', '--host', 'host-1'),
        ]);
        expect(hostText.stdout).toMatch(/bonds: +bond0 \(eth1\+eth2\)/);
        expect(hostText.stdout).toMatch(/\nstorage +bond0 +STATIC_IP 192\.0\.2\.20\/255\.255\.255\.0 gw 192\.0\.2\.1 +AUTOCONF +/);
        expect(hostsTable.stdout).toMatch(
          /^NAME +CLUSTER +AGENT +ACTIVE NIC +ID\nhv1\.example\.test +Main +192\.0\.2\.10:54321 +- +host-1\nhv2 +Main +- +eth0 +host-2\n$/,
        );
        expect(byIdText.stdout).toMatch(/network: +storage \(/);
        expect(byIdText.stdout).toMatch(/requested by: +test/);
        expect(table.stdout).toMatch(/^NETWORK +NIC +IPV4 +IPV6 +ID\novirtmgmt +eth0 +DHCP +NONE +[0-9a-f-]{36}\nstorage +bond0 +/);
      }

      const beforeRemovals = await snapshot(store);
      const refused = await hostprov('clusters', 'remove', 'Main');
      expectExit(refused, 3, /refused by rule cluster_in_use \(a cluster that still has hosts cannot be removed\)/);
      expect(await snapshot(store)).toEqual(beforeRemovals);

      const removedHosts = await Promise.all([
        hostprov('hosts', 'remove', 'hv1.example.test', '--json', ...temporalFlags),
        hostprov('hosts', 'remove', 'host-2', ...temporalFlags),
      ]);
      expect(jsonOutput(removedHosts[0]!, HostChange)).toMatchObject({ action: 'removed', before: { id: 'host-1' }, after: null });
      expect(removedHosts[1]!.stdout).toBe(
        'removed host hv2 (host-2) and its 0 attachment(s)\nrefresh schedule: none, event watch: not running\n',
      );
      expect(await store.hosts.list()).toEqual([]);
      expect(await store.attachments.get(onBond.id)).toBeNull();

      const removedCluster = await hostprov('clusters', 'remove', 'Main', '--json');
      expect(jsonOutput(removedCluster, ClusterChange)).toMatchObject({
        action: 'removed',
        after: null,
        before: { cluster: { id: 'cluster-1' } },
      });
      const removedNetwork = jsonOutput(await hostprov('networks', 'remove', 'storage', '--json'), NetworkChange);
      expect(removedNetwork).toEqual({ action: 'removed', entity: 'network', before: storage, after: null });
      expect((await store.networks.list()).map((n) => n.name)).toEqual(['display', 'ovirtmgmt']);
    },
    TIMEOUT_MS,
  );
});
