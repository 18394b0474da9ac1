/**
 * The attachments a valid request configures on the host, in request order: the caller's attachments plus,
 * when the default-route role moves, the other holder's stored attachment, so VDSM gets both halves of the
 * move (docs/engine-host-networking.md#default-route-role). The previous holder loses its static IPv6
 * gateway. Both the VDSM payload and the stored intent are built from this one list, so they agree.
 */
import type { IpConfiguration } from '../attachments/attachment';
import type { Network } from '../host-networking/network';
import type { NetworkAttachment } from '../host-networking/network-attachment';
import type { CustomProperties, DnsResolverConfiguration, HostNetworkQos } from '../host-networking/values';
import type { CompletedRequest } from './complete';
import type { ContextIndex } from './context';
import { defaultRouteHolders, type DefaultRouteHolders } from './default-route';
import { HostSetupNetworksPreconditionError } from './errors';

export interface ConfiguredAttachment {
  /** `null` for a new attachment. */
  id: string | null;
  network: Network;
  nicName: string;
  ipConfiguration: IpConfiguration;
  properties: CustomProperties;
  /** `null` = the network's QoS. */
  qos: HostNetworkQos | null;
  /** `null` = the network's name servers. */
  dns: DnsResolverConfiguration | null;
  /** Not asked for: the stored attachment of the other default-route holder, added by the role-move rule. */
  addedForDefaultRoute: boolean;
}

export function attachmentsToConfigure(request: CompletedRequest, index: ContextIndex): ConfiguredAttachment[] {
  const configured = request.attachments.map((a): ConfiguredAttachment => {
    if (a.network === null || a.nicName === null) {
      throw new HostSetupNetworksPreconditionError(
        `attachments[${a.index}] has no ${a.network === null ? 'network' : 'NIC'}; validate the request first`,
      );
    }
    return {
      id: a.id,
      network: a.network,
      nicName: a.nicName,
      ipConfiguration: a.ipConfiguration,
      properties: a.properties,
      qos: a.qos,
      dns: a.dns,
      addedForDefaultRoute: false,
    };
  });
  const holders = defaultRouteHolders(index);
  const companion = missingHolder(request, holders);
  if (companion) {
    const network = index.networkById(companion.networkId);
    // A stored attachment without a NIC cannot be sent; the engine's always has one.
    if (network && companion.nicName !== null) {
      configured.push({ ...companion, network, nicName: companion.nicName, addedForDefaultRoute: true });
    }
  }
  return configured.map((a) => (isPreviousHolderLosingRole(a, holders) ? withoutIpv6Gateway(a) : a));
}

/** The other holder's stored attachment when the role moves and the request carries only one side. */
function missingHolder(request: CompletedRequest, holders: DefaultRouteHolders): NetworkAttachment | null {
  const { current, previous } = holders;
  if (current && previous && current.id === previous.id) return null;
  const inRequest = (id: string) => request.attachments.some((a) => a.id === id);
  const removed = (id: string) => request.removedAttachments.includes(id);
  let missing: NetworkAttachment | null = null;
  if (previous && inRequest(previous.id) && !removed(previous.id)) missing = current;
  else if (holders.currentNetworkId !== null && request.attachments.some((a) => a.network?.id === holders.currentNetworkId))
    missing = previous;
  return missing && !inRequest(missing.id) && !removed(missing.id) ? missing : null;
}

function isPreviousHolderLosingRole(a: ConfiguredAttachment, holders: DefaultRouteHolders): boolean {
  if (holders.previousNetworkId === null || a.network.id !== holders.previousNetworkId) return false;
  return !(holders.current !== null && a.id === holders.current.id) && a.ipConfiguration.ipv6.bootProtocol === 'STATIC_IP';
}

function withoutIpv6Gateway(a: ConfiguredAttachment): ConfiguredAttachment {
  const { gateway: _gateway, ...ipv6 } = a.ipConfiguration.ipv6;
  return { ...a, ipConfiguration: { ...a.ipConfiguration, ipv6 } };
}
