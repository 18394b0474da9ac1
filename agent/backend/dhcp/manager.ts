/**
 * The agent's DHCP clients: one ISC dhclient per (device, family), started with our own script
 * (`hostprov-dhclient-script`, which installs address/routes/rules and records the lease as JSON) and
 * stopped by the pid it recorded.
 *
 * Leases reach the agent three ways: `leases()` (capabilities), `waitForLease()` (VDSM's blocking DHCP),
 * and `onLeaseChange()` (a client bound a new address or lost its lease: the agent emits
 * `|net|host_conn|no_id`, so the manager reads the new addresses, routes and source rules). The last two
 * watch the lease directory with fs.watch (inotify); the script's atomic renames make every event a whole
 * file. When the kernel refuses the watch (EMFILE: `fs.inotify.max_user_instances` is used up, as with
 * many agents on one testbed machine), the manager polls the directory instead, warns once, and retries the
 * watch with a bounded backoff: the agent keeps serving, and lease changes are merely late.
 */
import { watch, mkdirSync, readdirSync, type FSWatcher } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../lib/logger';
import { run, stopPid } from '../../../lib/process';
import type { Family, PlanOp } from '../../../model/net-state';
import { inTargetArgv, type NetnsTarget } from '../target';
import { DhcpClientError, DhcpLeaseTimeoutError, UnsafeBatchArgumentError } from '../errors';
import { checkedIfname, checkedTable } from '../iproute2/arguments';
import { DHCLIENT_CONF, DHCLIENT_SCRIPT, dhclientArgv, dhcpFiles, ourDhclientPid, runDaemonizing, type DhcpPaths } from './dhclient';
import { leaseKeyFromFileName, readLeaseDir, readLeaseFile, type DhcpLease } from './lease';
import { prefixToNetmask } from '../../../model/ip';

export type DhcpStartRequest = Omit<Extract<PlanOp, { kind: 'dhcp-start' }>, 'kind'>;
/**
 * A change of a client's lease: `bound` = a first lease, or one whose address, prefix, routers,
 * nameservers or search domains differ from the last one (a renewal that moved the subnet, or a server that
 * now offers other DNS settings); `lost` = the lease ended (expired, refused by the server, released).
 * Renewals that offer the same are no change.
 */
export type DhcpLeaseChange = { kind: 'bound'; lease: DhcpLease } | { kind: 'lost'; dev: string; family: Family };
export type DhcpLeaseChangeListener = (change: DhcpLeaseChange) => void;

export interface DhcpClientManagerOptions extends NetnsTarget {
  runtimeDir: string;
  /** Persistent home for dhclient's lease database (so a restarted host asks for its old address). */
  stateDir?: string | undefined;
  log: Logger;
}

/** How long dhclient gets to write its pid file after daemonising. */
const PID_FILE_TIMEOUT_MS = 5_000;
/** How often the lease directory is scanned while it cannot be watched. */
export const LEASE_POLL_MS = 2_000;
/** The first retry of a refused watch; each further one waits twice as long, up to {@link WATCH_RETRY_MAX_MS}. */
const WATCH_RETRY_FIRST_MS = 1_000;
const WATCH_RETRY_MAX_MS = 60_000;

/**
 * How lease changes reach listeners: `watching` (inotify, at once), `polling` (the watch was refused; a
 * scan every {@link LEASE_POLL_MS} while it is retried), `idle` (no listener, nothing to watch for).
 */
export const LeaseWatchMode = { WATCHING: 'watching', POLLING: 'polling', IDLE: 'idle' } as const;
export type LeaseWatchMode = (typeof LeaseWatchMode)[keyof typeof LeaseWatchMode];

export interface LeaseWatchState {
  mode: LeaseWatchMode;
  /** Why the watch was refused (the error code and message), while polling. */
  reason: string | null;
}

export class DhcpClientManager {
  private readonly target: NetnsTarget;
  private readonly paths: DhcpPaths;
  private readonly log: Logger;
  private readonly listeners = new Set<DhcpLeaseChangeListener>();
  private watcher: FSWatcher | null = null;
  /** Why the watch was refused, while polling instead; null when watching or idle. */
  private watchRefusal: string | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = WATCH_RETRY_FIRST_MS;
  /** `dev.family` → what its last lease offered (address, prefix, routers, DNS), so renewals that offer the same are not news. */
  private readonly seen = new Map<string, string>();
  /** Directory scans run one after another, so events are handled in order. */
  private scanning: Promise<void> = Promise.resolve();

