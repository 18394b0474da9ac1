/**
 * `hostprov agent`: the VDSM-compatible host agent. Runs on (or, in tests, inside the namespace of) the host
 * it configures. Mutual TLS by default; `--insecure` is for local development and says so loudly.
 */
// First: zod reads `jitless` when a schema is made, and the imports below make the agent's schemas.
import '../../agent/zod-jitless';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { startAgent } from '../../agent/agent-service';
import { MetricsListen } from '../../lib/metrics/listen';
import { PausePoint, TEST_CRASH_ENV, TEST_PAUSE_ENV } from '../../agent/network/test-pause';
import { getLogger } from '../../lib/logger';
import { VDSM_PORT } from '../../model/vdsm/port';
import { DEFAULT_TRANSPORT_LIMITS, TransportLimitFields } from '../../vdsm/limits';
import { UsageError } from '../usage-error';
import { ConfigNumber, ConfigString, withConfigFile } from '../config-file';
import { parseFlags } from '../flags';
import { waitForStopSignal } from '../signals';

/** More than two gained nothing on two cores (docs/performance.md#applying-independent-stacks-at-once). */
const APPLY_PROCESSES_MAX = 4;

const AgentFlags = z
  .object({
    listen: z.string(),
    stateDir: z.string().min(1),
    runtimeDir: z.string().min(1),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    tlsCa: z.string().optional(),
    insecure: z.boolean().default(false),
    fenceAgentDir: z.string().optional(),
    vdsmCompat: z.boolean().default(false),
    maxConnections: limitFlag('maxConnections'),
    maxRequestsInFlight: limitFlag('maxRequestsInFlight'),
    maxBatchSize: limitFlag('maxBatchSize'),
    maxFrameBytes: limitFlag('maxFrameBytes'),
    maxOutgoingBytes: limitFlag('maxOutgoingBytes'),
    metricsListen: MetricsListen.optional(),
    applyProcesses: z.coerce.number().int().min(1).max(APPLY_PROCESSES_MAX).optional(),
    config: z.string().optional(),
  })
  .strict();

/** A transport limit flag: a decimal number in the limit's legal range, or absent for the default. */
function limitFlag(name: keyof typeof TransportLimitFields.shape) {
  return z.coerce.number().pipe(TransportLimitFields.shape[name]).optional();
}

/** Test-only (agent/network/test-pause.ts): where a kill-point test wants the agent to stop. */
const TestPauseAt = z.enum(PausePoint).optional();

/** `ADDR:PORT`, `[v6]:PORT` or `:PORT` (all addresses). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port < 0 || port > 65_535) throw new UsageError(`--listen ${value}: expected ADDR:PORT, [IPv6]:PORT or :PORT`);
  return { host: m[1] ?? (m[2] || '::'), port };
}

/** What `--config FILE` may set (cli/config-file.ts): every flag but --insecure, which only a flag can ask for. */
export const AgentConfigFile = z
  .object({
    listen: ConfigString,
    stateDir: ConfigString,
    runtimeDir: ConfigString,
    tlsCert: ConfigString,
    tlsKey: ConfigString,
    tlsCa: ConfigString,
    fenceAgentDir: ConfigString,
    metricsListen: ConfigString,
    maxConnections: ConfigNumber,
    maxRequestsInFlight: ConfigNumber,
    maxBatchSize: ConfigNumber,
    maxFrameBytes: ConfigNumber,
    maxOutgoingBytes: ConfigNumber,
    applyProcesses: ConfigNumber,
  })
  .partial();

