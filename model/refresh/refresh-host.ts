/**
 * refreshHost: what the store should hold after reading a host's capabilities, decided without touching
 * the store (docs/engine-host-networking.md#refresh-from-capabilities; ovirt-engine
 * HostNetworkTopologyPersisterImpl, HostNetworkAttachmentsPersister). The workflow records the result in
 * one go: the new interface report, then the attachment changes in the store's `recordIntent` shape (the
 * store checks an attachment's NIC against the host's recorded report, so the report goes first).
 *
 * Attachment rules, in the engine's order:
 * 1. An attachment whose network the host reports on no interface is removed; when its NIC is gone too,
 *    the reason says so (the engine deletes it with the NIC).
 * 2. (User-removed attachments and user-supplied ones belong to hostSetupNetworks, not to refresh.)
 * 3. For every cluster network the host reports on an interface:
 *    - its attachment names another base NIC or bond: the attachment moves there, keeping its id and its
 *      configuration (so the out-of-sync report then compares the host with what was asked for);
 *    - it has no attachment: one is created, on the base NIC or bond, with the IP configuration copied from
 *      the host (address, netmask or prefix and gateway only for STATIC_IP), unless that NIC is a bond
 *      slave.
 * 4. A remaining attachment whose NIC vanished (a network no longer in the cluster, which rule 3 does not
 *    move) is removed.
 * A network that is no cluster network's (unmanaged) never gets an attachment; it is listed.
 *
 * Then compliance (`networkCompliance`) on the new report.
 */
import type { z } from 'zod';
import type { IpConfiguration } from '../attachments/attachment';
import type { AttachmentChanges } from '../host-networking/intent';
import type { Network } from '../host-networking/network';
import type { NetworkAttachment } from '../host-networking/network-attachment';
import { ReportedInterfaces, reportedInterfacesFromCapabilities, type ReportedNetwork } from '../host-networking/reported-interfaces';
import { vdsmNetworkName } from '../host-networking/vdsm-name';
import type { NetworkCapabilities } from '../vdsm/capabilities';
import { isDirty } from '../vdsm/capability-values';
import { networkCompliance, type ComplianceOptions, type NetworkCompliance } from './compliance';
import type { RefreshContext } from './context';
import { HostReportError, RefreshPreconditionError } from './errors';

/** Why refresh changed (or did not create) an attachment. */
export const RefreshActionKind = {
  /** The host reports the attachment's network on no interface. */
  REMOVED_NETWORK_NOT_REPORTED: 'removed-network-not-reported',
  /** The attachment's NIC or bond is no longer reported. */
  REMOVED_NIC_VANISHED: 'removed-nic-vanished',
  /** The host reports the network on another base NIC or bond. */
  MOVED: 'moved',
  /** A cluster network the host reports had no attachment. */
  CREATED: 'created',
  /** A cluster network the host reports on a bond slave: no attachment is created for it. */
  NOT_CREATED_ON_BOND_SLAVE: 'not-created-on-bond-slave',
} as const;
export type RefreshActionKind = (typeof RefreshActionKind)[keyof typeof RefreshActionKind];

export interface RefreshAction {
  kind: RefreshActionKind;
  networkId: string;
  networkName: string;
  /** The stored attachment; `null` for one created (the store gives it its id) or not created. */
  attachmentId: string | null;
  /** The attachment's NIC before. */
  fromNic: string | null;
  /** The attachment's NIC after (`null` for a removal). */
  toNic: string | null;
  /** One sentence for an operator. */
  message: string;
}

/** Names added to and removed from the host's report since the previous one (all `added` on a first report). */
export interface ReportChanges {
  added: { nics: string[]; bonds: string[]; vlans: string[]; networks: string[] };
  removed: { nics: string[]; bonds: string[]; vlans: string[]; networks: string[] };
}

export interface RefreshResult {
  hostId: string;
  /** The report to record for the host (`hosts.recordReportedInterfaces`). */
  reportedInterfaces: ReportedInterfaces;
  /** The attachment writes, for `attachments.recordIntent` (after the report is recorded). */
  attachmentChanges: RefreshAttachmentChanges;
  /** Why each change was made, in the order of the rules. */
  actions: RefreshAction[];
  reportChanges: ReportChanges;
  /** Names (on the host) of the networks the host reports that are not its cluster's, sorted. */
  unmanagedNetworks: string[];
  compliance: NetworkCompliance;
  /** VDSM's `netConfigDirty`: the host runs a configuration it has not persisted. */
  netConfigDirty: boolean;
}

