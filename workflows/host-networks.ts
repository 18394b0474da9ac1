/**
 * hostNetworks: the per-host entity workflow, id `host-networks/<hostId>`. Every change to a host's
 * networks goes through it, as an Update (`hostNetworkChange`), usually sent with Update-with-Start
 * (workflow-client/host-networks.ts). Changes run strictly one at a time, first accepted first run, each as
 * a child workflow (`CHANGE_WORKFLOWS` names it by kind); the Update returns the child's result. So two
 * requests for one host never interleave: the second is queued, not refused (docs/host-networks.md).
 *
 * - The Update's validator refuses malformed changes and changes for another host before they are accepted
 *   into history.
 * - Continue-as-new after `maxChangesPerRun` changes (or when the server suggests it), between children:
 *   the changes still queued are carried into the next run in order. Their callers' Updates end with the
 *   run; the client then waits for the change's child workflow, whose id is derived from the Update id
 *   (`changeWorkflowId`), so the result reaches them all the same.
 * - After `idleSeconds` without a change the workflow ends; the next Update-with-Start starts it again.
 * - Kinds `refresh` and `sync` queue like any change, so a refresh never runs in the middle of a change on
 *   the same host. After every `configured` setup-networks change the host is refreshed before the next
 *   change starts, and each refresh's `NetworkSync` and `HostNetworkStatus` are kept on this workflow too
 *   (the Web UI's filter for drifting hosts).
 * - Triggers that cannot send an Update (the refresh Schedule's action, the event watch: workflows) queue a
 *   change with the `queueHostNetworkChange` signal; its caller follows the child by its id.
 *
 * Workflow-sandbox code: deterministic, only model/ and @temporalio/workflow.
 */
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  currentUpdateInfo,
  executeChild,
  log,
  ParentClosePolicy,
  patched,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { HandlerUnfinishedPolicy } from '@temporalio/common';
import {
  CHANGE_WORKFLOWS,
  changeProblems,
  changeWorkflowId,
  childArgument,
  HostNetworkChange,
  HostNetworksInput,
  type HostNetworkChangeResult,
  type QueuedChange,
} from '../model/host-networks/change';
import { FailureType, isRetryable } from '../model/failures';
import { HostSetupNetworksOutcome } from '../model/host-setup-networks/contract';
import {
  REFRESH_CONTRACT_VERSION,
  REFRESH_HOST_NETWORKS_WORKFLOW,
  RefreshReason,
  type RefreshHostNetworksResult,
} from '../model/refresh/contract';
import { HostNameKey, HostNetworkStatusKey, NetworkSyncKey } from '../model/search-attributes';
import { hostNetworkChangeUpdate, hostNetworksStatusQuery, queueHostNetworkChangeSignal } from './host-networks-messages';
import type { refreshHostNetworks } from './refresh-host-networks';
import { failureOf } from './saga';

/** `patched()` id of the refresh after every configured setup-networks change. */
export const REFRESH_AFTER_APPLY_PATCH = 'refresh-after-apply';

/** How one change ended, kept until its Update handler hands it over. */
type Finished = { ok: true; result: HostNetworkChangeResult } | { ok: false; type: string; message: string };

/** What a run returns when it ends for lack of work. */
export interface HostNetworksEnd {
  hostId: string;
  completed: number;
}

