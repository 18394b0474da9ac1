/**
 * `hostprov networks list|get|create|update|remove`: the data-center networks every host attachment
 * follows (name, VLAN, MTU, VM network, STP, DNS, QoS, custom properties). Networks are named by id or
 * name. Exit codes: 2 bad input, 3 refused by a rule (a network in use), 4 not found; nothing changes in
 * any of them.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { Network } from '../../model/host-networking/network';
import { NetworkName, type NetworkDraft, type NetworkPatch } from '../../model/host-networking/network';
import { EntityId } from '../../model/host-networking/values';
import type { HostNetworkingStore } from '../../store/store';
import { parseFlags } from '../flags';
import { ChangeAction, cell, formatFields, formatTable, reportChange, writeJson, writeText } from '../host-networking/output';
import { findNetwork } from '../host-networking/resolve';
import { databaseFromFlags, withDatabaseOption, withStore } from '../host-networking/store-session';
import { collect, DnsServersFlag, MtuFlag, parseArgument, PropertiesFlag, QosFlag, VlanFlag } from '../host-networking/value-flags';
import { UsageError } from '../usage-error';

/** A network named on the command line: its id or its name. */
export const NetworkRef = z.string().min(1).max(256);

const Json = z.object({ json: z.boolean().default(false) });

const NetworkValueFlags = z.object({
  vlan: VlanFlag.optional(),
  mtu: MtuFlag.optional(),
  vmNetwork: z.boolean().optional(),
  stp: z.boolean().optional(),
  dnsServers: DnsServersFlag.optional(),
  qos: QosFlag.optional(),
  property: PropertiesFlag.optional(),
});

const CreateFlags = NetworkValueFlags.extend({ id: EntityId.optional(), name: NetworkName, json: z.boolean().default(false) });
const UpdateFlags = NetworkValueFlags.extend({
  name: NetworkName.optional(),
  properties: z.boolean().optional(),
  json: z.boolean().default(false),
});

function values(flags: z.infer<typeof NetworkValueFlags>): NetworkPatch {
  const out: NetworkPatch = {};
  if (flags.vlan !== undefined) out.vlan = flags.vlan;
  if (flags.mtu !== undefined) out.mtu = flags.mtu;
  if (flags.vmNetwork !== undefined) out.vmNetwork = flags.vmNetwork;
  if (flags.stp !== undefined) out.stp = flags.stp;
  if (flags.dnsServers !== undefined) out.dnsServers = flags.dnsServers;
  if (flags.qos !== undefined) out.qos = flags.qos;
  if (flags.property !== undefined) out.customProperties = flags.property;
  return out;
}

export function networkRow(n: Network): string[] {
  return [
    n.name,
    n.vlan === null ? '-' : String(n.vlan),
    n.mtu === 0 ? 'default' : String(n.mtu),
    n.vmNetwork ? 'yes' : 'no',
    n.stp ? 'on' : 'off',
    n.dnsServers.length ? n.dnsServers.join(',') : '-',
    cell(n.qos),
    n.id,
  ];
}

export function formatNetworks(networks: Network[]): string {
  return formatTable(['NAME', 'VLAN', 'MTU', 'VM', 'STP', 'DNS', 'QOS', 'ID'], networks.map(networkRow), 'no networks');
}

export function formatNetwork(n: Network): string {
  return formatFields([
    ['id', n.id],
    ['name', n.name],
    ['vlan', n.vlan === null ? 'untagged' : String(n.vlan)],
    ['mtu', n.mtu === 0 ? 'default (0)' : String(n.mtu)],
    ['vm network', n.vmNetwork ? 'yes (bridged)' : 'no (bridgeless)'],
    ['stp', n.stp ? 'on' : 'off'],
    ['dns servers', n.dnsServers.length ? n.dnsServers.join(', ') : '-'],
    ['qos', cell(n.qos)],
    ['properties', cell(n.customProperties)],
    ['created', n.createdAt],
    ['updated', n.updatedAt],
  ]);
}