export function register(program: Command): void {
  const command = program
    .command('agent')
    .description('Run the VDSM-compatible host agent (JSON-RPC over STOMP over TLS)')
    .option('--listen <addr:port>', 'address to listen on', `[::]:${VDSM_PORT}`)
    .option('--state-dir <dir>', 'persistent state: safe config, running config, journal', '/var/lib/hostprov-agent')
    .option('--runtime-dir <dir>', 'volatile state, wiped at boot (a fresh one means "this is a new boot")', '/run/hostprov-agent')
    .option('--tls-cert <file>', 'agent certificate (PEM)')
    .option('--tls-key <file>', 'agent private key (PEM)')
    .option('--tls-ca <file>', 'CA that signs client certificates (PEM)')
    .option('--insecure', 'plain TCP without client authentication (local development only)')
    .option('--fence-agent-dir <dir>', 'where fence_* agents live', '/usr/sbin')
    .option('--vdsm-compat', 'behave like stock VDSM: only its verbs (hides Host.getRoute), no joining of repeated request ids')
    .option(
      '--max-connections <n>',
      `open STOMP connections; one more gets ERROR "Too many connections" (default ${DEFAULT_TRANSPORT_LIMITS.maxConnections})`,
    )
    .option(
      '--max-requests-in-flight <n>',
      `JSON-RPC requests running per connection; more get -32000 (default ${DEFAULT_TRANSPORT_LIMITS.maxRequestsInFlight})`,
    )
    .option(
      '--max-batch-size <n>',
      `requests in one JSON-RPC batch; a larger batch gets -32001 (default ${DEFAULT_TRANSPORT_LIMITS.maxBatchSize})`,
    )
    .option('--max-frame-bytes <bytes>', `largest STOMP frame accepted (default ${DEFAULT_TRANSPORT_LIMITS.maxFrameBytes})`)
    .option(
      '--max-outgoing-bytes <bytes>',
      `unread output per connection before the peer is dropped (default ${DEFAULT_TRANSPORT_LIMITS.maxOutgoingBytes})`,
    )
    .option('--metrics-listen <[host:]port>', 'serve Prometheus /metrics and /healthz here (host defaults to 127.0.0.1); off unless given')
    .option(
      '--apply-processes <n>',
      `ip -batch processes a network change may run at once on device stacks that share nothing, 1 to ${APPLY_PROCESSES_MAX} (default 2, or 1 on a host with one CPU)`,
    )
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(AgentFlags, raw);
      const tlsGiven = [flags.tlsCert, flags.tlsKey, flags.tlsCa].filter(Boolean).length;
      if (flags.insecure && tlsGiven) throw new UsageError('give either --insecure or --tls-cert/--tls-key/--tls-ca, not both');
      if (!flags.insecure && tlsGiven !== 3)
        throw new UsageError('TLS needs all of --tls-cert, --tls-key and --tls-ca (or --insecure for local development)');
      const [pause, crash] = [TEST_PAUSE_ENV, TEST_CRASH_ENV].map((name) => {
        const point = TestPauseAt.safeParse(process.env[name] || undefined);
        if (!point.success) throw new UsageError(`${name}: expected one of ${Object.values(PausePoint).join(', ')} (a test-only setting)`);
        return point.data;
      });
      if (pause && crash) throw new UsageError(`give ${TEST_PAUSE_ENV} or ${TEST_CRASH_ENV}, not both (test-only settings)`);
      const log = getLogger('agent');
      const agent = await startAgent({
        listen: parseListen(flags.listen),
        stateDir: resolve(flags.stateDir),
        runtimeDir: resolve(flags.runtimeDir),
        tls: flags.insecure
          ? 'insecure'
          : { certFile: resolve(flags.tlsCert ?? ''), keyFile: resolve(flags.tlsKey ?? ''), caFile: resolve(flags.tlsCa ?? '') },
        ...(flags.fenceAgentDir ? { fenceAgentDir: flags.fenceAgentDir } : {}),
        compatibility: flags.vdsmCompat ? 'vdsm' : 'hostprov',
        transportLimits: {
          maxConnections: flags.maxConnections,
          maxRequestsInFlight: flags.maxRequestsInFlight,
          maxBatchSize: flags.maxBatchSize,
          maxFrameBytes: flags.maxFrameBytes,
          maxOutgoingBytes: flags.maxOutgoingBytes,
        },
        ...(pause ? { testPauseAt: pause } : {}),
        ...(crash ? { testCrashAt: crash } : {}),
        ...(flags.metricsListen ? { metricsListen: flags.metricsListen } : {}),
        ...(flags.applyProcesses !== undefined ? { applyProcesses: flags.applyProcesses } : {}),
        log,
      });
      process.stdout.write(`hostprov agent listening on ${agent.address.host}:${agent.address.port}\n`);
      if (agent.metricsUrl) process.stdout.write(`hostprov agent metrics on ${agent.metricsUrl}/metrics\n`);
      await waitForStopSignal();
      await agent.close();
    });
  withConfigFile(command, AgentConfigFile);
}
