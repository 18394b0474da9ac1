/**
 * `hostprov clusters list|get|create|update|remove|attach-network|update-network|detach-network|set-management`:
 * clusters and the roles of their networks (management, default route, display, migration, required).
 * A cluster has exactly one management network, named when it is created and moved only by
 * `set-management`; at most one network holds the default route, and giving the role to another network
 * moves it. Exit codes: 2 bad input, 3 refused by a rule, 4 not found; nothing changes in any of them.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { ClusterNetworkRole, CompatibilityVersion, type ClusterPatch } from '../../model/host-networking/cluster';
import { EntityName, ExternalId } from '../../model/host-networking/values';
import type { HostNetworkingStore } from '../../store/store';
import { parseFlags } from '../flags';
import { clusterViewForDiff, formatClusterView, loadClusterView, type ClusterView } from '../host-networking/cluster-view';
import { ChangeAction, describeChanges, formatTable, writeJson, writeText, type ChangeRecord } from '../host-networking/output';
import { findCluster, findNetwork } from '../host-networking/resolve';
import { databaseFromFlags, withDatabaseOption, withStore } from '../host-networking/store-session';
import { parseArgument, RoleFlags, rolesFromFlags } from '../host-networking/value-flags';
import { UsageError } from '../usage-error';
import { NetworkRef } from './networks';

/** A cluster named on the command line: its id or its name. */
export const ClusterRef = z.string().min(1).max(255);

const Json = z.object({ json: z.boolean().default(false) });
const CreateFlags = z.object({
  id: ExternalId.optional(),
  name: EntityName,
  compatibilityVersion: CompatibilityVersion,
  managementNetwork: NetworkRef,
  json: z.boolean().default(false),
});
const UpdateFlags = z.object({
  name: EntityName.optional(),
  compatibilityVersion: CompatibilityVersion.optional(),
  json: z.boolean().default(false),
});
const RoleChangeFlags = RoleFlags.extend({ json: z.boolean().default(false) });

/** Prints a write: the JSON record, or a headline and every changed field (roles by network name). */
function report(record: ChangeRecord<ClusterView>, json: boolean, headline: string): void {
  if (json) return writeJson(record);
  const lines = [headline];
  if (record.action === ChangeAction.UPDATED) {
    const changes = describeChanges(clusterViewForDiff(record.before), clusterViewForDiff(record.after));
    lines.push(...(changes.length ? changes.map((c) => `  ${c}`) : ['  (nothing changed)']));
  } else if (record.after) {
    lines.push(formatClusterView(record.after));
  }
  writeText(lines.join('\n'));
}

/** Runs one change to a cluster and returns its view before and after. */
async function changeCluster(
  raw: Record<string, unknown>,
  clusterRef: string,
  change: (store: HostNetworkingStore, clusterId: string) => Promise<unknown>,
): Promise<{ before: ClusterView; after: ClusterView }> {
  return withStore(databaseFromFlags(raw), async (store) => {
    const cluster = await findCluster(store, clusterRef);
    const before = await loadClusterView(store, cluster);
    await change(store, cluster.id);
    return { before, after: await loadClusterView(store, await findCluster(store, cluster.id)) };
  });
}

const ROLE_OPTIONS = (command: Command, negatable: boolean): Command => {
  const roles: Array<[string, string]> = [
    ['management', `the ${ClusterNetworkRole.MANAGEMENT} role (refused: a cluster has one; use set-management)`],
    ['default-route', "holds the hosts' default route (moves the role from the network that has it)"],
    ['display', 'carries display (console) traffic'],
    ['migration', 'carries VM migration traffic'],
    ['required', 'hosts without it are not operational'],
  ];
  for (const [flag, help] of roles) {
    command.option(`--${flag}`, help);
    if (negatable) command.option(`--no-${flag}`, `drop the ${flag} role`);
  }
  return command;
};

