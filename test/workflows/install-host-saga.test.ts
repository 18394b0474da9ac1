/**
 * install-host's saga, branch by branch: the real workflow code on the run's real Temporal dev server, with
 * the activities as plain stand-in objects, so every outcome and every failure branch can be reached on
 * demand and fast. These run beside the integration tests on namespaced hosts (install-host.test.ts,
 * install-host-recovery.test.ts and test/faults/), never instead of them.
 *
 * Each scenario is keyed by the host's address, which the stand-ins see in every activity input.
 */
import { readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type {
  AttachmentsSnapshot,
  FenceResult,
  HostProbe,
  InstallHostActivities,
  SetupNetworksInput,
  SetupNetworksOutcome,
} from '../../activities/types';
import type { RouteAnswer } from '../../model/install-host/choose-device';
import { INSTALL_HOST_WORKFLOW, type InstallHostRequest, type InstallHostResult } from '../../model/install-host/contract';
import { uniqueToken } from '../../testbed/netns';
import { installTemporalRuntime } from '../../worker/runtime';
import { startOrAttachInstall } from '../../workflow-client/install-host';
import { installStatusQuery } from '../../workflows/messages';
import { installPhaseUpserts, recordHistory } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { attachToServer, unavailableReason, type TemporalTarget } from '../helpers/temporal';
import { discardedInstallMetrics } from '../../worker/metrics';

type Caps = HostProbe['capabilities'];
const fixture = (name: string): Caps =>
  JSON.parse(readFileSync(new URL(`../fixtures/capabilities/${name}.json`, import.meta.url), 'utf8')) as Caps;
/** A host with eth0 at 198.18.1.10 that speaks cluster levels up to 4.8. */
const BEFORE = { ...fixture('static-nic'), lastClientIface: 'eth0' };
/** The same host once ovirtmgmt is built over eth0, as devised. */
const AFTER = { ...fixture('already-configured'), lastClientIface: 'ovirtmgmt', clusterLevels: BEFORE.clusterLevels };

const failure = (type: string, message: string, nonRetryable = true) => ApplicationFailure.create({ type, message, nonRetryable });

/** What one stand-in host does; anything left out succeeds. */
interface Scenario {
  route?: RouteAnswer;
  before?: Caps;
  /** What verification reads. @default AFTER */
  after?: Caps;
  apply?: (input: SetupNetworksInput) => Promise<SetupNetworksOutcome>;
  commit?: () => Promise<void>;
  fence?: () => Promise<FenceResult>;
  waitAfterReboot?: () => Promise<{ attempts: number }>;
  /** The agent is not up until it has been waited for: the probe that asks it first fails. @default false */
  late?: boolean;
  /** The apply answers without the capabilities it was asked to read after it (that read failed). @default false */
  readBackFails?: boolean;
  /** The wait before the install (only a late agent is waited for), given its timeout. @default answers at once */
  waitBefore?: (timeoutSeconds: number) => Promise<{ attempts: number }>;
  /** Called with the attempt number (1, 2, …). */
  compensate?: (attempt: number) => Promise<{ restored: number; removed: number }>;
}

interface Played {
  calls: string[];
  applied: SetupNetworksInput[];
  compensated: AttachmentsSnapshot[];
}

const SNAPSHOT_OF = (hostId: string): AttachmentsSnapshot => ({
  hostId,
  networkNames: ['ovirtmgmt'],
  previous: [],
  intent: { version: 1, hostId, takenAt: '2026-01-01T00:00:00.000Z', entries: [{ id: `${hostId}-ovirtmgmt`, before: null }] },
});

/** The activities as plain objects that play the scenario of the host they are called for. */
function standInActivities(scenarios: Map<string, Scenario>, played: Map<string, Played>, hostIdPrefix: string): InstallHostActivities {
  const of = (address: string): [Scenario, Played] => {
    const scenario = scenarios.get(address);
    if (!scenario) throw new Error(`no scenario for host ${address}`);
    let log = played.get(address);
    if (!log) played.set(address, (log = { calls: [], applied: [], compensated: [] }));
    return [scenario, log];
  };
  const byHostId = (hostId: string) => of(hostId.slice(hostIdPrefix.length));
  return {
    async waitForAgent({ endpoint, timeoutSeconds }) {
      const [s, log] = of(endpoint.host);
      log.calls.push('waitForAgent');
      const afterReboot = log.calls.includes('fenceHost');
      if (afterReboot) return s.waitAfterReboot ? s.waitAfterReboot() : { attempts: 1 };
      return s.waitBefore ? s.waitBefore(timeoutSeconds) : { attempts: 1 };
    },
    async probeCapabilities(endpoint) {
      const [s, log] = of(endpoint.host);
      log.calls.push('probeCapabilities');
      if (!log.calls.includes('recordAttachments')) throw new Error('the install probes with probeHost; probeCapabilities only verifies');
      return { capabilities: s.after ?? AFTER };
    },
    async findRouteToManager() {
      throw new Error('the install probes with probeHost, which reads the route too');
    },
    async probeHost({ endpoint, hostAddress }) {
      const [s, log] = of(endpoint.host);
      log.calls.push('probeHost');
      if (s.late && !log.calls.includes('waitForAgent'))
        throw failure('AgentUnreachable', `agent ${endpoint.host}:54321 did not answer: connection refused`, false);
      return { capabilities: s.before ?? BEFORE, route: s.route ?? { kind: 'route', device: 'eth0' }, hostAddresses: [hostAddress] };
    },
    async recordAttachments({ hostId }) {
      const [, log] = byHostId(hostId);
      log.calls.push('recordAttachments');
      return SNAPSHOT_OF(hostId);
    },
    async compensateAttachments(snapshot) {
      const [s, log] = byHostId(snapshot.hostId);
      log.calls.push('compensateAttachments');
      log.compensated.push(snapshot);
      return { networksRemoved: 0, ...(s.compensate ? await s.compensate(Context.current().info.attempt) : { restored: 0, removed: 1 }) };
    },
    async setupNetworksWithConfirm(input) {
      const [s, log] = of(input.endpoint.host);
      log.calls.push('setupNetworksWithConfirm');
      log.applied.push(input);
      if (s.apply) return s.apply(input);
      const applied = { status: 'applied', confirmations: 1, tookOverInFlight: false } as const;
      return input.readCapabilitiesAfter && !s.readBackFails ? { ...applied, capabilities: s.after ?? AFTER } : applied;
    },
    async setSafeNetworkConfig(endpoint) {
      const [s, log] = of(endpoint.host);
      log.calls.push('setSafeNetworkConfig');
      await s.commit?.();
    },
    async fenceHost({ proxy }) {
      const [s, log] = of(proxy.host.replace(/-proxy$/, ''));
      log.calls.push('fenceHost');
      return s.fence ? s.fence() : { power: 'on', operationStatus: 'initiated' };
    },
  };
}

const reason = unavailableReason();

describe.skipIf(skipBecause(reason, 'install-host saga with stand-in activities'))(
  'install-host saga, every branch (stand-in activities)',
  () => {
    let env: TestWorkflowEnvironment;
    let target: TemporalTarget;
    let worker: Worker;
    let running: Promise<void>;
    const token = uniqueToken();
    const taskQueue = `saga-${token}`;
    const hostIdPrefix = `saga-${token}-`;
    const scenarios = new Map<string, Scenario>();
    const played = new Map<string, Played>();

    beforeAll(async () => {
      installTemporalRuntime();
      ({ env, target } = await attachToServer());
      worker = await Worker.create({
        connection: env.nativeConnection,
        namespace: target.namespace,
        taskQueue,
        workflowBundle: { codePath: target.workflowBundlePath },
        sinks: discardedInstallMetrics(),
        activities: standInActivities(scenarios, played, hostIdPrefix),
      });
      running = worker.run();
    });
    afterAll(async () => {
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await running?.catch(() => undefined);
      await env?.teardown();
    });

    function request(name: string, over: Partial<InstallHostRequest> = {}): InstallHostRequest {
      return {
        version: 1,
        host: { id: `${hostIdPrefix}${name}`, name, address: name, clusterId: 'saga' },
        agent: { tls: { insecure: true } },
        managerAddress: '198.18.1.1',
        clusterLevel: '4.8',
        powerManagement: {
          agent: 'ipmilan',
          address: '198.51.100.10',
          port: 623,
          username: 'admin',
          passwordRef: 'env:SAGA_TEST_BMC_PASSWORD',
          proxy: { id: `${hostIdPrefix}${name}-proxy`, name: `${name}-proxy`, agent: { host: `${name}-proxy`, tls: { insecure: true } } },
        },
        policy: { connectivityTimeoutSeconds: 5, reboot: true, commitMode: 'auto', agentWaitSeconds: 5 },
        ...over,
      };
    }

    /** Runs one install for `name` playing `scenario`; `over` changes the request (fields, or the whole of it). */
    async function install(
      name: string,
      scenario: Scenario,
      over: Partial<InstallHostRequest> | ((r: InstallHostRequest) => InstallHostRequest) = {},
    ): Promise<{ result: InstallHostResult; log: Played; workflowId: string }> {
      scenarios.set(name, scenario);
      const input = typeof over === 'function' ? over(request(name)) : request(name, over);
      const { handle, workflowId } = await startOrAttachInstall(env.client, input, { taskQueue });
      const result = await handle.result();
      return { result, log: played.get(name) ?? { calls: [], applied: [], compensated: [] }, workflowId };
    }

    const stepNames = (result: InstallHostResult) => result.steps.map((s) => s.name);
    // The probe asks the agent first (workflows/install-host.ts PROBE_ASKS_FIRST), for its capabilities and
    // its route at once (PROBE_READS_ROUTE_TOO): an agent that answers is not waited for before the install,
    // only after the reboot.
    const ALL_THE_WAY = ['probeHost', 'recordAttachments', 'setupNetworksWithConfirm', 'fenceHost', 'waitForAgent', 'probeCapabilities'];

    it('configured: applies with commitOnSuccess (cluster level 4.8), reboots, verifies, and keeps the attachments', async () => {
      const { result, log } = await install('configured', {});
      expect(result).toMatchObject({ outcome: 'configured', failure: null, compensation: null, device: 'eth0', rule: 'get-route' });
      expect(log.calls).toEqual(ALL_THE_WAY);
      expect(log.applied[0]?.options).toEqual({ connectivityCheck: 'true', connectivityTimeout: '5', commitOnSuccess: true });
      expect(result.setupNetworksRequest?.options).toEqual(log.applied[0]?.options);
      expect(result.steps.find((s) => s.name === 'commit')).toMatchObject({
        status: 'ok',
        summary: 'committed by the host (commitOnSuccess)',
      });
      expect(stepNames(result)).toEqual([
        'probe',
        'route',
        'choose-device',
        'devise',
        'record-attachments',
        'setup-networks',
        'commit',
        'fence-reboot',
        'wait-agent-after-reboot',
        'verify',
        'verify-result',
      ]);
    });

    it('configured when the agent is not up yet: the probe asks once, then the agent is waited for in an activity', async () => {
      const asked: number[] = [];
      const { result, log, workflowId } = await install('agent-late', {
        late: true,
        waitBefore: async (timeoutSeconds) => {
          asked.push(timeoutSeconds);
          return { attempts: 3 };
        },
      });
      expect(result.outcome).toBe('configured');
      // the probe once (no retries: its failure is not retried locally), the wait with the policy's budget, the probe again
      expect(asked).toEqual([5]);
      expect(log.calls).toEqual(['probeHost', 'waitForAgent', ...ALL_THE_WAY]);
      expect(stepNames(result).slice(0, 4)).toEqual(['probe', 'wait-agent', 'probe', 'route']);
      expect(result.steps.slice(0, 3).map((s) => s.status)).toEqual(['failed', 'ok', 'ok']);
      // Only an install that waited shows `wait-agent` in the search attribute (with the host's identity).
      const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      expect(installPhaseUpserts(events).map((u) => u.InstallPhase)).toEqual(['wait-agent', 'record', 'apply', 'reboot', 'configured']);
      await recordHistory(target, workflowId, 'agent-late');
    });

    it('a start while the install runs attaches to it: one execution, one result for both callers', async () => {
      let release: () => void = () => undefined;
      const released = new Promise<void>((r) => (release = r));
      let asked = 0;
      scenarios.set('attach', {
        late: true,
        waitBefore: async () => {
          asked += 1;
          await released;
          return { attempts: 2 };
        },
      });
      const first = await startOrAttachInstall(env.client, request('attach'), { taskQueue });
      await vi.waitFor(() => expect(asked).toBe(1), { timeout: 10_000 });
      const second = await startOrAttachInstall(env.client, request('attach'), { taskQueue });
      expect(first.started).toBe(true);
      expect(second).toMatchObject({ started: false, workflowId: first.workflowId, runId: first.runId });
      release();
      const [a, b] = await Promise.all([first.handle.result(), second.handle.result()]);
      expect(a.outcome).toBe('configured');
      expect(b).toEqual(a);
      // Visibility catches up a moment later; a second execution would show up there too.
      await vi.waitFor(
        async () => {
          const runs: string[] = [];
          for await (const run of env.client.workflow.list({ query: `WorkflowId = '${first.workflowId}'` })) runs.push(run.runId);
          expect(runs).toEqual([first.runId]);
        },
        { timeout: 10_000, interval: 200 },
      );
      // Finished, the same host's install may run again: a new execution.
      const again = await startOrAttachInstall(env.client, request('attach'), { taskQueue });
      expect(again).toMatchObject({ started: true, workflowId: first.workflowId });
      expect(again.runId).not.toBe(first.runId);
      await again.handle.result();
    });

    it('configured with setSafeNetworkConfig: commit mode set-safe, and auto below cluster level 4.3', async () => {
      const policy = { connectivityTimeoutSeconds: 5, reboot: true, commitMode: 'set-safe' as const, agentWaitSeconds: 5 };
      const setSafe = await install('set-safe', {}, { policy });
      expect(setSafe.result.outcome).toBe('configured');
      expect(setSafe.log.applied[0]?.options.commitOnSuccess).toBe(false);
      expect(setSafe.log.calls).toEqual([...ALL_THE_WAY.slice(0, 3), 'setSafeNetworkConfig', ...ALL_THE_WAY.slice(3)]);
      expect(setSafe.result.steps.find((s) => s.name === 'commit')).toMatchObject({ status: 'ok', summary: 'Host.setSafeNetworkConfig' });

      const old = await install('old-cluster', {}, { clusterLevel: '4.2' });
      expect(old.result.outcome).toBe('configured');
      expect(old.log.applied[0]?.options.commitOnSuccess).toBe(false);
      expect(old.log.calls).toContain('setSafeNetworkConfig');
    });

    it('configured without a reboot: no power management, or reboot disabled by policy', async () => {
      const noPm = await install('no-pm', {}, ({ powerManagement: _none, ...rest }) => rest);
      expect(noPm.result.outcome).toBe('configured');
      // The host commits and nothing comes after the apply: the apply reads what the verification needs.
      expect(noPm.log.calls).toEqual(['probeHost', 'recordAttachments', 'setupNetworksWithConfirm']);
      expect(noPm.log.applied[0]?.readCapabilitiesAfter).toBe(true);
      expect(noPm.result.steps.find((s) => s.name === 'reboot')).toMatchObject({
        status: 'skipped',
        summary: 'no power management configured',
      });
      expect(noPm.result.steps.filter((s) => s.name.startsWith('verify'))).toEqual([
        expect.objectContaining({
          name: 'verify',
          status: 'ok',
          durationMs: 0,
          summary: expect.stringContaining("read on the apply's session"),
        }),
        expect.objectContaining({ name: 'verify-result', status: 'ok' }),
      ]);
      await recordHistory(target, noPm.workflowId, 'configured-read-back');

      const noReboot = await install(
        'no-reboot',
        {},
        { policy: { connectivityTimeoutSeconds: 5, reboot: false, commitMode: 'auto', agentWaitSeconds: 5 } },
      );
      expect(noReboot.result.outcome).toBe('configured');
      expect(noReboot.log.calls).toEqual(['probeHost', 'recordAttachments', 'setupNetworksWithConfirm']);
      expect(noReboot.result.steps.find((s) => s.name === 'reboot')).toMatchObject({
        status: 'skipped',
        summary: 'reboot disabled by policy',
      });
    });

    it('without a reboot, the verification reads in a step of its own when the apply cannot read back, or the host does not commit', async () => {
      const noPm = ({ powerManagement: _none, ...rest }: InstallHostRequest) => rest;
      const failedRead = await install('read-back-fails', { readBackFails: true }, noPm);
      expect(failedRead.result.outcome).toBe('configured');
      expect(failedRead.log.applied[0]?.readCapabilitiesAfter).toBe(true);
      expect(failedRead.log.calls).toEqual(['probeHost', 'recordAttachments', 'setupNetworksWithConfirm', 'probeCapabilities']);
      expect(failedRead.result.steps.find((s) => s.name === 'verify')).toMatchObject({
        status: 'ok',
        summary: 'ovirtmgmt as devised, netConfigDirty False',
      });
      await recordHistory(target, failedRead.workflowId, 'configured-read-back-failed');

      const policy = { connectivityTimeoutSeconds: 5, reboot: false, commitMode: 'set-safe' as const, agentWaitSeconds: 5 };
      const setSafe = await install('set-safe-no-reboot', {}, (r) => ({ ...noPm(r), policy }));
      expect(setSafe.result.outcome).toBe('configured');
      expect(setSafe.log.applied[0]?.readCapabilitiesAfter).toBeUndefined();
      expect(setSafe.log.calls).toEqual([
        'probeHost',
        'recordAttachments',
        'setupNetworksWithConfirm',
        'setSafeNetworkConfig',
        'probeCapabilities',
      ]);
    });

    it('failed with VerificationFailed without a reboot: what the apply read back is checked as a step would check it', async () => {
      const { result, log } = await install('read-back-verify-fails', { after: BEFORE }, ({ powerManagement: _none, ...rest }) => rest);
      expect(result).toMatchObject({
        outcome: 'failed',
        failure: { type: 'VerificationFailed', message: 'the host does not report network ovirtmgmt' },
        compensation: { status: 'done' },
      });
      expect(log.calls).toEqual(['probeHost', 'recordAttachments', 'setupNetworksWithConfirm', 'compensateAttachments']);
    });

    it('failed when the route leads to a bond in a mode that cannot carry a VM network: typed, nothing recorded', async () => {
      const bonded = fixture('bond');
      const balanceRr = {
        ...bonded,
        lastClientIface: 'bond0',
        clusterLevels: BEFORE.clusterLevels,
        bondings: { bond0: { ...bonded.bondings.bond0!, opts: { mode: '0', miimon: '100' } } },
      };
      const { result, log, workflowId } = await install('bond-mode', { before: balanceRr, route: { kind: 'route', device: 'bond0' } });
      expect(result).toMatchObject({
        outcome: 'failed',
        failure: { type: 'BondModeForbidsVmNetwork', message: expect.stringContaining('bond bond0 is in mode 0') },
        compensation: null,
        device: 'bond0',
      });
      expect(log.calls).toEqual(['probeHost']);
      expect(result.steps.find((s) => s.name === 'devise')).toMatchObject({ status: 'failed' });
      // The rule is implied from generation v8 on: no patch marker of its own.
      await recordHistory(target, workflowId, 'failed-bond-mode');
    });

    it('already-configured: stops after devising, records and applies nothing', async () => {
      const { result, log } = await install('already', { before: AFTER, route: { kind: 'route', device: 'ovirtmgmt' } });
      expect(result).toMatchObject({ outcome: 'already-configured', failure: null, compensation: null, device: 'ovirtmgmt' });
      expect(log.calls).toEqual(['probeHost']);
    });

    it('skipped-no-route: stops after the route, records and applies nothing', async () => {
      const { result, log } = await install('no-route', { route: { kind: 'no-route', reason: 'network unreachable' } });
      expect(result).toMatchObject({ outcome: 'skipped-no-route', failure: null, compensation: null, device: null, rule: 'get-route' });
      expect(log.calls).toEqual(['probeHost']);
    });

    it('failed when the host cannot carry the definition (devise failure): typed reason, nothing recorded', async () => {
      const { result, log } = await install(
        'vlan-mismatch',
        {},
        { managementNetwork: { name: 'ovirtmgmt', vlan: 100, mtu: 1500, vmNetwork: true, stp: false, defaultRoute: true } },
      );
      expect(result).toMatchObject({ outcome: 'failed', failure: { type: 'VlanMismatch' }, compensation: null });
      expect(log.calls).toEqual(['probeHost']);
    });

    it('rolled-back: the host undid the change; the attachments are compensated once', async () => {
      const { result, log } = await install('rolled-back', {
        apply: async () => ({ status: 'rolled-back', code: 10, message: 'connectivity check failed', confirmations: 0 }),
      });
      expect(result).toMatchObject({
        outcome: 'rolled-back',
        failure: { type: 'ConnectivityCheckFailed' },
        compensation: { status: 'done', failure: null },
      });
      expect(log.calls).toEqual(['probeHost', 'recordAttachments', 'setupNetworksWithConfirm', 'compensateAttachments']);
      expect(log.compensated).toEqual([SNAPSHOT_OF(result.hostId)]);
      expect(result.steps.at(-1)).toMatchObject({
        name: 'compensate-attachments',
        status: 'ok',
        summary: 'ConnectivityCheckFailed: restore recorded attachments',
      });
    });

    it('failed with VerificationFailed: the host does not report the network as devised after the reboot', async () => {
      const { result, log } = await install('verify-fails', { after: BEFORE });
      expect(result).toMatchObject({
        outcome: 'failed',
        failure: { type: 'VerificationFailed', message: 'the host does not report network ovirtmgmt' },
        compensation: { status: 'done' },
      });
      expect(log.calls).toEqual([...ALL_THE_WAY, 'compensateAttachments']);
      expect(result.steps.find((s) => s.name === 'verify-result')).toMatchObject({ status: 'failed' });
    });

    it('failed when the fence fails: FenceFailed, compensated, no wait for a reboot that did not happen', async () => {
      const { result, log } = await install('fence-fails', {
        fence: () => Promise.reject(failure('FenceFailed', 'fence reboot through the BMC at 198.51.100.10:623 failed')),
      });
      expect(result).toMatchObject({
        outcome: 'failed',
        failure: { type: 'FenceFailed', message: expect.stringContaining('198.51.100.10') },
        compensation: { status: 'done' },
      });
      expect(log.calls).toEqual([...ALL_THE_WAY.slice(0, 4), 'compensateAttachments']);
      expect(result.steps.find((s) => s.name === 'fence-reboot')?.status).toBe('failed');
    });

    it('failed when an activity fails after the apply (setSafeNetworkConfig refused): compensated', async () => {
      const policy = { connectivityTimeoutSeconds: 5, reboot: true, commitMode: 'set-safe' as const, agentWaitSeconds: 5 };
      const { result, log } = await install(
        'commit-refused',
        { commit: () => Promise.reject(failure('AgentRejected', 'setSafeNetworkConfig refused')) },
        { policy },
      );
      expect(result).toMatchObject({
        outcome: 'failed',
        failure: { type: 'AgentRejected', message: 'setSafeNetworkConfig refused' },
        compensation: { status: 'done' },
      });
      expect(log.calls).toEqual([...ALL_THE_WAY.slice(0, 3), 'setSafeNetworkConfig', 'compensateAttachments']);
    });

    it('failed when the host does not come back after the reboot: says so, and compensates', async () => {
      const { result, log } = await install('never-back', {
        waitAfterReboot: () => Promise.reject(failure('AgentUnreachable', 'agent never-back:54321 did not answer Host.ping2 within 5s')),
      });
      expect(result).toMatchObject({
        outcome: 'failed',
        failure: {
          type: 'AgentUnreachable',
          message: 'never-back did not come back after the reboot: agent never-back:54321 did not answer Host.ping2 within 5s',
        },
        compensation: { status: 'done' },
      });
      expect(log.calls).toEqual([...ALL_THE_WAY.slice(0, 5), 'compensateAttachments']);
    });

    it('a compensation that fails for a reason a retry may fix is retried until it succeeds', async () => {
      const { result, log } = await install('compensation-retried', {
        apply: async () => ({ status: 'rolled-back', code: 10, message: 'connectivity check failed', confirmations: 0 }),
        compensate: async (attempt) => {
          if (attempt < 3) throw new Error(`database unavailable (attempt ${attempt})`);
          return { restored: 0, removed: 1 };
        },
      });
      expect(result).toMatchObject({ outcome: 'rolled-back', compensation: { status: 'done', failure: null } });
      expect(log.calls.filter((c) => c === 'compensateAttachments')).toHaveLength(3);
    });

    it('a failing compensation keeps the original outcome and adds its own failure; the execution completes', async () => {
      const refused = () => Promise.reject(failure('StoreConstraintError', 'restore refused: network ovirtmgmt is in use'));
      const rolledBack = await install('compensation-fails-after-rollback', {
        apply: async () => ({ status: 'rolled-back', code: 10, message: 'connectivity check failed', confirmations: 0 }),
        compensate: refused,
      });
      expect(rolledBack.result).toMatchObject({
        outcome: 'rolled-back',
        failure: { type: 'ConnectivityCheckFailed' },
        compensation: { status: 'failed', failure: { type: 'StoreConstraintError', message: expect.stringContaining('restore refused') } },
      });
      expect(rolledBack.result.steps.at(-1)).toMatchObject({ name: 'compensate-attachments', status: 'failed' });

      // After an error (not a step's own stop): the branch that once failed the execution.
      const afterError = await install('compensation-fails-after-error', {
        fence: () => Promise.reject(failure('FenceFailed', 'BMC refused the password')),
        compensate: refused,
      });
      expect(afterError.result).toMatchObject({
        outcome: 'failed',
        failure: { type: 'FenceFailed', message: 'BMC refused the password' },
        compensation: { status: 'failed', failure: { type: 'StoreConstraintError' } },
      });
      const handle = env.client.workflow.getHandle(afterError.workflowId);
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      expect((await handle.query(installStatusQuery)).phase).toBe('failed');
      await recordHistory(target, afterError.workflowId, 'compensation-failed');
    });

    it('a cancelled install compensates, non-cancellably, then ends cancelled', async () => {
      let applying!: () => void;
      const applied = new Promise<void>((r) => (applying = r));
      scenarios.set('cancelled', {
        apply: async () => {
          applying();
          // Waits like a confirm loop that keeps going, until the workflow's cancellation reaches it.
          const ctx = Context.current();
          const beat = setInterval(() => ctx.heartbeat(), 200);
          try {
            await ctx.cancelled;
          } finally {
            clearInterval(beat);
          }
          throw new Error('not reached');
        },
      });
      const { handle } = await startOrAttachInstall(env.client, request('cancelled'), { taskQueue });
      await applied;
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow(/cancel/i);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      expect(played.get('cancelled')?.calls.at(-1)).toBe('compensateAttachments');
      const status = await handle.query(installStatusQuery);
      expect(status.steps.at(-1)).toMatchObject({ name: 'compensate-attachments', status: 'ok' });
    });

    it('an input the contract refuses fails the execution with InvalidInput, naming each field in English', async () => {
      // Started around the client's own check, as a caller in another language would start it.
      const bad = { ...request('bad-input'), policy: { connectivityTimeoutSeconds: 0 }, clusterLevel: 'four' };
      const handle = await env.client.workflow.start(INSTALL_HOST_WORKFLOW, {
        args: [bad],
        taskQueue,
        workflowId: `saga-${token}-bad-input`,
      });
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => (err as { cause?: ApplicationFailure }).cause,
      );
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
      // The sandbox's zod speaks English (workflows/sandbox-zod.ts), not "Invalid input".
      expect(failure?.message).toContain('policy.connectivityTimeoutSeconds: Too small: expected number to be >=1');
      expect(failure?.message).toContain('clusterLevel: Invalid string: must match pattern');
      expect(played.has('bad-input')).toBe(false);
    });
  },
);
