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
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REFRESH_CONTRACT_VERSION, RefreshHostNetworksResult, type RefreshHostNetworksRequest } from '../../model/refresh/contract';
import { HostNetworkStatusKey, NetworkSyncKey } from '../../model/search-attributes';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { Netns, uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { AgentClient } from '../../vdsm/client/client';
import { refreshHostNetworksNow, syncHostNetworksNow } from '../../workflow-client/refresh';
import { hostNetworksWorkflowId, requestHostNetworkChange } from '../../workflow-client/host-networks';
import type { HostSetupNetworksResult } from '../../model/host-setup-networks/contract';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';
import { DEFAULT_STORE_FILE } from '../../store/open';
import { createInstallHarness, recordHistory, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());
const HISTORIES = fileURLToPath(new URL('../histories/refresh-host-networks/v2-steps-local', import.meta.url));

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
    const result = await agent.call(
      'Host.setupNetworks',
      { networks, bondings: {}, options: { connectivityCheck: 'false' } },
      { timeoutMs: 60_000 },
    );
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
    if (name) await recordHistory(harness.target, workflowId, name, HISTORIES);
    return result;
  }

  const dataReport = (r: RefreshHostNetworksResult) => r.sync?.attachments.find((a) => a.networkName === 'data');

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'r1', nics: 4 }], tls: false });
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
    await store.hosts.create({
      id: hostId,
      name: hostId,
      clusterId: cluster.id,
      agentEndpoint: { host: host.address, port: 54321, tls: { insecure: true } },
    });
  });
  // r1's NICs share the lab's switch: a NIC left in a bridge it should have left (the move below once did
  // that) is a loop that loses packets to the agent for a minute at a time. What the agent logged, the TCP
  // state at both ends and what the switch learned are kept for a failure.
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail' || !lab) return;
    const host = lab.testbed.host('r1');
    // Without the warning every insecure connection logs, and the pings of the boot wait.
    const tail = readFileSync(host.consoleLog, 'utf8')
      .trimEnd()
      .split('\n')
      .filter((line) => !line.includes('INSECURE MODE') && !line.includes('Recovering from crash'))
      .slice(-40)
      .join('\n');
    const reachable = await AgentClient.connect({ host: host.address, tls: { insecure: true } }, { connectTimeoutMs: 5_000 }).then(
      async (c) => {
        await c.close();
        return 'a new session to the agent opens now';
      },
      (err: unknown) => `no new session to the agent now: ${err instanceof Error ? err.message : String(err)}`,
    );
    // Which MAC this side holds for the agent's address: a stale one would lose every packet until it is resolved again.
    const neighbour = (await run(['ip', 'neigh', 'show', 'to', host.address], { allowFailure: true })).stdout.trim() || 'none';
    // The TCP connections at both ends, with their queues: bytes waiting unread say which side stopped.
    const sockets = async (argv: string[]) => (await run(argv, { allowFailure: true })).stdout.trim() || 'none';
    const here = await sockets(['ss', '-tnoH', 'dst', host.address]);
    const there = await sockets(['ip', 'netns', 'exec', host.namespace, 'ss', '-tnoH', 'sport', '=', ':54321']);
    // Where the switch sends each MAC it learned, and its ports' states: a MAC learned on the wrong port is lost.
    const { namespace: switchNamespace, bridge } = lab.testbed.description.switch;
    const fdb = (await sockets(['ip', 'netns', 'exec', switchNamespace, 'bridge', 'fdb', 'show', 'br', bridge]))
      .split('\n')
      .filter((line) => !line.includes('permanent'))
      .join('\n');
    const ports = await sockets(['ip', 'netns', 'exec', switchNamespace, 'bridge', 'link', 'show']);
    process.stdout.write(
      `=== r1 after the failed test (${reachable}; neighbour entry here: ${neighbour}); the last lines of its console, without the insecure-mode warnings:\n${tail}\n` +
        `--- TCP here to the agent:\n${here}\n--- TCP at the agent:\n${there}\n` +
        `--- r1's NICs: ${(await sockets(['ip', '-n', host.namespace, '-br', 'link'])).split('\n').join('; ')}\n` +
        `--- switch: learned MACs\n${fdb || 'none'}\n--- switch: ports\n${ports}\n`,
    );
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
    expect(host?.reportedInterfaces?.nics.map((n) => n.name).sort()).toEqual(['eth0', 'eth1', 'eth2', 'eth3']);
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

  it('syncs the drifting attachment through hostSetupNetworks with the connectivity check, then reports it in sync', async () => {
    const dataId = (await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'data')?.id;
    const result = await syncHostNetworksNow(
      harness.client,
      { version: 1, hostId, connectivityTimeoutSeconds: 30 },
      { taskQueue: harness.taskQueue },
    );
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('synced');
    expect(result.attachmentIds).toEqual([dataId]);
    expect(result.before.sync?.state).toBe('out-of-sync');
    expect(result.setup?.setupNetworksRequest?.networks).toMatchObject({ data: { nic: 'eth1', mtu: 1500, ipaddr: '10.77.0.2' } });
    expect(result.after?.sync?.state).toBe('in-sync');
    // the host has it as defined again
    const links = await ns.ipJson<Array<{ ifname: string; mtu: number }>>(['link', 'show', 'data']);
    expect(links[0]?.mtu).toBe(1500);
    const addresses = await ns.ipJson<Array<{ addr_info: Array<{ local: string }> }>>(['-4', 'addr', 'show', 'dev', 'data']);
    expect(addresses[0]?.addr_info.map((a) => a.local)).toEqual(['10.77.0.2']);
    const entity = await harness.client.workflow.getHandle(hostNetworksWorkflowId(hostId)).describe();
    expect(entity.typedSearchAttributes.get(NetworkSyncKey)).toBe('in-sync');
    await ns.ip(['link', 'set', 'eth1', 'mtu', '1500']);
  });

  it('refuses to modify data while it drifts, and lets an unrelated change through with a warning naming both values', async () => {
    await ns.ip(['link', 'set', 'eth1', 'mtu', '1400']);
    await ns.ip(['link', 'set', 'data', 'mtu', '1400']);
    const drifting = dataReport(await refresh());
    expect(drifting?.differences.map((d) => d.property)).toEqual(['MTU']);
    const refused = await requestHostNetworkChange(
      harness.client,
      {
        kind: 'setup-networks',
        request: { version: 1, hostId, attachments: [{ id: drifting?.attachmentId, properties: { bridge_opts: 'forward_delay=0' } }] },
      },
      { taskQueue: harness.taskQueue },
    );
    const invalid = refused.result as HostSetupNetworksResult;
    expect(invalid.outcome).toBe('invalid');
    expect(invalid.violations).toEqual([expect.objectContaining({ key: 'NETWORK_NOT_IN_SYNC' })]);
    expect(JSON.stringify(invalid.violations)).toContain('MTU: desired 1500, host 1400');

    const change = await requestHostNetworkChange(
      harness.client,
      {
        kind: 'setup-networks',
        request: {
          version: 1,
          hostId,
          attachments: [{ networkName: 'data2', nicName: 'eth2' }],
          removedUnmanagedNetworks: ['handmade'],
          options: { connectivityTimeoutSeconds: 30 },
        },
      },
      { taskQueue: harness.taskQueue },
    );
    const setup = change.result as HostSetupNetworksResult;
    expect(setup.outcome, JSON.stringify(setup, null, 2)).toBe('configured');
    expect(setup.warnings).toEqual([
      expect.objectContaining({ kind: 'out-of-sync', networkName: 'data', differences: ['MTU: desired 1500, host 1400'] }),
    ]);
    // refreshed after the apply, as a child of the entity; the entity carries NetworkSync for the Web UI
    const after = RefreshHostNetworksResult.parse(await harness.client.workflow.getHandle(`${change.workflowId}/refresh`).result());
    expect(after).toMatchObject({ reason: 'after-apply', outcome: 'refreshed' });
    expect(after.sync?.attachments.find((a) => a.networkName === 'data2')).toMatchObject({ state: 'in-sync', nicName: 'eth2' });
    expect(after.sync?.unmanagedNetworks).toEqual([]);
    const entity = await harness.client.workflow.getHandle(hostNetworksWorkflowId(hostId)).describe();
    expect(entity.typedSearchAttributes.get(NetworkSyncKey)).toBe(after.sync?.state);
  });

  it('moves the attachment when the network now sits on another NIC, keeping its id', async () => {
    const before = (await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'data');
    await ns.ip(['link', 'set', 'eth1', 'mtu', '1500']);
    await setupOnHost({
      data: { nic: 'eth3', bridged: 'true', bootproto: 'none', ipaddr: '10.77.0.2', netmask: '255.255.255.0', mtu: 1500 },
    });
    const result = await refresh('moved');
    expect(result.actions).toEqual([
      expect.objectContaining({ kind: 'moved', networkName: 'data', fromNic: 'eth1', toNic: 'eth3', attachmentId: before?.id }),
    ]);
    expect(result.sync?.state).toBe('in-sync');
    expect((await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'data')).toMatchObject({
      id: before?.id,
      nicName: 'eth3',
    });
    // Only the new NIC is in the bridge: on one switch, the old one left there would make a loop.
    expect((await ns.ipJson<Array<{ ifname: string }>>(['link', 'show', 'master', 'data'])).map((l) => l.ifname)).toEqual(['eth3']);
  });

  it('drops the attachment of a bridge removed by hand, saying why (VDSM reports only networks that exist)', async () => {
    const attachmentId = (await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'data2')?.id;
    await ns.ip(['link', 'del', 'data2']);
    const result = await refresh('bridge-removed');
    expect(result.actions).toEqual([
      expect.objectContaining({ kind: 'removed-network-not-reported', networkName: 'data2', attachmentId, fromNic: 'eth2' }),
    ]);
    expect(result.reportChanges?.removed.networks).toEqual(['data2']);
    expect((await harness.store.attachments.listByHost(hostId)).map((a) => a.networkName)).toEqual(['data']);
  });

  it('drops the attachment when its NIC disappears', async () => {
    // eth3's veth peer goes with it, as a NIC pulled from the host
    await ns.ip(['link', 'del', 'eth3']);
    const result = await refresh('nic-vanished');
    expect(result.reportChanges?.removed.nics).toEqual(['eth3']);
    expect(result.actions).toEqual([expect.objectContaining({ networkName: 'data', fromNic: 'eth3', toNic: null })]);
    expect(result.actions[0]?.kind).toMatch(/^removed-/);
    expect(await harness.store.attachments.listByHost(hostId)).toEqual([]);
    expect(result.sync).toMatchObject({ state: 'in-sync', attachments: [] });
  });

  it('shows the status per property with `hostprov host-networks status`, and refreshes with `hostprov host-networks refresh`', async () => {
    const database = join(harness.dir, DEFAULT_STORE_FILE);
    const env = { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' };
    const status = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'host-networks', 'status', hostId, '--database', database, '--json'], {
      allowFailure: true,
      env,
    });
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as { hostId: string; sync: { state: string }; compliance: { status: string; reason: string } };
    expect(parsed).toMatchObject({
      hostId,
      sync: { state: 'in-sync' },
      compliance: { status: 'non-operational', reason: 'NETWORK_UNREACHABLE' },
    });
    const text = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'host-networks', 'status', hostId, '--database', database], {
      allowFailure: true,
      env,
    });
    expect(text.stdout).toContain('network sync: in-sync');
    expect(text.stdout).toMatch(/required network mgmt-\S+ is not on the host/);
    const bad = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'host-networks', 'status', 'bad host!', '--database', database], {
      allowFailure: true,
      env,
    });
    expect(bad.code).toBe(2);
    const refreshed = await run(
      [
        join(PROJECT_ROOT, 'bin', 'hostprov'),
        'host-networks',
        'refresh',
        hostId,
        '--address',
        harness.target.address,
        '--task-queue',
        harness.taskQueue,
        '--no-payload-encryption',
        '--json',
      ],
      { allowFailure: true, env },
    );
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(RefreshHostNetworksResult.parse(JSON.parse(refreshed.stdout))).toMatchObject({
      hostId,
      reason: 'on-demand',
      outcome: 'refreshed',
    });
  });

  it('fails a refresh of an unknown host with a typed, final failure', async () => {
    await expect(refreshHostNetworksNow(harness.client, `nobody-${uniqueToken()}`, { taskQueue: harness.taskQueue })).rejects.toMatchObject(
      { cause: { message: expect.stringMatching(/host nobody-\S+ does not exist/) } },
    );
  });
});
