/**
 * DHCP clients the host's OS started (ifupdown, a testbed's factory config...), not us. When the agent takes
 * a device over — as a bridge port, or to configure it itself — such a client must stop, or it would put its
 * address back on the device at the next renewal (NetworkManager does the same when it manages a device).
 */
import { readFileSync } from 'node:fs';
import { readdir, readlink, stat } from 'node:fs/promises';
import type { Family } from '../../../model/net-state';
import type { NetnsTarget } from '../target';

export interface ForeignDhcpClient {
  pid: number;
  dev: string;
  family: Family;
}

/** `net:[4026532xyz]` of the namespace the backend acts on. */
async function targetNetnsId(target: NetnsTarget): Promise<string | null> {
  if (!target.netns) return readlink('/proc/self/ns/net').catch(() => null);
  const st = await stat(`/run/netns/${target.netns}`).catch(() => null);
  return st ? `net:[${st.ino}]` : null;
}

/** Reads which interfaces and family a dhclient command line serves (`dhclient [-4|-6] [opts] [ifaces...]`). */
export function dhclientTarget(argv: readonly string[]): { family: Family; devs: string[] } | null {
  if (!argv[0] || !/(^|\/)dhclient$/.test(argv[0])) return null;
  const withValue = new Set(['-cf', '-lf', '-pf', '-sf', '-s', '-g', '-p', '-e', '-I', '-D', '-H', '-F', '-V', '--timeout', '-timeout']);
  let family: Family = 4;
  const devs: string[] = [];
  for (let i = 1; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '-6') family = 6;
    else if (withValue.has(arg)) i += 1;
    else if (!arg.startsWith('-')) devs.push(arg);
  }
  return { family, devs };
}

/**
 * dhclients in the target namespace that are not ours (`ours` = pids from our own pid files). Asked before
 * every change, so cheap: each process's command line is read synchronously (procfs answers from memory,
 * a few microseconds each, where one awaited read per process cost milliseconds in all), and only
 * dhclients have their namespace checked.
 */
export async function foreignDhcpClients(target: NetnsTarget, ours: ReadonlySet<number>): Promise<ForeignDhcpClient[]> {
  const netnsId = await targetNetnsId(target);
  if (!netnsId) return [];
  const found: ForeignDhcpClient[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (ours.has(pid)) continue;
    const parsed = dhclientTarget(procCmdline(pid));
    if (!parsed) continue;
    if ((await readlink(`/proc/${pid}/ns/net`).catch(() => null)) !== netnsId) continue;
    for (const dev of parsed.devs) found.push({ pid, dev, family: parsed.family });
  }
  return found;
}

function procCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}
