/**
 * install-host: probe → getRoute → devise ovirtmgmt → record attachments → setupNetworks under a
 * connectivity check (the host rolls back by itself unless we confirm) → commit → fence/reboot → verify.
 *
 * A saga (workflows/saga.ts): recording the attachments registers their compensation. A step that decides
 * the outcome early (no route, already configured, a refusal, the host rolled back, verification failed)
 * throws a `SagaStop`; any other error ends it `failed`. Either way the saga compensates in one place,
 * non-cancellably, and a failed compensation is reported in `result.compensation` beside the outcome.
 * Outcomes are results, not workflow failures: `configured | already-configured | skipped-no-route |
 * rolled-back | failed`. Only invalid input fails the execution itself.
 */
import {
  ApplicationFailure,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  uuid4,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { AttachmentsSnapshot, HostProbe, InstallHostActivities, RouteProbe, SetupNetworksOutcome } from '../activities/types';
import { chooseManagementDevice } from '../model/install-host/choose-device';
import {
  CommitMode,
  CONTRACT_VERSION,
  InstallHostInput,
  InstallOutcome,
  type InstallHostRequest,
  type InstallHostResult,
} from '../model/install-host/contract';
import { deviseManagementNetwork } from '../model/install-host/devise-management-network';
import { clusterLevelAtLeast, hostSupportsClusterLevel } from '../model/install-host/cluster-level';
import { registrationOf } from '../model/install-host/registration';
import { FailureType, isRetryable } from '../model/failures';
import { verifyManagementNetwork } from '../model/install-host/verify-management-network';
import {
  agentCall,
  applyWithConfirmProfile,
  askAgentOnce,
  asLocal,
  fence,
  storeCall,
  storeCompensation,
  waitForAgentProfile,
} from './activity-options';
import { InstallProgress } from './install-progress';
import { InstallPhase } from './messages';
import { failureOf, runSaga, SagaStop, type Saga } from './saga';

/** `patched()` id of the rule that refuses a VM network on a bond in mode 0, 5 or 6 (model/network/bond-modes.ts). */
export const BOND_MODE_RULE_PATCH = 'devise-refuses-vm-network-on-forbidden-bond-mode';

/** Cluster level from which the host commits in the same call (docs/engine-host-networking.md#committing-the-change). */
const COMMIT_ON_SUCCESS_LEVEL = [4, 3] as const;

/**
 * Executions recorded before a failed compensation was a result: there, one that failed after an error or a
 * cancellation failed the execution. Replaying them must do the same; new executions record it instead.
 */
export const FAILED_COMPENSATION_IS_RECORDED = 'failed-compensation-is-recorded';

/**
 * Executions from here on run the short steps (the reads, the commit, the verification; the agent wait too,
 * until {@link AGENT_WAIT_IS_AN_ACTIVITY}) as local activities, and show only the phases they can wait in as the
 * `InstallPhase` search attribute (docs/performance.md#local-activities). Earlier executions scheduled
 * every step as an activity and upserted every phase; replaying them still does.
 */
export const SHORT_STEPS_RUN_LOCALLY = 'short-steps-run-locally';

/**
 * Executions from here on wait for the agent in an activity again, before and after the reboot: that wait
 * may last minutes (a host booting), and a local activity that long holds its workflow task open and cannot
 * be handed back when its worker drains (docs/performance.md#local-activities). Executions recorded with
 * only {@link SHORT_STEPS_RUN_LOCALLY} replay with the wait as a local activity.
 */
export const AGENT_WAIT_IS_AN_ACTIVITY = 'agent-wait-is-an-activity';

/**
 * Executions from here on record the intent as a local activity too. The store records it under the
 * activity's workflow run and id (store version `0003_intent_records`), so the run again that follows a lost
 * workflow task writes nothing and returns the first snapshot (docs/performance.md#local-activities).
 * Executions recorded before record it in an activity.
 */
export const INTENT_RECORDED_LOCALLY = 'intent-recorded-locally';

/**
 * Executions from here on first ask the agent once, as a local activity, and wait for it in an activity only
 * when it did not answer: an agent that is up (the usual case) then costs the install no activity and no
 * extra workflow task (docs/performance.md#asking-the-agent-once-before-waiting). Executions recorded before
 * replay with the wait as an activity from the start.
 */
export const AGENT_ASKED_FIRST = 'agent-asked-once-before-waiting';

/**
 * Executions from here on (history generation v8) take every path the patches above chose, and ask none of
 * them: this one marker stands for all of them, and for {@link BOND_MODE_RULE_PATCH} and
 * {@link FAILED_COMPENSATION_IS_RECORDED}. Each `patched()` call of a new execution records a marker and
 * upserts `TemporalChangeVersion`, so the first workflow task carried four of each.
 * The probe also asks the agent first: `Host.getCapabilities` once, as a local activity without retries,
 * instead of a `Host.ping2` before it. An agent that does not answer is waited for in an activity, then
 * probed again with retries (docs/performance.md#the-probe-asks-first). Executions recorded before replay as
 * they ran.
 */
export const PROBE_ASKS_FIRST = 'probe-asks-first-one-marker';

/**
 * Executions from here on (history generation v9) imply {@link PROBE_ASKS_FIRST} and every patch before it,
 * and spend two local activities fewer: the probe asks for the capabilities and the route to the manager in
 * one (`probeHost`, both calls at once on the kept connection), and an install the host commits itself and
 * does not reboot reads the capabilities it verifies on the apply's own session, right after the answer,
 * instead of in a local activity after it. Each local activity is a round of the workflow's activation on
 * the worker (docs/performance.md#fewer-local-activities). An apply that could not read them back leaves the
 * verification to its own local activity, as before. Executions recorded before replay as they ran.
 */
export const PROBE_READS_ROUTE_TOO = 'probe-reads-route-apply-reads-back';

/**
 * Executions from here on (history generation v10) imply {@link PROBE_READS_ROUTE_TOO} and every patch before
 * it, and refuse a host whose capabilities do not list the install's cluster level among their
 * `clusterLevels`, right after the probe and before anything is recorded or sent: the engine would make such
 * a host NonOperational once it came up (docs/engine-host-networking.md#cluster-levels), after its network
 * had been changed for nothing. Executions recorded before replay as they ran.
 */
export const CLUSTER_LEVEL_CHECKED = 'cluster-level-checked-after-probe';

type Devised = Extract<ReturnType<typeof deviseManagementNetwork>, { kind: 'configure' }>;

/** What the probe found: the capabilities, and the route to the manager when the probe read it too ({@link PROBE_READS_ROUTE_TOO}). */
interface Probed {
  capabilities: HostProbe['capabilities'];
  routed?: RouteProbe;
}

/** What every step of one install shares: the input, the host's endpoint, the visible progress, the result so far. */
interface Install {
  input: InstallHostInput;
  endpoint: InstallHostInput['agent'] & { host: string };
  progress: InstallProgress;
  result: InstallHostResult;
  /** The activities, each call carrying its own one-line summary (shown next to it in the Web UI). */
  via(profile: ActivityOptions, summary: string): InstallHostActivities;
  /** The same for a short step: a local activity with the same budget and retries, in executions that run them so. */
  quick(profile: ActivityOptions, summary: string): InstallHostActivities;
  /** The agent wait: an activity, or a local one in the executions that ran it so. */
  waiting(profile: ActivityOptions, summary: string): InstallHostActivities;
  /** Recording the intent: a local activity, or an activity in the executions that ran it so. */
  recording(profile: ActivityOptions, summary: string): InstallHostActivities;
  /** Ask the agent once, locally, before waiting for it in an activity ({@link AGENT_ASKED_FIRST}). */
  askAgentFirst: boolean;
  /** The probe asks the agent, and the patches before it are implied, not asked ({@link PROBE_ASKS_FIRST}). */
  probeAsksFirst: boolean;
  /** One probe reads the route too, and the apply may read back what the verification needs ({@link PROBE_READS_ROUTE_TOO}). */
  probeReadsRoute: boolean;
  /** The host must support the install's cluster level ({@link CLUSTER_LEVEL_CHECKED}). */
  clusterLevelChecked: boolean;
}

export async function installHost(request: InstallHostRequest): Promise<InstallHostResult> {
  const install = begin(parseInput(request));
  const end = await runSaga((saga) => pipeline(install, saga), {
    failedOutcome: InstallOutcome.FAILED,
    failureOf,
    // A step's own stop never failed the execution, even before; errors and cancellations did.
    recordsFailedCompensation: ({ stopped }) => stopped || install.probeAsksFirst || patched(FAILED_COMPENSATION_IS_RECORDED),
  });
  const { result, progress } = install;
  result.outcome = end.outcome;
  result.failure = end.failure;
  result.compensation = end.compensation;
  progress.result = result;
  progress.enter(end.outcome);
  return result;
}

/** The install, step by step; each step either returns what the next needs or throws a `SagaStop`. */
async function pipeline(install: Install, saga: Saga): Promise<InstallOutcome> {
  const { capabilities: caps, routed } = install.probeReadsRoute
    ? await probeAskingFirst(install, probeHost)
    : { capabilities: install.probeAsksFirst ? await probeAskingFirst(install, probe) : await waitThenProbe(install) };
  if (install.clusterLevelChecked) checkClusterLevel(install, caps);
  const device = await chooseDevice(install, caps, routed);
  const devised = devise(install, caps, device);
  const request = prepareRequest(install, caps, devised);
  await recordAttachments(install, saga, devised);
  // Nothing changes the host between the apply and the verification: the apply's session can read it then.
  const readBack = install.probeReadsRoute && request.hostCommits && !plannedReboot(install.input);
  const applied = await applyUnderConnectivityCheck(install, devised, request.options, readBack);
  await commit(install, request.hostCommits);
  await fenceReboot(install);
  await verify(install, devised, applied.capabilities);
  return InstallOutcome.CONFIGURED;
}

function parseInput(request: InstallHostRequest): InstallHostInput {
  const parsed = InstallHostInput.safeParse(request);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  throw ApplicationFailure.create({
    message: `invalid install-host input: ${issues.join('; ')}`,
    type: FailureType.INVALID_INPUT,
    nonRetryable: !isRetryable(FailureType.INVALID_INPUT),
    details: issues,
  });
}

function begin(input: InstallHostInput): Install {
  // Asked first: where one is in the history, none of those after it is asked. Older histories have them
  // nowhere, and then the others are asked in the order those executions recorded them.
  const clusterLevelChecked = patched(CLUSTER_LEVEL_CHECKED);
  const probeReadsRoute = clusterLevelChecked || patched(PROBE_READS_ROUTE_TOO);
  const probeAsksFirst = probeReadsRoute || patched(PROBE_ASKS_FIRST);
  const shortStepsLocal = probeAsksFirst || patched(SHORT_STEPS_RUN_LOCALLY);
  const agentWaitLocal = !probeAsksFirst && shortStepsLocal && !patched(AGENT_WAIT_IS_AN_ACTIVITY);
  const recordLocal = probeAsksFirst || (shortStepsLocal && patched(INTENT_RECORDED_LOCALLY));
  // Only where the wait is an activity; asked after the markers above, as the executions before it recorded them.
  const askAgentFirst = !probeAsksFirst && shortStepsLocal && !agentWaitLocal && patched(AGENT_ASKED_FIRST);
  const progress = new InstallProgress(input.host.name, input.host.clusterId, { everyPhaseVisible: !shortStepsLocal });
  const via = (profile: ActivityOptions, summary: string): InstallHostActivities =>
    proxyActivities<InstallHostActivities>({ ...profile, summary: summary.slice(0, 200) });
  const local = (profile: ActivityOptions, summary: string): InstallHostActivities =>
    proxyLocalActivities<InstallHostActivities>({ ...asLocal(profile), summary: summary.slice(0, 200) });
  return {
    input,
    endpoint: { ...input.agent, host: input.agent.host ?? input.host.address },
    progress,
    result: {
      version: CONTRACT_VERSION,
      hostId: input.host.id,
      outcome: InstallOutcome.FAILED,
      device: null,
      rule: null,
      ruleDetail: '',
      setupNetworksRequest: null,
      steps: progress.steps,
      failure: null,
      compensation: null,
    },
    via,
    quick: shortStepsLocal ? local : via,
    waiting: agentWaitLocal ? local : via,
    recording: recordLocal ? local : via,
    askAgentFirst,
    probeAsksFirst,
    probeReadsRoute,
    clusterLevelChecked,
  };
}

function pingSummary({ endpoint }: Install): string {
  return `Host.ping2 ${endpoint.host}:${endpoint.port}`;
}

/** Executions before {@link PROBE_ASKS_FIRST}: wait for the agent (asking it once first, from {@link AGENT_ASKED_FIRST}), then probe. */
async function waitThenProbe(install: Install): Promise<HostProbe['capabilities']> {
  const { progress, endpoint } = install;
  progress.enter(InstallPhase.WAIT_AGENT);
  const summary = pingSummary(install);
  await progress.step('wait-agent', summary, async () => {
    if (install.askAgentFirst) {
      try {
        // timeoutSeconds 0: one Host.ping2, no polling; its connection stays open for the probe that follows.
        return await install.quick(askAgentOnce, `${summary} (once)`).waitForAgent({ endpoint, timeoutSeconds: 0 });
      } catch (err) {
        // Not up yet (or not reachable): wait for it as before; that wait reports what stays wrong.
        if (isCancellation(err)) throw err;
      }
    }
    return waitInActivity(install);
  });
  return probe(install, agentCall);
}

/**
 * The probe asks the agent ({@link PROBE_ASKS_FIRST}): once, with no retries, since an agent that does not
 * answer at once is waited for in an activity, then probed as before. Its connection stays open for the
 * calls that follow.
 */
async function probeAskingFirst<T>(install: Install, probing: (install: Install, profile: ActivityOptions) => Promise<T>): Promise<T> {
  try {
    return await probing(install, askAgentOnce);
  } catch (err) {
    // Not up yet (or not answering): wait for it; that wait, or the probe after it, reports what stays wrong.
    if (isCancellation(err)) throw err;
  }
  install.progress.enter(InstallPhase.WAIT_AGENT);
  await install.progress.step('wait-agent', pingSummary(install), () => waitInActivity(install));
  return probing(install, agentCall);
}

function waitInActivity(install: Install): Promise<{ attempts: number }> {
  const { endpoint, input } = install;
  return install
    .waiting(waitForAgentProfile(input.policy.agentWaitSeconds), pingSummary(install))
    .waitForAgent({ endpoint, timeoutSeconds: input.policy.agentWaitSeconds });
}

function describeCapabilities(caps: HostProbe['capabilities']): string {
  return `${Object.keys(caps.nics).length} nics, ${Object.keys(caps.bondings).length} bonds, ${Object.keys(caps.networks).length} networks, lastClientIface ${caps.lastClientIface || '(none)'}`;
}

function describeRoute({ route }: RouteProbe): string {
  if (route.kind === 'route') return `dev ${route.device}`;
  return route.kind === 'no-route' ? `no route: ${route.reason}` : 'agent has no Host.getRoute (older agent)';
}

async function probe({ progress, endpoint, input, quick }: Install, profile: ActivityOptions): Promise<HostProbe['capabilities']> {
  progress.enter(InstallPhase.PROBE);
  const { capabilities } = await progress.step(
    'probe',
    'Host.getCapabilities',
    () => quick(profile, `Host.getCapabilities of ${input.host.name}`).probeCapabilities(endpoint),
    (p) => describeCapabilities(p.capabilities),
  );
  return capabilities;
}

/** The probe of {@link PROBE_READS_ROUTE_TOO}: the capabilities and the route to the manager, in one local activity. */
async function probeHost({ progress, endpoint, input, quick }: Install, profile: ActivityOptions): Promise<Probed> {
  progress.enter(InstallPhase.PROBE);
  const summary = `Host.getCapabilities, Host.getRoute(${input.managerAddress})`;
  const { route, hostAddresses, capabilities } = await progress.step(
    'probe',
    summary,
    () =>
      quick(profile, `${summary} of ${input.host.name}`).probeHost({
        endpoint,
        managerAddress: input.managerAddress,
        hostAddress: input.host.address,
      }),
    (p) => describeCapabilities(p.capabilities),
  );
  return { capabilities, routed: { route, hostAddresses } };
}

/**
 * The device that reaches the manager; a host without one is skipped, visibly. `probed` is the route the
 * probe read too; without it, a step asks for it.
 */
async function chooseDevice(
  { progress, endpoint, input, result, quick }: Install,
  caps: HostProbe['capabilities'],
  probed: RouteProbe | undefined,
): Promise<string> {
  progress.enter(InstallPhase.ROUTE);
  const summary = `Host.getRoute(${input.managerAddress})`;
  let routed: RouteProbe;
  if (probed) {
    routed = probed;
    progress.note('route', 'ok', describeRoute(routed));
  } else {
    routed = await progress.step(
      'route',
      summary,
      () =>
        quick(agentCall, summary).findRouteToManager({ endpoint, managerAddress: input.managerAddress, hostAddress: input.host.address }),
      describeRoute,
    );
  }
  const choice = chooseManagementDevice({
    route: routed.route,
    lastClientIface: caps.lastClientIface,
    hostAddresses: routed.hostAddresses,
    caps,
    managerAddress: input.managerAddress,
  });
  result.device = choice.device;
  result.rule = choice.rule;
  result.ruleDetail = choice.detail;
  progress.note('choose-device', choice.device ? 'ok' : 'skipped', choice.detail);
  if (!choice.device) throw new SagaStop(InstallOutcome.SKIPPED_NO_ROUTE);
  return choice.device;
}

/** ovirtmgmt as the data center defines it, on that device; or why there is nothing to do, or why it cannot be. */
function devise({ progress, input, probeAsksFirst }: Install, caps: HostProbe['capabilities'], device: string): Devised {
  progress.enter(InstallPhase.DEVISE);
  // Asked only for a bond under the device, so executions on other devices record no marker.
  const devised = deviseManagementNetwork(caps, device, input.managementNetwork, {
    checkBondMode: () => probeAsksFirst || patched(BOND_MODE_RULE_PATCH),
  });
  if (devised.kind === 'already-configured') {
    progress.note('devise', 'skipped', devised.detail);
    throw new SagaStop(InstallOutcome.ALREADY_CONFIGURED);
  }
  if (devised.kind === 'failed') {
    progress.note('devise', 'failed', devised.message);
    throw new SagaStop(InstallOutcome.FAILED, { type: devised.type, message: devised.message });
  }
  progress.note('devise', 'ok', devised.detail);
  return devised;
}

/** Refuses a host that cannot serve the install's cluster level ({@link CLUSTER_LEVEL_CHECKED}); nothing is recorded yet. */
function checkClusterLevel({ progress, input }: Install, caps: HostProbe['capabilities']): void {
  if (hostSupportsClusterLevel(caps.clusterLevels, input.clusterLevel)) return;
  const message = `${input.host.name} does not support cluster level ${input.clusterLevel} (it supports ${caps.clusterLevels.join(', ')}); nothing was changed`;
  progress.note('cluster-level', 'failed', message);
  throw new SagaStop(InstallOutcome.FAILED, { type: FailureType.CLUSTER_LEVEL_UNSUPPORTED, message });
}

type RequestOptions = { connectivityCheck: string; connectivityTimeout: string; commitOnSuccess: boolean };

/** Fixes the exact setupNetworks request (into the result), and whether the host commits it itself. */
function prepareRequest(
  { input, result }: Install,
  caps: HostProbe['capabilities'],
  devised: Devised,
): { hostCommits: boolean; options: RequestOptions } {
  const { policy } = input;
  const hostCommits =
    policy.commitMode === CommitMode.COMMIT_ON_SUCCESS ||
    (policy.commitMode === CommitMode.AUTO &&
      clusterLevelAtLeast(input.clusterLevel, COMMIT_ON_SUCCESS_LEVEL) &&
      caps.clusterLevels.some((l) => clusterLevelAtLeast(l, COMMIT_ON_SUCCESS_LEVEL)));
  const options = {
    connectivityCheck: 'true',
    connectivityTimeout: String(policy.connectivityTimeoutSeconds),
    commitOnSuccess: hostCommits,
  };
  result.setupNetworksRequest = { networks: devised.networks, bondings: {}, options };
  return { hostCommits, options };
}

/**
 * Writes the intent before the host changes; from here on, the saga can put the store back. The recording
 * registers the network's definition and the host's cluster too. That is an argument, not a step: the
 * commands are the same, and a local activity's marker keeps its result, not its input, so histories
 * recorded before it replay unchanged.
 */
async function recordAttachments({ progress, input, via, recording }: Install, saga: Saga, devised: Devised): Promise<void> {
  const name = input.managementNetwork.name;
  progress.enter(InstallPhase.RECORD);
  const snapshot: AttachmentsSnapshot = await progress.step('record-attachments', `intent: ${name} on ${devised.baseDevice}`, () =>
    recording(storeCall, `record attachment ${name} on ${devised.baseDevice}`).recordAttachments({
      hostId: input.host.id,
      attachments: [devised.attachment],
      requestedBy: `install-host`,
      registration: registrationOf(input, devised.device),
    }),
  );
  saga.register(async (why) => {
    progress.enter(InstallPhase.COMPENSATE);
    await progress.step('compensate-attachments', `${why?.type ?? 'stopped'}: restore recorded attachments`, () =>
      via(storeCompensation, `compensate attachment ${name} of ${input.host.name}`).compensateAttachments(snapshot),
    );
  });
}

/**
 * setupNetworks with the confirm loop; a host that rolled back ends the install `rolled-back`. With
 * `readBack`, the apply also reads the host's capabilities once it is answered (for {@link verify}).
 */
async function applyUnderConnectivityCheck(
  { progress, endpoint, input, via }: Install,
  devised: Devised,
  options: RequestOptions,
  readBack: boolean,
): Promise<Extract<SetupNetworksOutcome, { status: 'applied' }>> {
  const timeout = input.policy.connectivityTimeoutSeconds;
  progress.enter(InstallPhase.APPLY);
  const requestId = uuid4();
  const summary = `Host.setupNetworks ${input.managementNetwork.name} (confirm within ${timeout}s)`;
  const applied: SetupNetworksOutcome = await progress.step(
    'setup-networks',
    summary,
    () =>
      via(applyWithConfirmProfile(timeout), summary).setupNetworksWithConfirm({
        endpoint,
        requestId,
        networks: devised.networks,
        bondings: {},
        options,
        connectivityTimeoutSeconds: timeout,
        // Only when asked: executions recorded before sent no such field.
        ...(readBack ? { readCapabilitiesAfter: true } : {}),
      }),
    (o) =>
      o.status === 'applied' ? `applied and confirmed (${o.confirmations} confirmations)` : `host rolled back: code ${o.code} ${o.message}`,
  );
  if (applied.status === 'rolled-back') {
    throw new SagaStop(InstallOutcome.ROLLED_BACK, {
      type: FailureType.CONNECTIVITY_CHECK_FAILED,
      message: `host rolled back the change (code ${applied.code}: ${applied.message})`,
    });
  }
  return applied;
}

async function commit({ progress, endpoint, input, quick }: Install, hostCommits: boolean): Promise<void> {
  progress.enter(InstallPhase.COMMIT);
  if (hostCommits) progress.note('commit', 'ok', 'committed by the host (commitOnSuccess)');
  else
    await progress.step('commit', 'Host.setSafeNetworkConfig', () =>
      quick(agentCall, `Host.setSafeNetworkConfig on ${input.host.name}`).setSafeNetworkConfig(endpoint),
    );
}

/** The power management the install reboots the host through, or null: no reboot (the one place that decides). */
function plannedReboot(input: InstallHostInput): NonNullable<InstallHostInput['powerManagement']> | null {
  return input.policy.reboot && input.powerManagement ? input.powerManagement : null;
}

/** Proves the change survives a reboot: fence-reboot through the proxy, then wait for the host to answer again. */
async function fenceReboot(install: Install): Promise<void> {
  const { progress, endpoint, input, via, waiting } = install;
  progress.enter(InstallPhase.REBOOT);
  const pm = plannedReboot(input);
  if (!pm) {
    progress.note('reboot', 'skipped', input.powerManagement ? 'reboot disabled by policy' : 'no power management configured');
    return;
  }
  const { proxy, ...powerManagement } = pm;
  const fenceSummary = `Host.fenceNode reboot via ${proxy.name}`;
  await progress.step(
    'fence-reboot',
    fenceSummary,
    () => via(fence, fenceSummary).fenceHost({ proxy: { ...proxy.agent, host: proxy.agent.host }, powerManagement, action: 'reboot' }),
    (r) => `power ${r.power}${r.operationStatus ? `, ${r.operationStatus}` : ''}`,
  );
  const summary = pingSummary(install);
  const waitSeconds = input.policy.agentWaitSeconds;
  try {
    await progress.step('wait-agent-after-reboot', summary, () =>
      waiting(waitForAgentProfile(waitSeconds), `${summary} after the reboot`).waitForAgent({ endpoint, timeoutSeconds: waitSeconds }),
    );
  } catch (err) {
    // Still an error, not a stop: the same words, saying where it happened.
    if (isCancellation(err)) throw err;
    const { type, message } = failureOf(err);
    throw ApplicationFailure.create({
      type,
      message: `${input.host.name} did not come back after the reboot: ${message}`,
      nonRetryable: true,
    });
  }
}

/**
 * The host must report ovirtmgmt exactly as devised, and a clean configuration. `readBack`: the
 * capabilities the apply read right after its answer, if it did; otherwise a step reads them now.
 */
async function verify(
  { progress, endpoint, input, quick }: Install,
  devised: Devised,
  readBack: HostProbe['capabilities'] | undefined,
): Promise<void> {
  const name = input.managementNetwork.name;
  progress.enter(InstallPhase.VERIFY);
  const summary = `${name} as devised, netConfigDirty False`;
  let after: HostProbe['capabilities'];
  if (readBack) {
    after = readBack;
    progress.note('verify', 'ok', `${summary}: read on the apply's session after its answer`);
  } else {
    ({ capabilities: after } = await progress.step('verify', summary, () =>
      quick(agentCall, `verify: ${summary}`).probeCapabilities(endpoint),
    ));
  }
  const problems = verifyManagementNetwork(after, name, devised.networks[name] ?? {});
  if (problems.length) {
    progress.note('verify-result', 'failed', problems.join('; '));
    throw new SagaStop(InstallOutcome.FAILED, { type: FailureType.VERIFICATION_FAILED, message: problems.join('; ') });
  }
  progress.note('verify-result', 'ok', `${name} reported as devised`);
}
