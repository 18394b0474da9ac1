/**
 * Network namespaces as test hosts: create, run commands inside, delete (stopping what runs inside first).
 * Used by the testbed (demo), the agent's kernel tests and the integration tests.
 *
 * Interface names are limited to 15 bytes (IFNAMSIZ - 1); keep prefixes short.
 */
import { randomBytes } from 'node:crypto';
import { run, stopPid, type RunResult } from '../lib/process';

export const IFNAME_MAX = 15;

/** A short unique token for names of namespaces and links created by this process (e.g. `k3f9a`). */
export function uniqueToken(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}

export class Netns {
  private constructor(readonly name: string) {}

  /** Creates the namespace with `lo` up. Fails if it exists (names must be unique per test). */
  static async create(name: string): Promise<Netns> {
    if (name.length > 200 || !/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`invalid netns name ${JSON.stringify(name)}`);
    await run(['ip', 'netns', 'add', name]);
    const ns = new Netns(name);
    await ns.ip(['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Wraps an existing namespace (e.g. one a testbed created in an earlier process). */
  static attach(name: string): Netns {
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

  /** Stops every process inside (they are ours: tests only start processes in namespaces they created), then deletes. */
  async destroy(): Promise<void> {
    for (const pid of await this.pids()) await stopPid(pid, { timeoutMs: 3_000 });
    await run(['ip', 'netns', 'del', this.name], { allowFailure: true });
  }
}

export async function netnsExists(name: string): Promise<boolean> {
  const { stdout } = await run(['ip', '-j', 'netns', 'list'], { allowFailure: true });
  const list = (stdout.trim() ? JSON.parse(stdout) : []) as Array<{ name: string }>;
  return list.some((n) => n.name === name);
}

/** Creates a veth pair with one end in each namespace (`null` = the current namespace). */
export async function addVethPair(
  a: { ns: Netns | null; name: string },
  b: { ns: Netns | null; name: string },
): Promise<void> {
  for (const end of [a, b]) {
    if (end.name.length > IFNAME_MAX) throw new Error(`interface name ${end.name} is longer than ${IFNAME_MAX} bytes`);
  }
  const args = ['link', 'add', a.name];
  if (a.ns) args.push('netns', a.ns.name);
  args.push('type', 'veth', 'peer', 'name', b.name);
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
