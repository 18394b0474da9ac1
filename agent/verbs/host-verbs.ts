/**
 * The `Host.*` verbs of our agent, with VDSM's names and parameter orders (docs/vdsm-verbs.md) so real
 * oVirt clients can call them, plus `Host.getRoute` (docs/vdsm-verbs.md#getroute: the device the kernel would use to reach
 * an address, which real VDSM never shipped).
 */
import { z } from 'zod';
import { unmapIPv4, isIP } from '../../model/ip';
import { qosDevices } from '../../model/network/host-qos';
import { reportNetworkCapabilities } from '../../model/vdsm/report';
import type { RunningConfig } from '../../model/network/config';
import type { NetworkBackend } from '../backend/backend';
import type { ConnectivityCheck } from '../network/connectivity';
import type { NetworkService } from '../network/network-service';
import type { RpcContext, VerbDefinition } from '../../vdsm/verbs';

export const AGENT_SOFTWARE_VERSION = '4.50.0';
/**
 * What this agent speaks; the engine picks commitOnSuccess for hosts that report ≥ 4.3
 * (docs/engine-host-networking.md#committing-the-change).
 */
export const CLUSTER_LEVELS = ['4.2', '4.3', '4.4', '4.5', '4.6', '4.7', '4.8'];

export interface HostVerbDeps {
  backend: NetworkBackend;
  network: NetworkService;
  connectivity: ConnectivityCheck;
  running: () => RunningConfig;
}

const GetRouteParams = z.object({ ip: z.string().refine(isIP, 'must be an IPv4 or IPv6 address') });

export function createHostVerbs(deps: HostVerbDeps): VerbDefinition[] {
  async function networkCapabilities() {
    const running = deps.running();
    // QoS as the kernel holds it, read only on the devices of networks that have one (VDSM reads tc).
    const qosDevs = qosDevices(running.networks);
    const [kernel, clients, nameservers, qos] = await Promise.all([
      deps.backend.read({ speeds: true }),
      deps.backend.dhcpClients(),
      deps.backend.nameservers(),
      qosDevs.length ? deps.backend.readQos(qosDevs) : undefined,
    ]);
    return {
      kernel,
      caps: reportNetworkCapabilities({
        kernel,
        running,
        dhcp: clients,
        nameservers,
        netConfigDirty: deps.network.netConfigDirty,
        ...(qos ? { qos } : {}),
      }),
    };
  }

  /** The device owning the host-side address of the caller's connection (VDSM's lastClientIface). */
  function lastClientIface(kernel: Awaited<ReturnType<NetworkBackend['read']>>, ctx: RpcContext): string {
    const local = unmapIPv4(ctx.localAddress);
    if (local === '127.0.0.1' || local === '::1') return 'lo';
    return kernel.addresses.find((a) => a.address === local)?.dev ?? '';
  }

  return [
    {
      method: 'Host.getCapabilities',
      params: [],
      handler: async (_params, ctx) => {
        const { kernel, caps } = await networkCapabilities();
        return {
          ...caps,
          lastClientIface: lastClientIface(kernel, ctx),
          software_version: AGENT_SOFTWARE_VERSION,
          software_revision: '1',
          version_name: 'hostprov',
          supportedENGINEs: ['4.2', '4.3', '4.4', '4.5'],
          clusterLevels: CLUSTER_LEVELS,
        };
      },
    },
    { method: 'Host.getNetworkCapabilities', params: [], handler: async () => (await networkCapabilities()).caps },
    {
      method: 'Host.getRoute',
      params: ['ip'],
      handler: async (params) => {
        const { ip } = GetRouteParams.parse(params);
        const route = await deps.backend.routeTo(ip);
        return route.kind === 'route'
          ? {
              reachable: true,
              device: route.device,
              ...(route.source ? { source: route.source } : {}),
              ...(route.gateway ? { gateway: route.gateway } : {}),
            }
          : { reachable: false, device: null, reason: route.reason };
      },
    },
    {
      method: 'Host.setupNetworks',
      params: ['networks', 'bondings', 'options'],
      handler: (params, ctx) =>
        deps.network.setupNetworks(
          { networks: params.networks ?? {}, bondings: params.bondings ?? {}, options: params.options ?? {} },
          ctx.requestId,
        ),
    },
    { method: 'Host.setSafeNetworkConfig', params: [], handler: (_params, ctx) => deps.network.setSafeNetworkConfig(ctx.requestId) },
    {
      method: 'Host.confirmConnectivity',
      params: [],
      handler: async () => {
        deps.connectivity.confirm();
        return true;
      },
    },
    { method: 'Host.ping2', params: [], handler: async () => true },
    {
      // Deprecated in VDSM 4.2 but still sent by old engines: liveness *and* a connectivity confirmation.
      method: 'Host.ping',
      params: [],
      handler: async () => {
        deps.connectivity.confirm();
        return true;
      },
    },
  ];
}
