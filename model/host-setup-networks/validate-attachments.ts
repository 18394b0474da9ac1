/**
 * Rules for each new or modified attachment and for each removed one (ovirt-engine
 * HostSetupNetworksValidator `validNewOrModifiedNetworkAttachments`, `validRemovedNetworkAttachments`,
 * NetworkAttachmentValidator, NetworkAttachmentIpConfigurationValidator, IsRoleNetworkIpConfigurationValid;
 * docs/engine-host-networking.md#validation-keys). Every rule runs; a rule that needs the network or the
 * NIC is skipped when that is what is missing, since that is reported already.
 */
import type { IpConfiguration } from '../attachments/attachment';
import { canonicalIP } from '../ip';
import type { NetworkAttachment } from '../host-networking/network-attachment';
import { NetworkResolution, type CompletedAttachment, type CompletedRequest } from './complete';
import type { ContextIndex } from './context';
import { describeAttachment, effectiveOf } from './effective-set';
import { violation, ViolationKey, type Violation } from './violations';

export function checkAttachments(request: CompletedRequest, index: ContextIndex, ipv6GatewayHolder: NetworkAttachment | null): Violation[] {
  const newBonds = new Set(request.bonds.map((b) => b.name));
  // In the engine's order (HostSetupNetworksValidator `validNewOrModifiedNetworkAttachments`).
  return request.attachments.flatMap((a) => [
    ...checkIdentity(a, request, index),
    ...checkVlanDevice(a, index),
    ...checkNetwork(a, index),
    ...checkNic(a, index, newBonds),
    ...checkNetworkNotChanged(a),
    ...checkIpConfiguration(a, ipv6GatewayHolder),
  ]);
}

function checkIdentity(a: CompletedAttachment, request: CompletedRequest, index: ContextIndex): Violation[] {
  const out: Violation[] = [];
  const what = describeAttachment(effectiveOf(a));
  const path = ['attachments', a.index];
  if (a.id !== null && a.stored === null) {
    out.push(
      violation(
        ViolationKey.MODIFIED_NETWORK_ATTACHMENT_DOES_NOT_EXISTS,
        `${what}: host ${request.hostId} has no attachment ${a.id} to modify`,
        [...path, 'id'],
        {
          attachmentId: a.id,
        },
      ),
    );
  }
  const { id, name } = a.requestedNetwork;
  switch (a.networkResolution) {
    case NetworkResolution.NOT_SET:
      out.push(
        violation(
          ViolationKey.NETWORK_ATTACHMENT_NETWORK_ID_OR_NAME_IS_NOT_SET,
          `${what}: give the network, by networkId or networkName`,
          path,
        ),
      );
      break;
    case NetworkResolution.UNKNOWN_ID:
      out.push(
        violation(ViolationKey.NETWORK_HAVING_ID_NOT_EXISTS, `${what}: no data-center network has id ${id}`, [...path, 'networkId'], {
          networkId: id,
        }),
      );
      break;
    case NetworkResolution.UNKNOWN_NAME:
      out.push(
        violation(
          ViolationKey.NETWORK_HAVING_NAME_NOT_EXISTS,
          `${what}: no data-center network is named ${name}`,
          [...path, 'networkName'],
          { networkName: name },
        ),
      );
      break;
    case NetworkResolution.INCOHERENT: {
      const byId = id === null ? undefined : index.networkById(id);
      const byName = name === null ? undefined : index.networkByName(name);
      out.push(
        violation(
          ViolationKey.NETWORK_ATTACHMENT_REFERENCES_NETWORK_INCOHERENTLY,
          `${what}: networkId ${id} is ${byId ? `network ${byId.name}` : 'no network'} but networkName is ${name}${byName ? '' : ' (no such network)'}`,
          path,
          { networkId: id, networkName: name, networkNameOfId: byId?.name ?? null },
        ),
      );
      break;
    }
  }
  if (a.id !== null && request.removedAttachments.includes(a.id)) {
    out.push(
      violation(
        ViolationKey.NETWORK_ATTACHMENT_IN_BOTH_LISTS,
        `${what}: attachment ${a.id} is both modified and removed`,
        [...path, 'id'],
        { attachmentId: a.id },
      ),
    );
  }
  return out;
}

