/**
 * DHCP clients the host's OS started (ifupdown, a testbed's factory config...), not us. When the agent takes
 * a device over — as a bridge port, or to configure it itself — such a client must stop, or it would put its
 * address back on the device at the next renewal (NetworkManager does the same when it manages a device).
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
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
 * dhclients in the target namespace that are not ours (`ours`: pids from our own pid files). Asked before
 * every change, beside the kernel read.
 *
 * Finding them means reading the command line of every process on the host, some 10 µs each: 20 ms on a
 * host with 2,000 processes, as a hypervisor with many VMs and CPUs has (kernel threads included), with the
 * event loop blocked. So the namespace's UDP sockets are looked at first ({@link dhcpClientSockets}): a
 * running ISC dhclient always holds one on the DHCP client port (68, or 546 with `-6`). With none there, or
 * only ours, there is no foreign dhclient and no process is read. Otherwise the scan reads each command line
 * only as far as its first word for all but dhclients (a hypervisor's qemu command lines run to kilobytes),
 * and checks only dhclients' namespaces. The scan is synchronous from start to end: procfs answers from
 * memory, where each awaited call went through libuv's thread pool and back through the event loop the
 * kernel read's answers also need.
 *
 * `namespacePid`, acting on a namespace from outside (`netns`): a process that lives in it, whose
 * `/proc/<pid>/net` shows its sockets. Without one the sockets are not looked at, and the scan decides.
 */
export async function foreignDhcpClients(
  target: NetnsTarget,
  ours: () => Promise<ReadonlySet<number>>,
  namespacePid?: () => number | null,
): Promise<ForeignDhcpClient[]> {
  const netnsId = targetNetnsId(target);
  if (!netnsId) return [];
  const sockets = dhcpClientSockets(target, namespacePid, netnsId);
  let ourPids: ReadonlySet<number> | null = null;
  if (sockets !== null) {
    if (sockets.size === 0) return [];
    ourPids = await ours();
    const held = socketsHeldBy(ourPids);
    if ([...sockets].every((inode) => held.has(inode))) return [];
  }
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
  const mine = ourPids ?? (await ours());
  return found.filter((client) => !mine.has(client.pid));
}

/** The DHCP client ports: what ISC dhclient binds a UDP socket to, with `-4` and `-6`. */
const DHCP_CLIENT_PORTS: ReadonlySet<number> = new Set([68, 546]);

/**
 * Inodes of the sockets bound to a DHCP client port, from the text of `/proc/net/udp` or `/proc/net/udp6`
 * (`sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...`, the
 * port in hex after the address).
 */
export function dhcpClientSocketInodes(procNetUdp: string): Set<number> {
  const inodes = new Set<number>();
  for (const line of procNetUdp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const inode = Number(fields[9]);
    if (local === undefined || !Number.isInteger(inode) || inode <= 0) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (DHCP_CLIENT_PORTS.has(port)) inodes.add(inode);
  }
  return inodes;
}

/**
 * The inodes of the target namespace's sockets on a DHCP client port, or null when they cannot be read: no
 * process known to live there, or it left the namespace (or its pid was reused) while they were read.
 */
export function dhcpClientSockets(
  target: NetnsTarget,
  namespacePid?: () => number | null,
  netnsId = targetNetnsId(target),
): Set<number> | null {
  if (!netnsId) return null;
  const pid = target.netns ? (namespacePid?.() ?? null) : 'self';
  if (pid === null || netnsOf(pid) !== netnsId) return null;
  try {
    const sockets = dhcpClientSocketsOf(pid);
    return netnsOf(pid) === netnsId ? sockets : null;
  } catch {
    // The process left (its /proc entry is gone): the scan decides.
    return null;
  }
}

/**
 * The inodes of the sockets on a DHCP client port in `pid`'s namespace, from its UDP tables. A kernel without
 * IPv6 (`ipv6.disable=1`) has no `udp6` table, and so no DHCPv6 client: that is no socket, not a reason to
 * scan every process. Any other failure is thrown.
 */
export function dhcpClientSocketsOf(pid: number | 'self', readText: (path: string) => string = readProcText): Set<number> {
  const sockets = dhcpClientSocketInodes(readText(`/proc/${pid}/net/udp`));
  let udp6: string;
  try {
    udp6 = readText(`/proc/${pid}/net/udp6`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(`/proc/${pid}/net/udp`)) throw err;
    return sockets;
  }
  for (const inode of dhcpClientSocketInodes(udp6)) sockets.add(inode);
  return sockets;
}

function readProcText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Inodes of the sockets `pids` hold open (their `/proc/<pid>/fd` links, `socket:[inode]`). */
export function socketsHeldBy(pids: ReadonlySet<number>): Set<number> {
  const held = new Set<number>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) held.add(Number(match[1]));
      } catch {
        // Closed while listed.
      }
    }
  }
  return held;
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
