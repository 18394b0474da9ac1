/**
 * `hostprov host-networks sync HOST [--network NAME ...] [--json]`: re-send the data center's configuration
 * of the host's drifting attachments (or of the networks named, in sync or not: the engine's override
 * flag) through the host's entity workflow (`syncHostNetworksNow`): refresh, hostSetupNetworks under the
 * connectivity check, refresh again. Prints what was re-sent and the host's sync state after.
 *
 * Exit codes, as the attachment commands: 0 synced or nothing to sync, 2 bad input, 3 the request was
 * invalid (the violations are listed; nothing was sent), 4 no such host or no attachment of a network on it,
 * 5 rolled back (the host and the rows were restored), 1 failed (including a host report refused).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { TASK_QUEUE } from '../../lib/temporal/constants';
import type { NetworkAttachment } from '../../model/host-networking/network-attachment';
import { RefreshOutcome } from '../../model/refresh/contract';
import { SyncOutcome, type SyncHostNetworksResult, SYNC_CONTRACT_VERSION } from '../../model/refresh/sync';
import { describeComparison } from '../../model/network-sync/sync-property';
import { HostNetworkChangeRejectedError } from '../../workflow-client/host-networks';
import { syncHostNetworksNow } from '../../workflow-client/refresh';
import { collect } from '../host-networking/value-flags';
import { parseFlags } from '../flags';
import { TaskQueueFlag, withTemporalClient } from '../host-networking/monitoring';
import { writeJson, writeText } from '../host-networking/output';
import { findHost, HostRef } from '../host-networking/resolve';
import { databaseFromFlags, withDatabaseOption, withStore } from '../host-networking/store-session';
import { HostNetworkingExit } from '../host-networking/store-errors';
import { parseArgument } from '../host-networking/value-flags';
import { withPayloadKeyOptions, withTemporalOptions } from '../temporal-flags';
import { UsageError } from '../usage-error';
import { OUTCOME_EXIT_CODES } from './attachments';
import { NetworkRef } from './networks';

const SyncFlags = z.object({
  network: z.array(NetworkRef).min(1).max(100).optional(),
  connectivityTimeout: z
    .string()
    .regex(/^\d{1,4}$/, 'a whole number of seconds')
    .transform(Number)
    .pipe(z.number().int().min(1).max(3600))
    .optional(),
  taskQueue: TaskQueueFlag,
  json: z.boolean().default(false),
});

/** The host's attachment of each network named (by name or id); a network it does not carry exits 4. */
function attachmentsOf(hostName: string, attachments: NetworkAttachment[], networks: readonly string[]): NetworkAttachment[] {
  return [...new Set(networks)].map((ref) => {
    const found = attachments.find((a) => a.networkName === ref || a.networkId === ref);
    if (!found)
      throw new UsageError(`host ${hostName} has no attachment of network ${ref}; nothing was changed`, {
        exitCode: HostNetworkingExit.NOT_FOUND,
      });
    return found;
  });
}

/** The exit code of a sync's outcome (see the module comment). */
export function syncExitCode(result: SyncHostNetworksResult): number {
  if (result.outcome !== SyncOutcome.NOT_SYNCED) return HostNetworkingExit.OK;
  const code = result.setup ? OUTCOME_EXIT_CODES[result.setup.outcome] : HostNetworkingExit.FAILED;
  return code === HostNetworkingExit.OK ? HostNetworkingExit.FAILED : code;
}

export function formatSync(result: SyncHostNetworksResult, names: ReadonlyMap<string, string>): string {
  const lines = [`host ${result.hostId}: ${result.outcome}`];
  const drifting = new Map((result.before.sync?.attachments ?? []).map((a) => [a.attachmentId, a]));
  if (result.attachmentIds.length) lines.push('re-sent:');
  for (const id of result.attachmentIds) {
    const before = drifting.get(id);
    lines.push(`  ${names.get(id) ?? before?.networkName ?? id} (${id}): was ${before?.state ?? 'unknown'}`);
    for (const d of before?.differences ?? []) lines.push(`    ${describeComparison(d)}`);
  }
  if (result.before.outcome === RefreshOutcome.REPORT_REFUSED)
    lines.push('host report refused:', ...result.before.problems.map((p) => `  - ${p}`));
  if (result.setup) {
    lines.push(`setup: ${result.setup.outcome}`);
    for (const v of result.setup.violations) lines.push(`  ✗ ${v.key}: ${v.message}`);
    if (result.setup.failure) lines.push(`  failure: ${result.setup.failure.type}: ${result.setup.failure.message}`);
  }
  const after = result.after ?? (result.outcome === SyncOutcome.NOTHING_TO_SYNC ? result.before : null);
  if (after?.sync) {
    lines.push(`network sync: ${after.sync.state}`);
    for (const a of after.sync.attachments.filter((x) => x.state !== 'in-sync')) {
      lines.push(`  ${a.networkName}: ${a.state}`);
      for (const d of a.differences) lines.push(`    ${describeComparison(d)}`);
    }
  }
  return lines.join('\n');
}

/** Adds `sync` to the `host-networks` command group. */
export function addSyncCommand(group: Command): void {
  withPayloadKeyOptions(
    withTemporalOptions(
      withDatabaseOption(
        group
          .command('sync')
          .argument('<host>', 'id or name')
          .description("Re-send the data center's configuration of the host's drifting networks (or of those named), then refresh"),
      ),
    ),
  )
    .option('--network <network>', 'sync this network even if it is in sync (repeatable; default: every out-of-sync one)', collect)
    .option('--connectivity-timeout <seconds>', 'how long the host waits for our confirmation before rolling back (default 120)')
    .option('--task-queue <name>', 'task queue the workers poll', TASK_QUEUE)
    .option('--json', 'print the sync result as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const hostRef = parseArgument(HostRef, 'host', ref);
      const flags = parseFlags(SyncFlags, raw);
      const { host, chosen } = await withStore(databaseFromFlags(raw), async (store) => {
        const found = await findHost(store, hostRef);
        const attachments = await store.attachments.listByHost(found.id);
        return { host: found, chosen: flags.network ? attachmentsOf(found.name, attachments, flags.network) : null };
      });
      const result = await withTemporalClient(raw, (client) =>
        syncHostNetworksNow(
          client,
          {
            version: SYNC_CONTRACT_VERSION,
            hostId: host.id,
            ...(chosen ? { attachmentIds: chosen.map((a) => a.id) } : {}),
            ...(flags.connectivityTimeout ? { connectivityTimeoutSeconds: flags.connectivityTimeout } : {}),
          },
          { taskQueue: flags.taskQueue },
        ).catch((err: unknown) => {
          throw err instanceof HostNetworkChangeRejectedError ? new UsageError(err.message) : err;
        }),
      );
      if (flags.json) writeJson(result);
      else writeText(formatSync(result, new Map((chosen ?? []).map((a) => [a.id, a.networkName]))));
      process.exitCode = syncExitCode(result);
    });
}
