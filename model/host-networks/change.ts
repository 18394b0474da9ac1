/**
 * The per-host entity workflow's contract (workflows/host-networks.ts): one long-lived workflow per host,
 * id `host-networks/<hostId>`, takes changes through an Update and runs them one at a time, first come
 * first served, each as a child workflow whose result the Update returns (docs/host-networks.md).
 *
 * A change is a discriminated union on `kind`; each kind names the child workflow that carries it out
 * (`CHANGE_WORKFLOWS`). Adding a kind means: a member of `HostNetworkChange`, an entry in
 * `CHANGE_WORKFLOWS`, and the child's result type in `HostNetworkChangeResults`. Pure: the workflow, the
 * client and the CLI import it.
 */
import { z } from 'zod';
import { ExternalId } from '../host-networking/values';
import { HOST_SETUP_NETWORKS_WORKFLOW, type HostSetupNetworksResult } from '../host-setup-networks/contract';
import { HostSetupNetworksRequest } from '../host-setup-networks/request';
import { REFRESH_HOST_NETWORKS_WORKFLOW, RefreshHostNetworksInput, type RefreshHostNetworksResult } from '../refresh/contract';
import { SYNC_HOST_NETWORKS_WORKFLOW, SyncHostNetworksRequest, type SyncHostNetworksResult } from '../refresh/sync';
import { HostNetworkChangeKind } from './workflow-ids';

export { changeWorkflowId, HOST_NETWORKS_WORKFLOW, HostNetworkChangeKind, hostNetworksWorkflowId } from './workflow-ids';

export const SetupNetworksChange = z
  .object({ kind: z.literal(HostNetworkChangeKind.SETUP_NETWORKS), request: HostSetupNetworksRequest })
  .strict();

export const RefreshChange = z.object({ kind: z.literal(HostNetworkChangeKind.REFRESH), request: RefreshHostNetworksInput }).strict();
export const SyncChange = z.object({ kind: z.literal(HostNetworkChangeKind.SYNC), request: SyncHostNetworksRequest }).strict();

export const HostNetworkChange = z.discriminatedUnion('kind', [SetupNetworksChange, RefreshChange, SyncChange]);
export type HostNetworkChange = z.infer<typeof HostNetworkChange>;
/** What callers send (defaults may be omitted). */
export type HostNetworkChangeInput = z.input<typeof HostNetworkChange>;

/** The child workflow type of each kind; its single argument is the change without `kind` (`childArgument`). */
export const CHANGE_WORKFLOWS: Record<HostNetworkChangeKind, string> = {
  [HostNetworkChangeKind.SETUP_NETWORKS]: HOST_SETUP_NETWORKS_WORKFLOW,
  [HostNetworkChangeKind.REFRESH]: REFRESH_HOST_NETWORKS_WORKFLOW,
  [HostNetworkChangeKind.SYNC]: SYNC_HOST_NETWORKS_WORKFLOW,
};

/** The child's result type of each kind. */
export interface HostNetworkChangeResults {
  [HostNetworkChangeKind.SETUP_NETWORKS]: HostSetupNetworksResult;
  [HostNetworkChangeKind.REFRESH]: RefreshHostNetworksResult;
  [HostNetworkChangeKind.SYNC]: SyncHostNetworksResult;
}

/** The host a change is for: the entity workflow refuses a change for another host. */
export function hostIdOf(change: HostNetworkChange): string {
  return change.request.hostId;
}

/** The argument the change's child workflow is started with. */
export function childArgument(change: HostNetworkChange): unknown {
  return change.request;
}

/** What the Update returns: the change's id, its child workflow, and that child's result. */
export type HostNetworkChangeResult = {
  [K in HostNetworkChangeKind]: { kind: K; changeId: string; workflowId: string; result: HostNetworkChangeResults[K] };
}[HostNetworkChangeKind];

/** A change accepted and not yet started; carried into the next run by continue-as-new. */
export const QueuedChange = z.object({ changeId: z.string().min(1).max(200), change: HostNetworkChange }).strict();
export type QueuedChange = z.infer<typeof QueuedChange>;

export const HostNetworksInput = z
  .object({
    hostId: ExternalId,
    /** Changes accepted by an earlier run and not yet started, in order. @default [] */
    pending: z.array(QueuedChange).default([]),
    /**
     * Changes one run carries out before it continues as new (also earlier, when the server suggests it).
     * @default 100
     */
    maxChangesPerRun: z.number().int().min(1).max(10_000).default(100),
    /** How long the workflow waits for a change before it ends (Update-with-Start starts it again). @default 600 */
    idleSeconds: z.number().int().min(1).max(86_400).default(600),
  })
  .strict();
export type HostNetworksInput = z.infer<typeof HostNetworksInput>;

/** Why a change was refused before it was accepted into history (the Update's validator). */
export function changeProblems(change: unknown, hostId: string): string[] {
  const parsed = HostNetworkChange.safeParse(change);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.') || 'change'}: ${i.message}`);
  const target = hostIdOf(parsed.data);
  return target === hostId ? [] : [`change is for host ${target}, this workflow serializes host ${hostId}`];
}
