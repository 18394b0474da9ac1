/**
 * Activities that talk to a host agent (ours or a real VDSM): wait for it, probe it, find its route to the
 * manager, commit its config, fence through it. Thin adapters: the decisions live in model/ and workflows/.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { AgentRpcError, isMethodNotFound } from '../vdsm/client/errors';
import { FailureType, fenceFailureType } from '../model/failures';
import type { RouteAnswer } from '../model/install-host/choose-device';
import { connectVdsmAgent, withFreshAgentConnection, type AgentConnection, type ConnectAgent } from './agent-connection';
import { KeptAgentConnections } from './kept-connections';
import { clientEndpoint, type AgentAccess } from './agent-endpoint';
import { activityFailure, isRetryableAgentError, toActivityFailure } from './failure-mapping';
import { HEARTBEAT_INTERVAL_MS, heartbeatOf } from './heartbeat';
import { hostProbeOf } from './host-probe';
import { requestKeyOfCurrentActivity } from './request-key';
import type { AgentEndpointRef, FenceInput, FenceResult, HostProbe, RouteProbe, RouteProbeInput, WaitForAgentInput } from './types';

export interface HostAgentDeps {
  /** Pause between polls of an agent that does not answer yet, after the first {@link FAST_POLL_WINDOW_MS}. @default {@link DEFAULT_AGENT_POLL_INTERVAL_MS} */
  pollIntervalMs?: number;
  /** How long a connection for the short calls stays open unused (activities/kept-connections.ts). @default 2000 */
  keepIdleMs?: number;
}

/**
 * For this long from the start of a wait, an agent that does not answer yet is polled every
 * {@link FAST_POLL_MS}. After a fence reboot the host is back on when the fence returns and its agent listens
 * a few hundred milliseconds later; a poll before that is a refused TCP connect, which costs next to nothing,
 * so the wait ends soon after the agent is up (docs/performance.md#what-a-reboot-costs).
 */
export const FAST_POLL_WINDOW_MS = 5_000;
export const FAST_POLL_MS = 100;
/** The pause between polls once {@link FAST_POLL_WINDOW_MS} has passed: a host that slow is booting for long. */
export const DEFAULT_AGENT_POLL_INTERVAL_MS = 1000;

const GetRouteResult = z.object({
  reachable: z.boolean().default(true),
  device: z.string().nullable().default(null),
  source: z.string().optional(),
  gateway: z.string().optional(),
  reason: z.string().optional(),
});

