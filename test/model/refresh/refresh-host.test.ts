/**
 * refreshHost: the attachment rules of a capabilities refresh, case by case, on the world of
 * ../network-sync/world.ts (a host whose report matches its four stored attachments). Each case edits
 * the capabilities the way a change on the host would show in them.
 */
import { describe, expect, it } from 'vitest';
import { RefreshContext } from '../../../model/refresh/context';
import { HostReportError } from '../../../model/refresh/errors';
import { RefreshActionKind, refreshHost, type RefreshResult } from '../../../model/refresh/refresh-host';
import { A, attachment, capabilities, N, refreshContext } from '../network-sync/world';

type Json = ReturnType<typeof JSON.parse>;

/** The host no longer has `nic` (unplugged, renamed): gone from nics and from every bridge's ports. */
function nicGone(nic: string) {
  return (c: Json) => {
    delete c.nics[nic];
    for (const bridge of Object.values(c.bridges) as Json[]) bridge.ports = bridge.ports.filter((p: string) => p !== nic);
    for (const net of Object.values(c.networks) as Json[]) {
      if (net.southbound === nic) delete net.southbound;
      if (net.ports) net.ports = net.ports.filter((p: string) => p !== nic);
    }
  };
}

/** Bridged network `name` now sits on `nic` (its bridge's port), as after `ip link set <old> nomaster; ip link set <nic> master <name>`. */
function bridgeMovedTo(name: string, nic: string) {
  return (c: Json) => {
    c.bridges[name].ports = [nic];
    c.networks[name].ports = [nic];
    c.networks[name].southbound = nic;
  };
}

const kinds = (r: RefreshResult) => r.actions.map((a) => [a.kind, a.networkName, a.fromNic, a.toNic]);