function checkNetworkNotChanged(a: CompletedAttachment): Violation[] {
  if (!a.stored || !a.network || a.network.id === a.stored.networkId) return [];
  return [
    violation(
      ViolationKey.CANNOT_CHANGE_ATTACHED_NETWORK,
      `${describeAttachment(effectiveOf(a))}: attachment ${a.stored.id} is for network ${a.stored.networkName}; its network cannot change (remove it and attach ${a.network.name} instead)`,
      ['attachments', a.index, a.requestedNetwork.id !== null ? 'networkId' : 'networkName'],
      { attachmentId: a.stored.id, storedNetworkName: a.stored.networkName, networkName: a.network.name },
    ),
  ];
}

function checkVlanDevice(a: CompletedAttachment, index: ContextIndex): Violation[] {
  if (a.nicName === null || index.interfaceKind(a.nicName) !== 'vlan') return [];
  const base = index.reported.vlans.find((v) => v.name === a.nicName)?.baseInterface ?? null;
  return [
    violation(
      ViolationKey.ATTACHMENT_REFERENCE_VLAN_DEVICE,
      `${describeAttachment(effectiveOf(a))}: ${a.nicName} is a VLAN device; attach to its base interface${base ? ` ${base}` : ''} (the VLAN comes from the network)`,
      ['attachments', a.index, 'nicName'],
      { nicName: a.nicName, baseInterface: base },
    ),
  ];
}

function checkNetwork(a: CompletedAttachment, index: ContextIndex): Violation[] {
  const network = a.network;
  if (network === null) return [];
  const out: Violation[] = [];
  const what = describeAttachment(effectiveOf(a));
  const path = ['attachments', a.index];
  const existing = index.storedByNetworkId(network.id);
  if (existing && existing.id !== a.id) {
    out.push(
      violation(
        ViolationKey.ATTACHMENT_IS_NOT_REUSED,
        `${what}: network ${network.name} is already attached to this host as attachment ${existing.id}${existing.nicName ? ` on ${existing.nicName}` : ''}; modify that attachment (give its id) instead`,
        [...path, 'id'],
        { attachmentId: existing.id, networkName: network.name },
      ),
    );
  }
  const clusterNetwork = index.clusterNetwork(network.id);
  if (!clusterNetwork) {
    out.push(
      violation(
        ViolationKey.NETWORK_OF_GIVEN_NAME_NOT_EXISTS_IN_CLUSTER,
        `${what}: network ${network.name} is not attached to cluster ${index.context.cluster.name}; attach it to the cluster first`,
        path,
        { networkName: network.name, clusterId: index.context.cluster.id },
      ),
    );
    return out;
  }
  const { roles } = clusterNetwork;
  const roleNames = (['display', 'migration', 'defaultRoute'] as const).filter((r) => roles[r]);
  if (roleNames.length && a.ipConfiguration.ipv4.bootProtocol === 'NONE' && a.ipConfiguration.ipv6.bootProtocol === 'NONE') {
    out.push(
      violation(
        ViolationKey.ACTION_TYPE_FAILED_ROLE_NETWORK_HAS_NO_BOOT_PROTOCOL,
        `${what}: network ${network.name} has the ${roleNames.join(', ')} role in the cluster and needs an IPv4 or IPv6 boot protocol other than NONE`,
        [...path, 'ipConfiguration'],
        { networkName: network.name, roles: [...roleNames] },
      ),
    );
  }
  return out;
}

function checkNic(a: CompletedAttachment, index: ContextIndex, newBonds: ReadonlySet<string>): Violation[] {
  const what = describeAttachment(effectiveOf(a));
  const path = ['attachments', a.index, 'nicName'];
  if (a.nicName === null) {
    return [
      violation(ViolationKey.HOST_NETWORK_INTERFACE_DOES_NOT_HAVE_NAME_SET, `${what}: give the NIC or bond to attach to (nicName)`, path),
    ];
  }
  const kind = index.interfaceKind(a.nicName);
  if (kind === null && !newBonds.has(a.nicName)) {
    return [
      violation(
        ViolationKey.HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST,
        `${what}: host ${index.context.host.name} reports no interface ${a.nicName} and the request creates no bond of that name`,
        path,
        { nicName: a.nicName },
      ),
    ];
  }
  return [];
}

/** A gateway that is set and not `::` (ovirt-engine `IpUnspecifiedPredicate`). */
function hasIpv6Gateway(ip: IpConfiguration): boolean {
  const gateway = ip.ipv6.gateway;
  return gateway !== undefined && gateway !== '' && canonicalIP(gateway) !== '::';
}

