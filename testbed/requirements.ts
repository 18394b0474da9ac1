/** What a testbed needs on this machine; the reason it cannot be built, for a printed test skip. */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { run } from '../lib/process';
import { netnsUnavailableReason } from './netns';

/** Programs the testbed runs (packages: iproute2, openipmi, fence-agents, ipmitool, dnsmasq-base, isc-dhcp-client, util-linux). */
export const TESTBED_PROGRAMS = ['ipmi_sim', 'ipmitool', 'dnsmasq', 'dhclient', 'ss', 'setsid', 'flock', 'bash'] as const;

/** Whether `program` is on PATH (the sbin directories included). */
export async function onPath(program: string): Promise<boolean> {
  const { code } = await run(['sh', '-c', 'command -v "$1"', 'sh', program], {
    allowFailure: true,
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin` },
  });
  return code === 0;
}

/** `null` when a testbed can be built here; otherwise why not (run ./run setup to install what is missing). */
export async function testbedUnavailableReason(fenceAgentDir = '/usr/sbin'): Promise<string | null> {
  const netns = await netnsUnavailableReason();
  if (netns) return netns;
  const missing: string[] = [];
  for (const program of TESTBED_PROGRAMS) if (!(await onPath(program))) missing.push(program);
  try {
    await access(`${fenceAgentDir}/fence_ipmilan`, constants.X_OK);
  } catch {
    missing.push(`${fenceAgentDir}/fence_ipmilan`);
  }
  return missing.length ? `testbed programs missing: ${missing.join(', ')}; run ./run setup` : null;
}