export type RefreshOptions = ComplianceOptions;

/** The attachment writes of a refresh: `AttachmentChanges` with every field given. */
export type RefreshAttachmentChanges = z.output<typeof AttachmentChanges>;
type AttachmentWrite = RefreshAttachmentChanges['upserts'][number];

/**
 * Decides a refresh of `context.host` from `capabilities` (see the module comment).
 * @throws HostReportError when the capabilities give a report the store would refuse.
 * @throws RefreshPreconditionError when an attachment's network is not among `context.networks`.
 */
export function refreshHost(context: RefreshContext, capabilities: NetworkCapabilities, options: RefreshOptions = {}): RefreshResult {
  const checked = ReportedInterfaces.safeParse(reportedInterfacesFromCapabilities(capabilities));
  if (!checked.success) {
    throw new HostReportError(
      context.host.id,
      checked.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)),
    );
  }
  const reported = checked.data;
  const networksById = new Map(context.networks.map((n) => [n.id, n]));
  const clusterNetworkByHostName = new Map(
    context.clusterNetworks.flatMap((cn) => {
      const network = networksById.get(cn.networkId);
      return network ? [[vdsmNetworkName(network), network] as const] : [];
    }),
  );
  const onInterface = new Map(reported.networks.filter((n) => n.baseInterface !== null).map((n) => [n.name, n]));
  const baseInterfaces = new Set([...reported.nics, ...reported.bonds].map((i) => i.name));
  const bondSlaves = new Set(reported.bonds.flatMap((b) => b.slaves));

  const removed: RefreshAction[] = [];
  const moved: Array<{ action: RefreshAction; draft: AttachmentWrite }> = [];
  const vanished: RefreshAction[] = [];
  const attachedNetworks = new Set<string>();

  for (const a of context.attachments) {
    const network = networksById.get(a.networkId);
    if (!network)
      throw new RefreshPreconditionError(`attachment ${a.id} is of network ${a.networkId}, which is not among the context's networks`);
    attachedNetworks.add(network.id);
    const nicGone = a.nicName !== null && !baseInterfaces.has(a.nicName);
    const hostNetwork = onInterface.get(vdsmNetworkName(network));
    if (!hostNetwork) {
      removed.push(
        nicGone
          ? action(
              RefreshActionKind.REMOVED_NIC_VANISHED,
              network,
              a,
              null,
              `${a.nicName} is no longer reported, and network ${network.name} is on no other interface`,
            )
          : action(
              RefreshActionKind.REMOVED_NETWORK_NOT_REPORTED,
              network,
              a,
              null,
              `the host reports network ${network.name} on no interface`,
            ),
      );
      continue;
    }
    const to = hostNetwork.baseInterface;
    if (to !== a.nicName && clusterNetworkByHostName.get(hostNetwork.name)?.id === network.id) {
      moved.push({
        action: action(
          RefreshActionKind.MOVED,
          network,
          a,
          to,
          `the host reports network ${network.name} on ${to}${a.nicName === null ? '' : `, not on ${a.nicName}${nicGone ? ' (no longer reported)' : ''}`}`,
        ),
        draft: {
          id: a.id,
          networkId: a.networkId,
          nicName: to,
          ipConfiguration: a.ipConfiguration,
          properties: a.properties,
          qos: a.qos,
          dns: a.dns,
        },
      });
      continue;
    }
    if (nicGone) vanished.push(action(RefreshActionKind.REMOVED_NIC_VANISHED, network, a, null, `${a.nicName} is no longer reported`));
  }

  const created: Array<{ action: RefreshAction; draft: AttachmentWrite }> = [];
  const notCreated: RefreshAction[] = [];
  for (const hostNetwork of onInterface.values()) {
    const network = clusterNetworkByHostName.get(hostNetwork.name);
    if (!network || attachedNetworks.has(network.id) || hostNetwork.baseInterface === null) continue;
    const nic = hostNetwork.baseInterface;
    if (bondSlaves.has(nic)) {
      notCreated.push(
        action(
          RefreshActionKind.NOT_CREATED_ON_BOND_SLAVE,
          network,
          null,
          nic,
          `the host reports network ${network.name} on ${nic}, a bond slave; no attachment is created`,
        ),
      );
      continue;
    }
    created.push({
      action: action(
        RefreshActionKind.CREATED,
        network,
        null,
        nic,
        `the host reports cluster network ${network.name} on ${nic} and it had no attachment`,
      ),
      draft: {
        networkId: network.id,
        nicName: nic,
        ipConfiguration: ipConfigurationFromHost(hostNetwork),
        properties: {},
        qos: null,
        dns: null,
      },
    });
  }

  const clusterHostNames = new Set(clusterNetworkByHostName.keys());
  return {
    hostId: context.host.id,
    reportedInterfaces: reported,
    attachmentChanges: {
      upserts: [...moved, ...created].map((m) => m.draft),
      removals: [...removed, ...vanished].flatMap((r) => (r.attachmentId === null ? [] : [r.attachmentId])),
    },
    actions: [...removed, ...moved.map((m) => m.action), ...created.map((c) => c.action), ...notCreated, ...vanished],
    reportChanges: reportChanges(context.host.reportedInterfaces, reported),
    unmanagedNetworks: reported.networks.filter((n) => !clusterHostNames.has(n.name)).map((n) => n.name),
    compliance: networkCompliance({ clusterNetworks: context.clusterNetworks, networks: context.networks, reported }, options),
    netConfigDirty: isDirty(capabilities),
  };
}