  constructor(options: DhcpClientManagerOptions) {
    this.target = { netns: options.netns };
    this.paths = { runtimeDir: join(options.runtimeDir, 'dhcp'), leaseDbDir: join(options.stateDir ?? options.runtimeDir, 'dhcp') };
    this.log = options.log;
  }

  /** Starts dhclient on `dev` (restarting one already running there, after removing what it installed). */
  async start(request: DhcpStartRequest): Promise<void> {
    const dev = checkedDev(request.dev, request.family);
    const { family } = request;
    try {
      checkedTable('table', request.table);
    } catch (err) {
      throw new DhcpClientError(dev, family, (err as Error).message);
    }
    await mkdir(this.paths.runtimeDir, { recursive: true, mode: 0o750 });
    await mkdir(this.paths.leaseDbDir, { recursive: true, mode: 0o700 });
    if ((await ourDhclientPid(dhcpFiles(this.paths, dev, family).pid)) !== null) await this.stop(dev, family);

    const files = dhcpFiles(this.paths, dev, family);
    await writeFile(files.conf, DHCLIENT_CONF[family]);
    await rm(files.pid, { force: true });
    const argv = dhclientArgv(this.target, this.paths, { ...request, dev });
    this.log.debug({ argv }, 'starting dhclient');
    try {
      const code = await runDaemonizing(argv, files.log);
      if (code !== 0) throw new DhcpClientError(dev, family, `dhclient exited with ${code}; see ${files.log}`);
      await this.waitForPid(dev, family);
    } catch (err) {
      // DHCPv6 is best effort (VDSM's dhcpv6 is optional too): an IPv4-only network must still come up.
      if (family === 6) {
        this.log.warn({ dev, err }, 'DHCPv6 client did not start');
        return;
      }
      throw err instanceof DhcpClientError ? err : new DhcpClientError(dev, family, (err as Error).message);
    }
    this.log.info(
      { dev, family, table: request.table, defaultRoute: request.defaultRoute, sourceRouting: request.sourceRouting },
      'DHCP client started',
    );
  }

  /** Stops the dhclient on `dev` by its recorded pid, then removes the lease's address, routes and rules. */
  async stop(dev: string, family: Family): Promise<void> {
    checkedDev(dev, family);
    const files = dhcpFiles(this.paths, dev, family);
    const pid = await ourDhclientPid(files.pid);
    // SIGTERM: dhclient exits without running the script or releasing; we clean up ourselves below.
    if (pid !== null) await stopPid(pid, { timeoutMs: 5_000 });
    await rm(files.pid, { force: true });
    const lease = await readLeaseFile(files.lease).catch((err: unknown) => {
      this.log.warn({ dev, family, err }, 'unreadable lease file; nothing to clean up from it');
      return null;
    });
    if (lease) await this.removeInstalled(lease);
    await rm(files.lease, { force: true });
    this.log.info({ dev, family, pid }, 'DHCP client stopped');
  }

  /** Leases currently held by our clients. */
  leases(): Promise<DhcpLease[]> {
    return readLeaseDir(this.paths.runtimeDir, (err) => this.log.warn({ err }, 'skipping invalid lease file'));
  }

  lease(dev: string, family: Family): Promise<DhcpLease | null> {
    return readLeaseFile(dhcpFiles(this.paths, checkedDev(dev, family), family).lease);
  }

  /** Devices and families with a running dhclient of ours. */
  async clients(): Promise<Array<{ dev: string; family: Family }>> {
    const names = this.runtimeDirNames();
    const running: Array<{ dev: string; family: Family }> = [];
    for (const name of names) {
      const key = leaseKeyFromFileName(name.replace(/\.pid$/, '.json'));
      if (name.endsWith('.pid') && key && (await ourDhclientPid(join(this.paths.runtimeDir, name))) !== null) running.push(key);
    }
    return running;
  }

  /** Pids of the dhclients this manager started and that are alive. */
  async ourPids(): Promise<Set<number>> {
    const names = this.runtimeDirNames();
    const pids = new Set<number>();
    for (const name of names.filter((n) => n.endsWith('.pid'))) {
      const pid = await ourDhclientPid(join(this.paths.runtimeDir, name));
      if (pid !== null) pids.add(pid);
    }
    return pids;
  }

