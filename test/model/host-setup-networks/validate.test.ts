/**
 * validateHostSetupNetworks, key by key: for every engine key the validator implements, one request that
 * breaks exactly that rule (and gets exactly that key) and one close to it that is valid (no violation at
 * all). A test below checks that the table covers every key. World: ./world.ts.
 */
import { describe, expect, it } from 'vitest';
import { completeRequest, dropNoOps } from '../../../model/host-setup-networks/complete';
import type { HostSetupNetworksContext } from '../../../model/host-setup-networks/context';
import type { HostSetupNetworksRequestInput } from '../../../model/host-setup-networks/request';
import type { SyncReporter } from '../../../model/host-setup-networks/sync';
import { validateHostSetupNetworks } from '../../../model/host-setup-networks/validate';
import { ViolationKey, type Violation } from '../../../model/host-setup-networks/violations';
import { A, defaultRouteMovedToDisplay, N, request, UNKNOWN, world } from './world';

type Parts = Omit<HostSetupNetworksRequestInput, 'version' | 'hostId'>;
type Edit = Parameters<typeof world>[0];

interface Case {
  /** The request, and optionally a change to the world and a sync report. */
  parts: Parts;
  edit?: Edit;
  syncReport?: SyncReporter;
}

interface Row {
  key: ViolationKey;
  /** Breaks this rule and no other, except the keys in `alsoBreaks` (consequences the engine would report next). */
  failing: Case & { alsoBreaks?: ViolationKey[] };
  /** Valid: no violation at all. */
  passing: Case;
}

function violations({ parts, edit, syncReport }: Case, context: HostSetupNetworksContext = world(edit)): Violation[] {
  const { request: changes } = dropNoOps(completeRequest(request(parts), context));
  return validateHostSetupNetworks(changes, context, syncReport ? { syncReport } : {});
}

const dhcp = { ipv4: { bootProtocol: 'DHCP' as const } };
const vmnetOn = (nicName: string, more: object = {}) => ({ attachments: [{ networkName: 'vmnet', nicName, ...more }] });
const bond1 = (slaves: string[], options?: string) => ({ name: 'bond1', slaves, ...(options ? { options } : {}) });
const storageOutOfSync: SyncReporter = (stored) =>
  stored.networkName === 'storage'
    ? { inSync: false, differences: [{ property: 'MTU', desired: 1500, reported: 9000 }] }
    : { inSync: true };