function checkIpConfiguration(a: CompletedAttachment, ipv6GatewayHolder: NetworkAttachment | null): Violation[] {
  const out: Violation[] = [];
  const what = describeAttachment(effectiveOf(a));
  const { ipv4, ipv6 } = a.ipConfiguration;
  const path = (family: 'ipv4' | 'ipv6') => ['attachments', a.index, 'ipConfiguration', family];
  const details = (family: 'ipv4' | 'ipv6', bootProtocol: string) => ({
    networkName: a.network?.name ?? null,
    nicName: a.nicName,
    family,
    bootProtocol,
  });

  if (ipv4.bootProtocol === 'STATIC_IP') {
    const missing = [ipv4.address ? null : 'address', ipv4.netmask ? null : 'netmask'].filter((f): f is string => f !== null);
    if (missing.length) {
      out.push(
        violation(
          ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS,
          `${what}: IPv4 is STATIC_IP but has no ${missing.join(' and no ')}`,
          path('ipv4'),
          { ...details('ipv4', ipv4.bootProtocol), missing },
        ),
      );
    }
  } else {
    const given = [ipv4.address ? 'address' : null, ipv4.netmask ? 'netmask' : null, ipv4.gateway ? 'gateway' : null].filter(
      (f): f is string => f !== null,
    );
    if (given.length) {
      out.push(
        violation(
          ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS,
          `${what}: IPv4 is ${ipv4.bootProtocol} but gives ${given.join(', ')}; only STATIC_IP takes address details`,
          path('ipv4'),
          { ...details('ipv4', ipv4.bootProtocol), given },
        ),
      );
    }
  }

  if (ipv6.bootProtocol === 'STATIC_IP') {
    const missing = [ipv6.address ? null : 'address', ipv6.prefix === undefined ? 'prefix' : null].filter((f): f is string => f !== null);
    if (missing.length) {
      out.push(
        violation(
          ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS,
          `${what}: IPv6 is STATIC_IP but has no ${missing.join(' and no ')}`,
          path('ipv6'),
          { ...details('ipv6', ipv6.bootProtocol), missing },
        ),
      );
    }
    // Only the default-route network keeps an IPv6 gateway; the rule is off while the role moves.
    if (ipv6GatewayHolder !== null && a.id !== ipv6GatewayHolder.id && hasIpv6Gateway(a.ipConfiguration)) {
      out.push(
        violation(
          ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_IPV6_GATEWAY_ON_NON_DEFAULT_ROUTE_ROLE,
          `${what}: IPv6 gateway ${ipv6.gateway} is allowed only on the default-route network ${ipv6GatewayHolder.networkName}; a host has one IPv6 default route`,
          [...path('ipv6'), 'gateway'],
          { ...details('ipv6', ipv6.bootProtocol), gateway: ipv6.gateway ?? null, defaultRouteNetworkName: ipv6GatewayHolder.networkName },
        ),
      );
    }
  } else {
    const given = [ipv6.address ? 'address' : null, ipv6.prefix !== undefined ? 'prefix' : null, ipv6.gateway ? 'gateway' : null].filter(
      (f): f is string => f !== null,
    );
    if (given.length) {
      out.push(
        violation(
          ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS,
          `${what}: IPv6 is ${ipv6.bootProtocol} but gives ${given.join(', ')}; only STATIC_IP takes address details`,
          path('ipv6'),
          { ...details('ipv6', ipv6.bootProtocol), given },
        ),
      );
    }
  }
  return out;
}

export function checkRemovedAttachments(request: CompletedRequest, index: ContextIndex): Violation[] {
  const out: Violation[] = [];
  for (const [i, id] of request.removedAttachments.entries()) {
    const stored = index.storedById(id);
    if (!stored) {
      out.push(
        violation(
          ViolationKey.NETWORK_ATTACHMENTS_TO_BE_REMOVED_DOES_NOT_EXISTS,
          `removedAttachments[${i}]: host ${request.hostId} has no attachment ${id}`,
          ['removedAttachments', i],
          {
            attachmentId: id,
          },
        ),
      );
      continue;
    }
    if (stored.networkId === index.managementNetworkId) {
      out.push(
        violation(
          ViolationKey.NETWORK_CANNOT_REMOVE_MANAGEMENT_NETWORK,
          `removedAttachments[${i}]: attachment ${id} is the management network ${stored.networkName}, which cannot be removed from a host`,
          ['removedAttachments', i],
          { attachmentId: id, networkName: stored.networkName },
        ),
      );
    }
  }
  return out;
}
