/**
 * refreshHostNetworks end to end: the real Temporal dev server, a worker, the SQLite store, and a namespaced
 * host running our agent. Networks are put on the host the way an operator or another manager would (the
 * agent's own Host.setupNetworks, `ip` by hand), and each refresh must make the store tell the truth:
 * attachments created, moved and dropped by the engine's rules, drift reported property by property with
 * both values, unmanaged networks listed on their own, the NetworkSync search attribute kept current.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFRESH_CONTRACT_VERSION, RefreshHostNetworksResult, type RefreshHostNetworksRequest } from '../../model/refresh/contract';
import { HostNetworkStatusKey, NetworkSyncKey } from '../../model/search-attributes';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { Netns, uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { AgentClient } from '../../vdsm/client/client';
import { refreshHostNetworksNow } from '../../workflow-client/refresh';
import { createInstallHarness, recordHistoryIn, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());
const HISTORIES = fileURLToPath(new URL('../histories/refresh-host-networks/v1-initial', import.meta.url));

describe.skipIf(skipBecause(reason, 'refresh integration'))('refreshHostNetworks on a namespaced host', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  let agent: AgentClient;
  let ns: Netns;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-refresh-'));
  const hostId = `r1-${uniqueToken()}`;
  const ids = { mgmt: '', data: '', data2: '' };

  /** Changes the host's networks through its agent, as something other than hostprov would. */
  async function setupOnHost(networks: Record<string, unknown>): Promise<void> {
    const result = await agent.call('Host.setupNetworks', { networks, bondings: {}, options: { connectivityCheck: 'false' } }, { timeoutMs: 60_000 });
    expect(result).toMatchObject({ code: 0 });
  }

  async function refresh(name?: string): Promise<RefreshHostNetworksResult> {
    const workflowId = `refresh-host-networks/${hostId}/test/${uniqueToken()}`;
    const request: RefreshHostNetworksRequest = { version: REFRESH_CONTRACT_VERSION, hostId, reason: 'on-demand' };
    const raw = await harness.client.workflow.execute('refreshHostNetworks', { taskQueue: harness.taskQueue, workflowId, args: [request] });
    const result = RefreshHostNetworksResult.parse(raw);
    const described = await harness.client.workflow.getHandle(workflowId).describe();
    expect(described.typedSearchAttributes.get(NetworkSyncKey)).toBe(result.sync?.state);
    expect(described.typedSearchAttributes.get(HostNetworkStatusKey)).toBe(result.compliance?.status);
    if (name) await recordHistoryIn(HISTORIES, harness.target, workflowId, name);
    return result;
  }

  const dataReport = (r: RefreshHostNetworksResult) => r.sync?.attachments.find((a) => a.networkName === 'data');

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'r1', nics: 3 }], tls: false });
    await lab.waitForAgents();
    const host = lab.testbed.host('r1');
    ns = Netns.attach(host.namespace);
    agent = await AgentClient.connect({ host: host.address, tls: { insecure: true } });

    const { store } = harness;
    const mgmt = await store.networks.create({ name: `mgmt-${hostId}`.slice(0, 15) });
    const data = await store.networks.create({ name: 'data', mtu: 1500 });
    ids.mgmt = mgmt.id;
    const data2 = await store.networks.create({ name: 'data2', vmNetwork: true });
    ids.data = data.id;
    ids.data2 = data2.id;
    const cluster = await store.clusters.create({ name: `c-${hostId}`, compatibilityVersion: '4.8', managementNetworkId: mgmt.id });
    await store.clusters.attachNetwork(cluster.id, data.id, { required: false });
    await store.clusters.attachNetwork(cluster.id, data2.id, { required: false });
    await store.hosts.create({ id: hostId, name: hostId, clusterId: cluster.id, agentEndpoint: { host: host.address, port: 54321, tls: { insecure: true } } });
  });
  afterAll(async () => {
    if (process.env.HOSTPROV_DUMP_CONSOLES) process.stdout.write(`=== r1\n${readFileSync(lab.testbed.host('r1').consoleLog, 'utf8')}\n`);
    await agent?.close();
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates attachments for cluster networks the host carries, lists hand-made networks as unmanaged, and reports compliance', async () => {
    await setupOnHost({
      data: { nic: 'eth1', bridged: 'true', bootproto: 'none', ipaddr: '10.77.0.2', netmask: '255.255.255.0' },
      handmade: { nic: 'eth2', bridged: 'true', bootproto: 'none' },
    });
    const result = await refresh('created-and-unmanaged');
    expect(result.outcome).toBe('refreshed');
    expect(result.actions).toEqual([expect.objectContaining({ kind: 'created', networkName: 'data', toNic: 'eth1' })]);
    expect(result.sync?.unmanagedNetworks.map((n) => n.name)).toEqual(['handmade']);
    expect(result.sync?.state).toBe('in-sync');
    // the cluster's management network is required and the host does not carry it
    expect(result.compliance).toMatchObject({ status: 'non-operational', reason: 'NETWORK_UNREACHABLE' });
    expect(result.compliance?.problems[0]?.networkId).toBe(ids.mgmt);

    const rows = await harness.store.attachments.listByHost(hostId);
    expect(rows).toEqual([expect.objectContaining({ networkName: 'data', nicName: 'eth1' })]);
    expect(rows[0]?.ipConfiguration.ipv4).toEqual({ bootProtocol: 'STATIC_IP', address: '10.77.0.2', netmask: '255.255.255.0' });
    const host = await harness.store.hosts.get(hostId);
    expect(host?.reportedInterfaces?.nics.map((n) => n.name).sort()).toEqual(['eth0', 'eth1', 'eth2']);
    expect(host?.reportedInterfaces?.networks.map((n) => n.name).sort()).toEqual(['data', 'handmade']);
  });

  it('reports drift after manual ip changes (MTU, address) with both values, and NetworkSync out-of-sync', async () => {
    await ns.ip(['link', 'set', 'eth1', 'mtu', '1400']);
    await ns.ip(['link', 'set', 'data', 'mtu', '1400']);
    await ns.ip(['addr', 'del', '10.77.0.2/24', 'dev', 'data']);
    await ns.ip(['addr', 'add', '10.77.0.3/24', 'dev', 'data']);
    const result = await refresh('drift');
    expect(result.sync?.state).toBe('out-of-sync');
    const differences = dataReport(result)?.differences.map(({ property, desired, reported }) => ({ property, desired, reported }));
    expect(differences).toEqual(
      expect.arrayContaining([
        { property: 'MTU', desired: 1500, reported: 1400 },
        { property: 'IPV4_ADDRESS', desired: '10.77.0.2', reported: '10.77.0.3' },
      ]),
    );
    // drift is reported, never written over the stored intent
    const rows = await harness.store.attachments.listByHost(hostId);
    expect(rows[0]?.ipConfiguration.ipv4).toMatchObject({ address: '10.77.0.2' });
  });

  it('moves the attachment when the network now sits on another NIC, keeping its id', async () => {
    const before = (await harness.store.attachments.listByHost(hostId))[0];
    await ns.ip(['link', 'set', 'eth1', 'mtu', '1500']);
    await setupOnHost({
      handmade: { remove: 'true' },
      data: { nic: 'eth2', bridged: 'true', bootproto: 'none', ipaddr: '10.77.0.2', netmask: '255.255.255.0', mtu: 1500 },
    });
    const result = await refresh('moved');
    expect(result.actions).toEqual([expect.objectContaining({ kind: 'moved', networkName: 'data', fromNic: 'eth1', toNic: 'eth2', attachmentId: before?.id })]);
    expect(result.sync?.state).toBe('in-sync');
    expect(result.sync?.unmanagedNetworks).toEqual([]);
    expect(await harness.store.attachments.listByHost(hostId)).toEqual([expect.objectContaining({ id: before?.id, nicName: 'eth2' })]);
  });

  it('drops the attachment of a bridge removed by hand, saying why (VDSM reports only networks that exist)', async () => {
    await setupOnHost({ data2: { nic: 'eth1', bridged: 'true', bootproto: 'none' } });
    const created = await refresh();
    expect(created.actions).toEqual([expect.objectContaining({ kind: 'created', networkName: 'data2', toNic: 'eth1' })]);
    const attachmentId = (await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'data2')?.id;
    await ns.ip(['link', 'del', 'data2']);
    const result = await refresh('bridge-removed');
    expect(result.actions).toEqual([expect.objectContaining({ kind: 'removed-network-not-reported', networkName: 'data2', attachmentId, fromNic: 'eth1' })]);
    expect(result.reportChanges?.removed.networks).toEqual(['data2']);
    expect((await harness.store.attachments.listByHost(hostId)).map((a) => a.networkName)).toEqual(['data']);
  });

  it('drops the attachment when its NIC disappears', async () => {
    // eth2's veth peer goes with it, as a NIC pulled from the host
    await ns.ip(['link', 'del', 'eth2']);
    const result = await refresh('nic-vanished');
    expect(result.reportChanges?.removed.nics).toEqual(['eth2']);
    expect(result.actions).toEqual([expect.objectContaining({ networkName: 'data', fromNic: 'eth2', toNic: null })]);
    expect(result.actions[0]?.kind).toMatch(/^removed-/);
    expect(await harness.store.attachments.listByHost(hostId)).toEqual([]);
    expect(result.sync).toMatchObject({ state: 'in-sync', attachments: [] });
  });

  it('answers through the workflow client with the zod-checked contract', async () => {
    const result = await refreshHostNetworksNow(harness.client, hostId, { taskQueue: harness.taskQueue });
    expect(result).toMatchObject({ hostId, reason: 'on-demand', outcome: 'refreshed' });
  });

  it('fails a refresh of an unknown host with a typed, final failure', async () => {
    await expect(refreshHostNetworksNow(harness.client, `nobody-${uniqueToken()}`, { taskQueue: harness.taskQueue })).rejects.toMatchObject({
      cause: { cause: { type: 'StoreNotFoundError' } },
    });
  });
});
