/**
 * `hostprov attachments get|list|add|update|remove`: the network attachments of hosts. The queries read the
 * store (by id, by host, or by host and NIC; exit 2 bad input, 4 not found). The commands wrap their one
 * change into a HostSetupNetworksRequest, as the engine does, and queue it on the host's entity workflow
 * (Update-with-Start, one change at a time per host), then print the result: exit 0 configured or no-op,
 * 2 bad input, 3 invalid (the violations are listed; nothing was sent or stored), 4 not found,
 * 5 rolled back (the rows were restored), 1 failed.
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
import { collect, DnsServersFlag, parseArgument, PropertiesFlag, QosFlag } from '../host-networking/value-flags';
import {
  addAttachmentRequest,
  Ipv4Flag,
  Ipv6Flag,
  removeAttachmentRequest,
  updateAttachmentRequest,
  type AttachmentFields,
} from '../host-networking/attachment-request';
import { connectClient } from '../../lib/temporal/connection';
import { TASK_QUEUE } from '../../lib/temporal/constants';
import { HostSetupNetworksOutcome, type HostSetupNetworksResult } from '../../model/host-setup-networks/contract';
import type { HostSetupNetworksOptions, HostSetupNetworksRequest } from '../../model/host-setup-networks/request';
import { HostNetworkChangeRejectedError, requestHostNetworkChange } from '../../workflow-client/host-networks';
import { payloadKeysFromFlags, temporalConfigFromFlags, withPayloadKeyOptions, withTemporalOptions } from '../temporal-flags';
import { UsageError } from '../usage-error';
import { NetworkRef } from './networks';

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
    attachments.map((a) => [
      a.networkName,
      a.nicName ?? '(none)',
      describeIpv4(a.ipConfiguration.ipv4),
      describeIpv6(a.ipConfiguration.ipv6),
      a.id,
    ]),
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

/** Exit code of each outcome of an attachment command. */
export const OUTCOME_EXIT_CODES: Record<HostSetupNetworksOutcome, number> = {
  [HostSetupNetworksOutcome.CONFIGURED]: 0,
  [HostSetupNetworksOutcome.NO_OP]: 0,
  [HostSetupNetworksOutcome.INVALID]: 3,
  [HostSetupNetworksOutcome.ROLLED_BACK]: 5,
  [HostSetupNetworksOutcome.FAILED]: 1,
};

const ApplyFlags = z.object({
  rollback: z.boolean().default(true),
  connectivityTimeout: z
    .string()
    .regex(/^\d{1,4}$/, 'a whole number of seconds')
    .transform(Number)
    .pipe(z.number().int().min(1).max(3600))
    .optional(),
  commitOnSuccess: z.boolean().default(false),
  taskQueue: z.string().min(1),
  json: z.boolean().default(false),
});

const FieldFlags = z.object({
  nic: InterfaceName.optional(),
  ipv4: Ipv4Flag.optional(),
  ipv6: Ipv6Flag.optional(),
  property: PropertiesFlag.optional(),
  properties: z.boolean().optional(),
  qos: QosFlag.optional(),
  dnsServers: DnsServersFlag.optional(),
  overrideConfiguration: z.boolean().optional(),
});

const AddFlags = FieldFlags.merge(ApplyFlags).extend({ host: z.string().min(1).max(255), network: NetworkRef });

function attachmentFields(flags: z.infer<typeof FieldFlags>): AttachmentFields {
  if (flags.properties === false && flags.property !== undefined)
    throw new UsageError('--no-properties and --property contradict each other');
  return {
    ...(flags.nic !== undefined ? { nic: flags.nic } : {}),
    ...(flags.ipv4 ? { ipv4: flags.ipv4 } : {}),
    ...(flags.ipv6 ? { ipv6: flags.ipv6 } : {}),
    ...(flags.property !== undefined ? { properties: flags.property } : flags.properties === false ? { properties: {} } : {}),
    ...(flags.qos !== undefined ? { qos: flags.qos } : {}),
    // An empty list means the network's name servers again.
    ...(flags.dnsServers !== undefined ? { dns: flags.dnsServers.length ? { nameServers: flags.dnsServers } : null } : {}),
    ...(flags.overrideConfiguration ? { overrideConfiguration: true } : {}),
  };
}

function applyOptions(flags: z.infer<typeof ApplyFlags>): Partial<HostSetupNetworksOptions> {
  return {
    rollbackOnFailure: flags.rollback,
    commitOnSuccess: flags.commitOnSuccess,
    ...(flags.connectivityTimeout ? { connectivityTimeoutSeconds: flags.connectivityTimeout } : {}),
  };
}

