/**
 * `ipv6autoconf` in the capabilities: a bridge whose IPv6 switches were read reports them as VDSM's sysctl.py
 * reads them (IPv6 on and router advertisements taken); a device not read reports false, and a network on one
 * reports its configuration.
 */
import { describe, expect, it } from 'vitest';
import type { KernelState, LinkState } from '../../model/net-state';
import { canonicalizeRequest } from '../../model/network/canonicalize';
import { EMPTY_CONFIG, mergeRunningConfig } from '../../model/network/config';
import { reportNetworkCapabilities } from '../../model/vdsm/report';
import { SetupNetworksParams } from '../../model/vdsm/setup-networks';

const nic = (name: string, master: string | null): LinkState => ({
  name,
  kind: 'nic',
  mtu: 1500,
  up: true,
  mac: '52:54:00:00:00:01',
  master,
});
const bridge = (name: string, ipv6: Partial<LinkState>): LinkState => ({
  name,
  kind: 'bridge',
  mtu: 1500,
  up: true,
  mac: '52:54:00:00:00:02',
  master: null,
  bridge: { stp: false },
  ...ipv6,
});

function report(links: LinkState[], networks: Record<string, Record<string, string>>) {
  const request = canonicalizeRequest(SetupNetworksParams.parse({ networks, bondings: {}, options: {} }), {
    currentNameservers: [],
    running: EMPTY_CONFIG,
  });
  const kernel: KernelState = { links, addresses: [], routes: [], rules: [] };
  return reportNetworkCapabilities({
    kernel,
    running: mergeRunningConfig(EMPTY_CONFIG, request),
    dhcp: [],
    nameservers: [],
    netConfigDirty: false,
  });
}

describe('ipv6autoconf in the capabilities', () => {
  it('a bridge read reports what its switches say; a network on it too, whatever its configuration says', () => {
    const caps = report(
      [
        nic('eth1', 'slaac'),
        nic('eth2', 'static6'),
        nic('eth3', 'off6'),
        bridge('slaac', { ipv6: true, ipv6Autoconf: true }),
        bridge('static6', { ipv6: true, ipv6Autoconf: false }),
        bridge('off6', { ipv6: false }),
      ],
      {
        slaac: { nic: 'eth1', ipv6autoconf: 'true' },
        static6: { nic: 'eth2', ipv6autoconf: 'true' },
        off6: { nic: 'eth3', ipv6autoconf: 'true' },
      },
    );
    expect([caps.bridges.slaac?.ipv6autoconf, caps.bridges.static6?.ipv6autoconf, caps.bridges.off6?.ipv6autoconf]).toEqual([
      true,
      false,
      false,
    ]);
    expect([caps.networks.slaac?.ipv6autoconf, caps.networks.static6?.ipv6autoconf, caps.networks.off6?.ipv6autoconf]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('a device not read reports false; a network on one reports its configuration', () => {
    const caps = report([nic('eth1', 'slaac'), nic('eth2', null), bridge('slaac', {})], {
      slaac: { nic: 'eth1', ipv6autoconf: 'true' },
      storage: { nic: 'eth2', bridged: 'false', ipv6autoconf: 'true' },
    });
    expect([caps.bridges.slaac?.ipv6autoconf, caps.nics.eth2?.ipv6autoconf]).toEqual([false, false]);
    expect([caps.networks.slaac?.ipv6autoconf, caps.networks.storage?.ipv6autoconf]).toEqual([true, true]);
  });
});
