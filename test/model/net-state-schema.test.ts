/**
 * The kernel snapshot a pending transaction keeps is read back with these schemas by an agent restarted
 * mid-change: every field a read can put in a link must come back, or that agent could not roll back.
 */
import { describe, expect, it } from 'vitest';
import { KernelStateSchema } from '../../model/net-state-schema';
import type { KernelState } from '../../model/net-state';

describe('the snapshot schema', () => {
  it("keeps a bridge's IPv6 switches, and reads a snapshot written before it had them", () => {
    const snapshot: KernelState = {
      links: [
        { name: 'vmnet', kind: 'bridge', mtu: 1500, up: true, mac: '02:00:00:00:00:01', master: null, bridge: { stp: false }, ipv6: false },
        { name: 'eth1', kind: 'nic', mtu: 1500, up: true, mac: '02:00:00:00:00:01', master: 'vmnet' },
        { name: 'slaac', kind: 'bridge', mtu: 1500, up: true, mac: '02:00:00:00:00:02', master: null, ipv6: true, ipv6Autoconf: true },
      ],
      addresses: [],
      routes: [],
      rules: [],
    };
    expect(KernelStateSchema.parse(JSON.parse(JSON.stringify(snapshot)))).toEqual(snapshot);
    const older = { ...snapshot, links: snapshot.links.map(({ ipv6: _ipv6, ipv6Autoconf: _autoconf, ...l }) => l) };
    expect(KernelStateSchema.parse(older).links.every((l) => l.ipv6 === undefined && l.ipv6Autoconf === undefined)).toBe(true);
  });
});
