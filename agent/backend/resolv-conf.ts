/**
 * The host's nameservers, for capabilities' `nameservers`. VDSM reports nmstate's running DNS; we have no
 * NetworkManager, so that is resolv.conf plus what the default-route network's DHCP lease offered (the
 * agent writes those into the file only when no verb runs, docs/setup-networks.md#dns-from-dhcp).
 *
 * And the agent's own writes of it: the nameservers of the default-route network replace the file's
 * `nameserver` lines (every other line stays), written whole and renamed into place. A resolv.conf that is
 * a symbolic link belongs to a resolver service (systemd-resolved, resolvconf): the agent leaves it alone.
 */
import {
  closeSync,
  existsSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { familyOfAddress } from './iproute2/arguments';

/** `nameserver` entries of resolv.conf text, in order; IPv6 zone suffixes (`%eth0`) dropped. */
export function nameserversFromResolvConf(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    const address = match?.[1]?.split('%')[0]?.toLowerCase();
    if (address && familyOfAddress(address) !== null && !servers.includes(address)) servers.push(address);
  }
  return servers;
}

/**
 * The resolv.conf processes in `netns` see: `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over
 * /etc/resolv.conf when it exists.
 */
export function resolvConfPathFor(netns: string | undefined): string {
  if (netns) {
    const perNamespace = `/etc/netns/${netns}/resolv.conf`;
    if (existsSync(perNamespace)) return perNamespace;
  }
  return '/etc/resolv.conf';
}

/**
 * Synchronous on purpose: a change reads it beside the kernel read, and a small local file costs microseconds,
 * while each step of an asynchronous read waited its turn on the event loop behind the read's parsing
 * (docs/setup-networks.md#what-a-change-costs).
 */
export function readNameservers(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    text = '';
  }
  return nameserversFromResolvConf(text);
}

const NAMESERVER_LINE = /^\s*nameserver\s/;

/**
 * `text` with its lines matching `owned` replaced by `replacement`, where the first of them was (else before
 * the first line matching `before`, else at the end); every other line kept, in order.
 */
function withOwnedLines(text: string, owned: RegExp, replacement: readonly string[], before?: RegExp): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const first = lines.findIndex((line) => owned.test(line));
  const kept = lines.filter((line) => !owned.test(line));
  // No owned line comes before the first, so its index is the same among the kept lines.
  const at = first !== -1 || before === undefined ? first : kept.findIndex((line) => before.test(line));
  kept.splice(at === -1 ? kept.length : at, 0, ...replacement);
  return kept.length ? `${kept.join('\n')}\n` : '';
}

/** resolv.conf text with `servers` as its `nameserver` lines, where the first one was (else at the end); every other line kept. */
export function withNameservers(text: string, servers: readonly string[]): string {
  return withOwnedLines(
    text,
    NAMESERVER_LINE,
    servers.map((server) => `nameserver ${server}`),
  );
}

const SEARCH_LINE = /^\s*(search|domain)\s/;

/**
 * resolv.conf text with one `search` line listing `domains` where the first `search` or `domain` line was
 * (else before the first `nameserver` line, else at the end); the other `search` and `domain` lines go
 * (the resolver uses only the last of them anyway), every other line stays.
 */
export function withSearchDomains(text: string, domains: readonly string[]): string {
  return withOwnedLines(text, SEARCH_LINE, [`search ${domains.join(' ')}`], NAMESERVER_LINE);
}

/**
 * Where the agent writes: in `netns` mode always the namespace's own /etc/netns/<ns>/resolv.conf (created
 * when missing), never the resolv.conf of the machine the tests run on.
 */
export function resolvConfWritePathFor(netns: string | undefined): string {
  return netns ? `/etc/netns/${netns}/resolv.conf` : '/etc/resolv.conf';
}

/** The file as it is: its text (`null` when there is none), and whether a resolver service owns it (a symbolic link). */
export interface ResolvConfFile {
  text: string | null;
  managed: boolean;
}

export function readResolvConf(path: string): ResolvConfFile {
  try {
    if (lstatSync(path).isSymbolicLink()) return { text: null, managed: true };
    return { text: readFileSync(path, 'utf8'), managed: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: null, managed: false };
    throw err;
  }
}

/**
 * Puts `text` in place whole (written to a temporary file beside it, synced, renamed over it), or removes the
 * file for `null`: a reader never sees half a file, and a crash leaves the old one or the new one.
 */
export function writeResolvConf(path: string, text: string | null): void {
  if (text === null) {
    rmSync(path, { force: true });
    return;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temporary = `${path}.hostprov-${process.pid}`;
  const like = modeAndOwnerOf(path);
  writeSynced(temporary, text, (fd) => {
    // The replaced file's mode and owner (as the stock dhclient-script's `chmod`/`chown --reference`), else
    // NEW_RESOLV_CONF_MODE; set on the descriptor, so the agent's umask never narrows it.
    fchmodSync(fd, like?.mode ?? NEW_RESOLV_CONF_MODE);
    if (like) fchownSync(fd, like.uid, like.gid);
  });
  try {
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    // A file bind-mounted over resolv.conf (`ip netns exec`, a container, our UML guests) cannot be
    // replaced, only rewritten: in place, then, keeping its mode and owner.
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
    writeSynced(path, text);
  }
}

/** Every process on the host reads resolv.conf: a new one is 0644 whatever the agent's umask. */
const NEW_RESOLV_CONF_MODE = 0o644;

interface ModeAndOwner {
  mode: number;
  uid: number;
  gid: number;
}

/** The mode and owner of the file at `path`, or `null` when there is none. */
function modeAndOwnerOf(path: string): ModeAndOwner | null {
  try {
    const stat = statSync(path);
    return { mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes and syncs `text` into the file at `path` (created if missing); `prepare` runs on its descriptor first. */
function writeSynced(path: string, text: string, prepare?: (fd: number) => void): void {
  const fd = openSync(path, 'w', NEW_RESOLV_CONF_MODE);
  try {
    prepare?.(fd);
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
