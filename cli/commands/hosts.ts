/**
 * `hostprov hosts list|get|create|update|remove`: the hosts the store knows, their cluster and how the
 * worker reaches their agent (TLS material by `file:`/`env:` reference only, never the secret). Hosts are
 * named by id or name. Exit codes: 2 bad input, 3 refused by a rule, 4 not found; nothing changes in any of
 * them. `activate` and `maintenance` (hosts-lifecycle.ts) start and stop the host's monitoring, and
 * `get --monitoring` shows it; `remove` ends it for good before it forgets the host.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { AgentEndpoint, type Host, type HostPatch } from '../../model/host-networking/host';
import { InterfaceName } from '../../model/host-networking/reported-interfaces';
import { SecretRef } from '../../model/install-host/contract';
import { EntityName, ExternalId } from '../../model/host-networking/values';
import { parseFlags } from '../flags';
import { ChangeAction, formatFields, formatTable, reportChange, writeJson, writeText } from '../host-networking/output';
import { findCluster, findHost, HostRef } from '../host-networking/resolve';
import { databaseFromFlags, withDatabaseOption, withStore } from '../host-networking/store-session';
import { NONE, parseArgument, PortFlag } from '../host-networking/value-flags';
import { withPayloadKeyOptions, withTemporalOptions } from '../temporal-flags';
import { UsageError } from '../usage-error';
import { hostMonitoringState, removeHostMonitoring } from '../../workflow-client/host-lifecycle';
import { formatMonitoring, withTemporalClient } from '../host-networking/monitoring';
import { formatAttachments } from './attachments';
import { ClusterRef } from './clusters';
import { addLifecycleCommands } from './hosts-lifecycle';

export { HostRef };

const AgentFlags = z.object({
  agentHost: z.string().min(1).max(255).optional(),
  agentPort: PortFlag.optional(),
  agentCert: z.optional(SecretRef),
  agentKey: z.optional(SecretRef),
  agentCa: z.optional(SecretRef),
  agentServerName: z.string().min(1).max(255).optional(),
  agentInsecure: z.boolean().optional(),
});
type AgentFlags = z.infer<typeof AgentFlags>;

const CreateFlags = AgentFlags.extend({
  id: ExternalId,
  name: EntityName,
  cluster: ClusterRef.optional(),
  json: z.boolean().default(false),
});
const UpdateFlags = AgentFlags.extend({
  name: EntityName.optional(),
  /** `--no-cluster` gives `false`. */
  cluster: z.union([ClusterRef, z.literal(false)]).optional(),
  /** `--no-agent` gives `false` (commander's default for it is `true`). */
  agent: z.boolean().optional(),
  activeNic: z.union([z.literal(NONE).transform(() => null), InterfaceName]).optional(),
  json: z.boolean().default(false),
});
const Json = z.object({ json: z.boolean().default(false) });
const GetFlags = Json.extend({ monitoring: z.boolean().default(false) });

/** The agent endpoint the `--agent-*` flags describe, or `undefined` when none was given. */
function agentFromFlags(flags: AgentFlags): AgentEndpoint | undefined {
  const { agentHost, agentPort, agentCert, agentKey, agentCa, agentServerName, agentInsecure } = flags;
  if ([agentHost, agentPort, agentCert, agentKey, agentCa, agentServerName, agentInsecure].every((v) => v === undefined)) return undefined;
  if (!agentHost) throw new UsageError('--agent-host: needed with the other --agent-* flags');
  let tls: AgentEndpoint['tls'];
  if (agentInsecure) {
    if (agentCert || agentKey || agentCa || agentServerName)
      throw new UsageError('--agent-insecure: no TLS, so no --agent-cert, --agent-key, --agent-ca or --agent-server-name');
    tls = { insecure: true };
  } else {
    if (!agentCert || !agentKey || !agentCa)
      throw new UsageError('--agent-cert, --agent-key and --agent-ca: all three are needed for TLS (or --agent-insecure, for labs)');
    tls = { certRef: agentCert, keyRef: agentKey, caRef: agentCa, ...(agentServerName ? { serverName: agentServerName } : {}) };
  }
  return parseFlags(AgentEndpoint, { host: agentHost, ...(agentPort ? { port: agentPort } : {}), tls });
}

