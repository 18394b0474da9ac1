/**
 * prepareHostSetupNetworks: everything the hostSetupNetworks workflow decides before it touches the store
 * or the host, in the engine's order: complete the request, drop its no-ops, validate what is left, and
 * for a valid request build the VDSM payload and the intent to record. Pure, so the workflow calls it
 * directly.
 *
 * Every result carries `warnings`: the host's drifting attachments the request leaves alone
 * (docs/engine-host-networking.md#out-of-sync). Drift informs; only a request that modifies a drifting
 * network without syncing it is refused (`NETWORK_NOT_IN_SYNC`).
 */
import type { AttachmentChanges } from '../host-networking/intent';
import { completeRequest, dropNoOps, type CompletedRequest, type NoOpsDropped } from './complete';
import { attachmentsToConfigure } from './configure';
import { indexContext, type HostSetupNetworksContext } from './context';
import { driftWarnings, type DriftWarning } from './drift';
import { planIntent } from './intent';
import { buildSetupNetworksPayload, type SetupNetworksPayload } from './payload';
import type { HostSetupNetworksRequest } from './request';
import { syncReporterFor } from './sync';
import { validateHostSetupNetworks, type ValidateOptions } from './validate';
import type { Violation } from './violations';

export const PreparedKind = { NO_OP: 'no-op', INVALID: 'invalid', READY: 'ready' } as const;
export type PreparedKind = (typeof PreparedKind)[keyof typeof PreparedKind];

export type PreparedHostSetupNetworks =
  /** Nothing changes: answer success without calling the host or writing the store. */
  | { kind: typeof PreparedKind.NO_OP; dropped: NoOpsDropped['dropped']; warnings: DriftWarning[] }
  /** Refused before anything is sent or stored. */
  | {
      kind: typeof PreparedKind.INVALID;
      request: CompletedRequest;
      dropped: NoOpsDropped['dropped'];
      violations: Violation[];
      warnings: DriftWarning[];
    }
  /** Record `intent`, then send `payload`. */
  | {
      kind: typeof PreparedKind.READY;
      request: CompletedRequest;
      dropped: NoOpsDropped['dropped'];
      payload: SetupNetworksPayload;
      intent: AttachmentChanges;
      warnings: DriftWarning[];
    };

export function prepareHostSetupNetworks(
  request: HostSetupNetworksRequest,
  context: HostSetupNetworksContext,
  options: ValidateOptions = {},
): PreparedHostSetupNetworks {
  const syncReport = options.syncReport ?? syncReporterFor(context);
  const { request: changes, dropped, noOp } = dropNoOps(completeRequest(request, context));
  if (noOp) return { kind: PreparedKind.NO_OP, dropped, warnings: driftWarnings(changes, context, syncReport) };
  const violations = validateHostSetupNetworks(changes, context, { ...options, syncReport });
  if (violations.length)
    return { kind: PreparedKind.INVALID, request: changes, dropped, violations, warnings: driftWarnings(changes, context, syncReport) };
  const resent = new Set(
    attachmentsToConfigure(changes, indexContext(context)).flatMap((a) => (a.addedForDefaultRoute && a.id !== null ? [a.id] : [])),
  );
  return {
    kind: PreparedKind.READY,
    request: changes,
    dropped,
    payload: buildSetupNetworksPayload(changes, context),
    intent: planIntent(changes, context),
    warnings: driftWarnings(changes, context, syncReport, resent),
  };
}
