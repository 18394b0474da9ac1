/**
 * A throwaway PostgreSQL server from Debian's packages (`postgresql`, installed by scripts/setup): initdb
 * in a fresh temporary directory, the server on its own Unix socket there (no TCP port, nothing to clash
 * with), stopped by its pid and the directory removed afterwards. For the store's tests and benchmarks.
 * A client that only speaks TCP (the Temporal server's SQL plugin, as against a database host in
 * production) gets a loopback port on request (`tcpPort`); the socket stays.
 *
 * initdb refuses to run as root, so as root both programs run as the `postgres` user (`setpriv`, which
 * execs in place: the pid we hold is the postmaster's). Durability is off (fsync, full page writes): the
 * data is thrown away anyway, and startup stays around a second.
 *
 * No leftovers: `stop()` is idempotent and also runs at process exit; a run killed outright (SIGKILL)
 * leaves its directory with an `owner.json`, and the next start reaps servers whose owner is gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { processStat, run, stopChild, stopPid } from '../lib/process';

const DIR_PREFIX = 'hostprov-pg-';
const POSTGRES_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'postgres';
const READY_TIMEOUT_MS = 30_000;
const DEFAULT_PORT = 5432;
const TCP_HOST = '127.0.0.1';

export class PostgresUnavailableError extends Error {
  override readonly name = 'PostgresUnavailableError';
}

export class PostgresStartError extends Error {
  override readonly name = 'PostgresStartError';
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(`${message}\n--- postgres log (tail) ---\n${log.split('\n').slice(-20).join('\n')}`);
  }
}

export interface ThrowawayPostgresOptions {
  /** @default the newest server under /usr/lib/postgresql */
  binDir?: string;
  /** Also listen on `127.0.0.1:<tcpPort>` (trust authentication, like the socket). @default socket only */
  tcpPort?: number;
  /**
   * More server settings, as `postgres -c name=value` (e.g. `max_connections` for a Temporal cluster's
   * connection pools). Names are lower-case identifiers.
   */
  settings?: Readonly<Record<string, string>>;
}

export interface ThrowawayPostgres {
  /** URL of the `postgres` database (superuser, trust authentication over the socket). */
  readonly url: string;
  readonly socketDir: string;
  /** The server's port: its TCP port when `tcpPort` was given (the socket file is named after it too). */
  readonly port: number;
  /** `{ host: '127.0.0.1', port }` when the server also listens on TCP, else `null`. */
  readonly tcp: { readonly host: string; readonly port: number } | null;
  /** The running postmaster's pid (a new one after `resume()`). */
  readonly pid: number;
  /** Creates an empty database and returns its URL (over the socket). */
  createDatabase(name: string): Promise<string>;
  /** URL of `database` over TCP (superuser, no password: trust authentication). Throws without `tcpPort`. */
  tcpUrl(database: string): string;
  /**
   * Stops the server (fast shutdown) and keeps its data: an outage. Clients get connection errors until
   * `resume()`.
   */
  halt(): Promise<void>;
  /** Starts the halted server again on the same data and socket, and waits until it accepts connections. */
  resume(): Promise<void>;
  /** Stops the server (fast shutdown) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

interface OwnerRecord {
  ownerPid: number;
  ownerStart: string;
  postmasterPid: number | null;
}

/** The newest installed server's bin directory, or `null` when Debian's postgresql is not installed. */
export function findPostgresBinDir(): string | null {
  if (!existsSync(POSTGRES_ROOT)) return null;
  const versions = readdirSync(POSTGRES_ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(POSTGRES_ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(POSTGRES_ROOT, versions[0], 'bin') : null;
}

/** A URL over the Unix socket in `socketDir`; the port names the socket file (`.s.PGSQL.<port>`). */
export function postgresUrl(socketDir: string, database: string, port = DEFAULT_PORT): string {
  return `postgresql://${SUPERUSER}@localhost:${port}/${database}?host=${encodeURIComponent(socketDir)}`;
}

/** Who the server runs as: ourselves, or the `postgres` user when we are root. */
async function serverUser(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const uid = await run(['id', '-u', SUPERUSER], { allowFailure: true });
  const gid = await run(['id', '-g', SUPERUSER], { allowFailure: true });
  if (uid.code !== 0 || gid.code !== 0)
    throw new PostgresUnavailableError(`running as root needs the "${SUPERUSER}" user (Debian's postgresql package creates it)`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function asUser(user: { uid: number; gid: number } | null, argv: string[]): string[] {
  return user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv] : argv;
}

function readOwner(dir: string): OwnerRecord | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as OwnerRecord;
  } catch {
    return null;
  }
}

function ownerAlive(owner: OwnerRecord): boolean {
  const stat = processStat(owner.ownerPid);
  return Boolean(stat?.alive && stat.startTime === owner.ownerStart);
}

/** The postmaster pid, if that process still runs and serves `dir` (pids get reused). */
function runningPostmaster(pid: number | null, dir: string): number | null {
  if (pid === null || !processStat(pid)?.alive) return null;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir) ? pid : null;
  } catch {
    return null;
  }
}

