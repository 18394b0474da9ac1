/**
 * `hostprov host-networks schedule HOST [--every SECONDS] [--pause [--reason TEXT] | --resume] [--json]`:
 * the host's refresh Schedule and event watch (its monitoring, workflow-client/host-lifecycle.ts); with
 * flags, changes the Schedule: the interval only (its task queue and paused state stay), pause with a note,
 * or resume. Pausing here stops scheduled refreshes only; `hostprov hosts maintenance` also stops the watch.
 *
 * A host without a schedule is shown as such (exit 0), and a change to it exits 4: `hostprov hosts
 * activate` creates one. Exit codes: 0 done, 2 bad input (nothing changed), 4 no such host or no schedule,
 * 1 failed.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { z } from 'zod';
import { hostMonitoringState, MaintenanceReason, type HostMonitoringState } from '../../workflow-client/host-lifecycle';
import {
  describeHostRefreshSchedule,
  pauseHostRefreshSchedule,
  resumeHostRefreshSchedule,
  setHostRefreshInterval,
} from '../../workflow-client/schedules';
import { parseFlags } from '../flags';
import { formatMonitoring, IntervalFlag, withTemporalClient } from '../host-networking/monitoring';
import { writeJson, writeText } from '../host-networking/output';
import { findHost, HostRef } from '../host-networking/resolve';
import { databaseFromFlags, withDatabaseOption, withStore } from '../host-networking/store-session';
import { HostNetworkingExit } from '../host-networking/store-errors';
import { parseArgument } from '../host-networking/value-flags';
import { withPayloadKeyOptions, withTemporalOptions } from '../temporal-flags';
import { UsageError } from '../usage-error';

const ScheduleFlags = z
  .object({
    every: IntervalFlag.optional(),
    pause: z.boolean().default(false),
    resume: z.boolean().default(false),
    reason: MaintenanceReason.optional(),
    json: z.boolean().default(false),
  })
  .refine((f) => !(f.pause && f.resume), { message: '--pause and --resume contradict each other', path: ['pause'] })
  .refine((f) => f.reason === undefined || f.pause, { message: 'a reason goes with --pause', path: ['reason'] });
type ScheduleFlags = z.infer<typeof ScheduleFlags>;

/** @default note of a pause without --reason */
export const DEFAULT_PAUSE_NOTE = 'paused by an operator';

async function change(client: Client, hostId: string, hostName: string, flags: ScheduleFlags): Promise<HostMonitoringState> {
  if (!(await describeHostRefreshSchedule(client, hostId)))
    throw new UsageError(
      `host ${hostName} has no refresh schedule; \`hostprov hosts activate ${hostName}\` creates one. Nothing was changed`,
      {
        exitCode: HostNetworkingExit.NOT_FOUND,
      },
    );
  if (flags.every !== undefined) await setHostRefreshInterval(client, hostId, flags.every);
  if (flags.pause) await pauseHostRefreshSchedule(client, hostId, flags.reason ?? DEFAULT_PAUSE_NOTE);
  if (flags.resume) await resumeHostRefreshSchedule(client, hostId, 'resumed by an operator');
  return hostMonitoringState(client, hostId);
}

/** Adds `schedule` to the `host-networks` command group. */
export function addScheduleCommand(group: Command): void {
  withPayloadKeyOptions(
    withTemporalOptions(
      withDatabaseOption(
        group
          .command('schedule')
          .argument('<host>', 'id or name')
          .description("The host's refresh schedule and event watch; with flags, change the schedule"),
      ),
    ),
  )
    .option('--every <seconds>', 'seconds between scheduled refreshes (10 to 604800)')
    .option('--pause', 'pause scheduled refreshes (the event watch keeps running; `hosts maintenance` stops both)')
    .option('--reason <text>', `with --pause: the schedule's note (default "${DEFAULT_PAUSE_NOTE}")`)
    .option('--resume', 'resume scheduled refreshes')
    .option('--json', 'print the monitoring state as JSON')
    .action(async (ref: string, raw: Record<string, unknown>) => {
      const hostRef = parseArgument(HostRef, 'host', ref);
      const flags = parseFlags(ScheduleFlags, raw);
      const host = await withStore(databaseFromFlags(raw), (store) => findHost(store, hostRef));
      const changing = flags.every !== undefined || flags.pause || flags.resume;
      const state = await withTemporalClient(raw, (client) =>
        changing ? change(client, host.id, host.name, flags) : hostMonitoringState(client, host.id),
      );
      if (flags.json) return writeJson(state);
      const missing = state.schedule
        ? ''
        : `\nhost ${host.name} has no refresh schedule: \`hostprov hosts activate ${host.name}\` creates one`;
      writeText(`${formatMonitoring(state)}${missing}`);
    });
}
