/**
 * refreshHostNetworks: read one host's capabilities and make the store tell the truth about its networks
 * (docs/engine-host-networking.md#refresh-from-capabilities): load the refresh context → probe the agent →
 * decide with the pure `refreshHost` → record the report and the attachment changes → compute the
 * out-of-sync report over the recorded state → publish `NetworkSync` and `HostNetworkStatus` as search
 * attributes, so an operator finds every drifting or non-operational host in the Web UI.
 *
 * It runs as a child of the host's entity workflow (never in the middle of a change on the same host), or
 * on its own where no entity runs. A report the store would refuse (`HostReportError`) is a result
 * (`report-refused`, nothing written), not a failed workflow task; invalid input fails the execution.
 */
import {
  ApplicationFailure,
  patched,
  proxyActivities,
  proxyLocalActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { z } from 'zod';
import type { InstallHostActivities, RefreshActivities } from '../activities/types';
import { FailureType } from '../model/failures';
import { hostSyncReport } from '../model/network-sync/host-report';
import { RefreshContext } from '../model/refresh/context';
import {
  REFRESH_CONTRACT_VERSION,
  RefreshHostNetworksInput,
  RefreshOutcome,
  type RefreshHostNetworksRequest,
  type RefreshHostNetworksResult,
} from '../model/refresh/contract';
import { HostReportError, RefreshPreconditionError } from '../model/refresh/errors';
import { refreshHost, type RefreshResult } from '../model/refresh/refresh-host';
import { HostIdKey, HostNetworkStatusKey, NetworkSyncKey } from '../model/search-attributes';
import { agentCall, asLocal, storeCall } from './activity-options';

/**
 * `patched()` id of running the three steps as local activities, in the worker that runs the workflow task:
 * a read of the store, a read of the agent and a store write that may be repeated, each recorded as one marker
 * instead of an activity through the server (docs/performance.md#local-activities). A refresh is then one
 * workflow task where it was four. Executions recorded before it replay with activities.
 */
export const REFRESH_STEPS_RUN_LOCALLY = 'refresh-steps-run-locally';

export async function refreshHostNetworks(request: RefreshHostNetworksRequest): Promise<RefreshHostNetworksResult> {
  const input = parse(RefreshHostNetworksInput, request, 'refresh input');
  upsertSearchAttributes([{ key: HostIdKey, value: input.hostId }]);
  const storeSummary = `store: host ${input.hostId}`;
  const agentSummary = `Host.getCapabilities (${input.reason})`;
  // Asked after the input is parsed: an invalid input fails the execution with no marker, as before.
  const local = patched(REFRESH_STEPS_RUN_LOCALLY);
  const store = local
    ? proxyLocalActivities<RefreshActivities>({ ...asLocal(storeCall), summary: storeSummary })
    : proxyActivities<RefreshActivities>({ ...storeCall, summary: storeSummary });
  const agent = local
    ? proxyLocalActivities<InstallHostActivities>({ ...asLocal(agentCall), summary: agentSummary })
    : proxyActivities<InstallHostActivities>({ ...agentCall, summary: agentSummary });

  const loaded = await store.loadRefreshContext(input.hostId);
  const context = parse(RefreshContext, loaded.context, 'refresh context');
  const { capabilities } = await agent.probeCapabilities(loaded.endpoint);

  let decided: RefreshResult;
  try {
    decided = refreshHost(context, capabilities, { skipManagementNetwork: input.skipManagementNetwork });
  } catch (err) {
    if (err instanceof HostReportError) {
      return { ...emptyResult(input), outcome: RefreshOutcome.REPORT_REFUSED, problems: err.issues };
    }
    if (err instanceof RefreshPreconditionError)
      throw ApplicationFailure.create({ type: FailureType.INVALID_INPUT, message: err.message, nonRetryable: true });
    throw err;
  }

  const { attachments } = await store.recordRefresh({
    hostId: input.hostId,
    reportedInterfaces: decided.reportedInterfaces,
    attachmentChanges: decided.attachmentChanges,
    requestedBy: `refresh:${workflowInfo().workflowId}`,
  });
  const sync = hostSyncReport({
    networks: context.networks,
    clusterNetworks: context.clusterNetworks,
    attachments,
    reported: decided.reportedInterfaces,
  });
  upsertSearchAttributes([
    { key: NetworkSyncKey, value: sync.state },
    { key: HostNetworkStatusKey, value: decided.compliance.status },
  ]);
  return {
    ...emptyResult(input),
    outcome: RefreshOutcome.REFRESHED,
    sync,
    compliance: decided.compliance,
    actions: decided.actions,
    reportChanges: decided.reportChanges,
    netConfigDirty: decided.netConfigDirty,
  };
}

function emptyResult(input: RefreshHostNetworksInput): RefreshHostNetworksResult {
  return {
    version: REFRESH_CONTRACT_VERSION,
    hostId: input.hostId,
    reason: input.reason,
    outcome: RefreshOutcome.REFRESHED,
    sync: null,
    compliance: null,
    actions: [],
    reportChanges: null,
    netConfigDirty: null,
    problems: [],
  };
}

/** Parses with zod; a mismatch is a final `InvalidInput` failure naming every issue, not a failed workflow task. */
function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || what}: ${i.message}`);
  throw ApplicationFailure.create({
    type: FailureType.INVALID_INPUT,
    message: `${what} is invalid: ${issues.join('; ')}`,
    nonRetryable: true,
    details: issues,
  });
}