function describeAgent(agent: AgentEndpoint | null): string {
  if (!agent) return '-';
  const tls =
    'insecure' in agent.tls
      ? 'no TLS'
      : `TLS cert ${agent.tls.certRef}, key ${agent.tls.keyRef}, CA ${agent.tls.caRef}${agent.tls.serverName ? `, server name ${agent.tls.serverName}` : ''}`;
  return `${agent.host}:${agent.port} (${tls})`;
}

function formatHost(host: Host, clusterName: string | null): string {
  const report = host.reportedInterfaces;
  const names = (items: Array<{ name: string }> | undefined) => (items?.length ? items.map((i) => i.name).join(', ') : '-');
  return formatFields([
    ['id', host.id],
    ['name', host.name],
    ['cluster', host.clusterId === null ? '-' : `${clusterName ?? '?'} (${host.clusterId})`],
    ['agent', describeAgent(host.agentEndpoint)],
    ['active nic', host.activeNic ?? '-'],
    ['reported at', host.interfacesReportedAt ?? 'never'],
    ['nics', names(report?.nics)],
    ['bonds', report?.bonds.length ? report.bonds.map((b) => `${b.name} (${b.slaves.join('+')})`).join(', ') : '-'],
    ['vlans', names(report?.vlans)],
    ['created', host.createdAt],
    ['updated', host.updatedAt],
  ]);
}

function agentFlagOptions(command: Command): Command {
  return command
    .option('--agent-host <address>', "where the worker reaches the host's agent")
    .option('--agent-port <port>', "the agent's port (default 54321)")
    .option('--agent-cert <ref>', 'client certificate, as file:/abs/path or env:NAME')
    .option('--agent-key <ref>', 'its private key, as file:/abs/path or env:NAME')
    .option('--agent-ca <ref>', "CA that signed the agent's certificate, as file:/abs/path or env:NAME")
    .option('--agent-server-name <name>', "name the agent's certificate carries, if not --agent-host")
    .option('--agent-insecure', 'reach the agent without TLS (labs only; the worker refuses unless --allow-insecure-agents)');
}

