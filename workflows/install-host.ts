/**
 * install-host: probe → getRoute → devise ovirtmgmt → record attachments → setupNetworks under a
 * connectivity check (the host rolls back by itself unless we confirm) → commit → fence/reboot → verify.
 *
 * A saga: once attachments are recorded, their compensation is registered; it runs (non-cancellably) when
 * the host rolls back or any later step fails, so the store never claims a network the host does not have.
 * Outcomes are results, not workflow failures: `configured | already-configured | skipped-no-route |
 * rolled-back | failed`. Only invalid input fails the execution itself.
 */
import { ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities, uuid4, type ActivityOptions } from '@temporalio/workflow';
import type { InstallHostActivities, SetupNetworksOutcome } from '../activities/types';
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
import { FailureType, isRetryable } from '../model/failures';
import { verifyManagementNetwork } from '../model/install-host/verify-management-network';
import { agentCall, applyWithConfirmProfile, fence, storeCall, waitForAgentProfile } from './activity-options';
import { InstallProgress } from './install-progress';
import { InstallPhase } from './messages';

/** `patched()` id of the rule that refuses a VM network on a bond in mode 0, 5 or 6 (model/network/bond-modes.ts). */
export const BOND_MODE_RULE_PATCH = 'devise-refuses-vm-network-on-forbidden-bond-mode';

/** Cluster level from which the host commits in the same call (docs/engine-host-networking.md#committing-the-change). */
const COMMIT_ON_SUCCESS_LEVEL = [4, 3] as const;

