/**
 * A throwaway Temporal cluster laid out as in production: the server's four services (history, matching,
 * frontend, worker) as four processes on PostgreSQL, instead of the dev server's one process on SQLite.
 * The binaries come from `scripts/build-temporal-server` (built once into `.tools/`); the schemas are set
 * up with the server's own SQL tool, and the namespace and hostprov's search attributes are registered
 * with the Temporal CLI, as an operator would.
 *
 * Each service's configuration is rendered from `temporal-cluster-config/cluster.template.yaml` with ports
 * chosen free, into a fresh temporary directory that also holds the services' logs.
 *
 * No leftovers: every service runs in a process group of its own; `stop()` (idempotent, also at process
 * exit) stops the groups and removes the directory. A run killed outright (SIGKILL) leaves the directory
 * with an `owner.json`, and the next start stops the groups it lists once their owner is gone.
 */
import { spawn } from 'node:child_process';
import {
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
import type { SearchAttributeType } from '@temporalio/common';
import pg from 'pg';
import type { Logger } from '../lib/logger';
import { PROJECT_ROOT, temporalCliPath } from '../lib/paths';
import { freePorts } from '../lib/ports';
import { processGroupMembers, processStat, run, stopProcessGroup, type RunResult } from '../lib/process';
import { SEARCH_ATTRIBUTE_KEYS } from '../model/search-attributes';
import type { ThrowawayPostgres } from './postgres';

/** Version `scripts/build-temporal-server` builds (the same server the CLI's dev server embeds). */
export const TEMPORAL_SERVER_VERSION = '1.29.1';

export const TemporalService = {
  HISTORY: 'history',
  MATCHING: 'matching',
  FRONTEND: 'frontend',
  WORKER: 'worker',
} as const;
export type TemporalService = (typeof TemporalService)[keyof typeof TemporalService];
const SERVICES = Object.values(TemporalService);

const DIR_PREFIX = 'hostprov-temporal-cluster-';
const CONFIG_DIR = join(PROJECT_ROOT, 'testbed', 'temporal-cluster-config');
const CONFIG_TEMPLATE = join(CONFIG_DIR, 'cluster.template.yaml');
const DYNAMIC_CONFIG = join(CONFIG_DIR, 'dynamicconfig.yaml');
/** `--env`: the server reads `<config dir>/<env>.yaml`. */
const CONFIG_ENV = 'cluster';
const DATABASE = 'temporal';
const VISIBILITY_DATABASE = 'temporal_visibility';
const SQL_PLUGIN = 'postgres12';
/** Trust authentication on the throwaway server: any password is accepted; the SQL plugin wants one. */
const DB_PASSWORD = 'unused';
const CLI_TIMEOUT_MS = 20_000;

/** The CLI's names for the SDK's search attribute types (`temporal operator search-attribute create --type`). */
const CLI_ATTRIBUTE_TYPE: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export class TemporalServerMissingError extends Error {
  override readonly name = 'TemporalServerMissingError';
  constructor(readonly path: string) {
    super(
      `Temporal server binaries not found in ${path}; run ./run setup (scripts/build-temporal-server builds them from the Go module proxy) or set HOSTPROV_TEMPORAL_SERVER_DIR`,
    );
  }
}

export class TemporalClusterStartError extends Error {
  override readonly name = 'TemporalClusterStartError';
  constructor(
    message: string,
    readonly logs: string,
  ) {
    super(`${message}\n${logs}`);
  }
}

export interface TemporalClusterOptions {
  /** The database server; it must listen on TCP (`tcpPort`), the Temporal SQL plugin's only way in. */
  postgres: ThrowawayPostgres;
  /** Registered with hostprov's search attributes. @default 'hostprov' */
  namespace?: string;
  /** @default 4 */
  historyShards?: number;
  /** @default 'warn' */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Until the cluster serves the namespace with its search attributes. @default 180000 */
  startTimeoutMs?: number;
  log: Logger;
}

export interface RunningTemporalService {
  readonly service: TemporalService;
  readonly pid: number;
  /** The process's Prometheus endpoint. */
  readonly metricsUrl: string;
  readonly logFile: string;
}

export interface TemporalCluster {
  /** `host:port` of the frontend, for workers and clients. */
  readonly address: string;
  readonly namespace: string;
  readonly services: readonly RunningTemporalService[];
  /** The services whose process no longer runs (empty while the cluster is whole). */
  exitedServices(): TemporalService[];
  /** The last lines of every service's log, for a failure message. */
  logTails(lines?: number): string;
  /** Stops every service's process group (SIGTERM, SIGKILL after 10 s) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

interface OwnerRecord {
  ownerPid: number;
  ownerStart: string;
  processGroups: number[];
}

/** Where the server binaries and schemas live: `HOSTPROV_TEMPORAL_SERVER_DIR`, else what the build script made. */
export function temporalServerDir(): string {
  return process.env.HOSTPROV_TEMPORAL_SERVER_DIR ?? join(PROJECT_ROOT, '.tools', 'temporal-server', `v${TEMPORAL_SERVER_VERSION}`);
}

function serverPaths(dir: string) {
  return {
    server: join(dir, 'temporal-server'),
    sqlTool: join(dir, 'temporal-sql-tool'),
    schemaDir: (database: 'temporal' | 'visibility') => join(dir, 'schema', 'postgresql', 'v12', database, 'versioned'),
  };
}

/** Fills every `${NAME}` of the template; a placeholder left without a value is an error, not an empty string. */
export function renderClusterConfig(template: string, values: Readonly<Record<string, string | number>>): string {
  const missing = new Set<string>();
  const rendered = template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) missing.add(name);
    return String(value ?? '');
  });
  if (missing.size) throw new Error(`cluster config template: no value for ${[...missing].join(', ')}`);
  return rendered;
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