describe('refreshHost', () => {
  it('changes nothing when the host reports what is stored, and lists the unmanaged network', () => {
    const result = refreshHost(refreshContext(), capabilities());
    expect(result.attachmentChanges).toEqual({ upserts: [], removals: [] });
    expect(result.actions).toEqual([]);
    expect(result.unmanagedNetworks).toEqual(['legacy']);
    expect(result.reportChanges).toEqual({
      added: { nics: [], bonds: [], vlans: [], networks: [] },
      removed: { nics: [], bonds: [], vlans: [], networks: [] },
    });
    expect(result.compliance).toEqual({ status: 'operational', reason: null, problems: [] });
    expect(result.netConfigDirty).toBe(false);
  });

  it('removes the attachment of a NIC that disappeared, saying why', () => {
    const result = refreshHost(refreshContext(), capabilities(nicGone('eth1')));
    expect(result.attachmentChanges).toEqual({ upserts: [], removals: [A.display] });
    expect(kinds(result)).toEqual([[RefreshActionKind.REMOVED_NIC_VANISHED, 'display', 'eth1', null]]);
    expect(result.reportChanges.removed.nics).toEqual(['eth1']);
    // the bridge without a port is still reported, on no interface
    expect(result.reportedInterfaces.networks.find((n) => n.name === 'display')).toMatchObject({ baseInterface: null, device: null });
  });

  it('removes the attachment of a network the host no longer reports', () => {
    const result = refreshHost(
      refreshContext(),
      capabilities((c) => {
        delete c.networks.vmnet;
        delete c.bridges.vmnet;
      }),
    );
    expect(result.attachmentChanges).toEqual({ upserts: [], removals: [A.vmnet] });
    expect(kinds(result)).toEqual([[RefreshActionKind.REMOVED_NETWORK_NOT_REPORTED, 'vmnet', 'bond0', null]]);
    expect(result.reportChanges.removed.networks).toEqual(['vmnet']);
  });

  it('moves an attachment whose network now sits on another NIC, keeping its id and configuration', () => {
    const result = refreshHost(refreshContext(), capabilities(bridgeMovedTo('display', 'eth4')));
    const stored = attachment('display');
    expect(result.attachmentChanges).toEqual({
      upserts: [
        {
          id: A.display,
          networkId: N.display,
          nicName: 'eth4',
          ipConfiguration: stored.ipConfiguration,
          properties: {},
          qos: null,
          dns: null,
        },
      ],
      removals: [],
    });
    expect(kinds(result)).toEqual([[RefreshActionKind.MOVED, 'display', 'eth1', 'eth4']]);
  });

  it('moves rather than removes when the old NIC vanished and the network is on another one', () => {
    const result = refreshHost(
      refreshContext(),
      capabilities((c) => {
        nicGone('eth1')(c);
        bridgeMovedTo('display', 'eth4')(c);
      }),
    );
    expect(result.attachmentChanges.removals).toEqual([]);
    expect(result.actions).toEqual([
      expect.objectContaining({
        kind: RefreshActionKind.MOVED,
        fromNic: 'eth1',
        toNic: 'eth4',
        message: expect.stringContaining('no longer reported'),
      }),
    ]);
  });

  it('never creates an attachment for a network made on the host by hand: it is unmanaged', () => {
    const result = refreshHost(
      refreshContext(),
      capabilities((c) => {
        c.bridges.handmade = { ports: ['eth4'], addr: '10.1.0.5', netmask: '255.255.0.0', ipv4addrs: ['10.1.0.5/16'] };
        c.networks.handmade = {
          iface: 'handmade',
          bridged: true,
          southbound: 'eth4',
          ports: ['eth4'],
          addr: '10.1.0.5',
          netmask: '255.255.0.0',
        };
      }),
    );
    expect(result.attachmentChanges).toEqual({ upserts: [], removals: [] });
    expect(result.unmanagedNetworks).toEqual(['handmade', 'legacy']);
    expect(result.reportChanges.added.networks).toEqual(['handmade']);
  });

  it('creates an attachment for a reported cluster network without one, with the IP configuration copied from the host', () => {
    const context = refreshContext(capabilities(), (json) => {
      json.attachments = json.attachments.filter((a: Json) => a.networkName !== 'storage' && a.networkName !== 'display');
    });
    const result = refreshHost(context, capabilities());
    expect(result.attachmentChanges.removals).toEqual([]);
    expect(result.attachmentChanges.upserts).toEqual([
      // a DHCP network: only the boot protocol, never the leased address
      {
        networkId: N.display,
        nicName: 'eth1',
        ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } },
        properties: {},
        qos: null,
        dns: null,
      },
      // a static VLAN network on a bond: on the bond, with address, netmask and gateway
      {
        networkId: N.storage,
        nicName: 'bond0',
        ipConfiguration: {
          ipv4: { bootProtocol: 'STATIC_IP', address: '198.51.100.10', netmask: '255.255.255.0', gateway: '198.51.100.1' },
          ipv6: { bootProtocol: 'NONE' },
        },
        properties: {},
        qos: null,
        dns: null,
      },
    ]);
    expect(kinds(result)).toEqual([
      [RefreshActionKind.CREATED, 'display', null, 'eth1'],
      [RefreshActionKind.CREATED, 'storage', null, 'bond0'],
    ]);
  });

  it('creates the attachment of a VLAN network on a bond on the bond, not on the VLAN device', () => {
    const result = refreshHost(
      refreshContext(),
      capabilities((c) => {
        c.vlans['bond0.200'] = {
          iface: 'bond0',
          vlanid: 200,
          mtu: '9000',
          addr: '198.51.100.130',
          netmask: '255.255.255.128',
          ipv4addrs: ['198.51.100.130/25'],
        };
        c.networks.migration = {
          iface: 'bond0.200',
          bridged: false,
          southbound: 'bond0.200',
          vlanid: 200,
          interface: 'bond0.200',
          mtu: '9000',
          addr: '198.51.100.130',
          netmask: '255.255.255.128',
        };
      }),
    );
    expect(result.attachmentChanges.upserts).toEqual([
      expect.objectContaining({
        networkId: N.migration,
        nicName: 'bond0',
        ipConfiguration: {
          ipv4: { bootProtocol: 'STATIC_IP', address: '198.51.100.130', netmask: '255.255.255.128' },
          ipv6: { bootProtocol: 'NONE' },
        },
      }),
    ]);
  });

  it('creates no attachment for a cluster network reported on a bond slave', () => {
    const result = refreshHost(
      refreshContext(),
      capabilities((c) => {
        c.vlans['eth2.200'] = { iface: 'eth2', vlanid: 200, mtu: '9000' };
        c.networks.migration = {
          iface: 'eth2.200',
          bridged: false,
          southbound: 'eth2.200',
          vlanid: 200,
          interface: 'eth2.200',
          mtu: '9000',
        };
      }),
    );
    expect(result.attachmentChanges).toEqual({ upserts: [], removals: [] });
    expect(kinds(result)).toEqual([[RefreshActionKind.NOT_CREATED_ON_BOND_SLAVE, 'migration', null, 'eth2']]);
  });

  it('removes an attachment of a network no longer in the cluster when its NIC vanished, and leaves it otherwise', () => {
    const detached = (json: Json) => (json.clusterNetworks = json.clusterNetworks.filter((cn: Json) => cn.networkId !== N.display));
    const moved = refreshHost(refreshContext(capabilities(), detached), capabilities(bridgeMovedTo('display', 'eth4')));
    expect(moved.attachmentChanges).toEqual({ upserts: [], removals: [] });
    expect(moved.unmanagedNetworks).toEqual(['display', 'legacy']);
    const gone = refreshHost(
      refreshContext(capabilities(), detached),
      capabilities((c) => {
        nicGone('eth1')(c);
        bridgeMovedTo('display', 'eth4')(c);
      }),
    );
    expect(kinds(gone)).toEqual([[RefreshActionKind.REMOVED_NIC_VANISHED, 'display', 'eth1', null]]);
  });

  it('reports everything as added on the first refresh, and the dirty flag', () => {
    const result = refreshHost(
      refreshContext(null),
      capabilities((c) => (c.netConfigDirty = 'True')),
    );
    expect(result.reportChanges.added).toEqual({
      nics: ['eth0', 'eth1', 'eth2', 'eth3', 'eth4', 'eth5'],
      bonds: ['bond0'],
      vlans: ['bond0.100', 'bond0.300'],
      networks: ['display', 'legacy', 'ovirtmgmt', 'storage', 'vmnet'],
    });
    expect(result.netConfigDirty).toBe(true);
  });

  it('makes the host non-operational when a required network is missing, with the reason', () => {
    const result = refreshHost(
      refreshContext(),
      capabilities((c) => {
        delete c.networks.ovirtmgmt;
        delete c.bridges.ovirtmgmt;
      }),
    );
    expect(result.compliance).toMatchObject({
      status: 'non-operational',
      reason: 'NETWORK_UNREACHABLE',
      problems: [{ networkName: 'ovirtmgmt' }],
    });
    expect(
      refreshHost(
        refreshContext(),
        capabilities((c) => {
          delete c.networks.ovirtmgmt;
          delete c.bridges.ovirtmgmt;
        }),
        { skipManagementNetwork: true },
      ).compliance.status,
    ).toBe('operational');
  });

  it('refuses a context whose parts do not belong together', () => {
    const json = JSON.parse(JSON.stringify(refreshContext()));
    json.attachments[0].hostId = 'host-2';
    json.clusterNetworks[0].clusterId = 'cluster-2';
    expect(RefreshContext.safeParse(json).error?.issues.map((i) => i.message)).toEqual([
      'cluster network of cluster cluster-2, but host host-1 is in cluster-1',
      `attachment ${A.display} belongs to host host-2`,
    ]);
  });
});

describe('refreshHost on a report hostprov cannot record', () => {
  it('refuses capabilities with an interface name the kernel cannot have, naming it', () => {
    const bad = capabilities((c) => (c.nics['eth 9; rm -rf /'] = { hwaddr: '52:54:00:00:09:09' }));
    expect(() => refreshHost(refreshContext(), bad)).toThrow(HostReportError);
    expect(() => refreshHost(refreshContext(), bad)).toThrow(/nics\.0\.name: interface names are 1\.\.15 characters/);
  });
});