function atLeast(level: string, [major, minor]: readonly [number, number]): boolean {
  const [a = 0, b = 0] = level.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

export async function installHost(request: InstallHostRequest): Promise<InstallHostResult> {
  const parsed = InstallHostInput.safeParse(request);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
    throw ApplicationFailure.create({ message: `invalid install-host input: ${issues.join('; ')}`, type: FailureType.INVALID_INPUT, nonRetryable: !isRetryable(FailureType.INVALID_INPUT), details: issues });
  }
  const input = parsed.data;
  const progress = new InstallProgress(input.host.name, input.host.clusterId);
  const policy = input.policy;
  const mgmt = input.managementNetwork;
  const endpoint = { ...input.agent, host: input.agent.host ?? input.host.address };

  // Each call carries its own one-line summary, shown next to the activity in the Web UI.
  const via = (profile: ActivityOptions, summary: string) => proxyActivities<InstallHostActivities>({ ...profile, summary: summary.slice(0, 200) });
  const waitProfile = waitForAgentProfile(policy.agentWaitSeconds);

  const result: InstallHostResult = {
    version: CONTRACT_VERSION,
    hostId: input.host.id,
    outcome: InstallOutcome.FAILED,
    device: null,
    rule: null,
    ruleDetail: '',
    setupNetworksRequest: null,
    steps: progress.steps,
    failure: null,
  };
  const finish = (outcome: InstallHostResult['outcome'], failure: InstallHostResult['failure'] = null): InstallHostResult => {
    result.outcome = outcome;
    result.failure = failure;
    progress.result = result;
    progress.enter(outcome);
    return result;
  };

  const compensations: Array<() => Promise<unknown>> = [];
  const compensate = async (): Promise<void> => {
    if (!compensations.length) return;
    progress.enter(InstallPhase.COMPENSATE);
    await CancellationScope.nonCancellable(async () => {
      for (const undo of compensations.splice(0).reverse()) await undo();
    });
  };

  try {
    progress.enter(InstallPhase.WAIT_AGENT);
    const pingSummary = `Host.ping2 ${endpoint.host}:${endpoint.port}`;
    await progress.step('wait-agent', pingSummary, () => via(waitProfile, pingSummary).waitForAgent({ endpoint, timeoutSeconds: policy.agentWaitSeconds }));

    progress.enter(InstallPhase.PROBE);
    const { capabilities: caps } = await progress.step('probe', 'Host.getCapabilities', () => via(agentCall, `Host.getCapabilities of ${input.host.name}`).probeCapabilities(endpoint), (p) =>
      `${Object.keys(p.capabilities.nics).length} nics, ${Object.keys(p.capabilities.bondings).length} bonds, ${Object.keys(p.capabilities.networks).length} networks, lastClientIface ${p.capabilities.lastClientIface || '(none)'}`,
    );

    progress.enter(InstallPhase.ROUTE);
    const routeSummary = `Host.getRoute(${input.managerAddress})`;
    const routed = await progress.step('route', routeSummary, () =>
      via(agentCall, routeSummary).findRouteToManager({ endpoint, managerAddress: input.managerAddress, hostAddress: input.host.address }),
      (r) => (r.route.kind === 'route' ? `dev ${r.route.device}` : r.route.kind === 'no-route' ? `no route: ${r.route.reason}` : 'agent has no Host.getRoute (older agent)'),
    );
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
    if (!choice.device) return finish(InstallOutcome.SKIPPED_NO_ROUTE);

    progress.enter(InstallPhase.DEVISE);
    // Asked only for a bond under the device, so executions on other devices record no marker.
    const devised = deviseManagementNetwork(caps, choice.device, mgmt, { checkBondMode: () => patched(BOND_MODE_RULE_PATCH) });
    if (devised.kind === 'already-configured') {
      progress.note('devise', 'skipped', devised.detail);
      return finish(InstallOutcome.ALREADY_CONFIGURED);
    }
    if (devised.kind === 'failed') {
      progress.note('devise', 'failed', devised.message);
      return finish(InstallOutcome.FAILED, { type: devised.type, message: devised.message });
    }
    progress.note('devise', 'ok', devised.detail);

    const hostCommits =
      policy.commitMode === CommitMode.COMMIT_ON_SUCCESS ||
      (policy.commitMode === CommitMode.AUTO && atLeast(input.clusterLevel, COMMIT_ON_SUCCESS_LEVEL) && caps.clusterLevels.some((l) => atLeast(l, COMMIT_ON_SUCCESS_LEVEL)));
    const options = { connectivityCheck: 'true', connectivityTimeout: String(policy.connectivityTimeoutSeconds), commitOnSuccess: hostCommits };
    result.setupNetworksRequest = { networks: devised.networks, bondings: {}, options };

    progress.enter(InstallPhase.RECORD);
    const recordSummary = `intent: ${mgmt.name} on ${devised.baseDevice}`;
    const snapshot = await progress.step('record-attachments', recordSummary, () =>
      via(storeCall, `record attachment ${mgmt.name} on ${devised.baseDevice}`).recordAttachments({ hostId: input.host.id, attachments: [devised.attachment], requestedBy: `install-host` }),
    );
    compensations.push(() => via(storeCall, `compensate attachment ${mgmt.name} of ${input.host.name}`).compensateAttachments(snapshot));

    progress.enter(InstallPhase.APPLY);
    const requestId = uuid4();
    const applySummary = `Host.setupNetworks ${mgmt.name} (confirm within ${policy.connectivityTimeoutSeconds}s)`;
    const applied: SetupNetworksOutcome = await progress.step(
      'setup-networks',
      applySummary,
      () => via(applyWithConfirmProfile(policy.connectivityTimeoutSeconds), applySummary).setupNetworksWithConfirm({ endpoint, requestId, networks: devised.networks, bondings: {}, options, connectivityTimeoutSeconds: policy.connectivityTimeoutSeconds }),
      (o) => (o.status === 'applied' ? `applied and confirmed (${o.confirmations} confirmations)` : `host rolled back: code ${o.code} ${o.message}`),
    );
    if (applied.status === 'rolled-back') {
      await progress.step('compensate-attachments', 'host rolled back: restore recorded attachments', compensate);
      return finish(InstallOutcome.ROLLED_BACK, { type: FailureType.CONNECTIVITY_CHECK_FAILED, message: `host rolled back the change (code ${applied.code}: ${applied.message})` });
    }

    progress.enter(InstallPhase.COMMIT);
    if (hostCommits) progress.note('commit', 'ok', 'committed by the host (commitOnSuccess)');
    else await progress.step('commit', 'Host.setSafeNetworkConfig', () => via(agentCall, `Host.setSafeNetworkConfig on ${input.host.name}`).setSafeNetworkConfig(endpoint));

    progress.enter(InstallPhase.REBOOT);
    const pm = input.powerManagement;
    if (!policy.reboot) progress.note('reboot', 'skipped', 'reboot disabled by policy');
    else if (!pm) progress.note('reboot', 'skipped', 'no power management configured');
    else {
      const { proxy, ...powerManagement } = pm;
      const proxyEndpoint = { ...proxy.agent, host: proxy.agent.host };
      const fenceSummary = `Host.fenceNode reboot via ${proxy.name}`;
      await progress.step('fence-reboot', fenceSummary, () => via(fence, fenceSummary).fenceHost({ proxy: proxyEndpoint, powerManagement, action: 'reboot' }), (r) =>
        `power ${r.power}${r.operationStatus ? `, ${r.operationStatus}` : ''}`,
      );
      await progress.step('wait-agent-after-reboot', pingSummary, () => via(waitProfile, `${pingSummary} after the reboot`).waitForAgent({ endpoint, timeoutSeconds: policy.agentWaitSeconds }));
    }

    progress.enter(InstallPhase.VERIFY);
    const verifySummary = `${mgmt.name} as devised, netConfigDirty False`;
    const after = await progress.step('verify', verifySummary, () => via(agentCall, `verify: ${verifySummary}`).probeCapabilities(endpoint));
    const problems = verifyManagementNetwork(after.capabilities, mgmt.name, devised.networks[mgmt.name] ?? {});
    if (problems.length) {
      progress.note('verify-result', 'failed', problems.join('; '));
      await progress.step('compensate-attachments', 'verification failed: restore recorded attachments', compensate);
      return finish(InstallOutcome.FAILED, { type: FailureType.VERIFICATION_FAILED, message: problems.join('; ') });
    }
    progress.note('verify-result', 'ok', `${mgmt.name} reported as devised`);
    return finish(InstallOutcome.CONFIGURED);
  } catch (err) {
    // A visible step, like the compensations above, so operators see the undo after the failed step. The
    // step record is workflow state only (no command), so recorded histories replay unchanged.
    if (compensations.length) await progress.step('compensate-attachments', `${failureOf(err).type}: restore recorded attachments`, compensate);
    if (isCancellation(err)) throw err;
    return finish(InstallOutcome.FAILED, failureOf(err));
  }
}

function failureOf(err: unknown): { type: string; message: string } {
  let cause: unknown = err;
  while (cause instanceof Error && 'cause' in cause && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'ApplicationFailure', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(err) };
}