/** A recorded process group that still runs our server for `dir` (pids get reused). */
function ourGroup(pgid: number, dir: string): boolean {
  if (!processGroupMembers(pgid).length) return false;
  try {
    return readFileSync(`/proc/${pgid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

/** Stops and removes clusters left by runs that died without cleaning up; returns how many it reaped. */
export async function reapStaleTemporalClusters(): Promise<number> {
  let reaped = 0;
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    const owner = readOwner(dir);
    if (!owner && Date.now() - statSync(dir).mtimeMs < 3_600_000) continue;
    if (owner && ownerAlive(owner)) continue;
    for (const pgid of owner?.processGroups ?? []) if (ourGroup(pgid, dir)) await stopProcessGroup(pgid, { signal: 'SIGKILL' });
    rmSync(dir, { recursive: true, force: true });
    reaped += 1;
  }
  return reaped;
}

/** Whether a service has written the cluster's metadata row (its first start did). */
async function clusterMetadataWritten(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('select count(*) as n from cluster_metadata_info');
    return Number(rows[0]?.n ?? 0) > 0;
  } finally {
    await client.end();
  }
}

/** The server's numbers for the roles in `cluster_membership.role` (go.temporal.io/server common/persistence ServiceType). */
const MEMBERSHIP_ROLE: Record<number, TemporalService> = { 1: 'frontend', 2: 'history', 3: 'matching', 4: 'worker' };

/** The roles with a membership heartbeat in the last 30 s. */
async function rolesInMembership(url: string): Promise<Set<TemporalService>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ role: number }>(
      "select distinct role from cluster_membership where last_heartbeat > now() at time zone 'utc' - interval '30 seconds'",
    );
    return new Set(rows.map((r) => MEMBERSHIP_ROLE[Number(r.role)]).filter((r): r is TemporalService => r !== undefined));
  } finally {
    await client.end();
  }
}

/** The Temporal CLI against the cluster, with a clean environment (no profile or TEMPORAL_* from the caller). */
function temporalCli(home: string, args: readonly string[]): Promise<RunResult> {
  return run([temporalCliPath(), ...args], {
    allowFailure: true,
    timeoutMs: CLI_TIMEOUT_MS,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
  });
}

/** Creates both databases and sets up and updates both schemas, as the server's documentation does. */
async function setUpSchemas(
  sqlTool: string,
  schemaDir: (db: 'temporal' | 'visibility') => string,
  postgres: ThrowawayPostgres,
  home: string,
): Promise<void> {
  const tcp = postgres.tcp;
  if (!tcp) throw new Error('the Temporal cluster needs PostgreSQL on TCP: start it with tcpPort');
  const connection = ['--plugin', SQL_PLUGIN, '--ep', tcp.host, '-p', String(tcp.port), '-u', 'postgres', '--pw', DB_PASSWORD];
  for (const [database, schema] of [
    [DATABASE, 'temporal'],
    [VISIBILITY_DATABASE, 'visibility'],
  ] as const) {
    for (const command of [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '-d', schemaDir(schema)]]) {
      const argv = [sqlTool, ...connection, '--db', database, ...command];
      const result = await run(argv, {
        allowFailure: true,
        timeoutMs: 120_000,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
      });
      if (result.code !== 0)
        throw new TemporalClusterStartError(
          `temporal-sql-tool ${command.join(' ')} on ${database} failed (exit ${result.code})`,
          `${result.stdout}\n${result.stderr}`,
        );
    }
  }
}

export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const binDir = temporalServerDir();
  const paths = serverPaths(binDir);
  if (!existsSync(paths.server) || !existsSync(paths.sqlTool) || !existsSync(paths.schemaDir('temporal')))
    throw new TemporalServerMissingError(binDir);
  const tcp = options.postgres.tcp;
  if (!tcp) throw new Error('the Temporal cluster needs PostgreSQL on TCP: start it with tcpPort');
  const namespace = options.namespace ?? 'hostprov';
  const log = options.log;
  await reapStaleTemporalClusters();

  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  const ownerStart = processStat(process.pid)?.startTime ?? '';
  const groups: number[] = [];
  const writeOwner = () =>
    writeFileSync(
      join(dir, 'owner.json'),
      JSON.stringify({ ownerPid: process.pid, ownerStart, processGroups: groups } satisfies OwnerRecord),
    );
  writeOwner();
  const services: RunningTemporalService[] = [];
  let stopped: Promise<void> | undefined;

  // Backstop for an exit without stop(): no service outlives us.
  const onExit = () => {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(groups.map((pgid) => stopProcessGroup(pgid, { signal: 'SIGTERM', timeoutMs: 10_000 })));
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
      log.info({ dir }, 'temporal cluster stopped');
    })();
    return stopped;
  };
  const logTails = (lines = 15): string =>
    services
      .map((s) => {
        const text = existsSync(s.logFile) ? readFileSync(s.logFile, 'utf8') : '';
        return `--- ${s.service} (pid ${s.pid}) log tail ---\n${text.split('\n').slice(-lines).join('\n')}`;
      })
      .join('\n');
  const exitedServices = (): TemporalService[] => services.filter((s) => !processStat(s.pid)?.alive).map((s) => s.service);

  try {
    const started = Date.now();
    await setUpSchemas(paths.sqlTool, paths.schemaDir, options.postgres, dir);
    log.info({ ms: Date.now() - started }, 'temporal schemas set up');

    // The server records each service's membership port in a SMALLINT column (`cluster_membership.rpc_port`).
    const [
      frontendGrpc,
      frontendMembership,
      frontendHttp,
      historyGrpc,
      historyMembership,
      matchingGrpc,
      matchingMembership,
      workerGrpc,
      workerMembership,
      ...metrics
    ] = await freePorts(9 + SERVICES.length, { below: 32_768 });
    const template = readFileSync(CONFIG_TEMPLATE, 'utf8');
    const shared = {
      LOG_LEVEL: options.logLevel ?? 'warn',
      HISTORY_SHARDS: options.historyShards ?? 4,
      DATABASE,
      VISIBILITY_DATABASE,
      DB_HOST: tcp.host,
      DB_PORT: tcp.port,
      DB_USER: 'postgres',
      DB_PASSWORD,
      FRONTEND_GRPC_PORT: frontendGrpc!,
      FRONTEND_MEMBERSHIP_PORT: frontendMembership!,
      FRONTEND_HTTP_PORT: frontendHttp!,
      HISTORY_GRPC_PORT: historyGrpc!,
      HISTORY_MEMBERSHIP_PORT: historyMembership!,
      MATCHING_GRPC_PORT: matchingGrpc!,
      MATCHING_MEMBERSHIP_PORT: matchingMembership!,
      WORKER_GRPC_PORT: workerGrpc!,
      WORKER_MEMBERSHIP_PORT: workerMembership!,
      DYNAMIC_CONFIG_FILE: DYNAMIC_CONFIG,
    };
    const spawnService = (i: number, service: TemporalService): void => {
      const metricsPort = metrics[i]!;
      const configDir = join(dir, service);
      mkdirSync(configDir);
      writeFileSync(join(configDir, `${CONFIG_ENV}.yaml`), renderClusterConfig(template, { ...shared, METRICS_PORT: metricsPort }));
      const logFile = join(dir, `${service}.log`);
      const out = openSync(logFile, 'a');
      let pid: number | undefined;
      try {
        // Own process group per service: what we stop, and what a `kill -9` of our own process cannot orphan
        // unnoticed (the owner record lists it for the next start to reap).
        const child = spawn(
          paths.server,
          ['--root', dir, '--config', service, '--env', CONFIG_ENV, '--allow-no-auth', 'start', '--service', service],
          {
            cwd: dir,
            detached: true,
            stdio: ['ignore', out, out],
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
          },
        );
        child.unref();
        pid = child.pid;
      } finally {
        closeSync(out);
      }
      if (pid === undefined) throw new TemporalClusterStartError(`could not spawn ${paths.server}`, '');
      groups.push(pid);
      writeOwner();
      services.push({ service, pid, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, logFile });
    };
    const deadline = Date.now() + (options.startTimeoutMs ?? 180_000);
    /** Repeats `attempt` until it returns a value; fails when a service died or time ran out. */
    const until = async <T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> => {
      let last = '';
      for (;;) {
        const dead = exitedServices();
        if (dead.length) throw new TemporalClusterStartError(`temporal ${dead.join(', ')} exited while ${what}`, logTails(40));
        try {
          const value = await attempt();
          if (value !== undefined) return value;
        } catch (err) {
          last = err instanceof Error ? err.message : String(err);
        }
        if (Date.now() > deadline)
          throw new TemporalClusterStartError(`temporal cluster: timed out ${what}${last ? ` (last: ${last})` : ''}`, logTails(40));
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    // One service first: each initialises the cluster's metadata row on its first start, and four at once
    // race for it (a duplicate key kills the losers). The others follow once the row is there.
    spawnService(0, SERVICES[0]!);
    await until('the first service to initialise the cluster metadata', async () =>
      (await clusterMetadataWritten(options.postgres.tcpUrl(DATABASE))) ? true : undefined,
    );
    for (const [i, service] of SERVICES.entries()) if (i > 0) spawnService(i, service);
    const address = `127.0.0.1:${frontendGrpc}`;
    log.info({ address, services: services.map((s) => `${s.service}:${s.pid}`) }, 'temporal cluster spawned');

    const cli = async (args: readonly string[]): Promise<string> => {
      const result = await temporalCli(dir, [...args, '--address', address]);
      if (result.code !== 0) throw new Error(`temporal ${args.slice(0, 3).join(' ')}: ${result.stderr.trim() || result.stdout.trim()}`);
      return result.stdout;
    };

    // Every role has joined the membership ring (its heartbeat row in PostgreSQL is fresh), and the frontend
    // answers: the frontend alone answering is not a working cluster.
    await until('waiting for all four services to join', async () => {
      const joined = await rolesInMembership(options.postgres.tcpUrl(DATABASE));
      if (!SERVICES.every((s) => joined.has(s))) return undefined;
      await cli(['operator', 'cluster', 'describe', '--output', 'json']);
      return true;
    });
    await until('registering the namespace', async () => {
      const created = await temporalCli(dir, [
        'operator',
        'namespace',
        'create',
        '--namespace',
        namespace,
        '--retention',
        '24h',
        '--address',
        address,
      ]);
      if (created.code !== 0 && !/already (exists|registered)/i.test(created.stderr)) throw new Error(created.stderr.trim());
      return (await cli(['operator', 'namespace', 'describe', '--namespace', namespace])) ? true : undefined;
    });
    const names = SEARCH_ATTRIBUTE_KEYS.map((k) => k.name);
    await until('registering the search attributes', async () => {
      const listed = JSON.parse(await cli(['operator', 'search-attribute', 'list', '--namespace', namespace, '--output', 'json'])) as {
        customAttributes?: Record<string, unknown>;
      };
      const missing = SEARCH_ATTRIBUTE_KEYS.filter((k) => !(k.name in (listed.customAttributes ?? {})));
      if (!missing.length) return true;
      for (const type of new Set(missing.map((k) => k.type))) {
        const named = missing.filter((k) => k.type === type).flatMap((k) => ['--name', k.name]);
        await cli(['operator', 'search-attribute', 'create', '--namespace', namespace, ...named, '--type', CLI_ATTRIBUTE_TYPE[type]]);
      }
      return undefined;
    });
    log.info({ address, namespace, searchAttributes: names, ms: Date.now() - started }, 'temporal cluster ready');
    return { address, namespace, services, exitedServices, logTails, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
