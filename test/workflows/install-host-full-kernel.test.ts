/**
 * install-host on full-kernel hosts (User-Mode Linux guests, testbed/uml/): bonds and VLANs on a real
 * kernel. The seed case: the host boots with eth2+eth3 in bond4 and its address on bond4.3000 by DHCP
 * (served by the testbed's top-of-rack router guest); the cluster's ovirtmgmt is a VM network with VLAN
 * 3000 and MTU 9000. A second guest boots with a balance-rr bond, which may not carry a VM network.
 * Few cases on purpose: each guest runs Node about 15 times slower than this machine.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientEndpoint } from '../../activities/agent-endpoint';
import { SecretResolver } from '../../activities/secrets';
import type { InstallHostRequest } from '../../model/install-host/contract';
import { Capabilities } from '../../model/vdsm/capabilities';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { umlUnavailableReason } from '../../testbed/uml/kernel';
import { AgentClient } from '../../vdsm/client/client';
import { uniqueToken } from '../../testbed/netns';
import { discardedInstallMetrics } from '../../worker/metrics';
import { followInstall, startOrAttachInstall } from '../../workflow-client/install-host';
import { createInstallHarness, recordHistory, type InstallHarness } from '../helpers/install-harness';
import { bundleBeforePatches } from '../helpers/pre-patch-bundle';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason()) ?? (await umlUnavailableReason());

const SEED_NETWORK = { name: 'ovirtmgmt', vlan: 3000, mtu: 9000, vmNetwork: true, stp: false, defaultRoute: true } as const;
/** A change, a reboot and a verify on a guest take a minute or two; this only bounds a hang. */
const GUEST_TEST_TIMEOUT_MS = 600_000;
const HISTORIES_BEFORE_THE_RULE = fileURLToPath(new URL('../histories/install-host/v7-agent-asked-first', import.meta.url));
/** Guests answer slower; the windows are generous, the assertions are not. */
const SLOW_POLICY = { connectivityTimeoutSeconds: 60, reboot: true, commitMode: 'auto', agentWaitSeconds: 240 } as const;

async function capabilitiesOf(lab: AgentLab, host: string, secretsDir: string): Promise<Capabilities> {
  const request = lab.installRequest(host);
  const endpoint = clientEndpoint(
    { ...request.agent, host: lab.testbed.host(host).address, port: request.agent.port ?? 54321 },
    { secrets: new SecretResolver({ secretsDir }) },
  );
  const client = await AgentClient.connect(endpoint);
  try {
    return Capabilities.parse(await client.call('Host.getCapabilities', {}, { timeoutMs: 60_000 }));
  } finally {
    await client.close();
  }
}

/** What "the bond and the VLAN exactly as before" means in the host's own report. */
function bondsAndVlans(caps: Capabilities): unknown {
  return {
    bondings: Object.fromEntries(
      Object.entries(caps.bondings).map(([name, b]) => [name, { slaves: b.slaves, opts: b.opts, mtu: b.mtu, hwaddr: b.hwaddr }]),
    ),
    vlans: Object.fromEntries(
      Object.entries(caps.vlans).map(([name, v]) => [
        name,
        { iface: v.iface, vlanid: v.vlanid, mtu: v.mtu, addr: v.addr, dhcpv4: v.dhcpv4 },
      ]),
    ),
    nics: Object.fromEntries(Object.entries(caps.nics).map(([name, n]) => [name, { mtu: n.mtu }])),
    bridges: Object.keys(caps.bridges),
    networks: Object.keys(caps.networks),
  };
}

