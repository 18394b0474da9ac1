/**
 * The host agent, assembled: Linux backend, running/safe config, connectivity check, network service,
 * verbs, and the VDSM-compatible transport. On the first start of a boot (no marker in the runtime dir,
 * which lives on tmpfs in production) it restores the safe configuration before serving network changes;
 * meanwhile every verb answers VDSM's 99 "recovering". A network change the previous boot left pending is
 * then void and dropped. On a later start in the same boot, a change the previous agent process left pending
 * is finished or undone (NetworkService.recoverPendingTransaction) while the agent serves.
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../lib/logger';
import { ensurePrivateRootSync } from '../lib/private-dir';
import { VdsmCode, VdsmError } from '../model/vdsm/error-codes';
import { ARP_FLUX_REMEDY, arpFluxExposure } from './backend/arp-flux';
import { createLinuxBackend } from './backend/linux-backend';
import { ConnectivityCheck } from './network/connectivity';
import { DhcpRegistry } from './network/dhcp-registry';
import { Journal } from './network/journal';
import { NetworkService } from './network/network-service';
import { createCrashHook, createPauseHook, type PausePoint } from './network/test-pause';
import { ConfigStore } from './persistence/config-store';
import { moveLegacyTransaction, PendingTransactionStore } from './persistence/pending-transaction';
import { startVdsmServer } from '../vdsm/server';
import { watchEventLoopStalls } from '../lib/event-loop-stalls';
import { HOSTPROV_AGENT_SERVER, awaitingConfirmationEvent } from '../vdsm/confirmation-signal';
import type { TlsFiles } from '../vdsm/tls';
import type { TransportLimitsInput } from '../vdsm/limits';
import type { VerbDefinition } from '../vdsm/verbs';
import type { Health, MetricsEndpoint, MetricsListen } from '../lib/metrics/endpoint';
import { LeaseWatchMode } from './backend/dhcp/manager';
import { IPMITOOL_HOME_SUBDIR } from './fencing/ipmitool-home';
import { FENCE_RUNS_SUBDIR } from './fencing/fence-run';
import { FENCE_REPEATS_FILE } from './fencing/repeated-fences';
import { createFenceNodeVerb } from './verbs/fence-node';
import { createHostVerbs } from './verbs/host-verbs';

export interface AgentOptions {
  listen: { host: string; port: number };
  /** Persistent: safe config, running config, journal. @default /var/lib/hostprov-agent */
  stateDir: string;
  /** Volatile (wiped at boot): restore marker, client.log, DHCP client state. @default /run/hostprov-agent */
  runtimeDir: string;
  tls: TlsFiles | 'insecure';
  /** Bounds on connections, requests in flight, batch size, frame size and unread output (docs/vdsm-wire-protocol.md#limits). @default DEFAULT_TRANSPORT_LIMITS */
  transportLimits?: TransportLimitsInput;
  /** Act on this namespace from outside (tests, benchmarks); unset when the agent runs inside the host. */
  netns?: string;
  /** @default '/usr/sbin' */
  fenceAgentDir?: string;
  /** `ip -batch` processes an apply may run at once on independent stacks. @default 2, or 1 on one CPU */
  applyProcesses?: number;
  /** How long a `blockingdhcp` setupNetworks waits for its leases. @default 60000 */
  blockingDhcpTimeoutMs?: number;
  /**
   * `vdsm`: behave like stock VDSM, to see how callers treat a real oVirt host: only the verbs VDSM has (no
   * `Host.getRoute`), and no joining of repeated request ids (40 while busy). @default 'hostprov'
   */
  compatibility?: 'hostprov' | 'vdsm';
  /** Test-only: stop at this point of a setupNetworks until killed (agent/network/test-pause.ts). */
  testPauseAt?: PausePoint;
  /** Test-only: kill itself at this point of a setupNetworks, once per boot (agent/network/test-pause.ts). */
  testCrashAt?: PausePoint;
  /** Serve `/metrics` and `/healthz` here (lib/metrics/endpoint.ts). @default no metrics endpoint */
  metricsListen?: MetricsListen;
  log: Logger;
}

/** Our extensions to VDSM's API, hidden in `vdsm` compatibility mode. */
export const HOSTPROV_ONLY_VERBS = ['Host.getRoute'];

export interface RunningAgent {
  readonly address: { host: string; port: number };
  readonly network: NetworkService;
  readonly journalFile: string;
  /** `http://host:port` of the metrics endpoint, when one was asked for. */
  readonly metricsUrl: string | null;
  close(): Promise<void>;
}

