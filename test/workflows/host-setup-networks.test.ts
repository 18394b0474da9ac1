/**
 * hostSetupNetworks end to end, through the per-host entity workflow: the real Temporal dev server, a
 * worker with the real activities and store, and hosts that are network namespaces running our agent over
 * mutual TLS, the testbed's dnsmasq serving DHCP. Every host first gets ovirtmgmt from install-host (so the
 * store already holds an attachment) and joins a cluster with the lab's networks.
 *
 * With HOSTPROV_RECORD_HISTORIES=1 the executions are recorded under test/histories/host-setup-networks/.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientEndpoint } from '../../activities/agent-endpoint';
import { SecretResolver } from '../../activities/secrets';
import type { HostNetworkChangeInput } from '../../model/host-networks/change';
import type { HostSetupNetworksResult } from '../../model/host-setup-networks/contract';
import type { HostSetupNetworksRequestInput } from '../../model/host-setup-networks/request';
import type { Network } from '../../model/host-networking/network';
import { Capabilities } from '../../model/vdsm/capabilities';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { AgentClient } from '../../vdsm/client/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { hostNetworkChangeUpdate } from '../../workflows/host-networks-messages';
import { setupNetworksStatusQuery } from '../../workflows/host-setup-networks-messages';
import { SetupNetworksPhaseKey } from '../../model/search-attributes';
import {
  changeWorkflowId,
  HostNetworkChangeRejectedError,
  hostNetworksWorkflowId,
  requestHostNetworkChange,
} from '../../workflow-client/host-networks';
import { Netns } from '../../testbed/netns';
import { refreshHostNetworksNow } from '../../workflow-client/refresh';
import { createInstallHarness, recordHistory, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());

export const HOST_SETUP_NETWORKS_HISTORY_GENERATION = 'v1-initial';
const HISTORIES = fileURLToPath(new URL(`../histories/host-setup-networks/${HOST_SETUP_NETWORKS_HISTORY_GENERATION}`, import.meta.url));
/**
 * The entity workflow's own generation: v1-initial was recorded before `refresh-after-apply`, so it has no
 * refresh child after a configured change; v2 has.
 */
export const HOST_NETWORKS_HISTORY_GENERATION = 'v2-refresh-after-apply';
const ENTITY_HISTORIES = fileURLToPath(new URL(`../histories/host-networks/${HOST_NETWORKS_HISTORY_GENERATION}`, import.meta.url));

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const temporalEnums = temporal.api.enums.v1;

