/**
 * Which host device carries the manager's traffic (docs/design-decisions.md#finding-the-management-device).
 *
 * The chain: our agent's `Host.getRoute(manager)` is authoritative when it exists — "no route" then means
 * the host sits behind NAT or is cut off, and the install skips the management network visibly. Older
 * agents (real VDSM) answer "method not found", so we fall back to `lastClientIface` (the device owning
 * the host side of our connection) and then to the engine's own rule: the device whose reported addresses
 * contain the host's address (bridges first).
 */
import type { NetworkCapabilities } from '../vdsm/capabilities';
import { canonicalIP } from '../ip';
import { DeviceRule } from './contract';

export type RouteAnswer =
  | { kind: 'route'; device: string; source?: string; gateway?: string }
  | { kind: 'no-route'; reason: string }
  /** The agent does not know `Host.getRoute` (JSON-RPC -32601): an older agent, not an error. */
  | { kind: 'unsupported' };

export type DeviceChoice = { device: string; rule: DeviceRule; detail: string } | { device: null; rule: DeviceRule | null; detail: string };

export interface ChooseDeviceInput {
  route: RouteAnswer;
  lastClientIface: string;
  /** The host's addresses as the engine resolves its name (IP literals pass through). */
  hostAddresses: readonly string[];
  caps: NetworkCapabilities;
  managerAddress: string;
}

export function chooseManagementDevice(input: ChooseDeviceInput): DeviceChoice {
  const { route } = input;
  if (route.kind === 'route') {
    return {
      device: route.device,
      rule: DeviceRule.GET_ROUTE,
      detail: `Host.getRoute(${input.managerAddress}) → dev ${route.device}${route.source ? ` src ${route.source}` : ''}${route.gateway ? ` via ${route.gateway}` : ''}`,
    };
  }
  if (route.kind === 'no-route') {
    return {
      device: null,
      rule: DeviceRule.GET_ROUTE,
      detail: `Host.getRoute(${input.managerAddress}): no route (${route.reason}); host behind NAT or isolated`,
    };
  }
  if (input.lastClientIface) {
    return {
      device: input.lastClientIface,
      rule: DeviceRule.LAST_CLIENT_IFACE,
      detail: `agent has no Host.getRoute; lastClientIface = ${input.lastClientIface}`,
    };
  }
  const matched = deviceByAddress(input.caps, input.hostAddresses);
  if (matched) {
    return {
      device: matched.device,
      rule: DeviceRule.ADDRESS_MATCH,
      detail: `agent has no Host.getRoute and reported no lastClientIface; ${matched.device} holds ${matched.address}`,
    };
  }
  return {
    device: null,
    rule: DeviceRule.ADDRESS_MATCH,
    detail: `agent has no Host.getRoute, no lastClientIface, and no device holds ${input.hostAddresses.join(', ') || 'the host address'}`,
  };
}

function holds(device: { addr?: string; ipv4addrs?: string[]; ipv6addrs?: string[] }, ip: string): boolean {
  const want = canonicalIP(ip);
  if (device.addr && canonicalIP(device.addr) === want) return true;
  return [...(device.ipv4addrs ?? []), ...(device.ipv6addrs ?? [])].some((cidr) => canonicalIP(cidr.split('/')[0] ?? '') === want);
}

/** The engine's rule (docs/engine-host-networking.md#the-active-nic): a bridge holding the address wins, then NICs, bonds, VLANs. */
export function deviceByAddress(caps: NetworkCapabilities, addresses: readonly string[]): { device: string; address: string } | null {
  for (const address of addresses) {
    for (const group of [caps.bridges, caps.nics, caps.bondings, caps.vlans] as const) {
      const name = Object.keys(group)
        .sort()
        .find((n) => holds(group[n] ?? {}, address));
      if (name) return { device: name, address };
    }
  }
  return null;
}
