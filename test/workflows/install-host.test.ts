/**
 * install-host end to end: the real Temporal dev server, a worker, and hosts that are network namespaces
 * running our agent over mutual TLS, with real ipmi_sim BMCs and fence_ipmilan through a proxy host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capabilities } from '../../model/vdsm/capabilities';
import { AgentClient } from '../../vdsm/client/client';
import { clientEndpoint } from '../../activities/agent-endpoint';
import { SecretResolver } from '../../activities/secrets';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { Netns } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { refreshHostNetworksNow } from '../../workflow-client/refresh';
import { createInstallHarness, installPhaseUpserts, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const reason = unavailableReason() ?? (await testbedUnavailableReason());

async function capabilitiesOf(lab: AgentLab, host: string, secretsDir: string): Promise<Capabilities> {
  const request = lab.installRequest(host);
  const endpoint = clientEndpoint(
    { ...request.agent, host: lab.testbed.host(host).address, port: request.agent.port ?? 54321 },
    { secrets: new SecretResolver({ secretsDir }) },
  );
  const client = await AgentClient.connect(endpoint);
  try {
    return Capabilities.parse(await client.call('Host.getCapabilities', {}));
  } finally {
    await client.close();
  }
}

describe.skipIf(skipBecause(reason, 'install-host integration'))('install-host on namespaced hosts', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-lab-'));

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({
      stateDir: dir,
      hosts: [
        { name: 'static1' },
        { name: 'dhcp1', factory: 'dhcp' },
        { name: 'oldvdsm', vdsmCompat: true },
        { name: 'natted', defaultRoute: false },
        { name: 'badbmc' },
        { name: 'jumbo' },
        { name: 'jumbo2' },
      ],
    });
    await lab.waitForAgents();
  });
  afterAll(async () => {
    if (process.env.HOSTPROV_DUMP_CONSOLES)
      for (const h of lab?.testbed.hosts ?? []) process.stdout.write(`=== ${h.name}\n${readFileSync(h.consoleLog, 'utf8')}\n`);
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('configures ovirtmgmt, commits, fence-reboots the host and finds the network again after the boot', async () => {
    const bootBefore = await lab.testbed.bootPid('static1');
    const { result, handle } = await harness.install(lab.installRequest('static1'));
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
    expect(result).toMatchObject({ device: 'eth0', rule: 'get-route' });
    expect(result.setupNetworksRequest?.networks).toMatchObject({
      ovirtmgmt: { nic: 'eth0', bridged: 'true', ipaddr: lab.testbed.host('static1').address },
    });
    expect(result.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'probe',
        'route',
        'record-attachments',
        'setup-networks',
        'fence-reboot',
        'wait-agent-after-reboot',
        'verify',
      ]),
    );
    // it really rebooted: a new boot process, and the agent restored the safe config at boot
    expect(await lab.testbed.bootPid('static1')).not.toBe(bootBefore);
    expect(lab.journal('static1').map((e) => e.kind)).toEqual(['restore', 'apply', 'persist', 'restore']);
    const caps = await capabilitiesOf(lab, 'static1', dir);
    expect(caps.networks.ovirtmgmt).toMatchObject({ bridged: true, southbound: 'eth0', addr: lab.testbed.host('static1').address });
    expect(caps.netConfigDirty).toBe('False');
    // eth0 took router advertisements, as the kernel's defaults say, and reported ipv6autoconf: so ovirtmgmt
    // got AUTOCONF, as the engine derives it, and takes them, with their default routers as the default
    // route's network. The boot made eth0 again with IPv6 on; the restore turned it off, as on every bridge
    // port (docs/setup-networks.md#ipv6-per-device).
    const switches = async (dev: string) =>
      (
        await Netns.attach(lab.testbed.host('static1').namespace).exec([
          'sh',
          '-c',
          `cd /proc/sys/net/ipv6/conf/${dev} && echo $(cat disable_ipv6 autoconf accept_ra accept_redirects accept_ra_defrtr)`,
        ])
      ).stdout.trim();
    expect([await switches('ovirtmgmt'), (await switches('eth0')).split(' ')[0]]).toEqual(['0 1 2 1 1', '1']);
    expect(caps.networks.ovirtmgmt?.ipv6autoconf).toBe(true);
    const rows = await harness.store.attachments.listByHost(result.hostId);
    expect(rows).toEqual([expect.objectContaining({ networkName: 'ovirtmgmt', nicName: 'eth0' })]);
    expect(rows[0]?.ipConfiguration.ipv4).toMatchObject({ bootProtocol: 'STATIC_IP', address: lab.testbed.host('static1').address });
    expect(rows[0]?.ipConfiguration.ipv6).toMatchObject({ bootProtocol: 'AUTOCONF' });
    // The search attribute shows the phases an install can wait in, once each, the host's identity with
    // the first (the agent answered the probe, so it was not waited for); the short steps ran as local
    // activities, one marker each, and one patch marker stands for all (workflows/install-host.ts
    // PROBE_READS_ROUTE_TOO).
    const events = (await handle.fetchHistory()).events ?? [];
    const upserts = installPhaseUpserts(events);
    expect(upserts.map((u) => u.InstallPhase)).toEqual(['record', 'apply', 'reboot', 'configured']);
    expect(upserts[0]).toMatchObject({ HostName: lab.installRequest('static1').host.name, ClusterId: expect.any(String) });
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toHaveLength(1);
    // probe (asking the agent first, for the route too), record, verify (the host commits by itself; the
    // wait after the reboot is an activity)
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(3);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForAgent')).toHaveLength(1);
    await harness.record(handle, 'configured');

    // the same install again: already configured, quickly, nothing applied
    const again = await harness.install(lab.installRequest('static1'));
    expect(again.result.outcome).toBe('already-configured');
    expect(again.result.steps.find((s) => s.name === 'setup-networks')).toBeUndefined();
    expect(lab.journal('static1').filter((e) => e.kind === 'apply')).toHaveLength(1);
    await harness.record(again.handle, 'already-configured');
  });

  it('builds a DHCP management network on a DHCP host (copying the boot protocol, not the lease)', async () => {
    const { result } = await harness.install(
      lab.installRequest('dhcp1', {
        policy: { connectivityTimeoutSeconds: 30, reboot: false, commitMode: 'set-safe', agentWaitSeconds: 60 },
      }),
    );
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
    expect(result.setupNetworksRequest?.networks.ovirtmgmt).toMatchObject({ bootproto: 'dhcp' });
    expect(result.setupNetworksRequest?.networks.ovirtmgmt).not.toHaveProperty('ipaddr');
    expect(result.steps.find((s) => s.name === 'commit')?.summary).toBe('Host.setSafeNetworkConfig');
    const caps = await capabilitiesOf(lab, 'dhcp1', dir);
    expect(caps.networks.ovirtmgmt).toMatchObject({ dhcpv4: true, addr: lab.testbed.host('dhcp1').address });
  });

  it('falls back to lastClientIface on an agent without Host.getRoute (driven through `hostprov install-host`)', async () => {
    const inputFile = join(dir, 'oldvdsm.json');
    writeFileSync(
      inputFile,
      JSON.stringify(
        lab.installRequest('oldvdsm', {
          policy: { connectivityTimeoutSeconds: 30, reboot: false, commitMode: 'auto', agentWaitSeconds: 60 },
        }),
      ),
    );
    // Plain payloads, as the harness's worker writes them (the encrypted path: test/workflows/encrypted-history.test.ts).
    const cli = await run(
      [
        join(PROJECT_ROOT, 'bin', 'hostprov'),
        'install-host',
        '--input',
        inputFile,
        '--address',
        harness.target.address,
        '--namespace',
        harness.target.namespace,
        '--task-queue',
        harness.taskQueue,
        '--ui-url',
        'http://ui.example:8233',
        '--no-payload-encryption',
      ],
      { allowFailure: true, env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' } },
    );
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/✓ route \(\d+ ms\)\s+agent has no Host.getRoute/);
    expect(cli.stdout).toMatch(/✓ setup-networks \(\d+ ms\)\s+applied and confirmed/);
    // No reboot, and the host commits (cluster level 4.8): the apply read what the verification checks.
    expect(cli.stdout).toMatch(/✓ verify \(0 ms\)\s+ovirtmgmt as devised, netConfigDirty False: read on the apply's session/);
    expect(cli.stdout).toContain('outcome: configured');
    expect(cli.stdout).toContain('device:  eth0 (rule: last-client-iface)');
    expect(cli.stdout).toMatch(
      /history: http:\/\/ui\.example:8233\/namespaces\/default\/workflows\/install-host-[0-9a-f]+-oldvdsm\/[0-9a-f-]+\/history/,
    );

    // operators: `hostprov status` shows the finished install step by step
    const hostId = lab.installRequest('oldvdsm').host.id;
    const status = await run(
      [join(PROJECT_ROOT, 'bin', 'hostprov'), 'status', hostId, '--address', harness.target.address, '--no-payload-encryption'],
      { allowFailure: true, env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' } },
    );
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`install-host-${hostId}`);
    expect(status.stdout).toContain('COMPLETED, phase configured');
    expect(status.stdout).toMatch(/✓ setup-networks/);
    // The listing reads the visibility store, which follows the workflow's completion with a lag.
    const listed = new RegExp(`^oldvdsm\\s+configured\\s+COMPLETED\\s+\\S+\\s+install-host-${hostId}$`, 'm');
    await expect
      .poll(
        async () => {
          const listing = await run(
            [join(PROJECT_ROOT, 'bin', 'hostprov'), 'status', '--address', harness.target.address, '--limit', '500'],
            { allowFailure: true, env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' } },
          );
          return listing.code === 0 && listed.test(listing.stdout);
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe(true);
  });

  it('records the management network as it built it: a refresh finds the host in sync; another definition is refused before the host is touched', async () => {
    const network = { name: 'jumbomgmt', vlan: null, mtu: 9000, vmNetwork: false, stp: false, defaultRoute: true };
    const policy = { connectivityTimeoutSeconds: 30, reboot: false, commitMode: 'set-safe', agentWaitSeconds: 60 } as const;
    const request = lab.installRequest('jumbo', { managementNetwork: network, policy });
    const { result } = await harness.install(request);
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
    const { store } = harness;
    const stored = await store.networks.getByName('jumbomgmt');
    expect(stored).toMatchObject({ vlan: null, mtu: 9000, vmNetwork: false });
    // The store does not know the request's cluster: the host is registered under its name, in none, with
    // the endpoint the install reached its agent at and the device it found.
    expect(await store.hosts.get(request.host.id)).toMatchObject({
      name: request.host.name,
      clusterId: null,
      agentEndpoint: { ...request.agent, host: lab.testbed.host('jumbo').address },
      activeNic: 'eth0',
    });

    // The data center puts the host in a cluster of that management network: a refresh finds it as the store says.
    const cluster = await store.clusters.create({ name: 'jumbo', compatibilityVersion: '4.8', managementNetworkId: stored!.id });
    await store.hosts.update(request.host.id, { clusterId: cluster.id });
    const refreshed = await refreshHostNetworksNow(harness.client, request.host.id, { taskQueue: harness.taskQueue });
    expect(refreshed.sync, JSON.stringify(refreshed.sync, null, 2)).toMatchObject({ state: 'in-sync' });

    // Another host's install into that cluster that builds the network otherwise is refused before that
    // host is touched (the jumbo host itself carries the network already: its install would end there).
    const base = lab.installRequest('jumbo2', { managementNetwork: { ...network, mtu: 1500 }, policy });
    const other = await harness.install({ ...base, host: { ...base.host, clusterId: cluster.id } });
    expect(other.result, JSON.stringify(other.result, null, 2)).toMatchObject({
      outcome: 'failed',
      failure: { type: 'StoreConstraintError' },
    });
    expect(other.result.failure?.message).toContain('mtu 9000 → 1500');
    expect(lab.journal('jumbo2').filter((e) => e.kind === 'apply')).toHaveLength(0);
    expect(await store.networks.getByName('jumbomgmt')).toEqual(stored);
    expect(await store.attachments.listByHost(base.host.id)).not.toContainEqual(expect.objectContaining({ networkName: 'jumbomgmt' }));
  });

  it('skips a host without a route to the manager, visibly', async () => {
    const { result, handle } = await harness.install(lab.installRequest('natted'));
    expect(result).toMatchObject({ outcome: 'skipped-no-route', device: null, rule: 'get-route' });
    expect(result.ruleDetail).toMatch(/no route/);
    expect(lab.journal('natted').filter((e) => e.kind === 'apply')).toHaveLength(0);
    await harness.record(handle, 'skipped-no-route');
  });

  it('fails with a typed reason when the host cannot carry the DC definition (VLAN mismatch)', async () => {
    const { result, handle } = await harness.install(
      lab.installRequest('natted', {
        managerAddress: lab.testbed.manager.gateway,
        managementNetwork: { name: 'ovirtmgmt', vlan: 100, mtu: 1500, vmNetwork: true, stp: false, defaultRoute: true },
      }),
    );
    expect(result).toMatchObject({ outcome: 'failed', failure: { type: 'VlanMismatch' } });
    expect(await harness.store.attachments.listByHost(result.hostId)).toEqual([]);
    await harness.record(handle, 'failed');
  });

  it('refuses, right after the probe, a host that does not support the cluster level', async () => {
    const caps = await capabilitiesOf(lab, 'natted', dir);
    expect(caps.clusterLevels).not.toContain('4.9');
    const { result, handle } = await harness.install(
      lab.installRequest('natted', { managerAddress: lab.testbed.manager.gateway, clusterLevel: '4.9' }),
    );
    expect(result).toMatchObject({ outcome: 'failed', failure: { type: 'ClusterLevelUnsupported' } });
    expect(result.failure?.message).toContain(`does not support cluster level 4.9 (it supports ${caps.clusterLevels.join(', ')})`);
    // Nothing after the probe ran: no route, no intent, no request, no apply on the host.
    expect(result.steps.map((s) => [s.name, s.status])).toEqual([
      ['probe', 'ok'],
      ['cluster-level', 'failed'],
    ]);
    expect(result.setupNetworksRequest).toBeNull();
    expect(await harness.store.attachments.listByHost(result.hostId)).toEqual([]);
    expect(lab.journal('natted').filter((e) => e.kind === 'apply')).toHaveLength(0);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toHaveLength(1);
    await harness.record(handle, 'failed-cluster-level');

    // "4.08" is level 4.8, which the host supports: the install goes on past the check, to the VLAN refusal
    // of the test before (which keeps the host as it is).
    const same = await harness.install(
      lab.installRequest('natted', {
        managerAddress: lab.testbed.manager.gateway,
        clusterLevel: '4.08',
        managementNetwork: { name: 'ovirtmgmt', vlan: 100, mtu: 1500, vmNetwork: true, stp: false, defaultRoute: true },
      }),
    );
    expect(same.result).toMatchObject({ outcome: 'failed', failure: { type: 'VlanMismatch' } });
    expect(same.result.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['probe', 'route']));
  });

  it('compensates the attachments when a step after the apply fails (the BMC refuses the password)', async () => {
    const base = lab.installRequest('badbmc');
    const wrongPassword = join(dir, 'badbmc-wrong-password');
    writeFileSync(wrongPassword, 'not-the-bmc-password', { mode: 0o600 });
    const bootBefore = await lab.testbed.bootPid('badbmc');
    const { result, handle } = await harness.install({
      ...base,
      powerManagement: { ...base.powerManagement!, passwordRef: `file:${wrongPassword}` },
    });

    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('failed');
    expect(result.failure?.type).toBe('FenceFailed');
    expect(result.failure?.message).not.toContain('not-the-bmc-password');
    expect(result.steps.find((s) => s.name === 'setup-networks')?.status).toBe('ok');
    expect(result.steps.find((s) => s.name === 'fence-reboot')?.status).toBe('failed');
    expect(result.steps.at(-1)).toMatchObject({
      name: 'compensate-attachments',
      status: 'ok',
      summary: 'FenceFailed: restore recorded attachments',
    });
    // The intent recorded before the apply is undone; the host keeps what it applied and made safe (the
    // workflow does not reconfigure a host it could not reboot), which drift reporting will show.
    expect(await harness.store.attachments.listByHost(result.hostId)).toEqual([]);
    expect(lab.journal('badbmc').map((e) => e.kind)).toEqual(['restore', 'apply', 'persist']);
    expect(await lab.testbed.bootPid('badbmc')).toBe(bootBefore);
    const history = await handle.fetchHistory();
    const compensations = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'compensateAttachments',
    );
    expect(compensations).toHaveLength(1);
    expect(installPhaseUpserts(history.events ?? []).map((u) => u.InstallPhase)).toEqual([
      'record',
      'apply',
      'reboot',
      'compensate',
      'failed',
    ]);
    await harness.record(handle, 'failed-after-apply');
  });
});
