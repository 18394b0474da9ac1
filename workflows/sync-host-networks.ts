/**
 * syncHostNetworks: refresh (to sync what drifts now) → re-send the drifting (or named) attachments as
 * stored through hostSetupNetworks with `overrideConfiguration`, under the connectivity check, committed
 * per its policy → refresh again, whose report the result carries (model/refresh/sync.ts). Runs as a child
 * of the host's entity workflow (kind `sync`), so nothing else changes the host meanwhile; its own steps
 * are children of it.
 */
import { ApplicationFailure, executeChild, workflowInfo } from '@temporalio/workflow';
import { FailureType } from '../model/failures';
import { HostSetupNetworksOutcome } from '../model/host-setup-networks/contract';
import { REFRESH_CONTRACT_VERSION, RefreshOutcome, RefreshReason, type RefreshHostNetworksResult } from '../model/refresh/contract';
import {
  attachmentsToSync,
  SYNC_CONTRACT_VERSION,
  SyncHostNetworksRequest,
  SyncOutcome,
  syncSetupRequest,
  type SyncHostNetworksRequestInput,
  type SyncHostNetworksResult,
} from '../model/refresh/sync';
import { hostSetupNetworks } from './host-setup-networks';
import { refreshHostNetworks } from './refresh-host-networks';

export async function syncHostNetworks(raw: SyncHostNetworksRequestInput): Promise<SyncHostNetworksResult> {
  const parsed = SyncHostNetworksRequest.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
    throw ApplicationFailure.create({
      type: FailureType.INVALID_INPUT,
      message: `invalid sync input: ${issues.join('; ')}`,
      nonRetryable: true,
      details: issues,
    });
  }
  const request = parsed.data;
  const id = workflowInfo().workflowId;
  const refresh = (reason: RefreshReason, step: string): Promise<RefreshHostNetworksResult> =>
    executeChild(refreshHostNetworks, {
      workflowId: `${id}/${step}`,
      args: [{ version: REFRESH_CONTRACT_VERSION, hostId: request.hostId, reason }],
    });

  const base = { version: SYNC_CONTRACT_VERSION, hostId: request.hostId } as const;
  const before = await refresh(RefreshReason.BEFORE_SYNC, 'refresh-before');
  if (before.outcome !== RefreshOutcome.REFRESHED || !before.sync)
    return { ...base, outcome: SyncOutcome.NOT_SYNCED, attachmentIds: [], before, setup: null, after: null };
  const attachmentIds = attachmentsToSync(before.sync, request);
  if (!attachmentIds.length) return { ...base, outcome: SyncOutcome.NOTHING_TO_SYNC, attachmentIds, before, setup: null, after: null };

  const setup = await executeChild(hostSetupNetworks, { workflowId: `${id}/setup`, args: [syncSetupRequest(request, attachmentIds)] });
  if (setup.outcome !== HostSetupNetworksOutcome.CONFIGURED)
    return { ...base, outcome: SyncOutcome.NOT_SYNCED, attachmentIds, before, setup, after: null };
  const after = await refresh(RefreshReason.AFTER_APPLY, 'refresh-after');
  return { ...base, outcome: SyncOutcome.SYNCED, attachmentIds, before, setup, after };
}