/**
 * The attachment IP configuration the host has for a network (ovirt-engine
 * NetworkUtils `createIpConfigurationFromVdsNetworkInterface`): the boot protocol of each family, and the
 * address, netmask or prefix and gateway only for STATIC_IP; a DHCP lease is never copied.
 */
export function ipConfigurationFromHost(network: Pick<ReportedNetwork, 'ipv4' | 'ipv6'>): IpConfiguration {
  const v4 = network.ipv4;
  const v6 = network.ipv6;
  const ipv4: IpConfiguration['ipv4'] =
    v4?.bootProtocol === 'STATIC_IP'
      ? { bootProtocol: 'STATIC_IP', ...present({ address: v4.address, netmask: v4.netmask, gateway: v4.gateway }) }
      : { bootProtocol: v4?.bootProtocol ?? 'NONE' };
  const ipv6: IpConfiguration['ipv6'] =
    v6?.bootProtocol === 'STATIC_IP'
      ? { bootProtocol: 'STATIC_IP', ...present({ address: v6.address, prefix: v6.prefix, gateway: v6.gateway }) }
      : { bootProtocol: v6?.bootProtocol ?? 'NONE' };
  return { ipv4, ipv6 };
}

/** The entries that are not `null`. */
function present<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null)) as { [K in keyof T]?: Exclude<T[K], null> };
}

function action(
  kind: RefreshActionKind,
  network: Network,
  attachment: NetworkAttachment | null,
  toNic: string | null,
  message: string,
): RefreshAction {
  return {
    kind,
    networkId: network.id,
    networkName: network.name,
    attachmentId: attachment?.id ?? null,
    fromNic: attachment?.nicName ?? null,
    toNic,
    message,
  };
}

function reportChanges(previous: ReportedInterfaces | null, next: ReportedInterfaces): ReportChanges {
  const diff = (before: ReadonlyArray<{ name: string }>, after: ReadonlyArray<{ name: string }>) => {
    const was = new Set(before.map((i) => i.name));
    const is = new Set(after.map((i) => i.name));
    return { added: [...is].filter((n) => !was.has(n)).sort(), removed: [...was].filter((n) => !is.has(n)).sort() };
  };
  const kinds = ['nics', 'bonds', 'vlans', 'networks'] as const;
  const parts = Object.fromEntries(kinds.map((k) => [k, diff(previous?.[k] ?? [], next[k])])) as Record<
    (typeof kinds)[number],
    { added: string[]; removed: string[] }
  >;
  return {
    added: { nics: parts.nics.added, bonds: parts.bonds.added, vlans: parts.vlans.added, networks: parts.networks.added },
    removed: { nics: parts.nics.removed, bonds: parts.bonds.removed, vlans: parts.vlans.removed, networks: parts.networks.removed },
  };
}
