/**
 * Finding the OS's DHCP clients (agent/backend/dhcp/foreign.ts) with real dhclients in a test namespace: the
 * namespace's sockets on the DHCP client ports tell whether there can be one at all, and whether every one is
 * ours, before any process's command line is read; the clients found are the same either way.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  dhcpClientSocketInodes,
  dhcpClientSockets,
  dhcpClientSocketsOf,
  foreignDhcpClients,
  socketsHeldBy,
} from '../../../agent/backend/dhcp/foreign';
import { KernelStateReader } from '../../../agent/backend/iproute2/read';
import { stopPid } from '../../../lib/process';
import { Netns } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import { kernelSkipReason, testLog, uniqueNetnsName, withTempDir } from './kernel-helpers';

/** `/proc/net/udp` of a namespace with a dhclient (port 68 = 0x44) and a DNS server (port 53 = 0x35). */
const UDP4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 7896: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1875105 2 0000000055718c37 0
 7900: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1875200 2 0000000055718c38 0
`;
/** `/proc/net/udp6` with `dhclient -6` on a link-local address (port 546 = 0x222). */
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
10628: 000080FE00000000FFA93A20757EF0FE:0222 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1879253 2 00000000ba3d061c 0
`;

describe('the DHCP client sockets of /proc/net/udp', () => {
  it('are the ones on port 68 or 546, by inode', () => {
    expect([...dhcpClientSocketInodes(UDP4)]).toEqual([1875105]);
    expect([...dhcpClientSocketInodes(UDP6)]).toEqual([1879253]);
  });

  it('are none in a table with only its header, or no text at all', () => {
    expect(dhcpClientSocketInodes(UDP4.split('\n')[0] ?? '').size).toBe(0);
    expect(dhcpClientSocketInodes('').size).toBe(0);
  });
});

/** A /proc reader over the tables given, by the table's file name; a table not given does not exist. */
function procTables(tables: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = tables[path.slice(path.lastIndexOf('/') + 1)];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
    return text;
  };
}

// The kernel here has IPv6, so a namespace without a udp6 table is a reader over captured tables (this
// process's own /proc entry stands in for the namespace's process, which is alive).
describe('the DHCP client sockets of a namespace, from its UDP tables', () => {
  it('are those of both tables', () => {
    expect([...dhcpClientSocketsOf('self', procTables({ udp: UDP4, udp6: UDP6 }))].sort()).toEqual([1875105, 1879253]);
  });

  it('are the IPv4 ones on a kernel without IPv6 (no udp6 table), not a failure that makes the agent scan every process', () => {
    expect([...dhcpClientSocketsOf('self', procTables({ udp: UDP4 }))]).toEqual([1875105]);
  });

  it('cannot be read when the process is gone: its udp6 table is missing because its /proc entry is', () => {
    const gone = spawnSync('true').pid;
    expect(() => dhcpClientSocketsOf(gone, procTables({ udp: UDP4 }))).toThrow(/ENOENT/);
  });

  it('cannot be read without an IPv4 table', () => {
    expect(() => dhcpClientSocketsOf('self', procTables({ udp6: UDP6 }))).toThrow(/ENOENT/);
  });
});

describe.skipIf(skipBecause(kernelSkipReason, 'foreign DHCP client tests'))('the OS DHCP clients of a namespace', () => {
  let host: Netns;
  let dir: Awaited<ReturnType<typeof withTempDir>>;
  let reader: KernelStateReader;
  const started: number[] = [];
  const nobody = (): Promise<ReadonlySet<number>> => Promise.resolve(new Set<number>());
  const namespacePid = (): number | null => reader.namespacePid;

  beforeAll(async () => {
    dir = await withTempDir('foreign-dhcp');
    host = await Netns.create(uniqueNetnsName('hpfd'));
    // No DAD: dhclient -6 binds to the link-local address, which is then usable at once.
    await host.exec(['sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0']);
    await host.ip(['-batch', '-'], { input: 'link add v0 type veth peer name v1\nlink set v0 up\nlink set v1 up\n' });
    reader = new KernelStateReader({ netns: host.name }, testLog);
    await reader.read();
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((pid) => stopPid(pid, { timeoutMs: 3_000 })));
  });

  afterAll(async () => {
    reader?.close();
    await host?.destroy();
    await dir?.remove();
  });

  let starts = 0;

  /**
   * A dhclient as the OS would run it (not ours), with no script: no server answers, nothing is configured.
   * Each start has its own pid file: one an earlier test's dhclient left behind would name a dead process.
   */
  async function startDhclient(family: 4 | 6, dev: string): Promise<number> {
    starts += 1;
    const pidFile = join(dir.path, `dhclient${family}.${dev}.${starts}.pid`);
    await host.exec([
      'dhclient',
      `-${family}`,
      '-nw',
      '-sf',
      '/bin/true',
      '-pf',
      pidFile,
      '-lf',
      join(dir.path, `dhclient${family}.${dev}.leases`),
      dev,
    ]);
    const pid = await vi.waitFor(
      async () => {
        const written = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
        if (!Number.isInteger(written) || written <= 1) throw new Error(`dhclient -${family} on ${dev} wrote no pid file yet`);
        return written;
      },
      { timeout: 10_000, interval: 20 },
    );
    started.push(pid);
    await vi.waitFor(() => expect(socketsHeldBy(new Set([pid])).size).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
    return pid;
  }

  it('has none when no socket is on a DHCP client port, and reads no process to say so', async () => {
    expect(reader.namespacePid).not.toBeNull();
    const sockets = dhcpClientSockets({ netns: host.name }, namespacePid);
    expect(sockets?.size).toBe(0);
    expect(await foreignDhcpClients({ netns: host.name }, nobody, namespacePid)).toEqual([]);
  });

  it('finds a dhclient of either family by its socket, and then by its command line', async () => {
    const pid4 = await startDhclient(4, 'v0');
    const pid6 = await startDhclient(6, 'v1');
    const sockets = dhcpClientSockets({ netns: host.name }, namespacePid);
    expect(sockets?.size).toBe(2);
    const held = socketsHeldBy(new Set([pid4, pid6]));
    expect([...(sockets ?? [])].every((inode) => held.has(inode))).toBe(true);

    const found = await foreignDhcpClients({ netns: host.name }, nobody, namespacePid);
    expect(found.sort((a, b) => a.family - b.family)).toEqual([
      { pid: pid4, dev: 'v0', family: 4 },
      { pid: pid6, dev: 'v1', family: 6 },
    ]);
    // Without a process known to live in the namespace, the sockets are not read, and the scan finds the same.
    expect(dhcpClientSockets({ netns: host.name }, () => null)).toBeNull();
    const scanned = await foreignDhcpClients({ netns: host.name }, nobody, () => null);
    expect(scanned.sort((a, b) => a.family - b.family)).toEqual(found);
  });

  it('has none when every DHCP client socket is held by one of ours, and finds the one that is not', async () => {
    const ours = await startDhclient(4, 'v0');
    expect(await foreignDhcpClients({ netns: host.name }, () => Promise.resolve(new Set([ours])), namespacePid)).toEqual([]);
    const theirs = await startDhclient(6, 'v1');
    expect(await foreignDhcpClients({ netns: host.name }, () => Promise.resolve(new Set([ours])), namespacePid)).toEqual([
      { pid: theirs, dev: 'v1', family: 6 },
    ]);
  });

  it('does not count a process outside the namespace as living in it', async () => {
    expect(dhcpClientSockets({ netns: host.name }, () => process.pid)).toBeNull();
  });
});