  /**
   * The runtime directory's entries (none if it cannot be listed). Synchronous: a change asks for our clients
   * beside its kernel read, where an awaited listing waited behind the read's parsing
   * (docs/setup-networks.md#what-a-change-costs); a pid file is read only when there is one.
   */
  private runtimeDirNames(): string[] {
    try {
      return readdirSync(this.paths.runtimeDir);
    } catch {
      return [];
    }
  }

  /** Resolves with the lease on `dev` once there is one (at once if there is already). */
  async waitForLease(dev: string, family: Family, timeoutMs: number): Promise<DhcpLease> {
    const existing = await this.lease(dev, family);
    if (existing) return existing;
    return new Promise<DhcpLease>((resolve, reject) => {
      let done = false;
      const finish = (lease: DhcpLease | null, err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        if (lease) resolve(lease);
        else reject(err ?? new DhcpLeaseTimeoutError(dev, family, timeoutMs));
      };
      const timer = setTimeout(() => finish(null), timeoutMs);
      const unsubscribe = this.onLeaseChange((change) => {
        if (change.kind === 'bound' && change.lease.dev === dev && change.lease.family === family) finish(change.lease);
      });
      // A lease written between the first look and the subscription counts as already seen by the watcher.
      void this.lease(dev, family).then(
        (lease) => lease && finish(lease),
        (err: unknown) => finish(null, err instanceof Error ? err : new Error(String(err))),
      );
    });
  }

