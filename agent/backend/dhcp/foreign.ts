/**
 * DHCP clients the host's OS started (ifupdown, a testbed's factory config...), not us. When the agent takes
 * a device over — as a bridge port, or to configure it itself — such a client must stop, or it would put its
 * address back on the device at the next renewal (NetworkManager does the same when it manages a device).
 */
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import type { Family } from '../../../model/net-state';
import type { NetnsTarget } from '../target';

export interface ForeignDhcpClient {
  pid: number;
  dev: string;
  family: Family;
}

/** `net:[4026532xyz]` of the namespace the backend acts on. */
function targetNetnsId(target: NetnsTarget): string | null {
  if (!target.netns) return netnsOf('self');
  const st = statSync(`/run/netns/${target.netns}`, { throwIfNoEntry: false });
  return st ? `net:[${st.ino}]` : null;
}

/** `net:[...]` of a process's network namespace; `null` if it is gone. */
function netnsOf(pid: number | 'self'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return null;
  }
}

const DHCLIENT_PATH = /(^|\/)dhclient$/;

/** Reads which interfaces and family a dhclient command line serves (`dhclient [-4|-6] [opts] [ifaces...]`). */
export function dhclientTarget(argv: readonly string[]): { family: Family; devs: string[] } | null {
  if (!argv[0] || !DHCLIENT_PATH.test(argv[0])) return null;
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
 * dhclients in the target namespace that are not ours (`ours`: pids from our own pid files, asked only when
 * there is a dhclient there at all). Asked before every change, beside the kernel read, so cheap and
 * synchronous from start to end: procfs answers from memory, a few microseconds per file, where each awaited
 * call went through libuv's thread pool and back through the event loop the kernel read's answers also need.
 * Each process's command line is read only as far as its first word for all but dhclients (a hypervisor's
 * qemu command lines run to kilobytes), and only dhclients have their namespace checked.
 */
export async function foreignDhcpClients(target: NetnsTarget, ours: () => Promise<ReadonlySet<number>>): Promise<ForeignDhcpClient[]> {
  const netnsId = targetNetnsId(target);
  if (!netnsId) return [];
  const found: ForeignDhcpClient[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (!isDhclientPath(procArgv0(pid))) continue;
    const parsed = dhclientTarget(procCmdline(pid));
    if (!parsed || netnsOf(pid) !== netnsId) continue;
    for (const dev of parsed.devs) found.push({ pid, dev, family: parsed.family });
  }
  if (found.length === 0) return found;
  const ourPids = await ours();
  return found.filter((client) => !ourPids.has(client.pid));
}

/** One buffer for every argv[0] read: the scan is synchronous, so no two reads share it at once. */
const ARGV0_BUFFER = Buffer.alloc(4096);

/**
 * A process's argv[0] from the first bytes of its command line, without reading the rest; `null` if the
 * process is gone or has none (a kernel thread). One that fills the buffer without a NUL is returned whole.
 */
function procArgv0(pid: number): string | null {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/cmdline`, 'r');
  } catch {
    return null;
  }
  try {
    const length = readSync(fd, ARGV0_BUFFER, 0, ARGV0_BUFFER.length, null);
    const end = ARGV0_BUFFER.subarray(0, length).indexOf(0);
    if (end < 0 && length === ARGV0_BUFFER.length) return procCmdline(pid)[0] ?? null;
    return length === 0 ? null : ARGV0_BUFFER.toString('utf8', 0, end < 0 ? length : end);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function isDhclientPath(argv0: string | null): boolean {
  return argv0 !== null && DHCLIENT_PATH.test(argv0);
}

function procCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}