describe.skipIf(skipBecause(reason, 'install-host on full-kernel hosts'))('install-host on full-kernel hosts: bonds and VLANs', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-uml-'));
  const seed = (over: Partial<InstallHostRequest> = {}) =>
    lab.installRequest('seed', { managementNetwork: SEED_NETWORK, policy: SLOW_POLICY, ...over });

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({
      stateDir: dir,
      hosts: [
        { name: 'seed', kind: 'uml', nics: 4, factory: 'dhcp', bond: { name: 'bond4', nics: ['eth2', 'eth3'] }, vlan: 3000 },
        {
          name: 'rr',
          kind: 'uml',
          nics: 2,
          bond: { name: 'bond0', nics: ['eth0', 'eth1'], options: { mode: 'balance-rr', miimon: '100' } },
        },
        // The fence proxy: a namespace host is enough, and fast.
        { name: 'proxy' },
      ],
    });
    await lab.waitForAgents(240_000);
  }, 300_000);
  afterAll(async () => {
    if (process.env.HOSTPROV_DUMP_CONSOLES)
      for (const h of lab?.testbed.hosts ?? []) process.stdout.write(`=== ${h.name}\n${readFileSync(h.consoleLog, 'utf8')}\n`);
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("a management VLAN that is not the host's fails with VlanMismatch, and nothing reaches the host", async () => {
    const { result } = await harness.install(seed({ managementNetwork: { ...SEED_NETWORK, vlan: 100 } }));
    expect(result).toMatchObject({ outcome: 'failed', device: 'bond4.3000', failure: { type: 'VlanMismatch' } });
    expect(result.failure?.message).toMatch(/VLAN 3000.*VLAN 100/);
    expect(lab.journal('seed').filter((e) => e.kind === 'apply')).toHaveLength(0);
  });

  it('a VM network on a balance-rr bond is refused before anything is sent', async () => {
    const { result } = await harness.install(lab.installRequest('rr', { policy: SLOW_POLICY }));
    expect(result).toMatchObject({ outcome: 'failed', device: 'bond0', failure: { type: 'BondModeForbidsVmNetwork' } });
    expect(result.setupNetworksRequest).toBeNull();
    expect(lab.journal('rr').filter((e) => e.kind === 'apply')).toHaveLength(0);
  });

  it(
    'an install the code before the bond-mode rule ran on that host replays under the current code',
    async () => {
      // Before the rule (and the patches after it, which imply it), the install goes through: the VM network
      // on balance-rr is applied. Replayed by the current code, the rule's patch answers false there too. The
      // network has a name of its own: the store keeps one definition per network, and the seed's ovirtmgmt differs.
      const taskQueue = `before-bond-rule-${uniqueToken()}`;
      const before = await Worker.create({
        connection: harness.env.nativeConnection,
        namespace: harness.target.namespace,
        taskQueue,
        workflowBundle: {
          code: await bundleBeforePatches(dir, /workflows\/install-host\.ts$/, [
            'patched(CLUSTER_LEVEL_CHECKED)',
            'patched(PROBE_READS_ROUTE_TOO)',
            'patched(PROBE_ASKS_FIRST)',
            'patched(BOND_MODE_RULE_PATCH)',
          ]),
        },
        sinks: discardedInstallMetrics(),
        activities: harness.activities,
      });
      const running = before.run();
      try {
        const started = await startOrAttachInstall(
          harness.client,
          lab.installRequest('rr', { managementNetwork: { name: 'rrmgmt', vmNetwork: true }, policy: { ...SLOW_POLICY, reboot: false } }),
          { taskQueue },
        );
        const result = await followInstall(started.handle, () => undefined);
        expect(result).toMatchObject({ outcome: 'configured', device: 'bond0' });
        expect(lab.journal('rr').filter((e) => e.kind === 'apply')).toHaveLength(1);
        const history = await started.handle.fetchHistory();
        await Worker.runReplayHistory(
          { workflowBundle: { codePath: harness.target.workflowBundlePath }, sinks: discardedInstallMetrics() },
          history,
          started.handle.workflowId,
        );
        // Beside the histories of the code this emulates (every patch before the bond-mode rule taken).
        await recordHistory(
          harness.target,
          started.handle.workflowId,
          'vm-network-on-balance-rr-before-the-rule',
          HISTORIES_BEFORE_THE_RULE,
        );
      } finally {
        before.shutdown();
        await running;
      }
    },
    GUEST_TEST_TIMEOUT_MS,
  );

  it(
    'a change that breaks the VLAN path is rolled back: bond and VLAN exactly as before, attachments compensated',
    async () => {
      const before = bondsAndVlans(await capabilitiesOf(lab, 'seed', dir));
      // STP's 15 s forward delay holds the new bridge's port blocking for 30 s: the manager cannot confirm
      // within 10 s over the VLAN, so the host undoes the change by itself.
      const { result } = await harness.install(
        seed({
          managementNetwork: { ...SEED_NETWORK, stp: true },
          policy: { ...SLOW_POLICY, connectivityTimeoutSeconds: 10, reboot: false },
        }),
      );
      expect(result.outcome, JSON.stringify(result, null, 2)).toBe('rolled-back');
      expect(result.failure).toMatchObject({ type: 'ConnectivityCheckFailed' });
      expect(result.steps.map((s) => s.name)).toContain('compensate-attachments');
      expect(await harness.store.attachments.listByHost(result.hostId)).toEqual([]);
      expect(lab.journal('seed').map((e) => `${e.kind}:${e.outcome}`)).toEqual(['restore:ok', 'apply:ok', 'rollback:ok']);
      // The host's own DHCP client gets the lease back on bond4.3000; wait for the address, then compare.
      let after: unknown;
      for (let i = 0; i < 60; i++) {
        after = bondsAndVlans(await capabilitiesOf(lab, 'seed', dir));
        if (JSON.stringify(after) === JSON.stringify(before)) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect(after).toEqual(before);
    },
    GUEST_TEST_TIMEOUT_MS,
  );

  it(
    'seed case: ovirtmgmt on bond4 VLAN 3000, MTU 9000, bridged, DHCP; committed, fence-rebooted, verified',
    async () => {
      const bootBefore = await lab.testbed.bootPid('seed');
      const { result } = await harness.install(seed());
      expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
      expect(result).toMatchObject({ device: 'bond4.3000', rule: 'get-route' });
      expect(result.setupNetworksRequest?.networks).toEqual({
        ovirtmgmt: {
          bonding: 'bond4',
          vlan: '3000',
          mtu: 9000,
          bridged: 'true',
          STP: 'no',
          bootproto: 'dhcp',
          dhcpv6: false,
          // bond4.3000 takes router advertisements as the kernel's defaults say, and reports it so.
          ipv6autoconf: true,
          defaultRoute: true,
        },
      });
      expect(result.setupNetworksRequest?.bondings).toEqual({});
      // Connectivity over the new bridge was confirmed by the manager before the host kept the change.
      expect(result.steps.find((s) => s.name === 'setup-networks')?.status).toBe('ok');
      expect(result.steps.map((s) => s.name)).toEqual(
        expect.arrayContaining(['commit', 'fence-reboot', 'wait-agent-after-reboot', 'verify']),
      );
      expect(await lab.testbed.bootPid('seed')).not.toBe(bootBefore);
      expect(
        lab
          .journal('seed')
          .map((e) => e.kind)
          .slice(-3),
      ).toEqual(['apply', 'persist', 'restore']);

      const caps = await capabilitiesOf(lab, 'seed', dir);
      const address = lab.testbed.host('seed').address;
      expect(caps.networks.ovirtmgmt).toMatchObject({
        bridged: true,
        southbound: 'bond4.3000',
        vlanid: 3000,
        mtu: '9000',
        dhcpv4: true,
        addr: address,
      });
      expect(caps.bridges.ovirtmgmt).toMatchObject({ ports: ['bond4.3000'], mtu: '9000' });
      expect(caps.vlans['bond4.3000']).toMatchObject({ iface: 'bond4', vlanid: 3000, mtu: '9000' });
      expect(caps.bondings.bond4).toMatchObject({ slaves: ['eth2', 'eth3'], mtu: '9000' });
      for (const nic of ['eth2', 'eth3']) expect(caps.nics[nic]?.mtu).toBe('9000');
      expect(caps.netConfigDirty).toBe('False');
      const rows = await harness.store.attachments.listByHost(result.hostId);
      expect(rows).toEqual([expect.objectContaining({ networkName: 'ovirtmgmt', nicName: 'bond4' })]);
    },
    GUEST_TEST_TIMEOUT_MS,
  );
});
