/**
 * `hostprov attachments get|list`: the network attachments of hosts, by id, by host, or by host and NIC.
 * Exit codes: 2 bad input, 4 not found.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { IpConfiguration } from '../../model/attachments/attachment';
import type { NetworkAttachment } from '../../model/host-networking/network-attachment';
import { InterfaceName } from '../../model/host-networking/reported-interfaces';
import { EntityId } from '../../model/host-networking/values';
import { parseFlags } from '../flags';
import { cell, formatFields, formatTable, writeJson, writeText } from '../host-networking/output';
import { findAttachment, findHost } from '../host-networking/resolve';
import { databaseFromFlags, withDatabaseOption, withStore } from '../host-networking/store-session';
import { parseArgument } from '../host-networking/value-flags';

/** `STATIC_IP 192.0.2.10/255.255.255.0 gw 192.0.2.1`, `DHCP`, `NONE`. */
export function describeIpv4(ip: IpConfiguration['ipv4']): string {
  const address = ip.address ? ` ${ip.address}${ip.netmask ? `/${ip.netmask}` : ''}` : '';
  return `${ip.bootProtocol}${address}${ip.gateway ? ` gw ${ip.gateway}` : ''}`;
}

export function describeIpv6(ip: IpConfiguration['ipv6']): string {
  const address = ip.address ? ` ${ip.address}${ip.prefix !== undefined ? `/${ip.prefix}` : ''}` : '';
  return `${ip.bootProtocol}${address}${ip.gateway ? ` gw ${ip.gateway}` : ''}`;
}

export function formatAttachments(attachments: NetworkAttachment[]): string {
  return formatTable(
    ['NETWORK', 'NIC', 'IPV4', 'IPV6', 'ID'],
    attachments.map((a) => [a.networkName, a.nicName ?? '(none)', describeIpv4(a.ipConfiguration.ipv4), describeIpv6(a.ipConfiguration.ipv6), a.id]),
    'no attachments',
  );
}

export function formatAttachment(a: NetworkAttachment): string {
  return formatFields([
    ['id', a.id],
    ['host', a.hostId],
    ['network', `${a.networkName} (${a.networkId})`],
    ['nic', a.nicName ?? '(none)'],
    ['ipv4', describeIpv4(a.ipConfiguration.ipv4)],
    ['ipv6', describeIpv6(a.ipConfiguration.ipv6)],
    ['properties', cell(a.properties)],
    ['qos', a.qos === null ? "the network's" : cell(a.qos)],
    ['dns', a.dns === null ? "the network's" : a.dns.nameServers.join(', ')],
    ['requested by', a.requestedBy ?? '-'],
    ['created', a.createdAt],
    ['updated', a.updatedAt],
  ]);
}

const Json = z.object({ json: z.boolean().default(false) });
const ListFlags = z.object({ host: z.string().min(1).max(255), nic: InterfaceName.optional(), json: z.boolean().default(false) });

export function register(program: Command): void {
  const attachments = program.command('attachments').description('Network attachments of hosts: show by id, list by host or by NIC');

  withDatabaseOption(attachments.command('get').argument('<id>', 'attachment id').description('Show one attachment'))
    .option('--json', 'print the attachment as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const id = parseArgument(EntityId, 'id', ref);
      const attachment = await withStore(databaseFromFlags(raw), (store) => findAttachment(store, id));
      if (json) writeJson(attachment);
      else writeText(formatAttachment(attachment));
    });

  withDatabaseOption(attachments.command('list').description('List the attachments of a host, or of one of its NICs'))
    .requiredOption('--host <host>', 'id or name of the host')
    .option('--nic <nic>', 'only the attachments on this NIC or bond')
    .option('--json', 'print the attachments as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(ListFlags, raw);
      const list = await withStore(databaseFromFlags(raw), async (store) => {
        const host = await findHost(store, flags.host);
        return flags.nic === undefined ? store.attachments.listByHost(host.id) : store.attachments.listByNic(host.id, flags.nic);
      });
      if (flags.json) writeJson(list);
      else writeText(formatAttachments(list));
    });
}