/** `connect` opens connections to agents: the VDSM client unless a test answers for the host. */
export function createHostAgentActivities(access: AgentAccess, deps: HostAgentDeps = {}, connect: ConnectAgent = connectVdsmAgent) {
  const pollMs = deps.pollIntervalMs ?? DEFAULT_AGENT_POLL_INTERVAL_MS;
  const endpointOf = (ref: AgentEndpointRef) => clientEndpoint(ref, access);
  // The short calls of one install share a connection; the confirm polls and the fence open their own.
  const kept = new KeptAgentConnections(connect, deps.keepIdleMs);

  async function call<T>(ref: AgentEndpointRef, method: string, params: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    try {
      return (await kept.run(endpointOf(ref), (client) => client.call(method, params, { timeoutMs }))) as T;
    } catch (err) {
      throw toActivityFailure(err);
    }
  }

  async function probeCapabilities(endpoint: AgentEndpointRef): Promise<HostProbe> {
    return hostProbeOf(await call<unknown>(endpoint, 'Host.getCapabilities', {}, 60_000));
  }

  /** `Host.getRoute(manager)`; "method not found" from an older agent is an answer (`unsupported`), not an error. */
  async function findRouteToManager({ endpoint, managerAddress, hostAddress }: RouteProbeInput): Promise<RouteProbe> {
    const managerIp = isIP(managerAddress) ? managerAddress : (await lookup(managerAddress)).address;
    let route: RouteAnswer;
    try {
      const raw = await kept.run(endpointOf(endpoint), (c) => c.call('Host.getRoute', { ip: managerIp }, { timeoutMs: 15_000 }));
      const r = GetRouteResult.parse(raw);
      route =
        r.reachable && r.device
          ? { kind: 'route', device: r.device, ...(r.source ? { source: r.source } : {}), ...(r.gateway ? { gateway: r.gateway } : {}) }
          : { kind: 'no-route', reason: r.reason ?? 'no route' };
    } catch (err) {
      if (isMethodNotFound(err)) route = { kind: 'unsupported' };
      else throw toActivityFailure(err);
    }
    const hostAddresses = isIP(hostAddress)
      ? [hostAddress]
      : (await lookup(hostAddress, { all: true }).catch(() => [])).map((a) => a.address);
    return { route, hostAddresses };
  }

  return {
    /**
     * Polls `Host.ping2` until it answers: first on the connection kept for the short calls, then over fresh
     * connections with short budgets, as long as the agent cannot be reached. Whatever a later attempt may
     * change (no connection yet, a recovering agent's 99) means keep waiting; a refusal ends the wait at once.
     */
    async waitForAgent({ endpoint, timeoutSeconds }: WaitForAgentInput): Promise<{ attempts: number }> {
      const ctx = Context.current();
      const target = endpointOf(endpoint);
      const started = Date.now();
      const deadline = started + timeoutSeconds * 1000;
      let attempts = 0;
      let last = '';
      // Also while a poll waits out its timeouts, so that it never looks like a dead worker.
      const heartbeat = heartbeatOf(ctx);
      const beat = setInterval(() => heartbeat({ attempts, last }), HEARTBEAT_INTERVAL_MS);
      try {
        for (;;) {
          attempts += 1;
          try {
            const ping = (c: AgentConnection) => c.call('Host.ping2', {}, { timeoutMs: 3000 });
            const budget = { connectTimeoutMs: 3000 };
            await (attempts === 1 ? kept.run(target, ping, budget) : withFreshAgentConnection(connect, target, ping, budget));
            return { attempts };
          } catch (err) {
            if (!isRetryableAgentError(err)) throw toActivityFailure(err);
            last = err instanceof Error ? err.message : String(err);
          }
          heartbeat({ attempts, last });
          if (Date.now() > deadline) {
            throw activityFailure(
              FailureType.AGENT_UNREACHABLE,
              `agent ${endpoint.host}:${endpoint.port} did not answer Host.ping2 within ${timeoutSeconds}s (${attempts} attempts; last: ${last})`,
            );
          }
          await ctx.sleep(Date.now() - started < FAST_POLL_WINDOW_MS ? Math.min(FAST_POLL_MS, pollMs) : pollMs);
        }
      } finally {
        clearInterval(beat);
      }
    },

    /** `Host.getCapabilities`, trimmed to what provisioning needs (activities/host-probe.ts). */
    probeCapabilities,
    findRouteToManager,

    /** Both reads at once: the two requests go out together on the connection kept for the short calls. */
    async probeHost(input: RouteProbeInput): Promise<HostProbe & RouteProbe> {
      const [probe, routed] = await Promise.all([probeCapabilities(input.endpoint), findRouteToManager(input)]);
      return { ...probe, ...routed };
    },

    async setSafeNetworkConfig(endpoint: AgentEndpointRef): Promise<void> {
      await call(endpoint, 'Host.setSafeNetworkConfig', {}, 60_000);
    },

    /**
     * `Host.fenceNode` on the proxy host. The BMC password is resolved here and never logged or returned.
     * Every attempt sends the same request id, so a proxy that already acted on an attempt whose answer was
     * lost (connection dropped, worker died) answers a retry with that outcome instead of rebooting the
     * host again (agent/fencing/repeated-fences.ts).
     */
    async fenceHost({ proxy, powerManagement: pm, action }: FenceInput): Promise<FenceResult> {
      const password = access.secrets.resolve(pm.passwordRef);
      // For ipmilan the BMC port is an agent option; fence agents read `port=` as the plug number.
      const options = [pm.options, pm.agent === 'ipmilan' && pm.port ? `ipport=${pm.port}` : ''].filter(Boolean).join('\n');
      const params = {
        addr: pm.address,
        port: pm.agent === 'ipmilan' ? '' : String(pm.port ?? ''),
        agent: pm.agent,
        username: pm.username,
        password,
        action,
        secure: false,
        options,
      };
      let client: AgentConnection | undefined;
      try {
        client = await connect(endpointOf(proxy));
        const key = requestKeyOfCurrentActivity();
        const raw = (await client.call('Host.fenceNode', params, { timeoutMs: 240_000, ...(key ? { id: `fence/${key}` } : {}) })) as {
          power?: string;
          operationStatus?: string;
        };
        return { power: raw.power ?? 'unknown', ...(raw.operationStatus ? { operationStatus: raw.operationStatus } : {}) };
      } catch (err) {
        if (err instanceof AgentRpcError && fenceFailureType(err.code) === FailureType.FENCE_FAILED) {
          // Names the BMC by address and port: the operator's next step is to check that one.
          const bmc = `${pm.address}${pm.port ? `:${pm.port}` : ''}`;
          throw activityFailure(
            FailureType.FENCE_FAILED,
            `fence ${action} through BMC ${bmc} (${pm.agent}, via ${proxy.host}) failed: ${err.rpcMessage} (code ${err.code})`,
          );
        }
        throw toActivityFailure(err);
      } finally {
        await client?.close();
      }
    },
  };
}
