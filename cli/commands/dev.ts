/**
 * `hostprov dev`: the embedded stack — Temporal dev server (SQLite file, WAL, Web UI, search attributes), the
 * codec server the Web UI decodes payloads with, and a worker on `host-provisioning`. Ctrl-C or SIGTERM, at
 * any moment of the start or later, stops what was started: the worker, the server, the codec server (see
 * cli/signals.ts). The worker accepts agents without TLS (a dev stack talks to labs) and reads secret files
 * and payload keys from `<data-dir>/secrets` by default; a payload key is made there if there is none.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { getLogger } from '../../lib/logger';
import { DEFAULT_SECRET_ENV_PREFIX } from '../../activities/secrets';
import { DEFAULT_DATA_DIR } from '../../lib/paths';
import { PortInUseError } from '../../lib/ports';
import { startCodecServer, type RunningCodecServer } from '../../lib/temporal/codec-server';
import { plainConnection } from '../../lib/temporal/connection';
import { hostPort, startDevServer } from '../../lib/temporal/dev-server';
import { createPayloadKey, loadPayloadKeys, payloadKeysDir, type PayloadKeyRing } from '../../lib/temporal/payload-keys';
import type { Logger } from '../../lib/logger';
import type { ResourceStack } from '../../lib/resource-stack';
import { startWorker } from '../../worker/main';
import { portOption, secretEnvPrefixOption } from '../flags';
import { installStopHandling } from '../signals';

/** After Ctrl-C, how long in-flight activities may finish before they are cancelled (and retried later). */
const WORKER_SHUTDOWN_GRACE_MS = 2_000;

const DevFlags = z.object({
  dataDir: z.string().min(1),
  ip: z.string().min(1),
  temporalPort: portOption,
  uiPort: portOption,
  httpPort: portOption.optional(),
  metricsPort: portOption.optional(),
  codecPort: portOption.optional(),
  worker: z.boolean(),
  secretsDir: z.string().min(1).optional(),
  secretEnvPrefix: secretEnvPrefixOption,
});

export function register(program: Command): void {
  program
    .command('dev')
    .description('Run the embedded stack: Temporal dev server (persistent SQLite, Web UI) plus a worker; Ctrl-C stops both')
    .option('--data-dir <dir>', 'where the Temporal database and the attachment store live', DEFAULT_DATA_DIR)
    .option('--ip <address>', 'address the server and Web UI listen on', '127.0.0.1')
    .option('--temporal-port <port>', 'Temporal frontend gRPC port (HTTP API +10, metrics +20)', '7233')
    .option('--ui-port <port>', 'Web UI port', '8233')
    .option('--http-port <port>', 'Temporal HTTP API port (default: --temporal-port + 10)')
    .option('--metrics-port <port>', 'Temporal metrics port (default: --temporal-port + 20)')
    .option('--codec-port <port>', 'codec server the Web UI decodes payloads with (default: --ui-port + 1)')
    .option('--no-worker', 'start only the server')
    .option(
      '--secrets-dir <dir>',
      'file: secret references must point inside this directory, payload keys in its payload-keys/ (default: <data-dir>/secrets)',
    )
    .option('--secret-env-prefix <prefix>', 'env: secret references must name a variable with this prefix', DEFAULT_SECRET_ENV_PREFIX)
    .action(async (raw: Record<string, unknown>) => {
      const { resources, requested } = installStopHandling('dev');
      const flags = DevFlags.parse(raw);
      const log = getLogger('dev');
      const dataDir = resolve(flags.dataDir);
      const secretsDir = resolve(flags.secretsDir ?? join(dataDir, 'secrets'));
      try {
        if (!flags.secretsDir) mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
        const payloadKeys = devPayloadKeys(secretsDir, log);
        const codec = await startDevCodecServer(payloadKeys, flags.ip, flags.codecPort ?? flags.uiPort + 1, flags.uiPort, resources, log);
        const server = await startDevServer(
          {
            dataDir,
            ip: flags.ip,
            port: flags.temporalPort,
            uiPort: flags.uiPort,
            uiCodecEndpoint: codec.url,
            ...(flags.httpPort ? { httpPort: flags.httpPort } : {}),
            ...(flags.metricsPort ? { metricsPort: flags.metricsPort } : {}),
            resources,
          },
          log,
        );
        const worker = flags.worker
          ? await startWorker({
              temporal: plainConnection(server.address, server.namespace),
              dataDir: join(dataDir, 'worker'),
              secrets: { secretsDir, envPrefix: flags.secretEnvPrefix },
              allowInsecureAgents: true,
              shutdownGraceMs: WORKER_SHUTDOWN_GRACE_MS,
              resources,
              log: getLogger('worker'),
            })
          : undefined;
        process.stdout.write(
          `hostprov dev stack is up\n  Temporal: ${server.address} (namespace ${server.namespace})\n  Web UI:   ${server.uiUrl}\n  Data:     ${dataDir}\n` +
            `  Codec:    ${codec.url} (payloads encrypted with key ${payloadKeys.primaryId} of ${payloadKeysDir(secretsDir)})\n` +
            (flags.worker
              ? `  Secrets:  file: references under ${secretsDir}, env: references ${flags.secretEnvPrefix}*; agents without TLS allowed\n`
              : '') +
            'Press Ctrl-C to stop.\n',
        );
        const serverExited = new Promise<string>((r) =>
          server.process.once('exit', (code, signal) => r(`temporal server exited (${code ?? signal})`)),
        );
        const workerStopped = worker ? worker.done.then(() => 'worker stopped') : new Promise<string>(() => undefined);
        const reason = await Promise.race([requested, serverExited, workerStopped]);
        log.info({ reason }, 'stopping');
        // The server or the worker ended by itself: that is a failure, not a stop.
        if (reason !== 'SIGINT' && reason !== 'SIGTERM') process.exitCode = 1;
      } finally {
        await resources.unwind();
      }
    });
}

/** The payload keys of the dev stack, made on first use (the stack's own secrets directory). */
function devPayloadKeys(secretsDir: string, log: Logger): PayloadKeyRing {
  if (!existsSync(payloadKeysDir(secretsDir))) {
    const { id, path } = createPayloadKey(secretsDir);
    log.info({ keyId: id, path }, 'made a payload encryption key for the dev stack');
  }
  return loadPayloadKeys(secretsDir);
}

/** The codec server for the stack's Web UI, which the browser calls from the UI's origin. */
async function startDevCodecServer(
  keys: PayloadKeyRing,
  ip: string,
  port: number,
  uiPort: number,
  resources: ResourceStack,
  log: Logger,
): Promise<RunningCodecServer> {
  const origins = new Set([`http://${hostPort(ip, uiPort)}`]);
  // A UI on loopback is as often opened as localhost.
  if (ip === '127.0.0.1' || ip === '::1' || ip === 'localhost') origins.add(`http://localhost:${uiPort}`);
  let codec: RunningCodecServer;
  try {
    codec = await startCodecServer({ keys, host: ip, port, allowedOrigins: [...origins], log: getLogger('codec-server') });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(ip, port, 'codec server (--codec-port)');
    throw err;
  }
  resources.push('codec server', () => codec.close());
  log.debug({ url: codec.url }, 'codec server for the Web UI');
  return codec;
}