const TABLE: Row[] = [
  // Each new or modified attachment.
  {
    key: ViolationKey.MODIFIED_NETWORK_ATTACHMENT_DOES_NOT_EXISTS,
    failing: { parts: { attachments: [{ id: UNKNOWN, networkName: 'display', nicName: 'eth1', ipConfiguration: dhcp }] } },
    passing: { parts: { attachments: [{ networkName: 'display', nicName: 'eth1', ipConfiguration: dhcp }] } },
  },
  {
    key: ViolationKey.NETWORK_ATTACHMENT_NETWORK_ID_OR_NAME_IS_NOT_SET,
    failing: { parts: { attachments: [{ nicName: 'eth1' }] } },
    passing: { parts: vmnetOn('eth1') },
  },
  {
    key: ViolationKey.NETWORK_HAVING_ID_NOT_EXISTS,
    failing: { parts: { attachments: [{ networkId: UNKNOWN, nicName: 'eth1' }] } },
    passing: { parts: { attachments: [{ networkId: N.vmnet, nicName: 'eth1' }] } },
  },
  {
    key: ViolationKey.NETWORK_HAVING_NAME_NOT_EXISTS,
    failing: { parts: { attachments: [{ networkName: 'nosuch', nicName: 'eth1' }] } },
    passing: { parts: vmnetOn('eth1') },
  },
  {
    key: ViolationKey.NETWORK_ATTACHMENT_REFERENCES_NETWORK_INCOHERENTLY,
    failing: { parts: { attachments: [{ networkId: N.display, networkName: 'vmnet', nicName: 'eth1', ipConfiguration: dhcp }] } },
    passing: { parts: { attachments: [{ networkId: N.display, networkName: 'display', nicName: 'eth1', ipConfiguration: dhcp }] } },
  },
  {
    key: ViolationKey.NETWORK_ATTACHMENT_IN_BOTH_LISTS,
    failing: { parts: { attachments: [{ id: A.storage, ipConfiguration: dhcp }], removedAttachments: [A.storage] } },
    passing: { parts: { attachments: [{ id: A.storage, ipConfiguration: dhcp }] } },
  },
  {
    key: ViolationKey.ATTACHMENT_REFERENCE_VLAN_DEVICE,
    failing: { parts: vmnetOn('bond0.100') },
    passing: { parts: vmnetOn('bond0') },
  },
  {
    key: ViolationKey.ATTACHMENT_IS_NOT_REUSED,
    // the stored attachment stays, so the network would also be attached twice
    failing: {
      parts: { attachments: [{ networkName: 'storage', nicName: 'eth1' }] },
      alsoBreaks: [ViolationKey.ACTION_TYPE_FAILED_NETWORK_ATTACHMENTS_REFERENCES_SAME_NETWORK_DUPLICATELY],
    },
    passing: { parts: { attachments: [{ id: A.storage, nicName: 'eth1' }] } },
  },
  {
    key: ViolationKey.NETWORK_OF_GIVEN_NAME_NOT_EXISTS_IN_CLUSTER,
    failing: { parts: { attachments: [{ networkName: 'outsider', nicName: 'eth1' }] } },
    passing: {
      parts: { attachments: [{ networkName: 'outsider', nicName: 'eth1' }] },
      edit: (w) => w.clusterNetworks.push({ ...w.clusterNetworks[4], networkId: N.outsider }),
    },
  },
  {
    key: ViolationKey.ACTION_TYPE_FAILED_ROLE_NETWORK_HAS_NO_BOOT_PROTOCOL,
    failing: { parts: { attachments: [{ networkName: 'migration', nicName: 'eth1' }] } },
    passing: {
      parts: { attachments: [{ networkName: 'migration', nicName: 'eth1', ipConfiguration: { ipv6: { bootProtocol: 'DHCP' } } }] },
    },
  },
  {
    key: ViolationKey.HOST_NETWORK_INTERFACE_DOES_NOT_HAVE_NAME_SET,
    failing: { parts: { attachments: [{ networkName: 'vmnet' }] } },
    passing: { parts: vmnetOn('eth1') },
  },
  {
    key: ViolationKey.HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST,
    failing: { parts: vmnetOn('eth9') },
    // a bond the same request creates is a valid NIC
    passing: { parts: { ...vmnetOn('bond1'), bonds: [bond1(['eth1', 'eth4'])] } },
  },
  {
    key: ViolationKey.CANNOT_CHANGE_ATTACHED_NETWORK,
    failing: { parts: { attachments: [{ id: A.storage, networkName: 'vmnet' }] } },
    passing: { parts: { attachments: [{ id: A.storage, networkName: 'storage', nicName: 'eth1' }] } },
  },
  {
    key: ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS,
    failing: { parts: vmnetOn('eth1', { ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: '203.0.113.10' } } }) },
    passing: {
      parts: vmnetOn('eth1', { ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: '203.0.113.10', netmask: '24' } } }),
    },
  },
  {
    key: ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS,
    failing: { parts: vmnetOn('eth1', { ipConfiguration: { ipv4: { bootProtocol: 'DHCP', gateway: '203.0.113.1' } } }) },
    passing: { parts: vmnetOn('eth1', { ipConfiguration: { ipv4: { bootProtocol: 'DHCP' } } }) },
  },
  {
    key: ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_IPV6_GATEWAY_ON_NON_DEFAULT_ROUTE_ROLE,
    failing: {
      parts: vmnetOn('eth1', {
        ipConfiguration: { ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8:3::10', prefix: 64, gateway: '2001:db8:3::1' } },
      }),
    },
    passing: {
      parts: vmnetOn('eth1', { ipConfiguration: { ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8:3::10', prefix: 64 } } }),
    },
  },
  // Removed attachments.
  {
    key: ViolationKey.NETWORK_ATTACHMENTS_TO_BE_REMOVED_DOES_NOT_EXISTS,
    failing: { parts: { removedAttachments: [UNKNOWN] } },
    passing: { parts: { removedAttachments: [A.storage] } },
  },
  {
    key: ViolationKey.NETWORK_CANNOT_REMOVE_MANAGEMENT_NETWORK,
    failing: { parts: { removedAttachments: [A.ovirtmgmt] } },
    passing: { parts: { removedAttachments: [A.storage] } },
  },
  // New or modified bonds.
  {
    key: ViolationKey.NETWORK_BOND_NAME_BAD_FORMAT,
    failing: { parts: { bonds: [{ name: 'team0', slaves: ['eth1', 'eth4'] }] } },
    passing: { parts: { bonds: [{ name: 'bond_storage', slaves: ['eth1', 'eth4'] }] } },
  },
  {
    key: ViolationKey.NETWORK_INTERFACE_IS_NOT_BOND,
    failing: { parts: { removedBonds: ['eth1'] } },
    passing: { parts: { removedBonds: ['bond0'], removedAttachments: [A.storage] } },
  },
  {
    key: ViolationKey.NETWORK_BONDS_INVALID_SLAVE_COUNT,
    failing: { parts: { bonds: [bond1(['eth1'])] } },
    passing: { parts: { bonds: [bond1(['eth1', 'eth4'])] } },
  },
  {
    key: ViolationKey.HOST_NETWORK_INTERFACE_HAVING_NAME_DOES_NOT_EXIST,
    failing: { parts: { bonds: [bond1(['eth1', 'eth9'])] } },
    passing: { parts: { bonds: [bond1(['eth1', 'eth4'])] } },
  },
  {
    key: ViolationKey.NETWORK_INTERFACE_BOND_OR_VLAN_CANNOT_BE_SLAVE,
    failing: { parts: { bonds: [bond1(['eth1', 'bond0.100'])] } },
    passing: { parts: { bonds: [bond1(['eth1', 'eth4'])] } },
  },
  {
    key: ViolationKey.NETWORK_INTERFACE_ALREADY_IN_BOND,
    failing: { parts: { bonds: [bond1(['eth1', 'eth2'])] } },
    // free when bond0 is updated without it in the same request
    passing: { parts: { bonds: [bond1(['eth1', 'eth2']), { name: 'bond0', slaves: ['eth3', 'eth4'] }] } },
  },
  {
    key: ViolationKey.NETWORK_INTERFACE_ADDED_TO_BOND_AND_NETWORK_IS_ATTACHED_TO_IT_AT_THE_SAME_TIME,
    failing: { parts: { ...vmnetOn('eth1'), bonds: [bond1(['eth1', 'eth4'])] } },
    passing: { parts: { ...vmnetOn('bond1'), bonds: [bond1(['eth1', 'eth4'])] } },
  },
  {
    key: ViolationKey.NETWORK_INTERFACE_ATTACHED_TO_NETWORK_CANNOT_BE_SLAVE,
    failing: { parts: { bonds: [bond1(['eth0', 'eth1'])] } },
    passing: { parts: { bonds: [bond1(['eth4', 'eth1'])] } },
  },
  {
    key: ViolationKey.NETWORK_INTERFACE_WITH_UNMANAGED_NETWORK_CANNOT_BE_SLAVE,
    failing: { parts: { bonds: [bond1(['eth5', 'eth1'])] } },
    passing: { parts: { bonds: [bond1(['eth6', 'eth1'])] } },
  },
  {
    key: ViolationKey.NETWORK_INTERFACE_REFERENCED_AS_A_SLAVE_MULTIPLE_TIMES,
    failing: { parts: { bonds: [bond1(['eth1', 'eth4']), { name: 'bond2', slaves: ['eth4', 'eth6'] }] } },
    passing: { parts: { bonds: [bond1(['eth1', 'eth4']), { name: 'bond2', slaves: ['eth7', 'eth6'] }] } },
  },
  // Removed bonds.
  {
    key: ViolationKey.NETWORK_BOND_RECORDS_DOES_NOT_EXISTS,
    failing: { parts: { removedBonds: ['bond7'] } },
    passing: { parts: { removedBonds: ['bond0'], removedAttachments: [A.storage] } },
  },
  {
    key: ViolationKey.BOND_USED_BY_NETWORK_ATTACHMENTS,
    failing: { parts: { removedBonds: ['bond0'] } },
    // moving the network off the bond in the same request frees it
    passing: { parts: { removedBonds: ['bond0'], attachments: [{ id: A.storage, nicName: 'eth1' }] } },
  },
  {
    key: ViolationKey.BONDS_UPDATED_AND_REMOVED_SIMULTANEOUSLY,
    failing: {
      parts: {
        bonds: [{ name: 'bond0', slaves: ['eth2', 'eth3'], options: 'mode=2' }],
        removedBonds: ['bond0'],
        removedAttachments: [A.storage],
      },
    },
    passing: { parts: { bonds: [{ name: 'bond0', slaves: ['eth2', 'eth3'], options: 'mode=2' }] } },
  },
  // The effective set.
  {
    key: ViolationKey.ACTION_TYPE_FAILED_NETWORK_ATTACHMENTS_REFERENCES_SAME_NETWORK_DUPLICATELY,
    failing: {
      parts: {
        attachments: [
          { networkName: 'vmnet', nicName: 'eth1' },
          { networkName: 'vmnet', nicName: 'eth4' },
        ],
      },
    },
    passing: {
      parts: {
        attachments: [
          { networkName: 'vmnet', nicName: 'eth1' },
          { networkName: 'jumbo', nicName: 'eth4' },
        ],
      },
    },
  },
  {
    key: ViolationKey.NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK,
    failing: { parts: { attachments: [{ networkName: 'display', nicName: 'eth0', ipConfiguration: dhcp }] } },
    // VLAN networks share a NIC with the untagged one
    passing: { parts: { attachments: [{ networkName: 'vmnet', nicName: 'eth0' }] } },
  },
  {
    key: ViolationKey.NETWORK_MTU_DIFFERENCES,
    failing: { parts: { attachments: [{ networkName: 'jumbo', nicName: 'eth0' }] } },
    // a NIC with only VLAN networks has no MTU constraint
    passing: {
      parts: {
        attachments: [
          { networkName: 'jumbo', nicName: 'eth1' },
          { networkName: 'vmnet', nicName: 'eth1' },
        ],
      },
    },
  },
  {
    key: ViolationKey.ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT,
    failing: { parts: vmnetOn('eth1', { properties: { bridge_opts: 'forward_delay', ethtool_opts: '-K eth1 tso off' } }) },
    passing: { parts: vmnetOn('eth1', { properties: { bridge_opts: 'forward_delay=1500 hello_time=200' } }) },
  },
  {
    key: ViolationKey.ACTION_TYPE_FAILED_HOST_NETWORK_QOS_SETUP_NETWORKS_MISSING_VALUES,
    failing: { parts: vmnetOn('eth1', { qos: { outAverageUpperlimit: 100 } }) },
    passing: { parts: vmnetOn('eth1', { qos: { outAverageLinkshare: 10, outAverageUpperlimit: 100 } }) },
  },
  {
    key: ViolationKey.ACTION_TYPE_FAILED_HOST_NETWORK_QOS_SETUP_NETWORKS_INCONSISTENT_VALUES,
    failing: { parts: vmnetOn('eth1', { qos: { outAverageLinkshare: 10, outAverageUpperlimit: 50, outAverageRealtime: 100 } }) },
    passing: { parts: vmnetOn('eth1', { qos: { outAverageLinkshare: 10, outAverageUpperlimit: 100, outAverageRealtime: 100 } }) },
  },
  {
    key: ViolationKey.ACTION_TYPE_FAILED_HOST_NETWORK_QOS_INTERFACES_WITHOUT_QOS,
    failing: { parts: vmnetOn('eth0', { qos: { outAverageLinkshare: 10 } }) },
    passing: {
      parts: {
        attachments: [
          { networkName: 'vmnet', nicName: 'eth0', qos: { outAverageLinkshare: 10 } },
          { id: A.ovirtmgmt, qos: { outAverageLinkshare: 50 } },
        ],
      },
    },
  },
  {
    key: ViolationKey.INVALID_BOND_MODE_FOR_BOND_WITH_VM_NETWORK,
    failing: { parts: { ...vmnetOn('bond1'), bonds: [bond1(['eth1', 'eth4'], 'mode=balance-alb miimon=100')] } },
    passing: { parts: { ...vmnetOn('bond1'), bonds: [bond1(['eth1', 'eth4'], 'mode=active-backup miimon=100')] } },
  },
  // Unmanaged networks.
  {
    key: ViolationKey.REMOVED_UNMANAGED_NETWORK_IS_A_CLUSTER_NETWORK,
    failing: { parts: { removedUnmanagedNetworks: ['display'] } },
    passing: { parts: { removedUnmanagedNetworks: ['legacy'] } },
  },
  {
    key: ViolationKey.REMOVED_UNMANAGED_NETWORK_DOES_NOT_EXISIT_ON_HOST,
    failing: { parts: { removedUnmanagedNetworks: ['nosuch'] } },
    passing: { parts: { removedUnmanagedNetworks: ['legacy'] } },
  },
  {
    key: ViolationKey.ACTION_TYPE_FAILED_HOST_NETWORK_ATTACHEMENT_ON_UNMANAGED_NETWORK,
    failing: { parts: vmnetOn('eth5') },
    passing: { parts: { ...vmnetOn('eth5'), removedUnmanagedNetworks: ['legacy'] } },
  },
  // Out of sync.
  {
    key: ViolationKey.NETWORK_NOT_IN_SYNC,
    failing: { parts: { attachments: [{ id: A.storage, nicName: 'eth1' }] }, syncReport: storageOutOfSync },
    passing: { parts: { attachments: [{ id: A.storage, nicName: 'eth1', overrideConfiguration: true }] }, syncReport: storageOutOfSync },
  },
];

describe('validateHostSetupNetworks: one failing and one passing request per key', () => {
  for (const row of TABLE) {
    it(row.key, () => {
      const failed = violations(row.failing);
      expect(failed.map((v) => v.key)).toEqual([row.key, ...(row.failing.alsoBreaks ?? [])]);
      const [only] = failed;
      // the message names what is wrong, the path points into the request
      expect(only?.message.length).toBeGreaterThan(20);
      expect(only?.path.length).toBeGreaterThan(0);
      expect(violations(row.passing)).toEqual([]);
    });
  }

  it('covers every key the validator has', () => {
    expect(new Set(TABLE.map((r) => r.key))).toEqual(new Set(Object.values(ViolationKey)));
  });
});

describe('validateHostSetupNetworks: rules in more detail', () => {
  it('returns every violation of a request at once, in the engine order, each naming its entity', () => {
    const found = violations({
      parts: {
        attachments: [
          { networkName: 'nosuch', nicName: 'eth1' },
          { networkName: 'display', nicName: 'eth9' },
          { networkName: 'vmnet', nicName: 'eth4', ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: '203.0.113.10' } } },
        ],
        removedAttachments: [A.ovirtmgmt],
        bonds: [{ name: 'team0', slaves: ['eth6'] }],
        removedUnmanagedNetworks: ['nosuch'],
      },
    });
    expect(found.map((v) => [v.key, v.path])).toEqual([
      [ViolationKey.NETWORK_HAVING_NAME_NOT_EXISTS, ['attachments', 0, 'networkName']],
      [ViolationKey.ACTION_TYPE_FAILED_ROLE_NETWORK_HAS_NO_BOOT_PROTOCOL, ['attachments', 1, 'ipConfiguration']],
      [ViolationKey.HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST, ['attachments', 1, 'nicName']],
      [
        ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS,
        ['attachments', 2, 'ipConfiguration', 'ipv4'],
      ],
      [ViolationKey.NETWORK_CANNOT_REMOVE_MANAGEMENT_NETWORK, ['removedAttachments', 0]],
      [ViolationKey.NETWORK_BOND_NAME_BAD_FORMAT, ['bonds', 0, 'name']],
      [ViolationKey.NETWORK_BONDS_INVALID_SLAVE_COUNT, ['bonds', 0, 'slaves']],
      [ViolationKey.REMOVED_UNMANAGED_NETWORK_DOES_NOT_EXISIT_ON_HOST, ['removedUnmanagedNetworks', 0]],
    ]);
    expect(found[0]?.message).toBe('attachments[0] (network nosuch on eth1): no data-center network is named nosuch');
    expect(found[2]?.message).toMatch(/attachments\[1\] \(network display on eth9\): host hv1\.example\.test reports no interface eth9/);
    expect(found[3]).toMatchObject({ details: { networkName: 'vmnet', nicName: 'eth4', family: 'ipv4', missing: ['netmask'] } });
    expect(found[4]?.message).toMatch(/management network ovirtmgmt/);
  });

  it('checks the IPv6 gateway of a static IPv6 address too, and reports both families', () => {
    const found = violations({
      parts: vmnetOn('eth1', {
        ipConfiguration: { ipv4: { bootProtocol: 'NONE', address: '203.0.113.10' }, ipv6: { bootProtocol: 'STATIC_IP', prefix: 64 } },
      }),
    });
    expect(found.map((v) => [v.key, v.details.family])).toEqual([
      [ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS, 'ipv4'],
      [ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS, 'ipv6'],
    ]);
  });

  it('lets the default-route network keep its IPv6 gateway, and switches the single-gateway rule off while the role moves', () => {
    const gateway = { ipv6: { bootProtocol: 'STATIC_IP' as const, address: '2001:db8::10', prefix: 64, gateway: '2001:db8::fe' } };
    expect(
      violations({ parts: { attachments: [{ id: A.ovirtmgmt, ipConfiguration: { ...gateway, ipv4: { bootProtocol: 'DHCP' } } }] } }),
    ).toEqual([]);
    const vmnetGateway = vmnetOn('eth4', {
      ipConfiguration: { ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8:3::10', prefix: 64, gateway: '2001:db8:3::1' } },
    });
    expect(violations({ parts: vmnetGateway }).map((v) => v.key)).toEqual([
      ViolationKey.NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_IPV6_GATEWAY_ON_NON_DEFAULT_ROUTE_ROLE,
    ]);
    expect(violations({ parts: vmnetGateway, edit: defaultRouteMovedToDisplay })).toEqual([]);
    // "::" is no gateway
    expect(
      violations({
        parts: vmnetOn('eth4', {
          ipConfiguration: { ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8:3::10', prefix: 64, gateway: '::' } },
        }),
      }),
    ).toEqual([]);
  });

  it('takes bond names by the cluster level: digits only before 4.3', () => {
    const old = (w: Parameters<NonNullable<Edit>>[0]) => (w.cluster.compatibilityVersion = '4.2');
    expect(violations({ parts: { bonds: [{ name: 'bond_a', slaves: ['eth1', 'eth4'] }] }, edit: old }).map((v) => v.key)).toEqual([
      ViolationKey.NETWORK_BOND_NAME_BAD_FORMAT,
    ]);
    expect(violations({ parts: { bonds: [{ name: 'bond12', slaves: ['eth1', 'eth4'] }] }, edit: old })).toEqual([]);
    // longer than the kernel's 15 characters: refused (the engine would let VDSM fail)
    expect(violations({ parts: { bonds: [{ name: 'bond_for_storage1', slaves: ['eth1', 'eth4'] }] } }).map((v) => v.key)).toEqual([
      ViolationKey.NETWORK_BOND_NAME_BAD_FORMAT,
    ]);
  });

  it('checks the mode of a bond the host already has, and not for a network out of sync that is not being synced', () => {
    const roundRobin = (w: Parameters<NonNullable<Edit>>[0]) => (w.host.reportedInterfaces.bonds[0].options = { mode: 'balance-rr' });
    expect(violations({ parts: vmnetOn('bond0'), edit: roundRobin })).toMatchObject([
      { key: ViolationKey.INVALID_BOND_MODE_FOR_BOND_WITH_VM_NETWORK, details: { bondName: 'bond0', networkName: 'vmnet', mode: '0' } },
    ]);
    // a bond sent without options gets the engine's mode 4, fine for VM networks
    expect(violations({ parts: { ...vmnetOn('bond1'), bonds: [bond1(['eth1', 'eth4'])] } })).toEqual([]);
    // vmnet stored on a round-robin bond but out of sync, and the request does not touch it
    const storedOnBond = (w: Parameters<NonNullable<Edit>>[0]) => {
      roundRobin(w);
      w.attachments.push({
        ...w.attachments[1],
        id: UNKNOWN,
        networkId: N.vmnet,
        networkName: 'vmnet',
        ipConfiguration: { ipv4: { bootProtocol: 'NONE' }, ipv6: { bootProtocol: 'NONE' } },
      });
    };
    const vmnetOutOfSync: SyncReporter = (s) => (s.networkName === 'vmnet' ? { inSync: false, differences: [] } : { inSync: true });
    expect(violations({ parts: { removedAttachments: [A.storage] }, edit: storedOnBond })).toMatchObject([
      { key: ViolationKey.INVALID_BOND_MODE_FOR_BOND_WITH_VM_NETWORK },
    ]);
    expect(violations({ parts: { removedAttachments: [A.storage] }, edit: storedOnBond, syncReport: vmnetOutOfSync })).toEqual([]);
  });

  it('refuses bridge_opts on a non-VM network', () => {
    expect(
      violations({
        parts: { attachments: [{ networkName: 'jumbo', nicName: 'eth1', properties: { bridge_opts: 'forward_delay=1500' } }] },
      }),
    ).toMatchObject([
      { key: ViolationKey.ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT, details: { unknownKeys: ['bridge_opts'] } },
    ]);
  });

  it('lists the out-of-sync properties, desired and host values', () => {
    const [found] = violations({ parts: { attachments: [{ id: A.storage, nicName: 'eth1' }] }, syncReport: storageOutOfSync });
    expect(found).toMatchObject({
      details: { networkName: 'storage', attachmentId: A.storage, differences: ['MTU: desired 1500, host 9000'] },
    });
  });

  it('does not validate what dropNoOps dropped: an unchanged attachment of an out-of-sync network passes', () => {
    expect(violations({ parts: { attachments: [{ id: A.storage }] }, syncReport: storageOutOfSync })).toEqual([]);
  });
});
