/**
 * `hostprov hosts activate HOST [--refresh-every SECONDS]` and `hostprov hosts maintenance HOST [--reason
 * TEXT]`: the host's monitoring goes with the host (workflow-client/host-lifecycle.ts). activate ensures
 * its refresh Schedule, unpaused, and its network-event watch; maintenance pauses the Schedule with the
 * reason as its note and stops the watch. Both may be repeated. The host is found in the store by id or
 * name. Exit codes: 0 done, 2 bad input (nothing changed), 4 no such host, 1 failed.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { TASK_QUEUE } from '../../lib/temporal/constants';
import { activateHost, MaintenanceReason, putHostInMaintenance } from '../../workflow-client/host-lifecycle';
import { parseFlags } from '../flags';
import { formatMonitoring, IntervalFlag, TaskQueueFlag, withTemporalClient } from '../host-networking/monitoring';
import { writeJson, writeText } from '../host-networking/output';
import { findHost, HostRef } from '../host-networking/resolve';
import { databaseFromFlags, withDatabaseOption, withStore } from '../host-networking/store-session';
import { parseArgument } from '../host-networking/value-flags';
import { withPayloadKeyOptions, withTemporalOptions } from '../temporal-flags';

const ActivateFlags = z.object({
  refreshEvery: IntervalFlag.optional(),
  taskQueue: TaskQueueFlag,
  json: z.boolean().default(false),
});

const MaintenanceFlags = z.object({
  reason: MaintenanceReason.optional(),
  taskQueue: TaskQueueFlag,
  json: z.boolean().default(false),
});

function temporalCommand(command: Command): Command {
  return withPayloadKeyOptions(withTemporalOptions(withDatabaseOption(command)))
    .option('--task-queue <name>', 'task queue the workers poll', TASK_QUEUE)
    .option('--json', 'print the monitoring state as JSON');
}

/** Adds `activate` and `maintenance` to the `hosts` command group. */
export function addLifecycleCommands(hosts: Command): void {
  temporalCommand(
    hosts
      .command('activate')
      .argument('<host>', 'id or name')
      .description('Monitor the host: its refresh schedule (created or resumed) and its network-event watch (started or kept)'),
  )
    .option('--refresh-every <seconds>', 'seconds between scheduled refreshes (default: the current interval, 300 for a new schedule)')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const hostRef = parseArgument(HostRef, 'host', ref);
      const flags = parseFlags(ActivateFlags, raw);
      const host = await withStore(databaseFromFlags(raw), (store) => findHost(store, hostRef));
      const state = await withTemporalClient(raw, (client) =>
        activateHost(client, {
          hostId: host.id,
          taskQueue: flags.taskQueue,
          ...(flags.refreshEvery !== undefined ? { intervalSeconds: flags.refreshEvery } : {}),
        }),
      );
      if (flags.json) writeJson(state);
      else writeText(`activated host ${host.name} (${host.id})\n${formatMonitoring(state)}`);
    });

  temporalCommand(
    hosts
      .command('maintenance')
      .argument('<host>', 'id or name')
      .description('Stop monitoring the host: pause its refresh schedule (the reason is its note) and stop its network-event watch'),
  )
    .option('--reason <text>', 'why, shown as the schedule\'s note (default "host in maintenance")')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const hostRef = parseArgument(HostRef, 'host', ref);
      const flags = parseFlags(MaintenanceFlags, raw);
      const host = await withStore(databaseFromFlags(raw), (store) => findHost(store, hostRef));
      const state = await withTemporalClient(raw, (client) =>
        putHostInMaintenance(client, { hostId: host.id, taskQueue: flags.taskQueue, ...(flags.reason ? { reason: flags.reason } : {}) }),
      );
      if (flags.json) writeJson(state);
      else writeText(`host ${host.name} (${host.id}) in maintenance\n${formatMonitoring(state)}`);
    });
}
