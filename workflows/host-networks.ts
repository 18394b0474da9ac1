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
import { HostNameKey } from '../model/search-attributes';
import { hostNetworkChangeUpdate, hostNetworksStatusQuery } from './host-networks-messages';

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
    running: running ? { changeId: running.changeId, kind: running.change.kind, workflowId: changeWorkflowId(hostId, running.changeId) } : null,
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
          throw ApplicationFailure.create({ type: FailureType.INVALID_INPUT, message: `invalid host network change: ${problems.join('; ')}`, nonRetryable: !isRetryable(FailureType.INVALID_INPUT), details: problems });
        }
      },
      // Handlers still waiting at continue-as-new belong to carried changes; their callers follow the child.
      unfinishedPolicy: HandlerUnfinishedPolicy.ABANDON,
    },
  );

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
    queue.shift();
    running = null;
    completed += 1;
    // A change carried from an earlier run has no handler here: its caller reads the child's result.
    if (waiting.has(next.changeId)) finished.set(next.changeId, outcome);
    if (queue.length > 0 && (completed >= input.maxChangesPerRun || workflowInfo().continueAsNewSuggested)) {
      await condition(() => finished.size === 0);
      log.info('continuing as new', { hostId, completed, carried: queue.length });
      await continueAsNew<typeof hostNetworks>({ hostId, pending: queue, maxChangesPerRun: input.maxChangesPerRun, idleSeconds: input.idleSeconds });
    }
  }
}

function parseInput(raw: unknown): HostNetworksInput {
  const parsed = HostNetworksInput.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  throw ApplicationFailure.create({ message: `invalid hostNetworks input: ${issues.join('; ')}`, type: FailureType.INVALID_INPUT, nonRetryable: true, details: issues });
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
    let cause: unknown = err;
    while (cause instanceof Error && 'cause' in cause && cause.cause) cause = cause.cause;
    const type = cause instanceof ApplicationFailure ? (cause.type ?? 'ApplicationFailure') : cause instanceof Error ? cause.name : 'Error';
    const message = `${change.kind} ${changeId} on ${hostId} failed: ${cause instanceof Error ? cause.message : String(cause)}`;
    log.warn(message, { type });
    return { ok: false, type, message };
  }
}