export function register(program: Command): void {
  const clusters = program.command('clusters').description('Clusters and the roles of their networks');

  withDatabaseOption(clusters.command('list').description('List the clusters'))
    .option('--json', 'print the clusters as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const views = await withStore(databaseFromFlags(raw), async (store) =>
        Promise.all((await store.clusters.list()).map((c) => loadClusterView(store, c))),
      );
      if (json) return writeJson(views.map((v) => v.cluster));
      writeText(
        formatTable(
          ['NAME', 'COMPATIBILITY', 'MANAGEMENT', 'NETWORKS', 'ID'],
          views.map((v) => [
            v.cluster.name,
            v.cluster.compatibilityVersion,
            v.networks.find((n) => n.roles.management)?.networkName ?? '-',
            String(v.networks.length),
            v.cluster.id,
          ]),
          'no clusters',
        ),
      );
    });

  withDatabaseOption(clusters.command('get').argument('<cluster>', 'id or name').description("Show a cluster and its networks' roles"))
    .option('--json', 'print the cluster and its networks as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const clusterRef = parseArgument(ClusterRef, 'cluster', ref);
      const view = await withStore(databaseFromFlags(raw), async (store) => loadClusterView(store, await findCluster(store, clusterRef)));
      if (json) writeJson(view);
      else writeText(formatClusterView(view));
    });

  withDatabaseOption(
    clusters.command('create').description('Create a cluster; its management network also gets the default route and is required'),
  )
    .requiredOption('--name <name>', 'cluster name')
    .requiredOption('--compatibility-version <x.y>', 'cluster compatibility level, e.g. 4.8')
    .requiredOption('--management-network <network>', 'id or name of the network that becomes the management network')
    .option('--id <id>', 'the id to give it (default: a new UUID)')
    .option('--json', 'print the change as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(CreateFlags, raw);
      const after = await withStore(databaseFromFlags(raw), async (store) => {
        const management = await findNetwork(store, flags.managementNetwork);
        const cluster = await store.clusters.create({
          name: flags.name,
          compatibilityVersion: flags.compatibilityVersion,
          managementNetworkId: management.id,
          ...(flags.id ? { id: flags.id } : {}),
        });
        return loadClusterView(store, cluster);
      });
      report({ action: ChangeAction.CREATED, entity: 'cluster', before: null, after }, flags.json, `created cluster ${after.cluster.name}`);
    });

  withDatabaseOption(
    clusters.command('update').argument('<cluster>', 'id or name').description('Rename a cluster or change its compatibility level'),
  )
    .option('--name <name>', 'new name')
    .option('--compatibility-version <x.y>', 'new compatibility level')
    .option('--json', 'print the change as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(UpdateFlags, raw);
      const clusterRef = parseArgument(ClusterRef, 'cluster', ref);
      const patch: ClusterPatch = {
        ...(flags.name ? { name: flags.name } : {}),
        ...(flags.compatibilityVersion ? { compatibilityVersion: flags.compatibilityVersion } : {}),
      };
      if (Object.keys(patch).length === 0) throw new UsageError('nothing to change: give --name or --compatibility-version');
      const { before, after } = await changeCluster(raw, clusterRef, (store, id) => store.clusters.update(id, patch));
      report(
        { action: ChangeAction.UPDATED, entity: 'cluster', before, after },
        flags.json,
        `updated cluster ${after.cluster.name} (${after.cluster.id})`,
      );
    });

  withDatabaseOption(
    clusters
      .command('remove')
      .argument('<cluster>', 'id or name')
      .description('Remove a cluster that has no hosts (its network roles go with it)'),
  )
    .option('--json', 'print the change as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const clusterRef = parseArgument(ClusterRef, 'cluster', ref);
      const before = await withStore(databaseFromFlags(raw), async (store) => {
        const view = await loadClusterView(store, await findCluster(store, clusterRef));
        await store.clusters.remove(view.cluster.id);
        return view;
      });
      report(
        { action: ChangeAction.REMOVED, entity: 'cluster', before, after: null },
        json,
        `removed cluster ${before.cluster.name} (${before.cluster.id})`,
      );
    });

  ROLE_OPTIONS(
    withDatabaseOption(clusters.command('attach-network').argument('<cluster>', 'id or name').argument('<network>', 'id or name')),
    false,
  )
    .description('Attach a network to a cluster with roles (roles not given are off)')
    .option('--json', 'print the change as JSON')
    .action(async (cref: string, nref: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(RoleChangeFlags, raw);
      const [clusterRef, networkRef] = [parseArgument(ClusterRef, 'cluster', cref), parseArgument(NetworkRef, 'network', nref)];
      const { before, after } = await changeCluster(raw, clusterRef, async (store, id) =>
        store.clusters.attachNetwork(id, (await findNetwork(store, networkRef)).id, rolesFromFlags(flags)),
      );
      report(
        { action: ChangeAction.UPDATED, entity: 'cluster', before, after },
        flags.json,
        `attached network ${networkRef} to cluster ${after.cluster.name}`,
      );
    });

  ROLE_OPTIONS(
    withDatabaseOption(clusters.command('update-network').argument('<cluster>', 'id or name').argument('<network>', 'id or name')),
    true,
  )
    .description('Change the roles of a network of a cluster (roles not given keep their value)')
    .option('--json', 'print the change as JSON')
    .action(async (cref: string, nref: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(RoleChangeFlags, raw);
      const [clusterRef, networkRef] = [parseArgument(ClusterRef, 'cluster', cref), parseArgument(NetworkRef, 'network', nref)];
      const roles = rolesFromFlags(flags);
      if (Object.keys(roles).length === 0)
        throw new UsageError('nothing to change: give at least one role flag, e.g. --display or --no-display');
      const { before, after } = await changeCluster(raw, clusterRef, async (store, id) =>
        store.clusters.updateNetworkRoles(id, (await findNetwork(store, networkRef)).id, roles),
      );
      report(
        { action: ChangeAction.UPDATED, entity: 'cluster', before, after },
        flags.json,
        `changed the roles of network ${networkRef} in cluster ${after.cluster.name}`,
      );
    });

  withDatabaseOption(clusters.command('detach-network').argument('<cluster>', 'id or name').argument('<network>', 'id or name'))
    .description('Detach a network from a cluster (not the management network; a detached default route goes back to it)')
    .option('--json', 'print the change as JSON')
    .action(async (cref: string, nref: string, raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const [clusterRef, networkRef] = [parseArgument(ClusterRef, 'cluster', cref), parseArgument(NetworkRef, 'network', nref)];
      const { before, after } = await changeCluster(raw, clusterRef, async (store, id) =>
        store.clusters.detachNetwork(id, (await findNetwork(store, networkRef)).id),
      );
      report(
        { action: ChangeAction.UPDATED, entity: 'cluster', before, after },
        json,
        `detached network ${networkRef} from cluster ${after.cluster.name}`,
      );
    });

  withDatabaseOption(
    clusters.command('set-management').argument('<cluster>', 'id or name').argument('<network>', 'id or name of a network of the cluster'),
  )
    .description('Move the management role to another network of the cluster (it becomes required too)')
    .option('--json', 'print the change as JSON')
    .action(async (cref: string, nref: string, raw: Record<string, unknown>) => {
      const { json } = parseFlags(Json, raw);
      const [clusterRef, networkRef] = [parseArgument(ClusterRef, 'cluster', cref), parseArgument(NetworkRef, 'network', nref)];
      const { before, after } = await changeCluster(raw, clusterRef, async (store, id) =>
        store.clusters.setManagementNetwork(id, (await findNetwork(store, networkRef)).id),
      );
      report(
        { action: ChangeAction.UPDATED, entity: 'cluster', before, after },
        json,
        `management network of cluster ${after.cluster.name} is now ${networkRef}`,
      );
    });
}
