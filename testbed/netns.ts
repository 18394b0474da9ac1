/**
 * Network namespaces as test hosts: create, run commands inside, delete (stopping what runs inside first).
 * Used by the testbed (demo), the agent's kernel tests and the integration tests.
 *
 * Interface names are limited to 15 bytes (IFNAMSIZ - 1); keep prefixes short.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, stopPid, type RunResult } from '../lib/process';

export const IFNAME_MAX = 15;

/** Where `ip netns exec` finds per-namespace replacements of /etc files (bind-mounted over /etc/<file>). */
export const NETNS_ETC_DIR = '/etc/netns';

const NETNS_NAME = /^[A-Za-z0-9_.-]+$/;

export class InvalidNetnsNameError extends Error {
  override readonly name = 'InvalidNetnsNameError';
  constructor(readonly netnsName: string) {
    super(`invalid netns name ${JSON.stringify(netnsName)} (letters, digits, '_', '.', '-'; at most 200 bytes)`);
  }
}

function assertNetnsName(name: string): void {
  // The name becomes a path under /run/netns and /etc/netns: no separators, no '.'/'..'.
  if (name.length > 200 || !NETNS_NAME.test(name) || name === '.' || name === '..') throw new InvalidNetnsNameError(name);
}

/** A short unique token for names of namespaces and links created by this process (e.g. `k3f9a`). */
export function uniqueToken(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}

export class Netns {
  private constructor(readonly name: string) {}

  /** Creates the namespace with `lo` up. Fails if it exists (names must be unique per test). */
  static async create(name: string): Promise<Netns> {
    assertNetnsName(name);
    await run(['ip', 'netns', 'add', name]);
    const ns = new Netns(name);
    await ns.ip(['link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * Creates the namespace, or returns `null` when the name is taken. `ip netns add` creates
   * `/run/netns/<name>` with O_EXCL, so exactly one of several concurrent processes wins a name: this is a
   * machine-wide lock that lives exactly as long as the namespace.
   */
  static async tryCreate(name: string): Promise<Netns | null> {
    assertNetnsName(name);
    const result = await run(['ip', 'netns', 'add', name], { allowFailure: true });
    if (result.code !== 0) {
      if (/File exists/i.test(result.stderr)) return null;
      throw new Error(`ip netns add ${name} failed: ${result.stderr.trim()}`);
    }
    const ns = new Netns(name);
    await ns.ip(['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Wraps an existing namespace (e.g. one a testbed created in an earlier process). */
  static attach(name: string): Netns {
    assertNetnsName(name);
    return new Netns(name);
  }

  /** argv that runs `argv` inside this namespace. */
  wrap(argv: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, ...argv];
  }

  exec(argv: readonly string[], options: Parameters<typeof run>[1] = {}): Promise<RunResult> {
    return run(this.wrap(argv), options);
  }

  /** `ip -n <ns> ...` (no fork of a shell inside the namespace). */
  ip(args: readonly string[], options: Parameters<typeof run>[1] = {}): Promise<RunResult> {
    return run(['ip', '-n', this.name, ...args], options);
  }

  /** `ip -j -n <ns> ...` parsed. */
  async ipJson<T = unknown>(args: readonly string[]): Promise<T> {
    const { stdout } = await run(['ip', '-j', '-n', this.name, ...args]);
    return (stdout.trim() ? JSON.parse(stdout) : []) as T;
  }

  /** Pids of processes living in this namespace. */
  async pids(): Promise<number[]> {
    const { stdout } = await run(['ip', 'netns', 'pids', this.name], { allowFailure: true });
    return stdout.split(/\s+/).filter(Boolean).map(Number);
  }

  /** Directory whose files `ip netns exec` bind-mounts over /etc (e.g. `resolv.conf`). */
  get etcDir(): string {
    return join(NETNS_ETC_DIR, this.name);
  }

  /**
   * Writes `/etc/netns/<ns>/<file>`, so programs run with `ip netns exec` (and scripts they start, such as
   * dhclient-script) see it as `/etc/<file>` and never touch the machine's own copy. Removed by {@link destroy}.
   */
  async writeEtcFile(file: string, content: string): Promise<void> {
    if (!/^[A-Za-z0-9_.-]+$/.test(file) || file.startsWith('.')) throw new Error(`invalid /etc file name ${JSON.stringify(file)}`);
    await mkdir(this.etcDir, { recursive: true });
    await writeFile(join(this.etcDir, file), content);
  }

  /**
   * Stops every process inside (they are ours: tests only start processes in namespaces they created), then
   * deletes the namespace and its `/etc/netns/<ns>` directory. Safe to call for a namespace that is gone.
   */
  async destroy(): Promise<void> {
    await Promise.all((await this.pids()).map((pid) => stopPid(pid, { timeoutMs: 3_000 })));
    await run(['ip', 'netns', 'del', this.name], { allowFailure: true });
    await rm(this.etcDir, { recursive: true, force: true });
  }
}

export async function netnsExists(name: string): Promise<boolean> {
  const { stdout } = await run(['ip', '-j', 'netns', 'list'], { allowFailure: true });
  const list = (stdout.trim() ? JSON.parse(stdout) : []) as Array<{ name: string }>;
  return list.some((n) => n.name === name);
}

/** True when a link of that name exists in `ns` (`null` = the current namespace). */
export async function linkExists(name: string, ns: Netns | null = null): Promise<boolean> {
  const argv = ns ? ['ip', '-n', ns.name, 'link', 'show', 'dev', name] : ['ip', 'link', 'show', 'dev', name];
  const { code } = await run(argv, { allowFailure: true });
  return code === 0;
}

/** Deletes a link if it exists (deleting one end of a veth pair deletes both). */
export async function deleteLinkIfExists(name: string, ns: Netns | null = null): Promise<void> {
  if (!(await linkExists(name, ns))) return;
  const argv = ns ? ['ip', '-n', ns.name, 'link', 'del', 'dev', name] : ['ip', 'link', 'del', 'dev', name];
  await run(argv, { allowFailure: true });
}

/** Creates a veth pair with one end in each namespace (`null` = the current namespace). */
export async function addVethPair(
  a: { ns: Netns | null; name: string; mac?: string },
  b: { ns: Netns | null; name: string; mac?: string },
): Promise<void> {
  for (const end of [a, b]) {
    if (Buffer.byteLength(end.name) > IFNAME_MAX) throw new Error(`interface name ${end.name} is longer than ${IFNAME_MAX} bytes`);
  }
  // The kernel creates each end directly in its target namespace, so names only need to be unique there.
  const args = ['link', 'add', a.name];
  if (a.mac) args.push('address', a.mac);
  if (a.ns) args.push('netns', a.ns.name);
  args.push('type', 'veth', 'peer', 'name', b.name);
  if (b.mac) args.push('address', b.mac);
  if (b.ns) args.push('netns', b.ns.name);
  await run(['ip', ...args]);
}

/** True when we may create namespaces (root, iproute2 present); otherwise the reason, for a printed skip. */
export async function netnsUnavailableReason(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'network-namespace tests need root (ip netns add)';
  try {
    await run(['ip', '-V']);
  } catch {
    return 'iproute2 (ip) is not installed; run ./run setup';
  }
  return null;
}