export function formatSetupResult(result: HostSetupNetworksResult, workflowId: string): string {
  const lines = [`outcome:  ${result.outcome}`, `workflow: ${workflowId}`];
  for (const v of result.violations) lines.push(`  ✗ ${v.key}: ${v.message}`);
  if (result.dropped.attachments.length) lines.push(`dropped (already so): ${result.dropped.attachments.join(', ')}`);
  for (const w of result.warnings) lines.push(`warning:  ${w.message}`);
  if (result.failure) lines.push(`failure:  ${result.failure.type}: ${result.failure.message}`);
  if (result.compensation) lines.push(`undo:     ${result.compensation.status}`);
  if (result.attachments) lines.push('', formatAttachments(result.attachments));
  return lines.join('\n');
}

/** Sends one request through the host's entity workflow and prints its result. */
async function send(raw: Record<string, unknown>, flags: z.infer<typeof ApplyFlags>, request: HostSetupNetworksRequest): Promise<void> {
  const temporal = temporalConfigFromFlags(raw);
  const payloadKeys = payloadKeysFromFlags(raw);
  const { client, close } = await connectClient(temporal, { payloadKeys });
  try {
    const answer = await requestHostNetworkChange(client, { kind: 'setup-networks', request }, { taskQueue: flags.taskQueue }).catch(
      (err: unknown) => {
        throw err instanceof HostNetworkChangeRejectedError ? new UsageError(err.message) : err;
      },
    );
    if (flags.json) writeJson({ changeId: answer.changeId, workflowId: answer.workflowId, request, result: answer.result });
    else writeText(formatSetupResult(answer.result, answer.workflowId));
    process.exitCode = OUTCOME_EXIT_CODES[answer.result.outcome];
  } finally {
    await close();
  }
}

function fieldOptions(command: Command): Command {
  return command
    .option('--nic <nic>', 'the base NIC or bond (never a VLAN device: the VLAN comes from the network)')
    .option('--ipv4 <none|dhcp|static:ADDR/MASK[,gateway=GW]>', 'IPv4 configuration')
    .option('--ipv6 <none|dhcp|autoconf|dhcp+autoconf|static:ADDR/PREFIX[,gateway=GW]>', 'IPv6 configuration')
    .option('--property <key=value>', 'a custom property (repeatable; the given set replaces the stored one)', collect)
    .option('--qos <linkshare=N,upperlimit=MBPS,realtime=MBPS|none>', "QoS override on this host, or none for the network's")
    .option('--dns-servers <ip,ip|none>', "name servers (sent for the default-route network only), or none for the network's");
}

function applyOptionFlags(command: Command): Command {
  return withPayloadKeyOptions(withTemporalOptions(command))
    .option('--no-rollback', 'no connectivity check: the host keeps the change even if it cuts the manager off')
    .option('--connectivity-timeout <seconds>', 'how long the host waits for our confirmation before rolling back (default 120)')
    .option('--commit-on-success', 'the host persists the change itself once it succeeded')
    .option('--task-queue <name>', 'task queue the workers poll', TASK_QUEUE)
    .option('--json', 'print the request and the result as JSON');
}
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

  applyOptionFlags(
    fieldOptions(withDatabaseOption(attachments.command('add').description('Attach a network to a host (one hostSetupNetworks request)'))),
  )
    .requiredOption('--host <host>', 'id or name of the host')
    .requiredOption('--network <network>', 'id or name of the network')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(AddFlags, raw);
      const fields = attachmentFields(flags);
      const host = await withStore(databaseFromFlags(raw), (store) => findHost(store, flags.host));
      await send(raw, flags, addAttachmentRequest(host.id, flags.network, fields, applyOptions(flags)));
    });

  applyOptionFlags(
    fieldOptions(
      withDatabaseOption(
        attachments
          .command('update')
          .argument('<id>', 'attachment id')
          .description('Change an attachment; only the given values change (one hostSetupNetworks request)'),
      ),
    ),
  )
    .option('--no-properties', 'remove every custom property')
    .option('--override-configuration', 'send it even if nothing changed, overwriting what the host has (sync)')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(FieldFlags.merge(ApplyFlags), raw);
      const id = parseArgument(EntityId, 'id', ref);
      const fields = attachmentFields(flags);
      if (Object.keys(fields).length === 0)
        throw new UsageError(
          'nothing to change: give at least one of --nic, --ipv4, --ipv6, --property, --no-properties, --qos, --dns-servers, --override-configuration',
        );
      const attachment = await withStore(databaseFromFlags(raw), (store) => findAttachment(store, id));
      await send(raw, flags, updateAttachmentRequest(attachment, fields, applyOptions(flags)));
    });

  applyOptionFlags(
    withDatabaseOption(
      attachments
        .command('remove')
        .argument('<id>', 'attachment id')
        .description('Remove an attachment from its host (one hostSetupNetworks request)'),
    ),
  ).action(async (ref: string, raw: Record<string, unknown>) => {
    const flags = parseFlags(ApplyFlags, raw);
    const id = parseArgument(EntityId, 'id', ref);
    const attachment = await withStore(databaseFromFlags(raw), (store) => findAttachment(store, id));
    await send(raw, flags, removeAttachmentRequest(attachment, applyOptions(flags)));
  });
}
