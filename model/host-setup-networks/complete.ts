/**
 * Before validation, as the engine does it (HostSetupNetworksCommand `validate`, steps 2 to 5 of
 * docs/engine-host-networking.md#hostsetupnetworks): complete what the caller left out, then drop what
 * changes nothing.
 *
 * - `completeRequest`: network name ↔ id (resolved among the data-center networks), the stored values of
 *   a modified attachment's omitted fields, a missing IP family as boot protocol NONE
 *   (`IpConfigurationCompleter`), and the engine's bond options for a bond sent without any.
 * - `dropNoOps`: an attachment equal to the stored one is dropped unless it is being synced
 *   (`overrideConfiguration`); a bond equal to the reported one is dropped. When nothing remains, the
 *   request is a no-op: no call to the host, no store write.
 */
import type { IpConfiguration } from '../attachments/attachment';
import type { Network } from '../host-networking/network';
import { NO_IP_CONFIGURATION, type NetworkAttachment } from '../host-networking/network-attachment';
import type { ReportedBond } from '../host-networking/reported-interfaces';
import type { CustomProperties, DnsResolverConfiguration, HostNetworkQos } from '../host-networking/values';
import { bondModeNumber } from '../network/bond-options';
import { indexContext, type ContextIndex, type HostSetupNetworksContext } from './context';
import { HostSetupNetworksPreconditionError } from './errors';
import type { AttachmentRequest, BondRequest, HostSetupNetworksOptions, HostSetupNetworksRequest, RequestIpConfiguration } from './request';

/** The engine's options for a bond sent without any (HostSetupNetworksCommand `DEFAULT_BOND_OPTIONS`). */
export const ENGINE_DEFAULT_BOND_OPTIONS = 'mode=4 miimon=100 xmit_hash_policy=2';

/** How an attachment's network was found from the id and name the caller gave. */
export const NetworkResolution = {
  RESOLVED: 'resolved',
  /** Neither id nor name, and no stored attachment to take them from. */
  NOT_SET: 'not-set',
  /** Only an id was given (or both), and no data-center network has it. */
  UNKNOWN_ID: 'unknown-id',
  /** Only a name was given, and no data-center network has it. */
  UNKNOWN_NAME: 'unknown-name',
  /** Id and name were both given and name different networks. */
  INCOHERENT: 'incoherent',
} as const;
export type NetworkResolution = (typeof NetworkResolution)[keyof typeof NetworkResolution];

/** One attachment of the request with everything filled in that can be. */
export interface CompletedAttachment {
  /** Position in the request's `attachments`, for violation paths. */
  index: number;
  /** `null` for a new attachment. */
  id: string | null;
  /** The stored attachment `id` names, when the host has it. */
  stored: NetworkAttachment | null;
  /** The data-center network; `null` unless `networkResolution` is `resolved`. */
  network: Network | null;
  networkResolution: NetworkResolution;
  /** The network id and name exactly as the caller gave them. */
  requestedNetwork: { id: string | null; name: string | null };
  /** The base NIC or bond; `null` when neither the request nor the stored attachment names one. */
  nicName: string | null;
  /** Both families. */
  ipConfiguration: IpConfiguration;
  properties: CustomProperties;
  /** `null` = the network's QoS. */
  qos: HostNetworkQos | null;
  /** `null` = the network's name servers. */
  dns: DnsResolverConfiguration | null;
  overrideConfiguration: boolean;
}

/** One bond of the request, options filled in. */
export interface CompletedBond {
  /** Position in the request's `bonds`. */
  index: number;
  name: string;
  options: string;
  slaves: string[];
  /** The bond of that name the host reports (this is then an update), or `null` (a new bond). */
  reported: ReportedBond | null;
}

/** A request after `completeRequest`: what validation, the payload and the intent are computed from. */
export interface CompletedRequest {
  hostId: string;
  attachments: CompletedAttachment[];
  removedAttachments: string[];
  bonds: CompletedBond[];
  removedBonds: string[];
  removedUnmanagedNetworks: string[];
  options: HostSetupNetworksOptions;
}

/** Fills in what the caller left out (see the module comment). Never fails: what cannot be completed is left for validation to name. */
export function completeRequest(request: HostSetupNetworksRequest, context: HostSetupNetworksContext): CompletedRequest {
  if (request.hostId !== context.host.id) {
    throw new HostSetupNetworksPreconditionError(`the request is for host ${request.hostId} but the context is host ${context.host.id}'s`);
  }
  const index = indexContext(context);
  return {
    hostId: request.hostId,
    attachments: request.attachments.map((a, i) => completeAttachment(a, i, index)),
    removedAttachments: [...request.removedAttachments],
    bonds: request.bonds.map((b, i) => completeBond(b, i, index)),
    removedBonds: [...request.removedBonds],
    removedUnmanagedNetworks: [...request.removedUnmanagedNetworks],
    options: { ...request.options },
  };
}

function completeAttachment(request: AttachmentRequest, position: number, index: ContextIndex): CompletedAttachment {
  const stored = request.id === undefined ? null : (index.storedById(request.id) ?? null);
  const requestedNetwork = { id: request.networkId ?? null, name: request.networkName ?? null };
  const { network, resolution } = resolveNetwork(requestedNetwork, stored, index);
  return {
    index: position,
    id: request.id ?? null,
    stored,
    network,
    networkResolution: resolution,
    requestedNetwork,
    nicName: request.nicName ?? stored?.nicName ?? null,
    ipConfiguration: request.ipConfiguration
      ? completeIpConfiguration(request.ipConfiguration)
      : (stored?.ipConfiguration ?? NO_IP_CONFIGURATION),
    properties: request.properties ?? stored?.properties ?? {},
    qos: request.qos !== undefined ? request.qos : (stored?.qos ?? null),
    dns: request.dns !== undefined ? request.dns : (stored?.dns ?? null),
    overrideConfiguration: request.overrideConfiguration,
  };
}

