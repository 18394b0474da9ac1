/** The synthetic fleet of `bench sync-report` is what its comment says: in sync except the drift it was given, found by the real report. */
import { describe, expect, it } from 'vitest';
import { buildFleet } from '../../bench/sync-fleet';
import { HostSyncState, hostSyncReport } from '../../model/network-sync/host-report';

describe('bench sync-report fleet', () => {
  it('has N hosts with K attachments each, in sync except every 10th (MTU) and every 25th (address) host', () => {
    const fleet = buildFleet(100, 10);
    expect(fleet.hosts).toHaveLength(100);
    expect(fleet.networks).toHaveLength(10);
    for (const [h, host] of fleet.hosts.entries()) {
      expect(host.attachments).toHaveLength(10);
      const report = hostSyncReport({
        networks: fleet.networks,
        clusterNetworks: fleet.clusterNetworks,
        attachments: host.attachments,
        reported: host.reported,
      });
      const differences = report.attachments.flatMap((a) => a.differences.map((d) => `${a.networkName} ${d.property}`));
      const expected = [...(h % 10 === 3 ? ['net01 MTU'] : []), ...(h % 25 === 7 ? ['net02 IPV4_ADDRESS'] : [])];
      expect(differences, host.id).toEqual(expected);
      expect(report.state).toBe(host.drifts ? HostSyncState.OUT_OF_SYNC : HostSyncState.IN_SYNC);
      expect(report.unmanagedNetworks.map((n) => n.name)).toEqual(['legacy']);
      // the fleet exercises every kind of comparison: static IPv4 and IPv6, DHCP, QoS, DNS
      if (h === 0) {
        expect(new Set(report.attachments.flatMap((a) => a.comparisons.map((c) => c.property)))).toEqual(
          new Set([
            'MTU',
            'BRIDGED',
            'VLAN',
            'SWITCH_TYPE',
            'IPV4_BOOT_PROTOCOL',
            'IPV4_NETMASK',
            'IPV4_ADDRESS',
            'IPV4_GATEWAY',
            'IPV6_BOOT_PROTOCOL',
            'IPV6_PREFIX',
            'IPV6_ADDRESS',
            'IPV6_GATEWAY',
            'OUT_AVERAGE_LINK_SHARE',
            'OUT_AVERAGE_UPPER_LIMIT',
            'OUT_AVERAGE_REAL_TIME',
            'DNS_CONFIGURATION',
            'DEFAULT_ROUTE',
          ]),
        );
      }
    }
  });
});
