/**
 * validateHostSetupNetworks: the engine's HostSetupNetworks validation pipeline with its error keys
 * (docs/engine-host-networking.md#validation-keys), run on a completed request with its no-ops dropped,
 * before anything is sent or stored. Unlike the engine, which stops at the first failure, it returns every
 * violation, in the engine's order: each attachment, removed attachments, bonds, removed bonds, the
 * effective set (duplicates, untagged networks, MTU), custom properties, QoS, bond modes, unmanaged
 * networks, and last the out-of-sync check (`driftRefusals`: only a modified drifting network is refused).
 *
 * Not checked, because hostprov has none of these: labels, external networks, VMs on the host, NIC ids
 * (NICs are named), bond ids (bonds are named), the host's OS version (IPv6 autoconf on el8). Unreachable
 * here, because the request schema or the completion already settles them: a null attachment, an
 * attachment without IP configuration or a family without boot protocol, a bond without name, and
 * `NETWORKS_ALREADY_ATTACHED_TO_IFACES` (always preceded by `…_REFERENCES_SAME_NETWORK_DUPLICATELY`).
 */
import type { CompletedRequest } from './complete';
import { indexContext, type HostSetupNetworksContext } from './context';
import { defaultRouteHolders, ipv6GatewayHolder } from './default-route';
import { driftRefusals } from './drift';
import { effectiveSet } from './effective-set';
import { syncReporterFor, type SyncReporter } from './sync';
import { checkAttachments, checkRemovedAttachments } from './validate-attachments';
import { checkBondModes, checkBonds, checkRemovedBonds } from './validate-bonds';
import { checkCustomProperties, checkDuplicateNetworks, checkMtu, checkQos, checkUntaggedExclusive } from './validate-effective-set';
import { checkUnmanagedNetworks } from './validate-unmanaged';
import type { Violation } from './violations';

export interface ValidateOptions {
  /**
   * Whether the host has a stored attachment's network as defined (out-of-sync detection).
   * @default `syncReporterFor(context)`: each attachment against the host's last report
   */
  syncReport?: SyncReporter;
}

/** Every violation of the request against the context; `[]` when it may be applied. */
export function validateHostSetupNetworks(
  request: CompletedRequest,
  context: HostSetupNetworksContext,
  options: ValidateOptions = {},
): Violation[] {
  const index = indexContext(context);
  const syncReport = options.syncReport ?? syncReporterFor(context);
  const effective = effectiveSet(request, index);
  return [
    ...checkAttachments(request, index, ipv6GatewayHolder(defaultRouteHolders(index))),
    ...checkRemovedAttachments(request, index),
    ...checkBonds(request, index, effective),
    ...checkRemovedBonds(request, index, effective),
    ...checkDuplicateNetworks(effective),
    ...checkUntaggedExclusive(effective),
    ...checkMtu(effective),
    ...checkCustomProperties(request),
    ...checkQos(request, effective),
    ...checkBondModes(request, index, effective, syncReport),
    ...checkUnmanagedNetworks(request, index),
    ...driftRefusals(request, syncReport),
  ];
}