/** The engine's NetworkIdNetworkNameCompleter, among the data-center networks; a change without either takes the stored network. */
function resolveNetwork(
  requested: { id: string | null; name: string | null },
  stored: NetworkAttachment | null,
  index: ContextIndex,
): { network: Network | null; resolution: NetworkResolution } {
  const byId = requested.id === null ? undefined : index.networkById(requested.id);
  const byName = requested.name === null ? undefined : index.networkByName(requested.name);
  if (requested.id !== null && requested.name !== null) {
    if (byId && byName)
      return byId.id === byName.id
        ? { network: byId, resolution: NetworkResolution.RESOLVED }
        : { network: null, resolution: NetworkResolution.INCOHERENT };
    if (byId || byName) return { network: null, resolution: NetworkResolution.INCOHERENT };
    return { network: null, resolution: NetworkResolution.UNKNOWN_ID };
  }
  if (requested.id !== null)
    return byId ? { network: byId, resolution: NetworkResolution.RESOLVED } : { network: null, resolution: NetworkResolution.UNKNOWN_ID };
  if (requested.name !== null)
    return byName
      ? { network: byName, resolution: NetworkResolution.RESOLVED }
      : { network: null, resolution: NetworkResolution.UNKNOWN_NAME };
  const storedNetwork = stored ? index.networkById(stored.networkId) : undefined;
  return storedNetwork
    ? { network: storedNetwork, resolution: NetworkResolution.RESOLVED }
    : { network: null, resolution: NetworkResolution.NOT_SET };
}

/** A family left out is boot protocol NONE. */
export function completeIpConfiguration(ip: RequestIpConfiguration): IpConfiguration {
  return { ipv4: ip.ipv4 ?? NO_IP_CONFIGURATION.ipv4, ipv6: ip.ipv6 ?? NO_IP_CONFIGURATION.ipv6 };
}

function completeBond(request: BondRequest, position: number, index: ContextIndex): CompletedBond {
  const options = request.options?.trim() ? request.options : ENGINE_DEFAULT_BOND_OPTIONS;
  return { index: position, name: request.name, options, slaves: [...request.slaves], reported: index.reportedBond(request.name) ?? null };
}

/** The request without its no-op entries, what was dropped, and whether anything is left to do. */
export interface NoOpsDropped {
  request: CompletedRequest;
  dropped: { attachments: CompletedAttachment[]; bonds: CompletedBond[] };
  /** Nothing is left: no call to the host, no store write (the engine answers such a request with success at once). */
  noOp: boolean;
}

/** Drops what changes nothing (see the module comment). */
export function dropNoOps(request: CompletedRequest): NoOpsDropped {
  const droppedAttachments = request.attachments.filter(attachmentUnchanged);
  const droppedBonds = request.bonds.filter(bondUnchanged);
  const kept: CompletedRequest = {
    ...request,
    attachments: request.attachments.filter((a) => !droppedAttachments.includes(a)),
    bonds: request.bonds.filter((b) => !droppedBonds.includes(b)),
  };
  const noOp =
    !kept.attachments.length &&
    !kept.removedAttachments.length &&
    !kept.bonds.length &&
    !kept.removedBonds.length &&
    !kept.removedUnmanagedNetworks.length;
  return { request: kept, dropped: { attachments: droppedAttachments, bonds: droppedBonds }, noOp };
}

/** Equal to the stored attachment in network, NIC, IP configuration, properties, QoS and DNS, and not being synced. */
export function attachmentUnchanged(attachment: CompletedAttachment): boolean {
  const stored = attachment.stored;
  if (!stored || attachment.overrideConfiguration || attachment.network === null) return false;
  return (
    attachment.network.id === stored.networkId &&
    attachment.nicName === stored.nicName &&
    sameJson(attachment.ipConfiguration, stored.ipConfiguration) &&
    sameJson(attachment.properties, stored.properties) &&
    sameJson(attachment.qos, stored.qos) &&
    sameJson(attachment.dns, stored.dns)
  );
}

/** Equal to the bond the host reports: the same slaves and the same options (modes compared as numbers). */
export function bondUnchanged(bond: CompletedBond): boolean {
  const reported = bond.reported;
  if (!reported) return false;
  const slaves = new Set(bond.slaves);
  return (
    slaves.size === bond.slaves.length &&
    slaves.size === reported.slaves.length &&
    reported.slaves.every((s) => slaves.has(s)) &&
    sameJson(normalBondOptions(parseBondOptions(bond.options)), normalBondOptions(reported.options))
  );
}

/** `"mode=4 miimon=100"` → `{ mode: "4", miimon: "100" }`; a malformed item is kept whole so it never compares equal. */
export function parseBondOptions(options: string): Record<string, string> {
  const record: Record<string, string> = {};
  for (const item of options.trim().split(/\s+/).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0) record[item] = '';
    else record[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return record;
}

function normalBondOptions(options: Readonly<Record<string, string>>): Record<string, string> {
  const mode = options.mode;
  return mode === undefined ? { ...options } : { ...options, mode: bondModeNumber(mode) ?? mode };
}

/** Deep equality of JSON values, key order ignored. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([, x]) => x !== undefined)
              .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
              .map(([k, x]) => [k, sorted(x)]),
          )
        : v;
  return JSON.stringify(sorted(value) ?? null);
}