export async function hostNetworks(raw: unknown): Promise<HostNetworksEnd> {
  const input = parseInput(raw);
  const { hostId } = input;
  const queue: QueuedChange[] = [...input.pending];
  /** Changes whose Update handler waits in this run. */
  const waiting = new Set<string>();
  const finished = new Map<string, Finished>();
  let running: QueuedChange | null = null;
  let completed = 0;

  upsertSearchAttributes([{ key: HostNameKey, value: hostId }]);
  setHandler(hostNetworksStatusQuery, () => ({
    hostId,
    running: running
      ? { changeId: running.changeId, kind: running.change.kind, workflowId: changeWorkflowId(hostId, running.changeId) }
      : null,
    queued: queue.map((q) => ({ changeId: q.changeId, kind: q.change.kind })),
    completedThisRun: completed,
  }));

  setHandler(
    hostNetworkChangeUpdate,
    async (change) => {
      const changeId = currentUpdateInfo()?.id ?? uuid4();
      // A change carried over from the previous run, asked for again by its caller: wait for it, do not queue it twice.
      if (running?.changeId !== changeId && !queue.some((q) => q.changeId === changeId)) {
        queue.push({ changeId, change: HostNetworkChange.parse(change) });
      }
      waiting.add(changeId);
      await condition(() => finished.has(changeId));
      const end = finished.get(changeId) as Finished;
      finished.delete(changeId);
      waiting.delete(changeId);
      if (end.ok) return end.result;
      throw ApplicationFailure.create({ type: end.type, message: end.message, nonRetryable: true });
    },
    {
      validator: (change) => {
        const problems = changeProblems(change, hostId);
        if (problems.length) {
          throw ApplicationFailure.create({
            type: FailureType.INVALID_INPUT,
            message: `invalid host network change: ${problems.join('; ')}`,
            nonRetryable: !isRetryable(FailureType.INVALID_INPUT),
            details: problems,
          });
        }
      },
      // Handlers still waiting at continue-as-new belong to carried changes; their callers follow the child.
      unfinishedPolicy: HandlerUnfinishedPolicy.ABANDON,
    },
  );

  setHandler(queueHostNetworkChangeSignal, ({ changeId, change }) => {
    const problems = changeProblems(change, hostId);
    if (problems.length) {
      log.warn('ignoring an invalid queued change', { changeId, problems });
      return;
    }
    if (running?.changeId === changeId || queue.some((q) => q.changeId === changeId)) return;
    queue.push({ changeId, change: HostNetworkChange.parse(change) });
  });

  for (;;) {
    const haveWork = await condition(() => queue.length > 0, `${input.idleSeconds} seconds`);
    if (!haveWork) {
      // Results are handed over in the same activation they are set in; nothing is queued: done.
      if (queue.length === 0 && finished.size === 0) return { hostId, completed };
      continue;
    }
    const next = queue[0] as QueuedChange;
    running = next;
    const outcome = await runChange(hostId, next);
    if (outcome.ok) await afterChange(hostId, next.changeId, outcome.result);
    queue.shift();
    running = null;
    completed += 1;
    // A change carried from an earlier run has no handler here: its caller reads the child's result.
    if (waiting.has(next.changeId)) finished.set(next.changeId, outcome);
    if (queue.length > 0 && (completed >= input.maxChangesPerRun || workflowInfo().continueAsNewSuggested)) {
      await condition(() => finished.size === 0);
      log.info('continuing as new', { hostId, completed, carried: queue.length });
      await continueAsNew<typeof hostNetworks>({
        hostId,
        pending: queue,
        maxChangesPerRun: input.maxChangesPerRun,
        idleSeconds: input.idleSeconds,
      });
    }
  }
}

function parseInput(raw: unknown): HostNetworksInput {
  const parsed = HostNetworksInput.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  throw ApplicationFailure.create({
    message: `invalid hostNetworks input: ${issues.join('; ')}`,
    type: FailureType.INVALID_INPUT,
    nonRetryable: true,
    details: issues,
  });
}

/**
 * Keeps the entity's search attributes on the host's latest refresh, and refreshes the host after a
 * configured setup-networks change (the store then holds what the host reports, not only what was asked).
 */
async function afterChange(hostId: string, changeId: string, done: HostNetworkChangeResult): Promise<void> {
  let refreshed: RefreshHostNetworksResult | null = null;
  if (done.kind === 'refresh') refreshed = done.result;
  else if (done.kind === 'sync') refreshed = done.result.after ?? done.result.before;
  else if (done.result.outcome === HostSetupNetworksOutcome.CONFIGURED && patched(REFRESH_AFTER_APPLY_PATCH)) {
    try {
      refreshed = await executeChild<typeof refreshHostNetworks>(REFRESH_HOST_NETWORKS_WORKFLOW, {
        workflowId: `${changeWorkflowId(hostId, changeId)}/refresh`,
        args: [{ version: REFRESH_CONTRACT_VERSION, hostId, reason: RefreshReason.AFTER_APPLY }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      // The change itself succeeded; the next refresh (schedule, event, on demand) catches up.
      log.warn('refresh after apply failed', { hostId, changeId, error: err instanceof Error ? err.message : String(err) });
    }
  }
  if (refreshed?.sync && refreshed.compliance) {
    upsertSearchAttributes([
      { key: NetworkSyncKey, value: refreshed.sync.state },
      { key: HostNetworkStatusKey, value: refreshed.compliance.status },
    ]);
  }
}

/** One change as its child workflow; a child that fails (rather than returning an outcome) is reported as such. */
async function runChange(hostId: string, { changeId, change }: QueuedChange): Promise<Finished> {
  const workflowId = changeWorkflowId(hostId, changeId);
  try {
    const result = await executeChild(CHANGE_WORKFLOWS[change.kind], {
      workflowId,
      args: [childArgument(change)],
      // The same change id never runs twice, even when asked again after it finished.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `${change.kind} on ${hostId}`.slice(0, 200),
    });
    return { ok: true, result: { kind: change.kind, changeId, workflowId, result } as HostNetworkChangeResult };
  } catch (err) {
    const failure = failureOf(err);
    const message = `${change.kind} ${changeId} on ${hostId} failed: ${failure.message}`;
    log.warn(message, { type: failure.type });
    return { ok: false, type: failure.type, message };
  }
}
