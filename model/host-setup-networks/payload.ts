/**
 * buildSetupNetworksPayload: the exact `Host.setupNetworks(networks, bondings, options)` the engine sends
 * for a valid request (ovirt-engine HostSetupNetworksCommand `createSetupNetworksParameters` and
 * vdsbroker HostSetupNetworksVDSCommand; docs/engine-host-networking.md#execution-and-the-vdsm-payload):
 *
 * - one network per configured attachment (see `attachmentsToConfigure`, which adds the other half of a
 *   default-route move), keyed by the network's VDSM name: `nic` or `bonding`, `vlan` as a string, the
 *   effective MTU, `bridged` from the VM-network flag, `STP` only when bridged, the IP attributes,
 *   `defaultRoute: true` and name servers (the attachment's, else the network's) only for the cluster's
 *   default-route network, `switch`, custom properties and the effective QoS;
 * - `{remove: "true"}` for each removed attachment's network, unless the request attaches that network
 *   again (a move), and for each removed unmanaged network, by its name on the host;
 * - each bond as `{nics, switch, options}`, each removed bond as `{remove: "true"}`;
 * - options: `connectivityCheck` "true"/"false", `connectivityTimeout` only with the check, `commitOnSuccess`.
 *
 * Two engine inputs hostprov does not keep are fixed: the switch type is `legacy` (hostprov clusters have
 * no OVS), and the host is taken to report its supported cluster levels (the engine withholds
 * `defaultRoute` from a host that reports none).
 */
import { vdsmNetworkName } from '../host-networking/vdsm-name';
import { hostNetworkAttributes } from '../vdsm/host-network-attributes';
import type { BondAttributes, NetworkAttributes } from '../vdsm/setup-networks';
import type { CompletedRequest } from './complete';
import { attachmentsToConfigure } from './configure';
import { indexContext, type HostSetupNetworksContext } from './context';
import { effectiveMtu } from './validate-effective-set';

/** The switch type of every hostprov cluster (the engine sends the cluster's). */
export const CLUSTER_SWITCH_TYPE = 'legacy';

/** VDSM's removal marker, spelled as the engine sends it. */
export const REMOVE = { remove: 'true' } as const;

// Type aliases, not interfaces, so a payload is assignable to the wire type `SetupNetworksParams`.
export type SetupNetworksPayloadOptions = {
  /** The engine's `rollbackOnFailure`, as the string it sends. */
  connectivityCheck: 'true' | 'false';
  /** Seconds; present only with the connectivity check. */
  connectivityTimeout?: number;
  commitOnSuccess: boolean;
};

/** `Host.setupNetworks`' three parameters; parses with `SetupNetworksParams` (model/vdsm/setup-networks.ts). */
export type SetupNetworksPayload = {
  networks: Record<string, NetworkAttributes>;
  bondings: Record<string, BondAttributes>;
  options: SetupNetworksPayloadOptions;
};

/** The VDSM call for a request `validateHostSetupNetworks` accepted (throws HostSetupNetworksPreconditionError on one it would not). */
export function buildSetupNetworksPayload(request: CompletedRequest, context: HostSetupNetworksContext): SetupNetworksPayload {
  const index = indexContext(context);
  const newBonds = new Set(request.bonds.map((b) => b.name));
  const networks: Record<string, NetworkAttributes> = {};
  for (const a of attachmentsToConfigure(request, index)) {
    const { network } = a;
    const defaultRoute = network.id === index.defaultRouteNetworkId;
    const nameServers = a.dns?.nameServers ?? (network.dnsServers.length ? network.dnsServers : undefined);
    networks[vdsmNetworkName(network)] = hostNetworkAttributes({
      nicName: a.nicName,
      bonding: newBonds.has(a.nicName) || index.interfaceKind(a.nicName) === 'bond',
      vlan: network.vlan,
      mtu: effectiveMtu(network),
      vmNetwork: network.vmNetwork,
      stp: network.stp,
      ipConfiguration: a.ipConfiguration,
      defaultRoute,
      switchType: CLUSTER_SWITCH_TYPE,
      properties: a.properties,
      qos: a.qos ?? network.qos,
      ...(defaultRoute && nameServers ? { nameServers } : {}),
    });
  }
  const reattached = new Set(request.attachments.flatMap((a) => (a.network ? [a.network.id] : [])));
  for (const id of request.removedAttachments) {
    const stored = index.storedById(id);
    const network = stored ? index.networkById(stored.networkId) : undefined;
    if (network && !reattached.has(network.id)) networks[vdsmNetworkName(network)] = { ...REMOVE };
  }
  for (const name of request.removedUnmanagedNetworks) networks[name] = { ...REMOVE };

  const bondings: Record<string, BondAttributes> = {};
  for (const bond of request.bonds) bondings[bond.name] = { nics: [...bond.slaves], switch: CLUSTER_SWITCH_TYPE, options: bond.options };
  for (const name of request.removedBonds) bondings[name] = { ...REMOVE };

  const { rollbackOnFailure, connectivityTimeoutSeconds, commitOnSuccess } = request.options;
  const options: SetupNetworksPayloadOptions = rollbackOnFailure
    ? { connectivityCheck: 'true', connectivityTimeout: connectivityTimeoutSeconds, commitOnSuccess }
    : { connectivityCheck: 'false', commitOnSuccess };
  return { networks, bondings, options };
}

/**
 * The request changes the management network: it configures it (a default-route move included), or
 * updates a bond it sits on. The engine then stops heart-beats for the call, since the connection may
 * pause while the network is rebuilt (HostSetupNetworksCommand `isManagementNetworkChanged`). Deliberate
 * difference: a bond counts when the stored management attachment is on it, VLAN or not, where the engine
 * looks only at the bond device itself.
 */
export function managementNetworkChanged(request: CompletedRequest, context: HostSetupNetworksContext): boolean {
  const index = indexContext(context);
  const management = index.managementNetworkId;
  if (management === null) return false;
  if (attachmentsToConfigure(request, index).some((a) => a.network.id === management)) return true;
  const onBond = index.storedByNetworkId(management)?.nicName;
  return onBond !== undefined && onBond !== null && request.bonds.some((b) => b.name === onBond && b.reported !== null);
}