  /** Calls `listener` on every {@link DhcpLeaseChange}. Returns the unsubscribe function. */
  onLeaseChange(listener: DhcpLeaseChangeListener): () => void {
    this.listeners.add(listener);
    this.ensureWatching();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopWatching();
    };
  }

  /** Stops watching (the clients keep running: they outlive the agent, like VDSM's). */
  close(): void {
    this.listeners.clear();
    this.stopWatching();
  }

  /** Whether lease changes are watched, polled for (and why), or nobody listens. */
  leaseWatch(): LeaseWatchState {
    if (this.watchRefusal !== null) return { mode: LeaseWatchMode.POLLING, reason: this.watchRefusal };
    return { mode: this.watcher ? LeaseWatchMode.WATCHING : LeaseWatchMode.IDLE, reason: null };
  }

  private ensureWatching(): void {
    if (this.watcher || this.watchRefusal !== null) return;
    mkdirSync(this.paths.runtimeDir, { recursive: true, mode: 0o750 });
    this.seen.clear();
    // Leases that exist when watching starts are not news.
    this.queueScan(false);
    this.startWatch();
  }

  /** Sets up the inotify watch; when the kernel refuses it, polls instead and tries again later. */
  private startWatch(): void {
    try {
      // Logs and pid files live here too; only lease files (or an unnamed event) are worth a scan.
      this.watcher = watch(this.paths.runtimeDir, (_event, name) => {
        if (name === null || name.endsWith('.json')) this.queueScan(true);
      });
      this.watcher.on('error', (err) => this.log.warn({ err }, 'lease directory watch failed'));
    } catch (err) {
      this.watchRefused(err);
      return;
    }
    if (this.watchRefusal === null) return;
    this.log.info({ dir: this.paths.runtimeDir }, 'DHCP lease directory watch set up: lease changes are announced at once again');
    this.stopPolling();
    // What changed between the last poll and the watch.
    this.queueScan(true);
  }

  private watchRefused(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    const first = this.watchRefusal === null;
    this.watchRefusal = err instanceof Error ? err.message : String(err);
    if (first) {
      this.log.warn(
        { dir: this.paths.runtimeDir, code, pollMs: LEASE_POLL_MS, err },
        `cannot watch the DHCP lease directory ${this.paths.runtimeDir} (${this.watchRefusal}): DHCP lease changes ` +
          `(the |net|host_conn|no_id event, blocking DHCP) are noticed by polling every ${LEASE_POLL_MS / 1000} s instead of at once, ` +
          `and the watch is retried with backoff up to ${WATCH_RETRY_MAX_MS / 1000} s. ${watchRefusalRemedy(code)}`,
      );
      this.pollTimer = setInterval(() => this.queueScan(true), LEASE_POLL_MS).unref();
    } else {
      this.log.debug({ err, nextRetryMs: this.retryDelayMs }, 'lease directory watch still refused');
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.startWatch();
    }, this.retryDelayMs).unref();
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, WATCH_RETRY_MAX_MS);
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.pollTimer = null;
    this.retryTimer = null;
    this.watchRefusal = null;
    this.retryDelayMs = WATCH_RETRY_FIRST_MS;
  }

  private stopWatching(): void {
    this.stopPolling();
    this.watcher?.close();
    this.watcher = null;
  }

  private queueScan(emit: boolean): void {
    this.scanning = this.scanning
      .then(() => this.scan(emit))
      .catch((err: unknown) => this.log.warn({ err }, 'lease directory scan failed'));
  }

  private async scan(emit: boolean): Promise<void> {
    const leases = await this.leases();
    const present = new Set<string>();
    const changes: DhcpLeaseChange[] = [];
    for (const lease of leases) {
      const key = `${lease.dev}.${lease.family}`;
      const signature = `${lease.address}/${lease.prefixLen} via ${lease.routers.join(',')} dns ${lease.nameservers.join(',')} search ${lease.searchDomains.join(',')}`;
      present.add(key);
      if (this.seen.get(key) === signature) continue;
      this.seen.set(key, signature);
      changes.push({ kind: 'bound', lease });
    }
    for (const key of [...this.seen.keys()]) {
      if (present.has(key)) continue;
      this.seen.delete(key);
      const [dev = '', family] = [key.slice(0, key.lastIndexOf('.')), key.endsWith('.6') ? 6 : 4] as const;
      changes.push({ kind: 'lost', dev, family });
    }
    if (!emit) return;
    for (const change of changes) {
      for (const listener of [...this.listeners]) {
        try {
          listener(change);
        } catch (err) {
          this.log.warn({ err }, 'lease listener threw');
        }
      }
    }
  }

  private async waitForPid(dev: string, family: Family): Promise<number> {
    const pidFile = dhcpFiles(this.paths, dev, family).pid;
    const deadline = Date.now() + PID_FILE_TIMEOUT_MS;
    for (;;) {
      const pid = await ourDhclientPid(pidFile);
      if (pid !== null) return pid;
      if (Date.now() > deadline) throw new DhcpClientError(dev, family, `dhclient did not write ${pidFile}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs our script as dhclient would on STOP, with the lease as the "old" one: one place knows what a lease installs. */
  private async removeInstalled(lease: DhcpLease): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      interface: lease.dev,
      HOSTPROV_LEASE_DIR: this.paths.runtimeDir,
      HOSTPROV_LOG_FILE: dhcpFiles(this.paths, lease.dev, lease.family).log,
      HOSTPROV_TABLE: String(lease.table),
      HOSTPROV_DEFAULT_ROUTE: lease.defaultRoute ? '1' : '0',
      HOSTPROV_SOURCE_ROUTING: lease.sourceRouting ? '1' : '0',
    };
    if (lease.family === 4) {
      Object.assign(env, {
        reason: 'STOP',
        old_ip_address: lease.address,
        old_subnet_mask: prefixToNetmask(lease.prefixLen),
        old_routers: lease.routers.join(' '),
      });
    } else {
      Object.assign(env, { reason: 'STOP6', old_ip6_address: lease.address, old_ip6_prefixlen: String(lease.prefixLen) });
    }
    const result = await run(inTargetArgv(this.target, [DHCLIENT_SCRIPT]), { env, allowFailure: true });
    if (result.code !== 0) throw new DhcpClientError(lease.dev, lease.family, `cleanup script failed: ${result.stderr.trim()}`);
  }
}

/** What the operator can do about a refused watch, by the kernel's error. */
function watchRefusalRemedy(code: string | undefined): string {
  switch (code) {
    case 'EMFILE':
      return (
        "This user's inotify instances are used up (fs.inotify.max_user_instances; or this process's open-file limit): " +
        'raise it, e.g. sysctl -w fs.inotify.max_user_instances=512.'
      );
    case 'ENOSPC':
      return "This user's inotify watches are used up: raise fs.inotify.max_user_watches, e.g. sysctl -w fs.inotify.max_user_watches=65536.";
    default:
      return 'The agent keeps serving meanwhile.';
  }
}

function checkedDev(dev: string, family: Family): string {
  try {
    return checkedIfname('dev', dev);
  } catch (err) {
    if (err instanceof UnsafeBatchArgumentError) throw new DhcpClientError(String(dev), family, err.message);
    throw err;
  }
}
