/**
 * `hostprov host-networks status HOST [--json]` and `hostprov host-networks refresh HOST [--json]`: what the
 * store knows about a host's networks against what the host last reported (per property, desired and
 * reported; unmanaged networks on their own; compliance), and a refresh from the host right now (exit 1
 * when the host's report was refused: nothing was recorded).
 */
import { resolve, join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_DATA_DIR } from '../../lib/paths';
import { TASK_QUEUE } from '../../lib/temporal/constants';
import { connectClient } from '../../lib/temporal/connection';
import { ExternalId } from '../../model/host-networking/values';
import { RefreshOutcome, type RefreshHostNetworksResult } from '../../model/refresh/contract';
import { formatHostNetworksStatus, hostNetworksStatus } from '../../model/refresh/status';
import { describeComparison } from '../../model/network-sync/sync-property';
import { DEFAULT_STORE_FILE, openStore } from '../../store/open';
import { refreshHostNetworksNow } from '../../workflow-client/refresh';
import { parseFlags } from '../flags';
import { payloadKeysFromFlags, temporalConfigFromFlags, withPayloadKeyOptions, withTemporalOptions } from '../temporal-flags';
import { UsageError } from '../usage-error';

const HostArgument = ExternalId;

const StatusFlags = z.object({
  json: z.boolean().default(false),
  dataDir: z.string().min(1),
  database: z.string().min(1).optional(),
});

const RefreshFlags = z.object({
  json: z.boolean().default(false),
  taskQueue: z.string().min(1).max(200),
});

function hostArgument(value: string): string {
  const parsed = HostArgument.safeParse(value);
  if (!parsed.success) throw new UsageError(`HOST ${JSON.stringify(value)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

/** Adds `status` and `refresh` to the `host-networks` command group. */
export function addStatusCommands(group: Command): void {
  group
    .command('status')
    .argument('<host>', 'host id')
    .description("The host's networks: each attachment against what the host last reported, unmanaged networks, compliance")
    .option('--json', 'print the report as JSON')
    .option('--data-dir <dir>', "the worker's data directory (its SQLite store unless --database is given)", `${DEFAULT_DATA_DIR}/worker`)
    .option('--database <url|file>', 'the store: a postgres:// URL or a SQLite file; default <data-dir>/attachments.sqlite')
    .action(async (host: string, raw: Record<string, unknown>) => {
      const hostId = hostArgument(host);
      const flags = parseFlags(StatusFlags, raw);
      const store = await openStore(flags.database ?? join(resolve(flags.dataDir), DEFAULT_STORE_FILE));
      try {
        const found = await store.hosts.get(hostId);
        if (!found) throw new UsageError(`no host ${hostId} in the store`);
        const clusterNetworks = found.clusterId ? await store.clusters.listNetworks(found.clusterId) : [];
        const attachments = await store.attachments.listByHost(hostId);
        const status = hostNetworksStatus({ host: found, clusterNetworks, networks: await store.networks.list(), attachments });
        process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatHostNetworksStatus(status)}\n`);
      } finally {
        await store.close();
      }
    });

  const refresh = group
    .command('refresh')
    .argument('<host>', 'host id')
    .description("Read the host's capabilities now and record what it reports (attachments created, moved or dropped; drift; compliance)")
    .option('--json', 'print the refresh result as JSON')
    .option('--task-queue <name>', 'task queue', TASK_QUEUE);
  withPayloadKeyOptions(withTemporalOptions(refresh)).action(async (host: string, raw: Record<string, unknown>) => {
    const hostId = hostArgument(host);
    const flags = parseFlags(RefreshFlags, raw);
    const { client, close } = await connectClient(temporalConfigFromFlags(raw), { payloadKeys: payloadKeysFromFlags(raw) });
    try {
      const result = await refreshHostNetworksNow(client, hostId, { taskQueue: flags.taskQueue });
      process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatRefresh(result)}\n`);
      // Nothing was recorded: a script must not take the store for current.
      if (result.outcome === RefreshOutcome.REPORT_REFUSED) process.exitCode = 1;
    } finally {
      await close();
    }
  });
}

export function formatRefresh(result: RefreshHostNetworksResult): string {
  if (result.outcome === RefreshOutcome.REPORT_REFUSED)
    return [`host ${result.hostId}: report refused, nothing recorded`, ...result.problems.map((p) => `  - ${p}`)].join('\n');
  const lines = [`host ${result.hostId}: refreshed (${result.reason})`];
  for (const a of result.actions) lines.push(`  ${a.kind}: ${a.message}`);
  if (result.sync) {
    lines.push(`network sync: ${result.sync.state}`);
    for (const a of result.sync.attachments.filter((x) => x.state !== 'in-sync')) {
      lines.push(`  ${a.networkName}: ${a.state}`);
      for (const d of a.differences) lines.push(`    ${describeComparison(d)}`);
    }
    if (result.sync.unmanagedNetworks.length)
      lines.push(`unmanaged networks: ${result.sync.unmanagedNetworks.map((n) => n.name).join(', ')}`);
  }
  if (result.compliance)
    lines.push(`compliance: ${result.compliance.status}${result.compliance.reason ? ` (${result.compliance.reason})` : ''}`);
  return lines.join('\n');
}