/** Stops and removes servers left by runs that died without cleaning up; returns how many it reaped. */
export async function reapStalePostgres(): Promise<number> {
  let reaped = 0;
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    const owner = readOwner(dir);
    // No owner record: a start that is a moment old is still writing it; an hour-old one died right there.
    if (!owner && Date.now() - statSync(dir).mtimeMs < 3_600_000) continue;
    if (owner && ownerAlive(owner)) continue;
    const pid = runningPostmaster(owner?.postmasterPid ?? null, dir);
    if (pid !== null) await stopPid(pid, { signal: 'SIGQUIT', timeoutMs: 5_000 });
    rmSync(dir, { recursive: true, force: true });
    reaped += 1;
  }
  return reaped;
}

async function waitReady(socketDir: string, port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new PostgresStartError('postgres exited during startup', readFileSync(logFile, 'utf8'));
    const client = new pg.Client({ host: socketDir, port, user: SUPERUSER, database: 'postgres' });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch {
      if (Date.now() > deadline)
        throw new PostgresStartError(`postgres did not accept connections within ${READY_TIMEOUT_MS} ms`, readFileSync(logFile, 'utf8'));
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

function serverSettings(options: ThrowawayPostgresOptions): string[] {
  const settings: Record<string, string> = {
    listen_addresses: options.tcpPort === undefined ? '' : TCP_HOST,
    port: String(options.tcpPort ?? DEFAULT_PORT),
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
  };
  for (const [name, value] of Object.entries(options.settings ?? {})) {
    if (!/^[a-z_][a-z0-9_.]{0,62}$/.test(name))
      throw new Error(`PostgreSQL setting names here are lower-case identifiers: ${JSON.stringify(name)}`);
    settings[name] = value;
  }
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

export async function startThrowawayPostgres(options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const binDir = options.binDir ?? findPostgresBinDir();
  if (!binDir)
    throw new PostgresUnavailableError(`no PostgreSQL server under ${POSTGRES_ROOT} (install Debian's postgresql package: ./run setup)`);
  if (options.tcpPort !== undefined && !(Number.isInteger(options.tcpPort) && options.tcpPort > 0 && options.tcpPort < 65_536)) {
    throw new Error(`tcpPort must be a port number (1..65535): ${options.tcpPort}`);
  }
  const settings = serverSettings(options);
  const port = options.tcpPort ?? DEFAULT_PORT;
  await reapStalePostgres();
  const user = await serverUser();

  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  const ownerStart = processStat(process.pid)?.startTime ?? '';
  const writeOwner = (postmasterPid: number | null) =>
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ ownerPid: process.pid, ownerStart, postmasterPid } satisfies OwnerRecord));
  writeOwner(null);
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  const logFile = join(dir, 'postgres.log');
  let child: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;

  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  // Backstop for an exit without stop() (a failing test file, an uncaught error): no server outlives us.
  const onExit = () => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    removeDir();
  };
  process.once('exit', onExit);

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child) await stopChild(child, { signal: 'SIGINT', timeoutMs: 10_000 });
      process.removeListener('exit', onExit);
      removeDir();
    })();
    return stopped;
  };

  try {
    mkdirSync(socketDir);
    if (user) {
      chownSync(dir, user.uid, user.gid);
      chownSync(socketDir, user.uid, user.gid);
    }
    const init = await run(
      asUser(user, [
        join(binDir, 'initdb'),
        '-D',
        dataDir,
        '-U',
        SUPERUSER,
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ]),
      { allowFailure: true },
    );
    if (init.code !== 0) throw new PostgresStartError(`initdb failed (exit ${init.code})`, `${init.stdout}\n${init.stderr}`);

    await startServer();
  } catch (err) {
    await stop();
    throw err;
  }

  const tcp = options.tcpPort === undefined ? null : { host: TCP_HOST, port };

  async function startServer(): Promise<void> {
    const [command, ...args] = asUser(user, [join(binDir as string, 'postgres'), '-D', dataDir, '-k', socketDir, ...settings]);
    const log = openSync(logFile, 'a');
    let started: ChildProcess;
    try {
      started = spawn(command as string, args, { stdio: ['ignore', log, log] });
      child = started;
    } finally {
      closeSync(log);
    }
    if (started.pid === undefined) throw new PostgresStartError('could not spawn postgres', '');
    writeOwner(started.pid);
    await waitReady(socketDir, port, started, logFile);
  }

  return {
    url: postgresUrl(socketDir, 'postgres', port),
    socketDir,
    port,
    tcp,
    get pid() {
      return child?.pid ?? 0;
    },
    async createDatabase(name) {
      if (!/^[a-z][a-z0-9_]{0,62}$/.test(name))
        throw new Error(`database names here are 1..63 of [a-z0-9_], starting with a letter: ${name}`);
      const admin = new pg.Client({ host: socketDir, port, user: SUPERUSER, database: 'postgres' });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.end();
      }
      return postgresUrl(socketDir, name, port);
    },
    tcpUrl(database) {
      if (!tcp) throw new Error('this PostgreSQL listens on its Unix socket only; start it with tcpPort');
      return `postgresql://${SUPERUSER}@${tcp.host}:${tcp.port}/${encodeURIComponent(database)}`;
    },
    async halt() {
      if (child) await stopChild(child, { signal: 'SIGINT', timeoutMs: 10_000 });
    },
    async resume() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      await startServer();
    },
    stop,
  };
}
