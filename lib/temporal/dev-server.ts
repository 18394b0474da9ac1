/**
 * The real Temporal dev server (`temporal server start-dev`, built into `.tools/`), started and stopped by us.
 * Used by `hostprov dev`, the demo and the test harness alike, so all three run the same server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_KEYS } from '../../model/search-attributes';
import type { Logger } from '../logger';
import { temporalCliPath } from '../paths';
import { assertPortsFree } from '../ports';
import { stopProcessGroup } from '../process';
import type { ResourceStack } from '../resource-stack';
import { DEFAULT_NAMESPACE } from './constants';

export interface DevServerOptions {
  /** @default the binary from `temporalCliPath()` */
  binary?: string;
  /** Directory for the SQLite file (`temporal.sqlite`, WAL). `null` keeps everything in memory. */
  dataDir: string | null;
  /** @default '127.0.0.1' */
  ip?: string;
  /** Frontend gRPC port. @default 7233 */
  port?: number;
  /** Web UI port; `null` runs headless. @default 8233 */
  uiPort?: number | null;
  /** @default port + 10 */
  httpPort?: number;
  /** @default port + 20 */
  metricsPort?: number;
  /** @default 'default' */
  namespace?: string;
  /** The Web UI decodes payloads through this remote codec endpoint (lib/temporal/codec-server.ts). */
  uiCodecEndpoint?: string;
  /** Server log level. @default 'warn' */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for the frontend to answer. @default 30000 */
  startTimeoutMs?: number;
  /**
   * Where the server is registered the moment it is spawned, so a stop during the start stops it too; the
   * start gives up as soon as the stack unwinds.
   */
  resources?: ResourceStack;
}

export interface RunningDevServer {
  /** `host:port` (`[ipv6]:port`) of the frontend, for clients and workers. */
  readonly address: string;
  readonly namespace: string;
  /** Web UI base URL, or `undefined` when headless. */
  readonly uiUrl: string | undefined;
  readonly pid: number;
  readonly process: ChildProcess;
  /**
   * SIGINT to the server's process group, then SIGKILL after 10 s (at once when the resource stack
   * hurries). Safe to call twice.
   */
  stop(): Promise<void>;
}

export class DevServerStartError extends Error {
  override readonly name = 'DevServerStartError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`${message}\n--- temporal server output ---\n${output.slice(-4000)}`);
  }
}

export function devServerArgs(options: DevServerOptions): string[] {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--http-port',
    String(options.httpPort ?? port + 10),
    '--metrics-port',
    String(options.metricsPort ?? port + 20),
    '--namespace',
    options.namespace ?? DEFAULT_NAMESPACE,
    '--log-level',
    options.logLevel ?? 'warn',
    '--log-format',
    'json',
  ];
  if (options.dataDir !== null) {
    args.push('--db-filename', join(options.dataDir, 'temporal.sqlite'), '--sqlite-pragma', 'journal_mode=WAL');
  }
  if (options.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort ?? 8233), '--ui-ip', ip);
  if (options.uiPort !== null && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  for (const key of SEARCH_ATTRIBUTE_KEYS) args.push('--search-attribute', `${key.name}=Keyword`);
  // A workflow task that schedules an activity gets the activity back in its completion's reply when the
  // same worker has a free slot, instead of through matching and a poll (docs/performance.md#eager-activities).
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  return args;
}

/** Starts the dev server and resolves once its frontend serves the namespace. */
export async function startDevServer(options: DevServerOptions, log: Logger): Promise<RunningDevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const uiPort = options.uiPort === undefined ? 8233 : options.uiPort;
  await assertPortsFree(ip, [
    { port, role: 'Temporal frontend (--temporal-port)' },
    { port: options.httpPort ?? port + 10, role: 'Temporal HTTP API' },
    { port: options.metricsPort ?? port + 20, role: 'Temporal metrics' },
    ...(uiPort === null ? [] : [{ port: uiPort, role: 'Temporal Web UI (--ui-port)' }]),
  ]);
  if (options.dataDir !== null) mkdirSync(options.dataDir, { recursive: true });

  const binary = options.binary ?? temporalCliPath();
  const args = devServerArgs({ ...options, uiPort });
  log.debug({ binary, args }, 'starting temporal dev server');
  options.resources?.stopping.throwIfAborted();
  // Own process group, so a Ctrl-C in the terminal reaches us first and we stop the server in order; the
  // group is also what we stop, so nothing the server might start survives it.
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.pid === undefined) return;
      await stopProcessGroup(child.pid, {
        signal: 'SIGINT',
        timeoutMs: 10_000,
        ...(options.resources ? { hurry: options.resources.hurried } : {}),
      });
      log.info({ serverPid: child.pid }, 'temporal dev server stopped');
    })();
    return stopping;
  };
  options.resources?.push('temporal dev server', stop);
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.length > 64_000) output = output.slice(-32_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const pid = child.pid;
  if (pid === undefined) throw new DevServerStartError(`could not spawn ${binary}`, output);
  log.info({ serverPid: pid, ports: devServerPorts({ ...options, uiPort }) }, 'temporal dev server spawned');

  const address = hostPort(ip, port);
  try {
    await waitUntilServing(child, address, namespace, options, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  const uiUrl = uiPort === null ? undefined : `http://${hostPort(ip, uiPort)}`;
  log.info({ address, namespace, uiUrl, serverPid: pid, dataDir: options.dataDir }, 'temporal dev server ready');

  return { address, namespace, uiUrl, pid, process: child, stop };
}

/** `host:port`, with an IPv6 literal in brackets (`[::1]:7233`), as gRPC and URLs want it. */
export function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** Every port the server binds, by role (for messages and for checking they are free again). */
export function devServerPorts(options: DevServerOptions): Record<string, number> {
  const port = options.port ?? 7233;
  const uiPort = options.uiPort === undefined ? 8233 : options.uiPort;
  return {
    frontend: port,
    http: options.httpPort ?? port + 10,
    metrics: options.metricsPort ?? port + 20,
    ...(uiPort === null ? {} : { ui: uiPort }),
  };
}

async function waitUntilServing(
  child: ChildProcess,
  address: string,
  namespace: string,
  options: DevServerOptions,
  output: () => string,
): Promise<void> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    options.resources?.stopping.throwIfAborted();
    // Killed by a signal, a child has signalCode set and exitCode null.
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new DevServerStartError(`temporal dev server exited with ${child.exitCode ?? child.signalCode} while starting`, output());
    }
    if (Date.now() > deadline)
      throw new DevServerStartError(`temporal dev server did not answer on ${address} within ${timeoutMs} ms`, output());
    if (await answers(address, namespace)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function answers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