export const BOOT_MARKER = 'nets_restored';

/** While restoring at boot, every verb answers 99 like VDSM ("Recovering from crash or Initializing"). */
function gated(verbs: VerbDefinition[], recovering: () => boolean): VerbDefinition[] {
  return verbs.map((verb) => ({
    ...verb,
    handler: async (params, ctx) => {
      if (recovering()) throw new VdsmError(VdsmCode.RECOVERING, 'Recovering from crash or Initializing');
      return verb.handler(params, ctx);
    },
  }));
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const log = options.log;
  // Safe config, running config and journal describe the host's networks: root's business only.
  ensurePrivateRootSync(options.stateDir);
  mkdirSync(options.runtimeDir, { recursive: true, mode: 0o700 });
  const backend = createLinuxBackend({
    runtimeDir: options.runtimeDir,
    stateDir: options.stateDir,
    log,
    ...(options.netns ? { netns: options.netns } : {}),
    ...(options.applyProcesses !== undefined ? { applyProcesses: options.applyProcesses } : {}),
  });
  // /proc/sys shows the reader's namespace, so an agent acting on another one cannot check it.
  const arpFlux = options.netns ? (): string[] => [] : () => arpFluxExposure();
  const exposure = arpFlux();
  if (exposure.length)
    log.warn(
      { exposure, remedy: ARP_FLUX_REMEDY },
      "ARP flux: this host answers ARP for its addresses on interfaces that do not hold them, so the manager may learn a NIC's MAC that a change then takes away, and lose the host",
    );
  const config = new ConfigStore(options.stateDir);
  if (moveLegacyTransaction(options.stateDir, options.runtimeDir))
    log.warn('moved a network transaction record from the state directory to the runtime directory (an upgrade during a change)');
  const connectivity = new ConnectivityCheck(options.runtimeDir);
  const journal = new Journal(options.stateDir);
  // The server that publishes it starts below, with the verbs that need `network`; nothing is applied before.
  let announceAwaitingConfirmation = (_requestId: string | number): void => undefined;
  const network = new NetworkService({
    backend,
    config,
    transactions: new PendingTransactionStore(options.runtimeDir),
    connectivity,
    journal,
    dhcp: new DhcpRegistry(options.runtimeDir, backend),
    log: log.child({ component: 'network' }),
    ...(options.blockingDhcpTimeoutMs !== undefined ? { blockingDhcpTimeoutMs: options.blockingDhcpTimeoutMs } : {}),
    joinRepeatedIds: options.compatibility !== 'vdsm',
    lostConfirmationHint: () => {
      const flux = arpFlux();
      return flux.length
        ? `this host answers ARP on interfaces that do not hold the address (${flux.join('; ')}), so the manager may have been lost to a NIC the change took: ${ARP_FLUX_REMEDY}`
        : null;
    },
    ...(options.testPauseAt ? { pause: createPauseHook(options.testPauseAt, options.runtimeDir, log) } : {}),
    ...(options.testCrashAt ? { pause: createCrashHook(options.testCrashAt, options.runtimeDir, log) } : {}),
    ...(options.compatibility !== 'vdsm'
      ? { onAwaitingConfirmation: (requestId: string | number) => announceAwaitingConfirmation(requestId) }
      : {}),
  });

  let recovering = true;
  // prom-client and node:http load only for an agent that serves metrics: their modules' top-level code
  // is some milliseconds of every start, and a rebooted host starts its agent (docs/performance.md#starting-the-agent).
  const metrics = options.metricsListen ? new (await import('./metrics')).AgentMetrics() : null;
  metrics?.observeLeaseWatch(() => backend.dhcpLeaseWatch());
  const verbs = [
    ...createHostVerbs({ backend, network, connectivity, running: () => config.loadRunning() }),
    createFenceNodeVerb({
      ...(options.fenceAgentDir ? { fenceAgentDir: options.fenceAgentDir } : {}),
      // In the runtime directory: made again after a reboot, kept over a restart (fencing/ipmitool-home.ts).
      ipmitoolHome: join(options.runtimeDir, IPMITOOL_HOME_SUBDIR),
      log: log.child({ component: 'fence' }),
      joinRepeatedIds: options.compatibility !== 'vdsm',
      // Kept over a restart, not a reboot: a repeat of a fence the previous process made is still answered.
      repeatsFile: join(options.runtimeDir, FENCE_REPEATS_FILE),
      // So is the fence agent's run: a restarted agent answers a repeat of it with its outcome (fencing/fence-run.ts).
      runsDir: join(options.runtimeDir, FENCE_RUNS_SUBDIR),
    }),
  ].filter((verb) => options.compatibility !== 'vdsm' || !HOSTPROV_ONLY_VERBS.includes(verb.method));
  const server = await startVdsmServer({
    listen: options.listen,
    tls: options.tls,
    verbs: metrics ? metrics.measured(gated(verbs, () => recovering)) : gated(verbs, () => recovering),
    ...options.transportLimits,
    ...(options.compatibility !== 'vdsm' ? { serverHeader: HOSTPROV_AGENT_SERVER } : {}),
    logger: log.child({ component: 'transport' }),
    // Only while someone is connected: an idle agent's timer would wake it twice a second (agent-idle.test.ts),
    // and a stall nobody waited on needs no line. A caller that heard nothing for a while finds here whether
    // this process went quiet or the path to it did.
    whileConnected: () => watchEventLoopStalls(log),
  });
  announceAwaitingConfirmation = (requestId) => {
    server.publishEvent({ method: awaitingConfirmationEvent(requestId), params: { requestId } });
  };

  // Healthy without the lease watch or the ARP settings: every verb is served, and a restart (what an
  // unhealthy answer invites) would give the kernel neither more inotify instances nor the settings.
  const servingHealth = (): Health => {
    const details = [`serving on ${server.address.host}:${server.address.port}`];
    const watch = backend.dhcpLeaseWatch();
    if (watch.mode === LeaseWatchMode.POLLING) details.push(`no DHCP lease directory watch (${watch.reason}): polling for lease changes`);
    const flux = arpFlux();
    if (flux.length) details.push(`ARP flux: ${flux.join('; ')} (${ARP_FLUX_REMEDY})`);
    return { healthy: true, detail: details.join('; ') };
  };
  let endpoint: MetricsEndpoint | undefined;
  if (options.metricsListen && metrics) {
    try {
      const { startMetricsEndpoint } = await import('../lib/metrics/endpoint');
      endpoint = await startMetricsEndpoint({
        listen: options.metricsListen,
        registry: metrics.registry,
        health: () => (recovering ? { healthy: false, detail: 'restoring the safe network configuration' } : servingHealth()),
      });
    } catch (err) {
      await server.close();
      backend.close();
      throw err;
    }
  }

  const marker = join(options.runtimeDir, BOOT_MARKER);
  if (!existsSync(marker)) {
    log.info('first start of this boot: restoring the safe network configuration');
    try {
      await network.restoreSafeConfig();
    } catch (err) {
      // Serve anyway: an agent that cannot be reached cannot be asked to repair the host either.
      journal.write({ kind: 'restore', outcome: 'failed', detail: err instanceof Error ? err.message : String(err) });
      log.error({ err }, 'restoring the safe network configuration failed; serving so the manager can repair the host');
    }
    network.discardTransactionOfPreviousBoot();
    closeSync(openSync(marker, 'w'));
  }
  // Claims the network verbs before they are served; confirmations and reads are served meanwhile.
  void network.recoverPendingTransaction();
  recovering = false;
  // VDSM's DHCP monitor announces a new lease; we announce every change of a lease (a renewal that moved
  // the subnet or offers other routers or DNS servers, and its loss too), because each one changes what the
  // host reports: addresses, routes, source rules, nameservers.
  const unsubscribe = backend.onDhcpLeaseChange((change) => {
    const detail =
      change.kind === 'bound'
        ? { dev: change.lease.dev, family: change.lease.family, address: `${change.lease.address}/${change.lease.prefixLen}` }
        : { dev: change.dev, family: change.family };
    log.info({ change: change.kind, ...detail }, 'DHCP lease changed: telling subscribers to refresh capabilities');
    server.publishEvent({ method: '|net|host_conn|no_id', params: { notify_time: Math.round(performance.now()) } });
    void network.followLeaseDns();
  });
  // Leases bound before the subscription are not announced; their nameservers count all the same.
  void network.followLeaseDns();
  log.info(
    { address: server.address, metrics: endpoint?.url ?? 'off', stateDir: options.stateDir, runtimeDir: options.runtimeDir },
    'agent serving',
  );
  return {
    address: server.address,
    network,
    journalFile: journal.file,
    metricsUrl: endpoint?.url ?? null,
    async close() {
      unsubscribe();
      await endpoint?.close();
      await server.close();
      backend.close();
    },
  };
}
