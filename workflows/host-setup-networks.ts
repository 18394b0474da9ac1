/**
 * hostSetupNetworks: one request to change one host's networks, carried out as the engine's
 * HostSetupNetworksCommand does (docs/engine-host-networking.md), as a saga (workflows/saga.ts):
 *
 * load the context from the store (probing the host first when it has never reported its interfaces) →
 * `prepareHostSetupNetworks` (pure, here in the workflow): a no-op is answered without touching the host
 * or the store; an invalid request is answered with every violation, nothing sent or stored → record the
 * intent (registers the compensation: restore the exact previous rows) → `Host.setupNetworks` under the
 * connectivity check with the shared confirm loop → commit per policy (`setSafeNetworkConfig`, unless the
 * host commits itself with `commitOnSuccess`) → record the host's new interface report, as the engine
 * refreshes capabilities after a change, so the next request is checked against what the host now has.
 *
 * A host that rolls back ends the request `rolled-back`; any other error ends it `failed`; both restore the
 * rows exactly. Outcomes are results; only input that breaks the contract fails the execution. It normally
 * runs as a child of the host's entity workflow (workflows/host-networks.ts), one at a time per host.
 */
import { ApplicationFailure, isCancellation, log, proxyActivities, uuid4, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { HostNetworkingContextAnswer, HostNetworkingHost, HostprovActivities, SetupNetworksOutcome } from '../activities/types';
import { FailureType, isRetryable } from '../model/failures';
import {
  HOST_SETUP_NETWORKS_RESULT_VERSION,
  HostSetupNetworksOutcome,
  type HostSetupNetworksResult,
} from '../model/host-setup-networks/contract';
import type { HostSetupNetworksContext } from '../model/host-setup-networks/context';
import { PreparedKind, prepareHostSetupNetworks, type PreparedHostSetupNetworks } from '../model/host-setup-networks/prepare';
import { HostSetupNetworksRequest, type HostSetupNetworksRequestInput } from '../model/host-setup-networks/request';
import { agentCall, applyWithConfirmProfile, storeCall, storeCompensation } from './activity-options';
import { SetupNetworksPhase } from './host-setup-networks-messages';
import { failureOf, runSaga, SagaStop, type Saga } from './saga';
import { SetupNetworksProgress } from './setup-networks-progress';

type Ready = Extract<PreparedHostSetupNetworks, { kind: typeof PreparedKind.READY }>;

/** What every step of one request shares. */
interface Run {
  request: HostSetupNetworksRequest;
  progress: SetupNetworksProgress;
  result: HostSetupNetworksResult;
  via(profile: ActivityOptions, summary: string): HostprovActivities;
}

export async function hostSetupNetworks(raw: HostSetupNetworksRequestInput): Promise<HostSetupNetworksResult> {
  const request = parseInput(raw);
  const progress = new SetupNetworksProgress(request.hostId);
  const run: Run = {
    request,
    progress,
    result: {
      version: HOST_SETUP_NETWORKS_RESULT_VERSION,
      hostId: request.hostId,
      outcome: HostSetupNetworksOutcome.FAILED,
      violations: [],
      warnings: [],
      dropped: { attachments: [], bonds: [] },
      setupNetworksRequest: null,
      attachments: null,
      steps: progress.steps,
      failure: null,
      compensation: null,
    },
    via: (profile, summary) => proxyActivities<HostprovActivities>({ ...profile, summary: summary.slice(0, 200) }),
  };
  const end = await runSaga((saga) => pipeline(run, saga), { failedOutcome: HostSetupNetworksOutcome.FAILED, failureOf });
  const { result } = run;
  result.outcome = end.outcome;
  result.failure = end.failure;
  result.compensation = end.compensation;
  progress.result = result;
  progress.enter(end.outcome);
  return result;
}

async function pipeline(run: Run, saga: Saga): Promise<HostSetupNetworksOutcome> {
  const { host, context } = await load(run);
  const prepared = prepare(run, context);
  if (prepared.kind === PreparedKind.NO_OP) return HostSetupNetworksOutcome.NO_OP;
  if (prepared.kind === PreparedKind.INVALID) return HostSetupNetworksOutcome.INVALID;
  await recordIntent(run, saga, prepared);
  await apply(run, host, prepared);
  await commit(run, host, prepared);
  await refreshReport(run, host);
  return HostSetupNetworksOutcome.CONFIGURED;
}

function parseInput(raw: HostSetupNetworksRequestInput): HostSetupNetworksRequest {
  const parsed = HostSetupNetworksRequest.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  throw ApplicationFailure.create({
    message: `invalid hostSetupNetworks input: ${issues.join('; ')}`,
    type: FailureType.INVALID_INPUT,
    nonRetryable: !isRetryable(FailureType.INVALID_INPUT),
    details: issues,
  });
}

/** The context from the store; a host that never reported its interfaces is probed and its report recorded first. */
async function load({ request, progress, via }: Run): Promise<{ host: HostNetworkingHost; context: HostSetupNetworksContext }> {
  const { hostId } = request;
  progress.enter(SetupNetworksPhase.LOAD);
  const read = (): Promise<HostNetworkingContextAnswer> =>
    progress.step(
      'load-context',
      `host ${hostId} from the store`,
      () => via(storeCall, `load host networking context of ${hostId}`).loadHostSetupNetworksContext({ hostId }),
      (a) =>
        a.context
          ? `${a.context.attachments.length} attachments, ${a.context.clusterNetworks.length} cluster networks, ${a.context.host.reportedInterfaces.nics.length} nics reported`
          : 'no interface report yet',
    );
  const first = await read();
  progress.identify(first.host.name, first.host.clusterId);
  if (first.context) return { host: first.host, context: first.context };
  progress.enter(SetupNetworksPhase.PROBE);
  await probeAndRecord({ request, progress, via }, first.host, 'probe');
  const second = await read();
  if (!second.context)
    throw ApplicationFailure.create({
      type: FailureType.STORE_NOT_FOUND,
      message: `host ${hostId} has no interface report after recording one`,
      nonRetryable: true,
    });
  return { host: second.host, context: second.context };
}

/** Completes, drops no-ops, validates and builds the payload and intent: pure, in the workflow. */
function prepare({ request, progress, result }: Run, context: HostSetupNetworksContext): PreparedHostSetupNetworks {
  progress.enter(SetupNetworksPhase.VALIDATE);
  const prepared = prepareHostSetupNetworks(request, context);
  result.warnings = prepared.warnings;
  result.dropped = {
    attachments: prepared.dropped.attachments.map((a) => a.network?.name ?? a.requestedNetwork.name ?? a.id ?? `attachments[${a.index}]`),
    bonds: prepared.dropped.bonds.map((b) => b.name),
  };
  const dropped = result.dropped.attachments.length + result.dropped.bonds.length;
  if (prepared.kind === PreparedKind.NO_OP) {
    progress.note('validate', 'skipped', `nothing to change${dropped ? ` (${dropped} unchanged entries dropped)` : ''}`);
  } else if (prepared.kind === PreparedKind.INVALID) {
    result.violations = prepared.violations;
    progress.note(
      'validate',
      'failed',
      `${prepared.violations.length} violations: ${[...new Set(prepared.violations.map((v) => v.key))].join(', ')}`,
    );
  } else {
    result.setupNetworksRequest = prepared.payload;
    const { upserts = [], removals = [] } = prepared.intent;
    progress.note(
      'validate',
      'ok',
      `${upserts.length} attachments to write, ${removals.length} to remove, ${Object.keys(prepared.payload.networks).length} networks and ${Object.keys(prepared.payload.bondings).length} bonds to send`,
    );
  }
  return prepared;
}

/** Writes the intent before the host changes; from here on, the saga puts the rows back exactly. */
async function recordIntent({ request, progress, result, via }: Run, saga: Saga, prepared: Ready): Promise<void> {
  progress.enter(SetupNetworksPhase.RECORD);
  const requestedBy = workflowInfo().workflowId;
  const recorded = await progress.step(
    'record-intent',
    `intent of ${requestedBy}`,
    () =>
      via(storeCall, `record attachment intent on ${request.hostId}`).recordAttachmentIntent({
        hostId: request.hostId,
        changes: prepared.intent,
        requestedBy,
      }),
    (r) => `${r.snapshot.entries.length} rows touched, ${r.attachments.length} attachments now`,
  );
  saga.register(async (why) => {
    progress.enter(SetupNetworksPhase.COMPENSATE);
    await progress.step('compensate', `${why?.type ?? 'stopped'}: restore ${recorded.snapshot.entries.length} rows`, () =>
      via(storeCompensation, `restore attachments of ${request.hostId}`).restoreAttachments(recorded.snapshot),
    );
  });
  result.attachments = recorded.attachments;
}

/** setupNetworks with the shared confirm loop; a host that rolled back ends the request `rolled-back`. */
async function apply({ request, progress, via }: Run, host: HostNetworkingHost, prepared: Ready): Promise<void> {
  progress.enter(SetupNetworksPhase.APPLY);
  const timeout = request.options.connectivityTimeoutSeconds;
  const requestId = uuid4();
  const { networks, bondings, options } = prepared.payload;
  const summary = `Host.setupNetworks ${Object.keys(networks).length} networks, ${Object.keys(bondings).length} bonds on ${host.name}`;
  const applied: SetupNetworksOutcome = await progress.step(
    'setup-networks',
    summary,
    () =>
      via(applyWithConfirmProfile(timeout), summary).setupNetworksWithConfirm({
        endpoint: host.agentEndpoint,
        requestId,
        networks,
        bondings,
        options,
        connectivityTimeoutSeconds: timeout,
      }),
    (o) =>
      o.status === 'applied' ? `applied and confirmed (${o.confirmations} confirmations)` : `host rolled back: code ${o.code} ${o.message}`,
  );
  if (applied.status === 'rolled-back') {
    throw new SagaStop(HostSetupNetworksOutcome.ROLLED_BACK, {
      type: FailureType.CONNECTIVITY_CHECK_FAILED,
      message: `host rolled back the change (code ${applied.code}: ${applied.message})`,
    });
  }
}

async function commit({ progress, via }: Run, host: HostNetworkingHost, prepared: Ready): Promise<void> {
  progress.enter(SetupNetworksPhase.COMMIT);
  if (prepared.payload.options.commitOnSuccess) progress.note('commit', 'ok', 'committed by the host (commitOnSuccess)');
  else
    await progress.step('commit', 'Host.setSafeNetworkConfig', () =>
      via(agentCall, `Host.setSafeNetworkConfig on ${host.name}`).setSafeNetworkConfig(host.agentEndpoint),
    );
}

/** `Host.getCapabilities`, recorded as the host's last interface report. */
async function probeAndRecord(
  { request, progress, via }: Pick<Run, 'request' | 'progress' | 'via'>,
  host: HostNetworkingHost,
  name: string,
): Promise<void> {
  const { capabilities } = await progress.step(
    name,
    'Host.getCapabilities',
    () => via(agentCall, `Host.getCapabilities of ${host.name}`).probeCapabilities(host.agentEndpoint),
    (p) =>
      `${Object.keys(p.capabilities.nics).length} nics, ${Object.keys(p.capabilities.bondings).length} bonds, ${Object.keys(p.capabilities.networks).length} networks`,
  );
  await progress.step(`${name}-record`, `interfaces of ${host.name}`, () =>
    via(storeCall, `record reported interfaces of ${host.name}`).recordReportedInterfaces({ hostId: request.hostId, capabilities }),
  );
}

/**
 * After a committed change: the host's report as it is now. The change stands whatever happens here (the
 * host committed it, so the rows must stay): a failure is a failed step in the result, not a failed request.
 */
async function refreshReport(run: Run, host: HostNetworkingHost): Promise<void> {
  run.progress.enter(SetupNetworksPhase.REFRESH);
  try {
    await probeAndRecord(run, host, 'refresh');
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('could not refresh the interface report after the change', { hostId: run.request.hostId, failure: failureOf(err) });
  }
}
