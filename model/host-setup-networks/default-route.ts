/**
 * The default-route role as hostSetupNetworks sees it (docs/engine-host-networking.md#default-route-role;
 * ovirt-engine HostSetupNetworksCommand `getAttachmentsWithMissingUpdatedDefaultRoute`,
 * `removeIpv6GatewayFromPreviousDefaultRouteAttachment`, `selectNetworkAttachmentForValidatation`).
 *
 * The *current* holder is the cluster's default-route network (the role); the *previous* holder is the
 * network the host reports holding the default route. They differ after the role was moved in the
 * cluster and before a request carried the move to the host.
 */
import type { NetworkAttachment } from '../host-networking/network-attachment';
import type { ContextIndex } from './context';

export interface DefaultRouteHolders {
  /** The cluster's default-route network, if it has one. */
  currentNetworkId: string | null;
  /** The host's stored attachment of that network. */
  current: NetworkAttachment | null;
  /** The cluster network the host reports holding the default route, if it is a cluster network. */
  previousNetworkId: string | null;
  /** The host's stored attachment of that network. */
  previous: NetworkAttachment | null;
}

export function defaultRouteHolders(index: ContextIndex): DefaultRouteHolders {
  const currentNetworkId = index.defaultRouteNetworkId;
  // The engine takes the first reported interface that holds a default route.
  const reported = index.reported.networks.find((n) => n.defaultRoute);
  const previousNetworkId = (reported && index.clusterNetworkByVdsmName(reported.name)?.id) ?? null;
  return {
    currentNetworkId,
    current: currentNetworkId === null ? null : (index.storedByNetworkId(currentNetworkId) ?? null),
    previousNetworkId,
    previous: previousNetworkId === null ? null : (index.storedByNetworkId(previousNetworkId) ?? null),
  };
}

/** Both holders are the same stored attachment: the role is not moving. */
export function roleSettled(holders: DefaultRouteHolders): boolean {
  return holders.current !== null && holders.previous !== null && holders.current.id === holders.previous.id;
}

/**
 * The attachment that may keep a static IPv6 gateway, for validation: the default-route attachment when
 * the role is settled, else `null`, which switches the single-gateway rule off while the role moves.
 */
export function ipv6GatewayHolder(holders: DefaultRouteHolders): NetworkAttachment | null {
  return roleSettled(holders) ? holders.previous : null;
}
