/**
 * Changing a host's networks through its entity workflow (workflows/host-networks.ts): one Update-with-Start
 * per change, so the per-host workflow is started when it is not running and the change joins its queue
 * when it is. The CLI's `hostprov attachments add|update|remove` and tests call `requestHostNetworkChange`.
 *
 * A change's id is the Update id (the caller may give one, e.g. to retry safely). It names the change's
 * child workflow (`changeWorkflowId`), so a caller whose Update ended with its run (continue-as-new with the
 * change still queued) waits for that child's result instead.
 */
import { randomUUID } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import {
  changeWorkflowId,
  HOST_NETWORKS_WORKFLOW,
  HostNetworkChange,
  hostIdOf,
  hostNetworksWorkflowId,
  type HostNetworkChangeInput,
  type HostNetworkChangeResult,
  type HostNetworksInput,
} from '../model/host-networks/change';
import { FailureType } from '../model/failures';
import { TASK_QUEUE } from '../lib/temporal/constants';
import { hostNetworkChangeUpdate, hostNetworksStatusQuery, type HostNetworksStatus } from '../workflows/host-networks-messages';
import type { hostNetworks } from '../workflows/host-networks';

export { changeWorkflowId, hostNetworksWorkflowId };

export interface RequestOptions {
  /** The change's id (the Update id); the same id never runs twice. @default a random UUID */
  changeId?: string;
  /** @default TASK_QUEUE */
  taskQueue?: string;
  /** Input of the entity workflow when this request starts it. */
  workflow?: Partial<Omit<HostNetworksInput, 'hostId' | 'pending'>>;
  /** How long to wait for a carried change's child workflow to appear. @default 600000 */
  followTimeoutMs?: number;
}

/** Refused by the entity workflow's validator or the contract: nothing was queued. */
export class HostNetworkChangeRejectedError extends Error {
  override readonly name = 'HostNetworkChangeRejectedError';
}

/**
 * Queues `change` on its host's entity workflow (starting it if need be) and returns when it has been
 * carried out, with its child workflow's result. Throws HostNetworkChangeRejectedError for a change the
 * contract refuses; a change whose child failed outright throws WorkflowUpdateFailedError.
 */
export async function requestHostNetworkChange<K extends HostNetworkChangeInput['kind']>(
  client: Client,
  change: Extract<HostNetworkChangeInput, { kind: K }>,
  options: RequestOptions = {},
): Promise<Extract<HostNetworkChangeResult, { kind: K }>> {
  const parsed = HostNetworkChange.safeParse(change);
  if (!parsed.success)
    throw new HostNetworkChangeRejectedError(
      `invalid host network change: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'change'}: ${i.message}`).join('; ')}`,
    );
  const hostId = hostIdOf(parsed.data);
  const changeId = options.changeId ?? randomUUID();
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof hostNetworks>(HOST_NETWORKS_WORKFLOW, {
    workflowId: hostNetworksWorkflowId(hostId),
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    args: [{ hostId, ...options.workflow }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary: `network changes of host ${hostId}`.slice(0, 200),
  });
  try {
    // The entity answers a change with the result of its own kind.
    return (await client.workflow.executeUpdateWithStart(hostNetworkChangeUpdate, {
      args: [change],
      updateId: changeId,
      startWorkflowOperation,
    })) as Extract<HostNetworkChangeResult, { kind: K }>;
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    if (isValidatorRejection(err)) throw new HostNetworkChangeRejectedError(causeMessage(err));
    // The run ended before the change's turn (continue-as-new carried it): its child has the answer.
    if (causeType(err) === RUN_CLOSED_BEFORE_UPDATE)
      return (await followChange(client, hostId, changeId, parsed.data.kind, options.followTimeoutMs ?? 600_000)) as Extract<
        HostNetworkChangeResult,
        { kind: K }
      >;
    throw err;
  }
}

/** The result of a change by its id, waiting for its child workflow to start and end. */
export async function followChange(
  client: Client,
  hostId: string,
  changeId: string,
  kind: HostNetworkChange['kind'],
  timeoutMs = 600_000,
): Promise<HostNetworkChangeResult> {
  const workflowId = changeWorkflowId(hostId, changeId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const result = (await client.workflow.getHandle(workflowId).result()) as HostNetworkChangeResult['result'];
      return { kind, changeId, workflowId, result } as HostNetworkChangeResult;
    } catch (err) {
      // Not started yet: the next run of the entity workflow starts carried changes first.
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** What the host's entity workflow is doing, or `null` when it is not running. */
export async function hostNetworksStatus(client: Client, hostId: string): Promise<HostNetworksStatus | null> {
  const handle = client.workflow.getHandle(hostNetworksWorkflowId(hostId));
  try {
    const described = await handle.describe();
    if (described.status.name !== 'RUNNING') return null;
    return await handle.query(hostNetworksStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** The server's failure type for an accepted Update whose run closed first (here: continued as new). */
const RUN_CLOSED_BEFORE_UPDATE = 'AcceptedUpdateCompletedWorkflow';

function causeType(err: WorkflowUpdateFailedError): string | undefined {
  return (err.cause as { type?: string } | undefined)?.type;
}

function isValidatorRejection(err: WorkflowUpdateFailedError): boolean {
  return causeType(err) === FailureType.INVALID_INPUT;
}

function causeMessage(err: WorkflowUpdateFailedError): string {
  return err.cause instanceof Error ? err.cause.message : err.message;
}
