/**
 * A refresh whose host reports what the store refuses (`HostReportError` → outcome `report-refused`), end to
 * end: the real dev server, a worker on the SQLite store, and a namespaced host running our agent. The way a
 * real host gets there: the kernel takes interface names the store does not. Linux refuses only ASCII
 * whitespace, "/" and ":" in a name (net/core/dev.c dev_valid_name), so a NIC named with an ideographic
 * space (U+3000, three UTF-8 bytes, none of them a kernel space) is a valid link that `InterfaceName` refuses.
 * The agent reports it, and the refresh must answer `report-refused` with the reasons, through the host's
 * entity workflow and through `hostprov host-networks refresh` (exit 1), writing nothing; once the link is
 * gone the next refresh records the host again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshHostNetworksResult } from '../../model/refresh/contract';
import { NetworkSyncKey } from '../../model/search-attributes';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { Netns, uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { AgentClient } from '../../vdsm/client/client';
import { hostNetworksWorkflowId } from '../../workflow-client/host-networks';
import { refreshHostNetworksNow } from '../../workflow-client/refresh';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { runHostprov } from '../helpers/hostprov-process';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());

/** A veth pair whose names the kernel takes and the store's `InterfaceName` refuses. */
const ODD_NIC = 'odd\u3000a';
const ODD_PEER = 'odd\u3000b';

describe.skipIf(skipBecause(reason, 'refresh report-refused integration'))('a refresh of a host reporting what the store refuses', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  let agent: AgentClient;
  let ns: Netns;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-report-refused-'));
  const hostId = `rr-${uniqueToken()}`;

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'rr', nics: 2 }], tls: false });
    // Setup, not an assertion: agents boot slowly on a loaded machine.
    await lab.waitForAgents(180_000);
    const host = lab.testbed.host('rr');
    ns = Netns.attach(host.namespace);
    agent = await AgentClient.connect({ host: host.address, tls: { insecure: true } });
    const { store } = harness;
    const mgmt = await store.networks.create({ name: `m-${hostId}`.slice(0, 15) });
    const data = await store.networks.create({ name: 'rrdata' });
    const cluster = await store.clusters.create({ name: `c-${hostId}`, compatibilityVersion: '4.8', managementNetworkId: mgmt.id });
    await store.clusters.attachNetwork(cluster.id, data.id, { required: false });
    await store.hosts.create({
      id: hostId,
      name: hostId,
      clusterId: cluster.id,
      agentEndpoint: { host: host.address, port: 54321, tls: { insecure: true } },
    });
    const setup = await agent.call(
      'Host.setupNetworks',
      { networks: { rrdata: { nic: 'eth1', bridged: 'true', bootproto: 'none' } }, bondings: {}, options: { connectivityCheck: 'false' } },
      { timeoutMs: 60_000 },
    );
    expect(setup).toMatchObject({ code: 0 });
  }, 240_000);

  afterAll(async () => {
    await ns?.ip(['link', 'del', ODD_NIC]).catch(() => undefined);
    await agent?.close();
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers report-refused with the reasons and writes nothing, then records the host again once the link is gone', async () => {
    const first = await refreshHostNetworksNow(harness.client, hostId, { taskQueue: harness.taskQueue });
    expect(first).toMatchObject({ outcome: 'refreshed', problems: [] });
    expect(first.actions).toEqual([expect.objectContaining({ kind: 'created', networkName: 'rrdata', toNic: 'eth1' })]);
    const hostBefore = await harness.store.hosts.get(hostId);
    const attachmentsBefore = await harness.store.attachments.listByHost(hostId);
    expect(hostBefore?.reportedInterfaces?.nics.map((n) => n.name)).toEqual(['eth0', 'eth1']);
    const entity = harness.client.workflow.getHandle(hostNetworksWorkflowId(hostId));
    expect((await entity.describe()).typedSearchAttributes.get(NetworkSyncKey)).toBe('in-sync');

    // The kernel takes the names; the agent reports both ends of the pair as NICs.
    await ns.ip(['link', 'add', ODD_NIC, 'type', 'veth', 'peer', 'name', ODD_PEER]);
    const caps = (await agent.call('Host.getCapabilities', {})) as { nics: Record<string, unknown> };
    expect(Object.keys(caps.nics)).toEqual(expect.arrayContaining([ODD_NIC, ODD_PEER]));

    const refused = await refreshHostNetworksNow(harness.client, hostId, { taskQueue: harness.taskQueue });
    expect(refused).toMatchObject({ hostId, outcome: 'report-refused', sync: null, compliance: null, actions: [], reportChanges: null });
    // one reason per refused name, saying where in the report and why
    expect(refused.problems).toEqual([
      expect.stringMatching(/^nics\.\d+\.name: interface names are 1\.\.15 characters without whitespace/),
      expect.stringMatching(/^nics\.\d+\.name: interface names are 1\.\.15 characters without whitespace/),
    ]);
    // nothing written: the host row (report, its time, updatedAt) and the attachments are as they were
    expect(await harness.store.hosts.get(hostId)).toEqual(hostBefore);
    expect(await harness.store.attachments.listByHost(hostId)).toEqual(attachmentsBefore);
    expect((await entity.describe()).typedSearchAttributes.get(NetworkSyncKey)).toBe('in-sync');

    // the operator's view: the reasons, and exit 1 (the store is not current)
    const cli = await runHostprov([
      'host-networks',
      'refresh',
      hostId,
      '--address',
      harness.target.address,
      '--namespace',
      harness.target.namespace,
      '--task-queue',
      harness.taskQueue,
      '--no-payload-encryption',
    ]);
    expect(cli.code, cli.stderr).toBe(1);
    expect(cli.stdout).toMatch(new RegExp(`^host ${hostId}: report refused, nothing recorded\\n  - nics\\.\\d+\\.name: interface names`));
    expect(await harness.store.hosts.get(hostId)).toEqual(hostBefore);

    await ns.ip(['link', 'del', ODD_NIC]);
    const again = RefreshHostNetworksResult.parse(await refreshHostNetworksNow(harness.client, hostId, { taskQueue: harness.taskQueue }));
    expect(again).toMatchObject({ outcome: 'refreshed', actions: [] });
    expect(again.sync?.state).toBe('in-sync');
    const hostAfter = await harness.store.hosts.get(hostId);
    expect(hostAfter?.reportedInterfaces?.nics.map((n) => n.name)).toEqual(['eth0', 'eth1']);
    expect(hostAfter?.interfacesReportedAt).not.toBe(hostBefore?.interfacesReportedAt);
  });
});
