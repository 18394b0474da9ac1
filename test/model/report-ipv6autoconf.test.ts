/**
 * `ipv6autoconf` in the capabilities: a network and its device report the network's configuration, as VDSM
 * reports NetworkManager's profile, whatever the kernel's switches say (a bridge an older agent made still
 * has the kernel's defaults until the next change); every other device reports what its switches say.
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
  it("a network and its bridge report the network's configuration, whatever the switches read", () => {
    const caps = report(
      [
        nic('eth1', 'slaac'),
        nic('eth2', 'static6'),
        nic('eth3', 'unread'),
        bridge('slaac', { ipv6: true, ipv6Autoconf: true }),
        // Made by an agent that left IPv6 as the kernel has it: advertisements taken until the next change.
        bridge('static6', { ipv6: true, ipv6Autoconf: true }),
        bridge('unread', {}),
      ],
      {
        slaac: { nic: 'eth1', ipv6autoconf: 'true' },
        static6: { nic: 'eth2', ipv6addr: '2001:db8::10/64' },
        unread: { nic: 'eth3', ipv6autoconf: 'true', dhcpv6: 'true' },
      },
    );
    const reported = (name: string) => [caps.networks[name]?.ipv6autoconf, caps.bridges[name]?.ipv6autoconf];
    expect([reported('slaac'), reported('static6'), reported('unread')]).toEqual([
      [true, true],
      [false, false],
      [true, true],
    ]);
  });

  it("a bridgeless network's device reports its configuration; a device without a network, what its switches say", () => {
    const caps = report(
      [
        { ...nic('eth1', null), ipv6: true, ipv6Autoconf: false },
        nic('eth2', null),
        { ...nic('eth3', null), ipv6: true, ipv6Autoconf: true },
        { ...nic('eth4', null), ipv6: true, ipv6Autoconf: false },
        { ...nic('eth5', null), ipv6: false },
        { ...nic('eth6', null), ipv6: true },
      ],
      { storage: { nic: 'eth1', bridged: 'false', ipv6autoconf: 'true' } },
    );
    expect([caps.networks.storage?.ipv6autoconf, caps.nics.eth1?.ipv6autoconf]).toEqual([true, true]);
    // Taking advertisements with IPv6 on, as VDSM's is_ipv6_local_auto reads it; unread switches say nothing.
    expect(['eth2', 'eth3', 'eth4', 'eth5', 'eth6'].map((n) => caps.nics[n]?.ipv6autoconf)).toEqual([false, true, false, false, false]);
  });
});
