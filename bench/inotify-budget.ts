/**
 * Every agent watches its DHCP state directory (fs.watch), and each Node process that watches holds one
 * inotify instance. The kernel caps instances per user (`fs.inotify.max_user_instances`, 128 by default),
 * and in a testbed every host's agent runs as root on the same machine: past the cap an agent's watch gets
 * EMFILE, and the agent polls for lease changes instead (agent/backend/dhcp/manager.ts), which is not
 * the agent a benchmark means to measure. On a real fleet each host has its own kernel, so this is the
 * testbed's limit, checked before a benchmark builds more hosts than the machine has instances left for.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const LIMIT_FILE = '/proc/sys/fs/inotify/max_user_instances';

export class InotifyLimitError extends Error {
  override readonly name = 'InotifyLimitError';
  constructor(
    readonly needed: number,
    readonly limit: number,
    readonly inUse: number,
  ) {
    super(
      `${needed} agents need ${needed} inotify instances, but fs.inotify.max_user_instances is ${limit} and ${inUse} are in use ` +
        `by this user's processes (agents past the limit get EMFILE for their DHCP lease watch and poll instead); raise it, e.g. ` +
        `sysctl -w fs.inotify.max_user_instances=${Math.max(512, 2 ** Math.ceil(Math.log2(inUse + needed + 32)))}`,
    );
  }
}

/** Instances left, from the limit and the count in use: `null` when the budget suffices, else what is short. */
export function inotifyShortfall(budget: { needed: number; limit: number; inUse: number }): number | null {
  const left = budget.limit - budget.inUse;
  return budget.needed <= left ? null : budget.needed - left;
}

/** inotify instances held by processes of real uid `uid` (their fds that link to `anon_inode:inotify`). */
export function inotifyInstancesInUse(uid: number): number {
  let count = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const realUid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (Number(realUid) !== uid) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify') count += 1;
        } catch {
          /* closed while we looked */
        }
      }
    } catch {
      /* exited while we looked */
    }
  }
  return count;
}

/** Throws {@link InotifyLimitError} when `needed` more instances would pass this user's limit now. */
export function checkInotifyBudget(needed: number): void {
  let limit: number;
  try {
    limit = Number(readFileSync(LIMIT_FILE, 'utf8').trim());
  } catch {
    return; // not Linux, or no procfs: nothing to check against
  }
  const inUse = inotifyInstancesInUse(process.getuid?.() ?? 0);
  if (inotifyShortfall({ needed, limit, inUse }) !== null) throw new InotifyLimitError(needed, limit, inUse);
}
