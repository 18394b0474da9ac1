/**
 * The values the lifecycle, schedule and sync commands take, in process: the interval within the schedule's
 * own bounds, the reason, and the exit code of each sync outcome (the rolled-back and invalid ones are hard to
 * provoke through bin/hostprov; the commands run end to end in host-lifecycle.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { syncExitCode } from '../../cli/commands/host-networks-sync';
import { IntervalFlag } from '../../cli/host-networking/monitoring';
import { HostNetworkingExit } from '../../cli/host-networking/store-errors';
import { HostSetupNetworksOutcome } from '../../model/host-setup-networks/contract';
import { SyncOutcome, type SyncHostNetworksResult } from '../../model/refresh/sync';
import { MaintenanceReason } from '../../workflow-client/host-lifecycle';
import { HostRefreshScheduleOptions } from '../../workflow-client/schedules';

const issues = (result: { success: boolean; error?: { issues: Array<{ message: string }> } }) =>
  result.error?.issues.map((i) => i.message) ?? [];

describe('lifecycle and schedule flags', () => {
  it('takes intervals within the schedule bounds only, as whole seconds', () => {
    expect(IntervalFlag.parse('10')).toBe(10);
    expect(IntervalFlag.parse('604800')).toBe(604_800);
    for (const bad of ['9', '604801', '0']) expect(issues(IntervalFlag.safeParse(bad))).toEqual(['10 to 604800 seconds']);
    for (const bad of ['', '1.5', '-60', '60s', '1e3', ' 60'])
      expect(issues(IntervalFlag.safeParse(bad))).toEqual(['a whole number of seconds']);
    // the bounds are the schedule's own: what the flag takes, the schedule takes
    expect(HostRefreshScheduleOptions.safeParse({ hostId: 'h', intervalSeconds: 604_800 }).success).toBe(true);
    expect(HostRefreshScheduleOptions.safeParse({ hostId: 'h', intervalSeconds: 604_801 }).success).toBe(false);
  });

  it('takes a reason with something in it, without control characters, trimmed', () => {
    expect(MaintenanceReason.parse('  disk swap ')).toBe('disk swap');
    expect(issues(MaintenanceReason.safeParse('   '))).toEqual(['a reason says something']);
    expect(issues(MaintenanceReason.safeParse('a\u0007b'))).toEqual(['no control characters']);
    expect(MaintenanceReason.safeParse('x'.repeat(501)).success).toBe(false);
  });
});

describe('sync exit codes', () => {
  const result = (outcome: SyncOutcome, setup: HostSetupNetworksOutcome | null) =>
    ({ outcome, setup: setup === null ? null : { outcome: setup } }) as unknown as SyncHostNetworksResult;

  it('exits 0 when synced or nothing drifts, and like the attachment commands otherwise', () => {
    expect(syncExitCode(result(SyncOutcome.SYNCED, HostSetupNetworksOutcome.CONFIGURED))).toBe(HostNetworkingExit.OK);
    expect(syncExitCode(result(SyncOutcome.NOTHING_TO_SYNC, null))).toBe(HostNetworkingExit.OK);
    expect(syncExitCode(result(SyncOutcome.NOT_SYNCED, HostSetupNetworksOutcome.INVALID))).toBe(3);
    expect(syncExitCode(result(SyncOutcome.NOT_SYNCED, HostSetupNetworksOutcome.ROLLED_BACK))).toBe(5);
    expect(syncExitCode(result(SyncOutcome.NOT_SYNCED, HostSetupNetworksOutcome.FAILED))).toBe(HostNetworkingExit.FAILED);
    // the refresh before it was refused: no setup, a failure
    expect(syncExitCode(result(SyncOutcome.NOT_SYNCED, null))).toBe(HostNetworkingExit.FAILED);
    // not synced is never a success, even when the setup had nothing to do
    expect(syncExitCode(result(SyncOutcome.NOT_SYNCED, HostSetupNetworksOutcome.NO_OP))).toBe(HostNetworkingExit.FAILED);
  });
});
