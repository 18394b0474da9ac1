/**
 * The effective set: the attachments the host will have if the request is applied, the request's own plus
 * every stored one it neither mentions nor removes (ovirt-engine HostSetupNetworksValidator
 * `getAttachmentsToConfigure`). The rules about the host as a whole (one network once, one untagged
 * network per NIC, MTUs, QoS, bond modes, free slaves) are checked on it.
 */
import type { Network } from '../host-networking/network';
import type { NetworkAttachment } from '../host-networking/network-attachment';
import type { HostNetworkQos } from '../host-networking/values';
import type { CompletedAttachment, CompletedRequest } from './complete';
import type { ContextIndex } from './context';

export interface EffectiveAttachment {
  /** `null` for a new attachment. */
  id: string | null;
  /** `null` when the request's attachment names no known network. */
  network: Network | null;
  nicName: string | null;
  /** `null` = the network's QoS. */
  qos: HostNetworkQos | null;
  overrideConfiguration: boolean;
  /** The request's attachment, when it comes from the request. */
  requested: CompletedAttachment | null;
  /** The stored attachment it is (or changes). */
  stored: NetworkAttachment | null;
}

export function effectiveSet(request: CompletedRequest, index: ContextIndex): EffectiveAttachment[] {
  const mentioned = new Set(request.attachments.flatMap((a) => (a.id === null ? [] : [a.id])));
  const removed = new Set(request.removedAttachments);
  const fromRequest = request.attachments.map(effectiveOf);
  const untouched = index.context.attachments
    .filter((s) => !mentioned.has(s.id) && !removed.has(s.id))
    .map((s): EffectiveAttachment => ({
      id: s.id,
      network: index.networkById(s.networkId) ?? null,
      nicName: s.nicName,
      qos: s.qos,
      overrideConfiguration: false,
      requested: null,
      stored: s,
    }));
  return [...untouched, ...fromRequest];
}

/** A request's attachment as a member of the effective set. */
export function effectiveOf(a: CompletedAttachment): EffectiveAttachment {
  return {
    id: a.id,
    network: a.network,
    nicName: a.nicName,
    qos: a.qos,
    overrideConfiguration: a.overrideConfiguration,
    requested: a,
    stored: a.stored,
  };
}

/** How a message names an attachment: where it is in the request, or which stored one it is, with its network and NIC. */
export function describeAttachment(a: EffectiveAttachment): string {
  const where = a.requested ? `attachments[${a.requested.index}]` : `stored attachment ${a.id ?? ''}`;
  const network = a.network?.name ?? a.requested?.requestedNetwork.name ?? a.requested?.requestedNetwork.id ?? null;
  const what = [network === null ? null : `network ${network}`, a.nicName === null ? null : `on ${a.nicName}`].filter(Boolean).join(' ');
  return what ? `${where} (${what})` : where;
}

/** The path of an attachment in the request, or `[]` for a stored one the request does not mention. */
export function attachmentPath(a: EffectiveAttachment, ...rest: Array<string | number>): Array<string | number> {
  return a.requested ? ['attachments', a.requested.index, ...rest] : [];
}

/** Groups by NIC; attachments without a NIC are left out (no rule about a NIC applies to them). */
export function byNic(attachments: readonly EffectiveAttachment[]): Map<string, EffectiveAttachment[]> {
  const groups = new Map<string, EffectiveAttachment[]>();
  for (const a of attachments) {
    if (a.nicName === null) continue;
    const group = groups.get(a.nicName) ?? [];
    group.push(a);
    groups.set(a.nicName, group);
  }
  return groups;
}
