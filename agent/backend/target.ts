import { statSync } from 'node:fs';

/**
 * Which network namespace the backend acts on, and how to reach it.
 *
 * Production: `netns` unset, the agent runs inside the host's namespace and acts on "here".
 * Tests and benchmarks: `netns` set, the backend drives that namespace from outside with `ip -n <ns>`
 * (one netlink socket opened in the namespace, no fork inside it) and `ip netns exec <ns>` for programs
 * that must live there (dhclient).
 */
export interface NetnsTarget {
  readonly netns?: string | undefined;
}

/** argv of `ip` acting on the target namespace. */
export function ipArgv(target: NetnsTarget, args: readonly string[]): string[] {
  return target.netns ? ['ip', '-n', target.netns, ...args] : ['ip', ...args];
}

/** argv of `tc` acting on the target namespace. */
export function tcArgv(target: NetnsTarget, args: readonly string[]): string[] {
  return target.netns ? ['tc', '-n', target.netns, ...args] : ['tc', ...args];
}

/** argv that runs `argv` inside the target namespace (unchanged when acting on the current one). */
export function inTargetArgv(target: NetnsTarget, argv: readonly string[]): string[] {
  return target.netns ? ['ip', 'netns', 'exec', target.netns, ...argv] : [...argv];
}

/**
 * The identity of the target's namespace (device and inode of its `/run/netns` file), or null for "here" or
 * one that is gone: a long-lived `ip` process acts on the namespace it was started in, so a namespace
 * re-created under the same name needs a new one.
 */
export function netnsIdentity(target: NetnsTarget): string | null {
  if (!target.netns) return null;
  try {
    const st = statSync(`/run/netns/${target.netns}`);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}
