/**
 * install-host's store activities, and the keyed recordings of hostSetupNetworks and the refresh, on a real
 * SQLite store: recording registers the host and the network it
 * does not know yet, compensation restores the previous rows exactly, snapshots recorded by earlier workers
 * (no exact rows) still compensate, and refusals are final (non-retryable) failures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAttachmentActivities } from '../../activities/attachments';
import { createActivities } from '../../activities/index';
import { SecretResolver } from '../../activities/secrets';
import type { AttachmentsSnapshot, RecordIntentResult, RecordRefreshInput } from '../../activities/types';
import type { NetworkAttachment } from '../../model/host-networking/network-attachment';
import type { NetworkAttachmentSpec } from '../../model/attachments/attachment';
import { openStore } from '../../store/open';
import type { HostNetworkingStore } from '../../store/store';

const STATIC: NetworkAttachmentSpec = {
  networkName: 'ovirtmgmt',
  nicName: 'eth0',
  ipConfiguration: {
    ipv4: { bootProtocol: 'STATIC_IP', address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1' },
    ipv6: { bootProtocol: 'NONE' },
  },
  properties: {},
};

describe('attachment activities', () => {
  let dir: string;
  let store: HostNetworkingStore;
  let activities: ReturnType<typeof createAttachmentActivities>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-activities-'));
    store = await openStore(join(dir, 'store.sqlite'));
    activities = createAttachmentActivities(store);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without a registration (an execution recorded before it): registers an unknown host and network with the defaults, records, and compensates away', async () => {
    const snapshot = await activities.recordAttachments({ hostId: 'host-1', attachments: [STATIC], requestedBy: 'install-host' });
    expect(snapshot).toMatchObject({ hostId: 'host-1', networkNames: ['ovirtmgmt'], previous: [] });
    expect(await store.hosts.get('host-1')).toMatchObject({ name: 'host-1', clusterId: null });
    const network = await store.networks.getByName('ovirtmgmt');
    expect(network).toMatchObject({ vlan: null, mtu: 0, vmNetwork: true });
    const [row] = await store.attachments.listByHost('host-1');
    expect(row).toMatchObject({
      networkId: network?.id,
      nicName: 'eth0',
      ipConfiguration: STATIC.ipConfiguration,
      requestedBy: 'install-host',
    });
    expect(snapshot.intent?.entries).toEqual([{ id: row?.id, before: null }]);

    expect(await activities.compensateAttachments(JSON.parse(JSON.stringify(snapshot)))).toEqual({
      restored: 0,
      removed: 1,
      networksRemoved: 0,
    });
    expect(await store.attachments.listByHost('host-1')).toEqual([]);
    expect(await store.hosts.get('host-1')).not.toBeNull();
  });

  it("a retry of the worker's recording (same workflow run and activity) returns the first snapshot: compensation still restores", async () => {
    const host = await store.hosts.create({ id: 'host-1', name: 'hv1' });
    const network = await store.networks.create({ name: 'ovirtmgmt' });
    const earlier = await store.attachments.add(host.id, { networkId: network.id, nicName: 'eth1' }, { requestedBy: 'operator' });
    const registered = createActivities({ store, access: { secrets: new SecretResolver() } });
    const input = { hostId: 'host-1', attachments: [STATIC], requestedBy: 'install-host' };
    const attempt = (attemptNo: number, activityId = '7'): Promise<AttachmentsSnapshot> =>
      new MockActivityEnvironment({
        activityId,
        attempt: attemptNo,
        workflowExecution: { workflowId: 'install-host-1', runId: 'run-1' },
      }).run(registered.recordAttachments, input);

    const first = await attempt(1);
    // The first attempt committed, and its worker died before reporting: Temporal runs it again.
    const retry = await attempt(2);
    expect(retry).toEqual(first);
    expect(first.previous).toEqual([expect.objectContaining({ id: earlier.id, nicName: 'eth1' })]);
    await new MockActivityEnvironment().run(registered.compensateAttachments, JSON.parse(JSON.stringify(retry)) as AttachmentsSnapshot);
    expect(await store.attachments.listByHost('host-1')).toEqual([earlier]);

    // Another activity of the run is another request: it sees what is there now.
    const later = await attempt(1, '9');
    expect(later.previous).toEqual([expect.objectContaining({ id: earlier.id, nicName: 'eth1' })]);
    expect(later.intent?.takenAt).not.toBe(first.intent?.takenAt);
  });

  it("hostSetupNetworks' recording is keyed the same way: a retry returns the first snapshot, restoring it restores", async () => {
    const host = await store.hosts.create({ id: 'host-1', name: 'hv1' });
    const network = await store.networks.create({ name: 'storage' });
    const earlier = await store.attachments.add(host.id, { networkId: network.id, nicName: 'eth1' }, { requestedBy: 'operator' });
    const registered = createActivities({ store, access: { secrets: new SecretResolver() } });
    const input = { hostId: 'host-1', changes: { upserts: [{ networkId: network.id, nicName: 'eth2' }] }, requestedBy: 'host-networks' };
    const attempt = (attemptNo: number): Promise<RecordIntentResult> =>
      new MockActivityEnvironment({
        activityId: '3',
        attempt: attemptNo,
        workflowExecution: { workflowId: 'host-setup-networks-1', runId: 'run-1' },
      }).run(registered.recordAttachmentIntent, input);

    const first = await attempt(1);
    const retry = await attempt(2);
    expect(retry.snapshot).toEqual(first.snapshot);
    expect(first.snapshot.entries).toEqual([{ id: earlier.id, before: earlier }]);
    await new MockActivityEnvironment().run(registered.restoreAttachments, retry.snapshot);
    expect(await store.attachments.listByHost('host-1')).toEqual([earlier]);
  });

  it("the refresh's recording is keyed the same way: a removal and a creation run again for the same request change nothing more", async () => {
    const host = await store.hosts.create({ id: 'host-1', name: 'hv1' });
    const gone = await store.networks.create({ name: 'gone' });
    const found = await store.networks.create({ name: 'found' });
    const stale = await store.attachments.add(host.id, { networkId: gone.id, nicName: 'eth1' }, { requestedBy: 'operator' });
    const registered = createActivities({ store, access: { secrets: new SecretResolver() } });
    const nic = (name: string) => ({ name, mac: '52:54:00:00:00:01', mtu: 1500, speed: 0 });
    const input: RecordRefreshInput = {
      hostId: 'host-1',
      reportedInterfaces: { nics: [nic('eth1'), nic('eth2')], bonds: [], vlans: [], networks: [] },
      attachmentChanges: { upserts: [{ networkId: found.id, nicName: 'eth2' }], removals: [stale.id] },
      requestedBy: 'refresh:r1',
    };
    const run = (activityId: string): Promise<{ attachments: NetworkAttachment[] }> =>
      new MockActivityEnvironment({ activityId, workflowExecution: { workflowId: 'refresh-1', runId: 'run-1' } }).run(
        registered.recordRefresh,
        input,
      );

    const first = await run('3');
    expect(first.attachments.map((a) => `${a.networkName}@${a.nicName}`)).toEqual(['found@eth2']);
    // Its answer was lost (or its workflow task, for a local activity): the same request runs again.
    expect(await run('3')).toEqual(first);
    expect(await store.attachments.listByHost('host-1')).toEqual(first.attachments);
    // Another request with the same changes is refused as before: the removed attachment is not found.
    await expect(run('4')).rejects.toThrow(`attachment ${stale.id} does not exist`);
  });

  it('replaces an existing attachment of the network in place and compensates it back exactly', async () => {
    const host = await store.hosts.create({ id: 'host-1', name: 'hv1' });
    const network = await store.networks.create({ name: 'ovirtmgmt', vlan: 10, mtu: 9000 });
    const earlier = await store.attachments.add(
      host.id,
      {
        networkId: network.id,
        nicName: 'eth1',
        ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'AUTOCONF' } },
        dns: { nameServers: ['192.0.2.53'] },
      },
      { requestedBy: 'operator' },
    );

    const snapshot = await activities.recordAttachments({ hostId: 'host-1', attachments: [STATIC], requestedBy: 'install-host' });
    expect(snapshot.previous).toEqual([
      { id: earlier.id, networkName: 'ovirtmgmt', nicName: 'eth1', ipConfiguration: earlier.ipConfiguration, properties: {} },
    ]);
    expect(await store.attachments.listByHost('host-1')).toEqual([
      expect.objectContaining({ id: earlier.id, nicName: 'eth0', createdAt: earlier.createdAt }),
    ]);
    expect(await store.networks.get(network.id)).toEqual(network);

    expect(await activities.compensateAttachments(snapshot)).toEqual({ restored: 1, removed: 0, networksRemoved: 0 });
    expect(await store.attachments.listByHost('host-1')).toEqual([earlier]);
  });

  it('compensates a snapshot recorded by an earlier worker (no exact rows) from its network names', async () => {
    const created = await activities.recordAttachments({
      hostId: 'host-1',
      attachments: [STATIC, { ...STATIC, networkName: 'storage', nicName: 'eth1' }],
      requestedBy: 'install-host',
    });
    const [, storageRow] = await store.attachments.listByHost('host-1');
    const legacy = {
      hostId: 'host-1',
      networkNames: ['ovirtmgmt', 'storage'],
      previous: [
        {
          id: storageRow?.id ?? '',
          networkName: 'storage',
          nicName: 'eth3',
          ipConfiguration: { ipv4: { bootProtocol: 'DHCP' as const }, ipv6: { bootProtocol: 'NONE' as const } },
          properties: {},
        },
      ],
    };
    expect(created.intent).toBeDefined();
    expect(await activities.compensateAttachments(legacy)).toEqual({ restored: 1, removed: 1, networksRemoved: 0 });
    expect(await store.attachments.listByHost('host-1')).toEqual([
      expect.objectContaining({ id: storageRow?.id, networkName: 'storage', nicName: 'eth3', requestedBy: 'compensation' }),
    ]);
  });

  it('fails for good on bad input and on refusals', async () => {
    const bad = await activities.recordAttachments({ hostId: '', attachments: [STATIC], requestedBy: 'x' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ApplicationFailure);
    expect(bad).toMatchObject({ type: 'InvalidInput', nonRetryable: true });

    await store.hosts.create({ id: 'host-1', name: 'hv1' });
    await store.hosts.recordReportedInterfaces('host-1', {
      nics: [{ name: 'eth0', mac: '', mtu: 1500, speed: 0 }],
      bonds: [],
      vlans: [{ name: 'eth0.10', baseInterface: 'eth0', vlanId: 10, mtu: 1500 }],
    });
    const refused = await activities
      .recordAttachments({ hostId: 'host-1', attachments: [{ ...STATIC, nicName: 'eth0.10' }], requestedBy: 'x' })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ type: 'StoreConstraintError', nonRetryable: true });
    expect(await store.attachments.listByHost('host-1')).toEqual([]);
  });
});
