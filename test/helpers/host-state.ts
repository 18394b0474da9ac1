/** Builders for kernel states in model tests (nmstate's testlib habit). */
import type { AddressState, KernelState, LinkState, RouteState } from '../../model/net-state';

/** A host with no links, addresses, routes or rules yet. */
export function emptyKernel(): KernelState {
  return { links: [], addresses: [], routes: [], rules: [] };
}

export function nic(name: string, mac: string, extra: Partial<LinkState> = {}): LinkState {
  return { name, kind: 'nic', mtu: 1500, up: true, mac, master: null, ...extra };
}

export function addr(dev: string, cidr: string, dynamic = false): AddressState {
  const [address = '', len = '0'] = cidr.split('/');
  return { dev, family: address.includes(':') ? 6 : 4, address, prefixLen: Number(len), dynamic };
}

export function defaultVia(gateway: string, dev: string, table = 254): RouteState {
  return { family: gateway.includes(':') ? 6 : 4, table, dst: 'default', gateway, dev, protocol: 'static' };
}

/** A freshly installed host: eth0 with the management address and default route, eth1 idle. */
export function installedHost(): KernelState {
  return {
    links: [
      nic('lo', '00:00:00:00:00:00', { kind: 'loopback', mtu: 65536 }),
      nic('eth0', '52:54:00:00:00:10'),
      nic('eth1', '52:54:00:00:00:11'),
    ],
    addresses: [addr('eth0', '198.18.1.10/24')],
    routes: [defaultVia('198.18.1.1', 'eth0')],
    rules: [],
  };
}
