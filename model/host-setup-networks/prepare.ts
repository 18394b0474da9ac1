/**
 * prepareHostSetupNetworks: everything the hostSetupNetworks workflow decides before it touches the store
 * or the host, in the engine's order: complete the request, drop its no-ops, validate what is left, and
 * for a valid request build the VDSM payload and the intent to record. Pure, so the workflow calls it
 * directly.
 */
import type { AttachmentChanges } from '../host-networking/intent';
import { completeRequest, dropNoOps, type CompletedRequest, type NoOpsDropped } from './complete';
import type { HostSetupNetworksContext } from './context';
import { planIntent } from './intent';
import { buildSetupNetworksPayload, type SetupNetworksPayload } from './payload';
import type { HostSetupNetworksRequest } from './request';
import { validateHostSetupNetworks, type ValidateOptions } from './validate';
import type { Violation } from './violations';

export const PreparedKind = { NO_OP: 'no-op', INVALID: 'invalid', READY: 'ready' } as const;
export type PreparedKind = (typeof PreparedKind)[keyof typeof PreparedKind];

export type PreparedHostSetupNetworks =
  /** Nothing changes: answer success without calling the host or writing the store. */
  | { kind: typeof PreparedKind.NO_OP; dropped: NoOpsDropped['dropped'] }
  /** Refused before anything is sent or stored. */
  | { kind: typeof PreparedKind.INVALID; request: CompletedRequest; dropped: NoOpsDropped['dropped']; violations: Violation[] }
  /** Record `intent`, then send `payload`. */
  | { kind: typeof PreparedKind.READY; request: CompletedRequest; dropped: NoOpsDropped['dropped']; payload: SetupNetworksPayload; intent: AttachmentChanges };

export function prepareHostSetupNetworks(request: HostSetupNetworksRequest, context: HostSetupNetworksContext, options: ValidateOptions = {}): PreparedHostSetupNetworks {
  const { request: changes, dropped, noOp } = dropNoOps(completeRequest(request, context));
  if (noOp) return { kind: PreparedKind.NO_OP, dropped };
  const violations = validateHostSetupNetworks(changes, context, options);
  if (violations.length) return { kind: PreparedKind.INVALID, request: changes, dropped, violations };
  return { kind: PreparedKind.READY, request: changes, dropped, payload: buildSetupNetworksPayload(changes, context), intent: planIntent(changes, context) };
}
