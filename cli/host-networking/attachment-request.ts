/**
 * `hostprov attachments add|update|remove` as the engine does them: each is one HostSetupNetworksRequest
 * carrying one change (a new attachment, a changed one, a removed one), validated and applied by the
 * hostSetupNetworks workflow like any other request (docs/engine-host-networking.md). Pure: flags in,
 * request out.
 */
import { z } from 'zod';
import { Ipv4BootProtocol, Ipv6BootProtocol } from '../../model/attachments/attachment';
import type { NetworkAttachment } from '../../model/host-networking/network-attachment';
import { EntityId } from '../../model/host-networking/values';
import {
  HOST_SETUP_NETWORKS_REQUEST_VERSION,
  HostSetupNetworksRequest,
  RequestIpv4Address,
  RequestIpv6Address,
  type AttachmentRequest,
  type HostSetupNetworksOptions,
} from '../../model/host-setup-networks/request';
import { NONE } from './value-flags';

/** `static:ADDRESS/MASK[,gateway=GW]`: the address part and the optional gateway. */
function staticParts(
  text: string,
  ctx: z.RefinementCtx,
  example: string,
): { address: string; mask: string; gateway?: string } | typeof z.NEVER {
  const [first, ...rest] = text.slice('static:'.length).split(',');
  const slash = first?.lastIndexOf('/') ?? -1;
  const gateway = rest.length === 1 && rest[0]!.startsWith('gateway=') ? rest[0]!.slice('gateway='.length) : undefined;
  if (!first || slash <= 0 || slash === first.length - 1 || rest.length > 1 || (rest.length === 1 && gateway === undefined)) {
    ctx.addIssue({ code: 'custom', message: `expected ${example}` });
    return z.NEVER;
  }
  return { address: first.slice(0, slash), mask: first.slice(slash + 1), ...(gateway !== undefined ? { gateway } : {}) };
}

/** `--ipv4 none|dhcp|static:192.0.2.10/24[,gateway=192.0.2.1]` (the mask dotted or a prefix length). */
export const Ipv4Flag = z
  .string()
  .transform((text, ctx): z.input<typeof RequestIpv4Address> => {
    if (text === NONE) return { bootProtocol: Ipv4BootProtocol.NONE };
    if (text === 'dhcp') return { bootProtocol: Ipv4BootProtocol.DHCP };
    if (!text.startsWith('static:')) {
      ctx.addIssue({ code: 'custom', message: 'expected none, dhcp or static:ADDRESS/NETMASK[,gateway=GATEWAY]' });
      return z.NEVER;
    }
    const parts = staticParts(text, ctx, 'static:192.0.2.10/24 or static:192.0.2.10/255.255.255.0,gateway=192.0.2.1');
    if (parts === z.NEVER) return z.NEVER;
    return {
      bootProtocol: Ipv4BootProtocol.STATIC_IP,
      address: parts.address,
      netmask: parts.mask,
      ...(parts.gateway !== undefined ? { gateway: parts.gateway } : {}),
    };
  })
  .pipe(RequestIpv4Address);

const IPV6_WORDS: Record<string, Ipv6BootProtocol> = {
  none: Ipv6BootProtocol.NONE,
  dhcp: Ipv6BootProtocol.DHCP,
  autoconf: Ipv6BootProtocol.AUTOCONF,
  'dhcp+autoconf': Ipv6BootProtocol.POLY_DHCP_AUTOCONF,
};

/** `--ipv6 none|dhcp|autoconf|dhcp+autoconf|static:2001:db8::10/64[,gateway=2001:db8::1]`. */
export const Ipv6Flag = z
  .string()
  .transform((text, ctx): z.input<typeof RequestIpv6Address> => {
    const word = IPV6_WORDS[text];
    if (word) return { bootProtocol: word };
    if (!text.startsWith('static:')) {
      ctx.addIssue({ code: 'custom', message: 'expected none, dhcp, autoconf, dhcp+autoconf or static:ADDRESS/PREFIX[,gateway=GATEWAY]' });
      return z.NEVER;
    }
    const parts = staticParts(text, ctx, 'static:2001:db8::10/64 or static:2001:db8::10/64,gateway=2001:db8::1');
    if (parts === z.NEVER) return z.NEVER;
    if (!/^\d{1,3}$/.test(parts.mask)) {
      ctx.addIssue({ code: 'custom', message: 'an IPv6 prefix is a length 0..128' });
      return z.NEVER;
    }
    return {
      bootProtocol: Ipv6BootProtocol.STATIC_IP,
      address: parts.address,
      prefix: Number(parts.mask),
      ...(parts.gateway !== undefined ? { gateway: parts.gateway } : {}),
    };
  })
  .pipe(RequestIpv6Address);

/** The attachment fields the add and update flags may set. */
export interface AttachmentFields {
  nic?: string;
  ipv4?: z.infer<typeof RequestIpv4Address>;
  ipv6?: z.infer<typeof RequestIpv6Address>;
  properties?: Record<string, string>;
  qos?: AttachmentRequest['qos'];
  dns?: AttachmentRequest['dns'];
  overrideConfiguration?: boolean;
}

function fields(given: AttachmentFields): Omit<AttachmentRequest, 'overrideConfiguration'> & { overrideConfiguration?: boolean } {
  const ip =
    given.ipv4 || given.ipv6
      ? { ipConfiguration: { ...(given.ipv4 ? { ipv4: given.ipv4 } : {}), ...(given.ipv6 ? { ipv6: given.ipv6 } : {}) } }
      : {};
  return {
    ...(given.nic !== undefined ? { nicName: given.nic } : {}),
    ...ip,
    ...(given.properties !== undefined ? { properties: given.properties } : {}),
    ...(given.qos !== undefined ? { qos: given.qos } : {}),
    ...(given.dns !== undefined ? { dns: given.dns } : {}),
    ...(given.overrideConfiguration ? { overrideConfiguration: true } : {}),
  };
}

function request(
  hostId: string,
  parts: Partial<Pick<HostSetupNetworksRequest, 'attachments' | 'removedAttachments'>>,
  options: Partial<HostSetupNetworksOptions>,
): HostSetupNetworksRequest {
  return HostSetupNetworksRequest.parse({ version: HOST_SETUP_NETWORKS_REQUEST_VERSION, hostId, ...parts, options });
}

/** A new attachment of `network` (an id or a name) on the host. */
export function addAttachmentRequest(
  hostId: string,
  network: string,
  given: AttachmentFields,
  options: Partial<HostSetupNetworksOptions> = {},
): HostSetupNetworksRequest {
  const ref = EntityId.safeParse(network).success ? { networkId: network } : { networkName: network };
  return request(hostId, { attachments: [{ ...ref, ...fields(given) } as AttachmentRequest] }, options);
}

/** A change to a stored attachment: only the given fields change, the rest is kept by the workflow. */
export function updateAttachmentRequest(
  attachment: NetworkAttachment,
  given: AttachmentFields,
  options: Partial<HostSetupNetworksOptions> = {},
): HostSetupNetworksRequest {
  return request(
    attachment.hostId,
    { attachments: [{ id: attachment.id, networkId: attachment.networkId, ...fields(given) } as AttachmentRequest] },
    options,
  );
}

export function removeAttachmentRequest(
  attachment: NetworkAttachment,
  options: Partial<HostSetupNetworksOptions> = {},
): HostSetupNetworksRequest {
  return request(attachment.hostId, { removedAttachments: [attachment.id] }, options);
}