const VALUE_OPTIONS = (command: Command): Command =>
  command
    .option('--vlan <id|none>', '802.1Q tag, or none for untagged')
    .option('--mtu <bytes>', 'MTU; 0 is the default (1500)')
    .option('--vm-network', 'a VM network: bridged on the host')
    .option('--no-vm-network', 'not a VM network: bridgeless')
    .option('--stp', 'spanning tree on the bridge')
    .option('--no-stp', 'no spanning tree')
    .option('--dns-servers <ip,ip>', 'up to 3 name servers, comma-separated, or none')
    .option('--qos <linkshare=N,upperlimit=MBPS,realtime=MBPS|none>', 'outbound host network QoS, or none')
    .option(
      '--property <key=value>',
      'a custom property such as bridge_opts=forward_delay=1500 (repeatable; the given set replaces the stored one)',
      collect,
    );

export function register(program: Command): void {
  const networks = program.command('networks').description('Data-center networks: list, show, create, update, remove');

  withDatabaseOption(networks.command('list').description('List the networks'))
    .option('--json', 'print the networks as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const list = await withStore(databaseFromFlags(raw), (store) => store.networks.list());
      if (json) writeJson(list);
      else writeText(formatNetworks(list));
    });

  withDatabaseOption(networks.command('get').argument('<network>', 'id or name').description('Show one network'))
    .option('--json', 'print the network as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const network = await withStore(databaseFromFlags(raw), (store) => findNetwork(store, parseArgument(NetworkRef, 'network', ref)));
      if (json) writeJson(network);
      else writeText(formatNetwork(network));
    });

  VALUE_OPTIONS(
    withDatabaseOption(networks.command('create').description("Create a network (everything but the name has the engine's default)")),
  )
    .requiredOption('--name <name>', 'network name: letters, digits, ".", "_" or "-"')
    .option('--id <uuid>', 'the id to give it (default: a new UUID)')
    .option('--json', 'print the change as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(CreateFlags, raw);
      const database = databaseFromFlags(raw);
      const draft: NetworkDraft = { ...values(flags), name: flags.name, ...(flags.id ? { id: flags.id } : {}) };
      const created = await withStore(database, (store) => store.networks.create(draft));
      reportChange(
        { action: ChangeAction.CREATED, entity: 'network', before: null, after: created },
        flags.json,
        `created network ${created.name}\n${formatNetwork(created)}`,
      );
    });

  VALUE_OPTIONS(
    withDatabaseOption(
      networks.command('update').argument('<network>', 'id or name').description('Change a network; only the given values change'),
    ),
  )
    .option('--name <name>', 'new name')
    .option('--no-properties', 'remove every custom property')
    .option('--json', 'print the change as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(UpdateFlags, raw);
      const networkRef = parseArgument(NetworkRef, 'network', ref);
      const patch: NetworkPatch = { ...values(flags), ...(flags.name ? { name: flags.name } : {}) };
      if (flags.properties === false) {
        if (flags.property !== undefined) throw new UsageError('--no-properties and --property contradict each other');
        patch.customProperties = {};
      }
      if (Object.keys(patch).length === 0)
        throw new UsageError(
          'nothing to change: give at least one of --name, --vlan, --mtu, --[no-]vm-network, --[no-]stp, --dns-servers, --qos, --property, --no-properties',
        );
      const { before, after } = await withStore(databaseFromFlags(raw), async (store) => {
        const current = await findNetwork(store, networkRef);
        return { before: current, after: await store.networks.update(current.id, patch) };
      });
      reportChange(
        { action: ChangeAction.UPDATED, entity: 'network', before, after },
        flags.json,
        `updated network ${after.name} (${after.id})`,
      );
    });

  withDatabaseOption(
    networks.command('remove').argument('<network>', 'id or name').description('Remove a network that no cluster and no host has'),
  )
    .option('--json', 'print the change as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const networkRef = parseArgument(NetworkRef, 'network', ref);
      const removed = await withStore(databaseFromFlags(raw), async (store: HostNetworkingStore) => {
        const current = await findNetwork(store, networkRef);
        await store.networks.remove(current.id);
        return current;
      });
      reportChange(
        { action: ChangeAction.REMOVED, entity: 'network', before: removed, after: null },
        json,
        `removed network ${removed.name} (${removed.id})`,
      );
    });
}