describe.skipIf(skipBecause(reason, 'hostSetupNetworks integration'))('hostSetupNetworks on namespaced hosts', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-hsn-'));
  const networks: Record<string, Network> = {};
  let clusterId = '';

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({
      stateDir: dir,
      hosts: [
        { name: 'atomic', nics: 4 },
        { name: 'cutoff', nics: 3 },
        { name: 'refused' },
        { name: 'busy', nics: 3 },
        { name: 'slaac', nics: 2 },
      ],
    });
    const { store } = harness;
    const management = await store.networks.create({ name: 'ovirtmgmt' });
    for (const name of ['netold', 'netstatic', 'netdhcp', 'neta', 'netb'])
      networks[name] = await store.networks.create({ name, vmNetwork: false });
    networks.ovirtmgmt = management;
    networks.netv6 = await store.networks.create({ name: 'netv6' });
    const cluster = await store.clusters.create({ name: 'lab', compatibilityVersion: '4.8', managementNetworkId: management.id });
    clusterId = cluster.id;
    for (const name of ['netold', 'netstatic', 'netdhcp', 'neta', 'netb', 'netv6'])
      await store.clusters.attachNetwork(cluster.id, networks[name]!.id);
    await lab.waitForAgents();
    // One after the other: each install's reboot-free apply is short, and they share two cores.
    for (const host of ['atomic', 'cutoff', 'refused', 'busy', 'slaac']) await enroll(host);
  }, 240_000);

  afterAll(async () => {
    if (process.env.HOSTPROV_DUMP_CONSOLES)
      for (const h of lab?.testbed.hosts ?? []) process.stdout.write(`=== ${h.name}\n${readFileSync(h.consoleLog, 'utf8')}\n`);
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hostIdOf = (name: string): string => lab.installRequest(name).host.id;
  const subnetOf = (name: string): string => lab.testbed.host(name).address.split('.').slice(0, 3).join('.');

  /** ovirtmgmt by install-host (no reboot), then the host joins the cluster with its agent endpoint. */
  async function enroll(name: string): Promise<void> {
    const request = lab.installRequest(name, {
      policy: { connectivityTimeoutSeconds: 30, reboot: false, commitMode: 'set-safe', agentWaitSeconds: 60 },
    });
    const { result } = await harness.install(request);
    expect(result.outcome, JSON.stringify(result.steps)).toBe('configured');
    await harness.store.hosts.update(request.host.id, {
      clusterId,
      agentEndpoint: { ...request.agent, host: lab.testbed.host(name).address },
    });
  }

  async function capabilitiesOf(name: string): Promise<Capabilities> {
    const request = lab.installRequest(name);
    const endpoint = clientEndpoint(
      { ...request.agent, host: lab.testbed.host(name).address, port: request.agent.port ?? 54321 },
      { secrets: new SecretResolver({ secretsDir: dir }) },
    );
    const client = await AgentClient.connect(endpoint);
    try {
      return Capabilities.parse(await client.call('Host.getCapabilities', {}));
    } finally {
      await client.close();
    }
  }

  async function setupNetworks(
    request: Omit<HostSetupNetworksRequestInput, 'version'>,
    changeId?: string,
  ): Promise<{ result: HostSetupNetworksResult; workflowId: string }> {
    const answer = await requestHostNetworkChange(
      harness.client,
      { kind: 'setup-networks', request: { version: 1, ...request } },
      { taskQueue: harness.taskQueue, ...(changeId ? { changeId } : {}) },
    );
    return { result: answer.result, workflowId: answer.workflowId };
  }

  const record = (workflowId: string, name: string) => recordHistory(harness.target, workflowId, name, HISTORIES);

  async function events(workflowId: string): Promise<HistoryEvent[]> {
    return (await harness.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  }

  const applies = (name: string) => lab.journal(name).filter((e) => e.kind === 'apply').length;

  it('one request adds a static network with its own gateway and a DHCP network and removes a third, atomically', async () => {
    const hostId = hostIdOf('atomic');
    const subnet = subnetOf('atomic');
    // The host already holds ovirtmgmt (install-host) and netold on eth1.
    const first = await setupNetworks({
      hostId,
      attachments: [
        {
          networkName: 'netold',
          nicName: 'eth1',
          ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: `${subnet}.51`, netmask: '255.255.255.0' } },
        },
      ],
    });
    expect(first.result.outcome, JSON.stringify(first.result, null, 2)).toBe('configured');
    await record(first.workflowId, 'configured');
    const old = (await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'netold');
    expect(old).toMatchObject({ nicName: 'eth1' });
    expect((await capabilitiesOf('atomic')).networks.netold).toBeDefined();
    const appliesBefore = applies('atomic');

    const { result, workflowId } = await setupNetworks({
      hostId,
      attachments: [
        {
          networkName: 'netstatic',
          nicName: 'eth2',
          ipConfiguration: {
            ipv4: { bootProtocol: 'STATIC_IP', address: `${subnet}.52`, netmask: '255.255.255.0', gateway: `${subnet}.1` },
          },
        },
        { networkName: 'netdhcp', nicName: 'eth3', ipConfiguration: { ipv4: { bootProtocol: 'DHCP' } } },
      ],
      removedAttachments: [old!.id],
    });
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
    // one setupNetworks call carried all three changes
    expect(applies('atomic')).toBe(appliesBefore + 1);
    expect(Object.keys(result.setupNetworksRequest?.networks ?? {}).sort()).toEqual(['netdhcp', 'netold', 'netstatic']);
    expect(result.setupNetworksRequest?.networks.netold).toEqual({ remove: 'true' });
    expect(result.steps.map((s) => s.name)).toEqual([
      'load-context',
      'validate',
      'record-intent',
      'setup-networks',
      'commit',
      'refresh',
      'refresh-record',
    ]);

    // the kernel: netstatic on eth2 with its address, netdhcp leased from dnsmasq on eth3, netold gone
    await expect
      .poll(async () => (await capabilitiesOf('atomic')).networks.netdhcp?.addr ?? '', { timeout: 30_000, interval: 500 })
      .toMatch(new RegExp(`^${subnet.replace(/\./g, '\\.')}\\.1\\d\\d$`));
    const caps = await capabilitiesOf('atomic');
    expect(caps.networks.netstatic).toMatchObject({ addr: `${subnet}.52`, gateway: `${subnet}.1` });
    expect(caps.networks.netdhcp).toMatchObject({ dhcpv4: true });
    expect(caps.networks.netold).toBeUndefined();
    expect(caps.netConfigDirty).toBe('False');

    // the rows
    const rows = await harness.store.attachments.listByHost(hostId);
    expect(rows.map((r) => `${r.networkName}@${r.nicName}`).sort()).toEqual(['netdhcp@eth3', 'netstatic@eth2', 'ovirtmgmt@eth0']);
    expect(rows.find((r) => r.networkName === 'netstatic')?.ipConfiguration.ipv4).toMatchObject({
      bootProtocol: 'STATIC_IP',
      address: `${subnet}.52`,
      gateway: `${subnet}.1`,
    });
    expect(rows.find((r) => r.networkName === 'netdhcp')?.ipConfiguration.ipv4).toMatchObject({ bootProtocol: 'DHCP' });
    expect(result.attachments).toEqual(rows);
    await record(workflowId, 'configured-add-two-remove-one');
  });

  it('a change that cuts the manager off is rolled back by the host and every row is restored exactly', async () => {
    const hostId = hostIdOf('cutoff');
    const subnet = subnetOf('cutoff');
    const held = await setupNetworks({
      hostId,
      attachments: [
        {
          networkName: 'neta',
          nicName: 'eth1',
          ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: `${subnet}.61`, netmask: '255.255.255.0' } },
        },
      ],
    });
    expect(held.result.outcome, JSON.stringify(held.result, null, 2)).toBe('configured');
    const before = await harness.store.attachments.listByHost(hostId);
    expect(before).toHaveLength(2);
    const mgmt = before.find((a) => a.networkName === 'ovirtmgmt')!;
    const neta = before.find((a) => a.networkName === 'neta')!;
    const capsBefore = await capabilitiesOf('cutoff');

    // ovirtmgmt moves to an address the manager cannot reach; neta changes and netb is added in the same request
    const { result, workflowId } = await setupNetworks({
      hostId,
      attachments: [
        {
          id: mgmt.id,
          ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: '10.250.0.5', netmask: '255.255.255.0', gateway: '10.250.0.1' } },
        },
        { id: neta.id, ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: `${subnet}.62`, netmask: '255.255.255.0' } } },
        { networkName: 'netb', nicName: 'eth2', ipConfiguration: { ipv4: { bootProtocol: 'NONE' } } },
      ],
      options: { connectivityTimeoutSeconds: 5 },
    });
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('rolled-back');
    expect(result.failure?.type).toBe('ConnectivityCheckFailed');
    expect(result.compensation).toEqual({ status: 'done', failure: null });
    expect(result.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      'load-context:ok',
      'validate:ok',
      'record-intent:ok',
      'setup-networks:ok',
      'compensate:ok',
    ]);
    // every row exactly as before: ids, fields, creation and update times; netb's new row gone
    expect(await harness.store.attachments.listByHost(hostId)).toEqual(before);
    expect(lab.journal('cutoff').some((e) => e.kind === 'rollback')).toBe(true);
    const capsAfter = await capabilitiesOf('cutoff');
    expect(capsAfter.networks.ovirtmgmt).toEqual(capsBefore.networks.ovirtmgmt);
    expect(capsAfter.networks.neta).toEqual(capsBefore.networks.neta);
    expect(capsAfter.networks.netb).toBeUndefined();
    // operators find it by its outcome
    const child = harness.client.workflow.getHandle(workflowId);
    expect((await child.describe()).typedSearchAttributes.get(SetupNetworksPhaseKey)).toBe('rolled-back');
    expect(await child.query(setupNetworksStatusQuery)).toMatchObject({ phase: 'rolled-back', steps: result.steps });
    await record(workflowId, 'rolled-back');
  });

  it('refuses to remove the management network, with its violation key, and changes nothing', async () => {
    const hostId = hostIdOf('refused');
    const before = await harness.store.attachments.listByHost(hostId);
    const mgmt = before.find((a) => a.networkName === 'ovirtmgmt')!;
    const journal = lab.journal('refused');
    const { result, workflowId } = await setupNetworks({ hostId, removedAttachments: [mgmt.id] });
    expect(result.outcome).toBe('invalid');
    expect(result.violations.map((v) => v.key)).toEqual(['NETWORK_CANNOT_REMOVE_MANAGEMENT_NETWORK']);
    expect(result.setupNetworksRequest).toBeNull();
    // Its first request: the host had never reported its interfaces, so it was probed first.
    expect(result.steps.map((s) => s.name)).toEqual(['load-context', 'probe', 'probe-record', 'load-context', 'validate']);
    expect(await harness.store.attachments.listByHost(hostId)).toEqual(before);
    expect(lab.journal('refused')).toEqual(journal);
    await record(workflowId, 'invalid');
  });

  it('answers an invalid request with every violation, before anything is sent or stored', async () => {
    const hostId = hostIdOf('refused');
    const before = await harness.store.attachments.listByHost(hostId);
    const journal = lab.journal('refused');
    const { result } = await setupNetworks({
      hostId,
      attachments: [
        { networkName: 'no-such-network', nicName: 'eth0' },
        { networkName: 'neta', nicName: 'eth9', ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP' } } },
      ],
      removedAttachments: ['00000000-0000-4000-8000-000000000000'],
    });
    expect(result.outcome).toBe('invalid');
    expect(new Set(result.violations.map((v) => v.key))).toEqual(
      new Set([
        'NETWORK_HAVING_NAME_NOT_EXISTS',
        'HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST',
        'NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS',
        'NETWORK_ATTACHMENTS_TO_BE_REMOVED_DOES_NOT_EXISTS',
      ]),
    );
    expect(await harness.store.attachments.listByHost(hostId)).toEqual(before);
    expect(lab.journal('refused')).toEqual(journal);
  });

  it('answers a request that changes nothing without calling the host or writing the store', async () => {
    const hostId = hostIdOf('refused');
    const before = await harness.store.attachments.listByHost(hostId);
    const mgmt = before.find((a) => a.networkName === 'ovirtmgmt')!;
    const journal = lab.journal('refused');
    const { result, workflowId } = await setupNetworks({ hostId, attachments: [{ id: mgmt.id, nicName: mgmt.nicName! }] });
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('no-op');
    expect(result.dropped.attachments).toEqual(['ovirtmgmt']);
    expect(result.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['load-context:ok', 'validate:skipped']);
    const activities = (await events(workflowId)).flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : [],
    );
    expect(activities).toEqual(['loadHostSetupNetworksContext']);
    expect(await harness.store.attachments.listByHost(hostId)).toEqual(before);
    expect(lab.journal('refused')).toEqual(journal);
    await record(workflowId, 'no-op');
  });

  it('refuses a malformed change in the client and, sent past it, in the Update validator, before it is queued', async () => {
    const hostId = hostIdOf('refused');
    const malformed: HostNetworkChangeInput = { kind: 'setup-networks', request: { version: 1, hostId, removedAttachments: ['x'] } };
    await expect(requestHostNetworkChange(harness.client, malformed, { taskQueue: harness.taskQueue })).rejects.toBeInstanceOf(
      HostNetworkChangeRejectedError,
    );
    // Straight to the running entity workflow: the validator refuses it, and history never records it.
    const handle = harness.client.workflow.getHandle(hostNetworksWorkflowId(hostId));
    const before = (await events(hostNetworksWorkflowId(hostId))).length;
    const refused = await handle
      .executeUpdate(hostNetworkChangeUpdate, { args: [malformed], updateId: `malformed-${Date.now()}` })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({
      type: 'InvalidInput',
      message: expect.stringContaining('request.removedAttachments.0'),
    });
    const forAnotherHost = await handle
      .executeUpdate(hostNetworkChangeUpdate, { args: [{ kind: 'setup-networks', request: { version: 1, hostId: hostIdOf('busy') } }] })
      .catch((err: unknown) => err);
    expect((forAnotherHost as WorkflowUpdateFailedError).cause).toMatchObject({
      type: 'InvalidInput',
      message: expect.stringContaining(`serializes host ${hostId}`),
    });
    const after = await events(hostNetworksWorkflowId(hostId));
    expect(after.slice(before).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toEqual([]);
  });

  it('fails, typed, for a host the store does not know, and leaves nothing behind', async () => {
    const { result, workflowId } = await setupNetworks({ hostId: 'no-such-host', attachments: [{ networkName: 'neta', nicName: 'eth1' }] });
    expect(result.outcome).toBe('failed');
    expect(result.failure?.type).toBe('StoreNotFoundError');
    expect(result.compensation).toBeNull();
    expect(await harness.store.attachments.listByHost('no-such-host')).toEqual([]);
    await record(workflowId, 'failed');
  });

  it('serializes concurrent requests on one host: each is checked and applied only after the previous one has its result', async () => {
    const hostId = hostIdOf('busy');
    const subnet = subnetOf('busy');
    const stamp = Date.now();
    const static4 = (n: number) => ({ ipv4: { bootProtocol: 'STATIC_IP' as const, address: `${subnet}.${n}`, netmask: '255.255.255.0' } });
    // a and c each put an untagged network on eth1: valid alone, but whichever runs second must be refused
    // against the store as the first left it. b is independent.
    const [a, b, c] = await Promise.all([
      setupNetworks({ hostId, attachments: [{ networkName: 'neta', nicName: 'eth1', ipConfiguration: static4(71) }] }, `busy-a-${stamp}`),
      setupNetworks({ hostId, attachments: [{ networkName: 'netb', nicName: 'eth2', ipConfiguration: static4(72) }] }, `busy-b-${stamp}`),
      setupNetworks({ hostId, attachments: [{ networkName: 'netold', nicName: 'eth1', ipConfiguration: static4(73) }] }, `busy-c-${stamp}`),
    ]);

    // From the entity workflow's history: each child starts only after the previous one completed.
    const entity = await events(hostNetworksWorkflowId(hostId));
    const started = entity.flatMap((e) =>
      e.startChildWorkflowExecutionInitiatedEventAttributes
        ? [{ id: Number(e.eventId), workflowId: e.startChildWorkflowExecutionInitiatedEventAttributes.workflowId! }]
        : [],
    );
    const completed = entity.flatMap((e) =>
      e.childWorkflowExecutionCompletedEventAttributes
        ? [{ id: Number(e.eventId), workflowId: e.childWorkflowExecutionCompletedEventAttributes.workflowExecution!.workflowId! }]
        : [],
    );
    const ours = [a, b, c].map((r) => r.workflowId);
    const order = started.filter((s) => ours.includes(s.workflowId));
    expect(order).toHaveLength(3);
    for (let i = 1; i < order.length; i += 1) {
      const previousDone = completed.find((d) => d.workflowId === order[i - 1]!.workflowId);
      expect(previousDone, `child ${order[i - 1]!.workflowId} completed`).toBeDefined();
      expect(previousDone!.id).toBeLessThan(order[i]!.id);
    }
    // And from the children: a later child loads its context after the previous child's last event.
    const firstEventTime = async (workflowId: string, activity: string) =>
      (await events(workflowId)).find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity)!.eventTime!;
    const closedAt = async (workflowId: string) => (await events(workflowId)).at(-1)!.eventTime!;
    const ms = (t: { seconds?: unknown; nanos?: number | null }) => Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6;
    for (let i = 1; i < order.length; i += 1) {
      expect(ms(await firstEventTime(order[i]!.workflowId, 'loadHostSetupNetworksContext'))).toBeGreaterThanOrEqual(
        ms(await closedAt(order[i - 1]!.workflowId)),
      );
    }

    // The outcome follows the order: b always applies; of a and c, the first wins and the second is refused.
    expect(b.result.outcome, JSON.stringify(b.result, null, 2)).toBe('configured');
    const [winner, loser] =
      order.findIndex((o) => o.workflowId === a.workflowId) < order.findIndex((o) => o.workflowId === c.workflowId) ? [a, c] : [c, a];
    expect(winner.result.outcome, JSON.stringify(winner.result, null, 2)).toBe('configured');
    expect(loser.result.outcome, JSON.stringify(loser.result, null, 2)).toBe('invalid');
    expect(loser.result.violations.map((v) => v.key)).toEqual(['NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK']);
    const onEth1 = winner === a ? 'neta' : 'netold';
    const rows = await harness.store.attachments.listByHost(hostId);
    expect(rows.map((r) => `${r.networkName}@${r.nicName}`).sort()).toEqual([`${onEth1}@eth1`, 'netb@eth2', 'ovirtmgmt@eth0'].sort());
    const caps = await capabilitiesOf('busy');
    expect(caps.networks[onEth1]).toBeDefined();
    expect(caps.networks[onEth1 === 'neta' ? 'netold' : 'neta']).toBeUndefined();
    expect(changeWorkflowId(hostId, 'x')).toBe(`${hostNetworksWorkflowId(hostId)}/x`);
    await recordHistory(harness.target, hostNetworksWorkflowId(hostId), 'serialized', ENTITY_HISTORIES);
  });

  it('carries queued changes across continue-as-new, and every caller still gets its result', async () => {
    const hostId = hostIdOf('busy');
    const subnet = subnetOf('busy');
    // The entity workflow's input applies when a request starts it: end the one the previous test left running.
    await harness.client.workflow
      .getHandle(hostNetworksWorkflowId(hostId))
      .terminate('test: start a run with maxChangesPerRun 1')
      .catch(() => undefined);
    const netb = (await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'netb')!;
    const send = (address: number, tag: string) =>
      requestHostNetworkChange(
        harness.client,
        {
          kind: 'setup-networks',
          request: {
            version: 1,
            hostId,
            attachments: [
              {
                id: netb.id,
                ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: `${subnet}.${address}`, netmask: '255.255.255.0' } },
              },
            ],
          },
        },
        { taskQueue: harness.taskQueue, changeId: `can-${tag}-${Date.now()}`, workflow: { maxChangesPerRun: 1 } },
      );
    const answers = await Promise.all([send(81, 'a'), send(82, 'b'), send(83, 'c')]);
    for (const answer of answers) expect(answer.result.outcome, JSON.stringify(answer.result, null, 2)).toBe('configured');
    // each caller got its own change's result
    expect(answers.map((a) => a.result.setupNetworksRequest?.networks.netb)).toEqual(
      [81, 82, 83].map((n) => expect.objectContaining({ ipaddr: `${subnet}.${n}` })),
    );
    // three changes, one per run: the run now open was continued from an earlier one
    const [startedEvent] = await events(hostNetworksWorkflowId(hostId));
    expect(startedEvent?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId).toBeTruthy();
    expect(startedEvent?.workflowExecutionStartedEventAttributes?.initiator).toBe(
      temporalEnums.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
    );
  });
  it("DNS on the management network's attachment reaches the host's resolv.conf (its other lines kept), and a refresh finds it in sync", async () => {
    const hostId = hostIdOf('refused');
    const mgmt = (await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'ovirtmgmt')!;
    // The testbed host's agent runs under `ip netns exec`, which bind-mounts this file over /etc/resolv.conf.
    const resolvConf = join(Netns.attach(lab.testbed.host('refused').namespace).etcDir, 'resolv.conf');
    const before = readFileSync(resolvConf, 'utf8');
    const { result } = await setupNetworks({
      hostId,
      attachments: [{ id: mgmt.id, nicName: mgmt.nicName!, dns: { nameServers: ['192.0.2.53', '2001:db8::53'] } }],
    });
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
    expect(result.setupNetworksRequest?.networks.ovirtmgmt).toMatchObject({ nameservers: ['192.0.2.53', '2001:db8::53'] });
    const written = readFileSync(resolvConf, 'utf8');
    expect(written).toContain('nameserver 192.0.2.53\nnameserver 2001:db8::53\n');
    expect(written.split('\n').filter((line) => !line.startsWith('nameserver '))).toEqual(
      before.split('\n').filter((line) => !line.startsWith('nameserver ')),
    );
    expect((await capabilitiesOf('refused')).nameservers).toEqual(['192.0.2.53', '2001:db8::53']);
    const refreshed = await refreshHostNetworksNow(harness.client, hostId, { taskQueue: harness.taskQueue });
    const report = refreshed.sync?.attachments.find((a) => a.networkName === 'ovirtmgmt');
    expect(report?.differences ?? [], JSON.stringify(refreshed.sync, null, 2)).toEqual([]);
  });

  it('IPv6 autoconf on a VM network reaches its bridge, which then takes router advertisements, and reads back in sync; a static address stops that', async () => {
    const hostId = hostIdOf('slaac');
    const ns = Netns.attach(lab.testbed.host('slaac').namespace);
    // The agent runs in the host's namespace, as in production, so it sets and reads the bridge's switches.
    const switches = async () =>
      (
        await ns.exec(['sh', '-c', 'cd /proc/sys/net/ipv6/conf/netv6 && echo $(cat disable_ipv6 autoconf accept_ra accept_redirects)'])
      ).stdout.trim();
    const differences = async () => {
      const refreshed = await refreshHostNetworksNow(harness.client, hostId, { taskQueue: harness.taskQueue });
      const report = refreshed.sync?.attachments.find((a) => a.networkName === 'netv6');
      expect(report, JSON.stringify(refreshed.sync, null, 2)).toBeDefined();
      return report?.differences;
    };

    const first = await setupNetworks({
      hostId,
      attachments: [
        { networkName: 'netv6', nicName: 'eth1', ipConfiguration: { ipv4: { bootProtocol: 'NONE' }, ipv6: { bootProtocol: 'AUTOCONF' } } },
      ],
    });
    expect(first.result.outcome, JSON.stringify(first.result, null, 2)).toBe('configured');
    expect(first.result.setupNetworksRequest?.networks.netv6).toMatchObject({ bridged: 'true', ipv6autoconf: true, dhcpv6: false });
    expect(await switches()).toBe('0 1 2 1');
    const caps = await capabilitiesOf('slaac');
    expect([caps.networks.netv6?.ipv6autoconf, caps.bridges.netv6?.ipv6autoconf]).toEqual([true, true]);
    expect(await differences()).toEqual([]);

    const attachment = (await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'netv6')!;
    expect(attachment.ipConfiguration.ipv6).toEqual({ bootProtocol: 'AUTOCONF' });
    const second = await setupNetworks({
      hostId,
      attachments: [
        {
          id: attachment.id,
          nicName: 'eth1',
          ipConfiguration: { ipv4: { bootProtocol: 'NONE' }, ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8:7::10', prefix: 64 } },
        },
      ],
    });
    expect(second.result.outcome, JSON.stringify(second.result, null, 2)).toBe('configured');
    expect(await switches()).toBe('0 0 0 0');
    const after = await capabilitiesOf('slaac');
    expect([after.networks.netv6?.ipv6autoconf, after.networks.netv6?.ipv6addrs]).toEqual([false, ['2001:db8:7::10/64']]);
    expect(await differences()).toEqual([]);
  });
});
