/**
 * Powering testbed hosts on and off. Two paths to the same power script:
 * - directly ({@link powerOn}, {@link powerOff}, {@link powerState}): for set-up, tests and teardown;
 * - through the host's real BMC with the real `fence_ipmilan` ({@link fenceThroughBmc}), i.e. exactly
 *   what `Host.fenceNode` does on a proxy host.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fence, type FenceOptions } from '../agent/fencing/fence';
import type { FenceAction } from '../model/vdsm/fence-node';
import type { FenceNodeResult } from '../agent/fencing/fence-result';
import { processStat, run } from '../lib/process';
import { fenceRequestFor, type BmcCredentials } from './bmc-credentials';
import type { TestbedHost } from './description';
import { BMC_IPMB_ADDRESS } from './ipmi-sim';

export const PowerState = {
  ON: 'on',
  OFF: 'off',
} as const;
export type PowerState = (typeof PowerState)[keyof typeof PowerState];

export class HostPowerError extends Error {
  override readonly name = 'HostPowerError';
  constructor(
    readonly host: string,
    readonly operation: string,
    readonly output: string,
  ) {
    super(`power ${operation} of testbed host ${host} failed: ${output || '(no output)'}; see the host's power.log`);
  }
}

/** Longest a power operation may take (boot waits for DHCP; power-off waits for processes to stop). */
const POWER_SCRIPT_TIMEOUT_MS = 60_000;

async function powerScript(host: Pick<TestbedHost, 'name' | 'powerScript'>, args: readonly string[]): Promise<string> {
  const result = await run([host.powerScript, BMC_IPMB_ADDRESS, ...args], { allowFailure: true, timeoutMs: POWER_SCRIPT_TIMEOUT_MS });
  if (result.code !== 0) throw new HostPowerError(host.name, args.join(' '), result.stdout.trim() || result.stderr.trim());
  return result.stdout;
}

/**
 * Boots the host if it is off: factory network config, fresh runtime dir, boot command started. Returns
 * when the boot command has been started (after DHCP for DHCP hosts). No-op when it is on.
 */
export async function powerOn(host: TestbedHost): Promise<void> {
  await powerScript(host, ['set', 'power', '1']);
}

/** Powers the host off: NICs down at once, then every process in its namespace stopped. No-op when off. */
export async function powerOff(host: TestbedHost): Promise<void> {
  await powerScript(host, ['set', 'power', '0']);
}

/** Boots the top-of-rack router guest (no BMC: the testbed powers it with the same script). */
export async function powerOnRouter(router: { powerScript: string }): Promise<void> {
  await powerScript({ name: 'tor', powerScript: router.powerScript }, ['set', 'power', '1']);
}

/** Powers the router guest off (teardown). */
export async function powerOffRouter(router: { powerScript: string }): Promise<void> {
  await powerScript({ name: 'tor', powerScript: router.powerScript }, ['set', 'power', '0']);
}

/** On iff the host's boot command is running. */
export async function powerState(host: TestbedHost): Promise<PowerState> {
  const out = await powerScript(host, ['get', 'power']);
  return /power:1/.test(out) ? PowerState.ON : PowerState.OFF;
}

/** The pid of the running boot command (changes with every boot), or `null` when the host is off. */
export async function bootPid(host: TestbedHost): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(join(host.dir, 'boot.pid'), 'utf8');
  } catch {
    return null;
  }
  const [pidText, start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const stat = processStat(pid);
  return stat?.alive && stat.startTime === start ? pid : null;
}

/**
 * Runs the real `fence_ipmilan` against the host's BMC, as a proxy host's agent would for
 * `Host.fenceNode` (same runner, same stdin). Plain IPMI `lan` (no lanplus): fast against ipmi_sim.
 */
export async function fenceThroughBmc(
  credentials: BmcCredentials,
  action: FenceAction,
  options: FenceOptions = {},
): Promise<FenceNodeResult> {
  return fence(fenceRequestFor(credentials, action), options);
}