export function register(program: Command): void {
  const hosts = program.command('hosts').description('Hosts: list, show, register, update, activate, maintenance, remove');

  withDatabaseOption(hosts.command('list').description('List the hosts'))
    .option('--json', 'print the hosts as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const { list, clusters } = await withStore(databaseFromFlags(raw), async (store) => ({
        list: await store.hosts.list(),
        clusters: new Map((await store.clusters.list()).map((c) => [c.id, c.name])),
      }));
      if (json) return writeJson(list);
      writeText(
        formatTable(
          ['NAME', 'CLUSTER', 'AGENT', 'ACTIVE NIC', 'ID'],
          list.map((h) => [
            h.name,
            h.clusterId === null ? '-' : (clusters.get(h.clusterId) ?? h.clusterId),
            h.agentEndpoint ? `${h.agentEndpoint.host}:${h.agentEndpoint.port}` : '-',
            h.activeNic ?? '-',
            h.id,
          ]),
          'no hosts',
        ),
      );
    });

  withPayloadKeyOptions(
    withTemporalOptions(
      withDatabaseOption(
        hosts.command('get').argument('<host>', 'id or name').description('Show a host, its reported interfaces and its attachments'),
      ),
    ),
  )
    .option('--json', 'print the host as JSON')
    .option('--monitoring', 'also ask Temporal for its monitoring: refresh schedule and network-event watch (see `hosts activate`)')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const { json, monitoring } = parseFlags(GetFlags, raw);
      const hostRef = parseArgument(HostRef, 'host', ref);
      const found = await withStore(databaseFromFlags(raw), async (store) => {
        const host = await findHost(store, hostRef);
        const cluster = host.clusterId === null ? null : await store.clusters.get(host.clusterId);
        return { host, clusterName: cluster?.name ?? null, attachments: await store.attachments.listByHost(host.id) };
      });
      const state = monitoring ? await withTemporalClient(raw, (client) => hostMonitoringState(client, found.host.id)) : null;
      if (json) return writeJson(state ? { ...found.host, monitoring: state } : found.host);
      const sections = [
        formatHost(found.host, found.clusterName),
        ...(state ? [formatMonitoring(state)] : []),
        formatAttachments(found.attachments),
      ];
      writeText(sections.join('\n\n'));
    });

  agentFlagOptions(withDatabaseOption(hosts.command('create').description('Register a host')))
    .requiredOption('--id <id>', "the host's id (the engine's id, or any id install-host uses)")
    .requiredOption('--name <name>', "the host's name")
    .option('--cluster <cluster>', 'id or name of its cluster')
    .option('--json', 'print the change as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(CreateFlags, raw);
      const agentEndpoint = agentFromFlags(flags) ?? null;
      const created = await withStore(databaseFromFlags(raw), async (store) => {
        const clusterId = flags.cluster === undefined ? null : (await findCluster(store, flags.cluster)).id;
        return store.hosts.create({ id: flags.id, name: flags.name, clusterId, agentEndpoint });
      });
      reportChange(
        { action: ChangeAction.CREATED, entity: 'host', before: null, after: created },
        flags.json,
        `created host ${created.name}\n${formatHost(created, flags.cluster ?? null)}`,
      );
    });

  agentFlagOptions(
    withDatabaseOption(
      hosts
        .command('update')
        .argument('<host>', 'id or name')
        .description('Change a host; only the given values change (the --agent-* flags replace the whole endpoint)'),
    ),
  )
    .option('--name <name>', 'new name')
    .option('--cluster <cluster>', 'id or name of its new cluster')
    .option('--no-cluster', 'take the host out of its cluster')
    .option('--no-agent', 'forget the agent endpoint')
    .option('--active-nic <nic|none>', "the device that carries the manager's traffic")
    .option('--json', 'print the change as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(UpdateFlags, raw);
      const hostRef = parseArgument(HostRef, 'host', ref);
      const agent = agentFromFlags(flags);
      if (agent && flags.agent === false) throw new UsageError('--no-agent and --agent-* contradict each other');
      if (!flags.name && flags.cluster === undefined && !agent && flags.agent !== false && flags.activeNic === undefined) {
        throw new UsageError('nothing to change: give at least one of --name, --[no-]cluster, --agent-*, --no-agent, --active-nic');
      }
      const { before, after } = await withStore(databaseFromFlags(raw), async (store) => {
        const patch: HostPatch = {};
        if (flags.name) patch.name = flags.name;
        if (flags.cluster !== undefined) patch.clusterId = flags.cluster === false ? null : (await findCluster(store, flags.cluster)).id;
        if (agent) patch.agentEndpoint = agent;
        if (flags.agent === false) patch.agentEndpoint = null;
        if (flags.activeNic !== undefined) patch.activeNic = flags.activeNic;
        const current = await findHost(store, hostRef);
        return { before: current, after: await store.hosts.update(current.id, patch) };
      });
      reportChange({ action: ChangeAction.UPDATED, entity: 'host', before, after }, flags.json, `updated host ${after.name} (${after.id})`);
    });

  addLifecycleCommands(hosts);

  withPayloadKeyOptions(
    withTemporalOptions(
      withDatabaseOption(
        hosts
          .command('remove')
          .argument('<host>', 'id or name')
          .description(
            'Remove a host and its attachments from the store, after deleting its refresh schedule and stopping its ' +
              'network-event watch (the host itself is not touched)',
          ),
      ),
    ),
  )
    .option('--json', 'print the change as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const hostRef = parseArgument(HostRef, 'host', ref);
      const { host, attachments, monitoring } = await withStore(databaseFromFlags(raw), async (store) => {
        const current = await findHost(store, hostRef);
        // Monitoring first: if Temporal cannot be reached the host stays, and a retry finds it by name again;
        // forgotten first, a schedule left behind would refresh a host no command can name any more.
        const ended = await withTemporalClient(raw, (client) => removeHostMonitoring(client, { hostId: current.id }));
        const held = await store.attachments.listByHost(current.id);
        await store.hosts.remove(current.id);
        return { host: current, attachments: held.length, monitoring: ended };
      });
      reportChange(
        { action: ChangeAction.REMOVED, entity: 'host', before: host, after: null },
        json,
        `removed host ${host.name} (${host.id}) and its ${attachments} attachment(s)\n` +
          `refresh schedule: ${monitoring.scheduleDeleted ? 'deleted' : 'none'}, event watch: ${monitoring.watchStopped ? 'stopped' : 'not running'}`,
      );
    });
}
