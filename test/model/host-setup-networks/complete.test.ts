/** The request schema, completeRequest and dropNoOps (the engine's completers and no-op dropping). World: ./world.ts. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { completeRequest, dropNoOps, ENGINE_DEFAULT_BOND_OPTIONS, NetworkResolution } from '../../../model/host-setup-networks/complete';
import { HostSetupNetworksContext } from '../../../model/host-setup-networks/context';
import { HostSetupNetworksPreconditionError } from '../../../model/host-setup-networks/errors';
import { PreparedKind, prepareHostSetupNetworks } from '../../../model/host-setup-networks/prepare';
import { HostSetupNetworksRequest } from '../../../model/host-setup-networks/request';
import { A, HOST, N, request, UNKNOWN, world, worldJson } from './world';

const context = world();
const complete = (parts: Parameters<typeof request>[0]) => completeRequest(request(parts), context);
const STORAGE_IP = { ipv4: { bootProtocol: 'STATIC_IP', address: '198.51.100.10', netmask: '24' }, ipv6: { bootProtocol: 'NONE' } };

describe('the request schema', () => {
  it('fills the defaults: empty lists, rollback on, 120 s, no commit, no sync', () => {
    expect(HostSetupNetworksRequest.parse({ version: 1, hostId: HOST, attachments: [{ networkName: 'vmnet', nicName: 'eth1' }] })).toEqual({
      version: 1,
      hostId: HOST,
      attachments: [{ networkName: 'vmnet', nicName: 'eth1', overrideConfiguration: false }],
      removedAttachments: [],
      bonds: [],
      removedBonds: [],
      removedUnmanagedNetworks: [],
      options: { rollbackOnFailure: true, connectivityTimeoutSeconds: 120, commitOnSuccess: false },
    });
  });

  it('refuses unknown fields, another version, malformed addresses and masks, and anything listed twice', () => {
    const issues = (value: object) =>
      HostSetupNetworksRequest.safeParse({ version: 1, hostId: HOST, ...value }).error?.issues.map(
        (i) => `${i.path.join('.')}: ${i.message}`,
      ) ?? [];
    expect(issues({ attachments: [{ networkName: 'vmnet', nic: 'eth1' }] })).toEqual(['attachments.0: Unrecognized key: "nic"']);
    expect(HostSetupNetworksRequest.safeParse({ version: 2, hostId: HOST }).success).toBe(false);
    expect(
      issues({
        attachments: [{ ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: '10.0.0.300', netmask: '255.0.255.0' } } }],
      }),
    ).toEqual([
      'attachments.0.ipConfiguration.ipv4.address: not an IPv4 address',
      'attachments.0.ipConfiguration.ipv4.netmask: a netmask is dotted (255.255.255.0) or a prefix length 0..32',
    ]);
    expect(
      issues({ attachments: [{ ipConfiguration: { ipv6: { bootProtocol: 'STATIC_IP', address: '192.0.2.1', prefix: 129 } } }] }),
    ).toHaveLength(2);
    expect(
      issues({
        attachments: [{ id: A.storage }, { id: A.storage }],
        removedAttachments: [A.storage, A.storage],
        bonds: [
          { name: 'bond1', slaves: [] },
          { name: 'bond1', slaves: [] },
        ],
        removedBonds: ['bond0', 'bond0'],
        removedUnmanagedNetworks: ['x', 'x'],
      }),
    ).toEqual([
      `attachments.1: attachment ${A.storage} is listed twice`,
      `removedAttachments.1: attachment ${A.storage} is listed twice`,
      'bonds.1: bond bond1 is listed twice',
      'removedBonds.1: bond bond0 is listed twice',
      'removedUnmanagedNetworks.1: network x is listed twice',
    ]);
  });

  it('takes a netmask dotted or as a prefix with or without a slash', () => {
    for (const netmask of ['255.255.255.0', '24', '/24', '0']) {
      expect(
        HostSetupNetworksRequest.safeParse({
          version: 1,
          hostId: HOST,
          attachments: [{ ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', netmask } } }],
        }).success,
      ).toBe(true);
    }
  });

  it('has a JSON Schema for callers that are not TypeScript', () => {
    const schema = z.toJSONSchema(HostSetupNetworksRequest, { io: 'input' }) as { required: string[]; properties: Record<string, unknown> };
    expect(schema.required).toEqual(['version', 'hostId']);
    expect(Object.keys(schema.properties)).toEqual([
      'version',
      'hostId',
      'attachments',
      'removedAttachments',
      'bonds',
      'removedBonds',
      'removedUnmanagedNetworks',
      'options',
    ]);
  });
});

describe('completeRequest', () => {
  it('resolves the network by name or by id among the data-center networks', () => {
    const [byName, byId, both, none, unknownName, unknownId, incoherent] = complete({
      attachments: [
        { networkName: 'vmnet' },
        { networkId: N.outsider },
        { networkId: N.jumbo, networkName: 'jumbo' },
        {},
        { networkName: 'nosuch' },
        { networkId: UNKNOWN },
        { networkId: N.jumbo, networkName: 'vmnet' },
      ],
    }).attachments;
    expect([byName?.network?.id, byId?.network?.name, both?.network?.name]).toEqual([N.vmnet, 'outsider', 'jumbo']);
    expect([none, unknownName, unknownId, incoherent].map((a) => [a?.networkResolution, a?.network])).toEqual([
      [NetworkResolution.NOT_SET, null],
      [NetworkResolution.UNKNOWN_NAME, null],
      [NetworkResolution.UNKNOWN_ID, null],
      [NetworkResolution.INCOHERENT, null],
    ]);
  });

  it('fills a missing IP family, or a missing configuration, with boot protocol NONE', () => {
    const [one, none] = complete({
      attachments: [{ networkName: 'vmnet', ipConfiguration: { ipv4: { bootProtocol: 'DHCP' } } }, { networkName: 'jumbo' }],
    }).attachments;
    expect(one?.ipConfiguration).toEqual({ ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } });
    expect(none?.ipConfiguration).toEqual({ ipv4: { bootProtocol: 'NONE' }, ipv6: { bootProtocol: 'NONE' } });
  });

  it('keeps the stored values a modification leaves out; a value given replaces the stored one, null included', () => {
    const withQos = world((w) => (w.attachments[1].qos = { outAverageLinkshare: 5 }));
    const [kept, replaced] = completeRequest(
      request({
        attachments: [
          { id: A.storage, nicName: 'eth1' },
          { id: A.ovirtmgmt, ipConfiguration: { ipv4: { bootProtocol: 'DHCP' } }, qos: null },
        ],
      }),
      withQos,
    ).attachments;
    expect(kept).toMatchObject({
      id: A.storage,
      network: { id: N.storage },
      nicName: 'eth1',
      ipConfiguration: STORAGE_IP,
      qos: { outAverageLinkshare: 5 },
      properties: {},
      dns: null,
    });
    expect(replaced).toMatchObject({
      network: { name: 'ovirtmgmt' },
      nicName: 'eth0',
      ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } },
      qos: null,
    });
  });

  it("gives a bond sent without options the engine's mode=4 miimon=100 xmit_hash_policy=2, and knows which bonds the host has", () => {
    const bonds = complete({
      bonds: [
        { name: 'bond1', slaves: ['eth1', 'eth4'] },
        { name: 'bond2', slaves: ['eth6', 'eth7'], options: ' ' },
        { name: 'bond0', slaves: ['eth2', 'eth3'], options: 'mode=2' },
      ],
    }).bonds;
    expect(bonds.map((b) => [b.options, b.reported?.name ?? null])).toEqual([
      [ENGINE_DEFAULT_BOND_OPTIONS, null],
      [ENGINE_DEFAULT_BOND_OPTIONS, null],
      ['mode=2', 'bond0'],
    ]);
    expect(ENGINE_DEFAULT_BOND_OPTIONS).toBe('mode=4 miimon=100 xmit_hash_policy=2');
  });

  it('refuses a request for another host than the context is about', () => {
    expect(() => completeRequest(HostSetupNetworksRequest.parse({ version: 1, hostId: 'host-2' }), context)).toThrow(
      HostSetupNetworksPreconditionError,
    );
  });
});

describe('dropNoOps', () => {
  const drop = (parts: Parameters<typeof request>[0], ctx = context) => dropNoOps(completeRequest(request(parts), ctx));

  it('drops an attachment equal to the stored one, given whole or by id alone; the request is then a no-op', () => {
    for (const attachment of [
      { id: A.storage },
      { id: A.storage, networkName: 'storage', nicName: 'bond0', ipConfiguration: STORAGE_IP, properties: {}, qos: null, dns: null },
    ]) {
      const result = drop({ attachments: [attachment as never] });
      expect(result.noOp).toBe(true);
      expect(result.request.attachments).toEqual([]);
      expect(result.dropped.attachments.map((a) => a.id)).toEqual([A.storage]);
    }
  });

  it('keeps an unchanged attachment being synced, and any change', () => {
    expect(drop({ attachments: [{ id: A.storage, overrideConfiguration: true }] })).toMatchObject({
      noOp: false,
      dropped: { attachments: [] },
    });
    for (const change of [
      { nicName: 'eth1' },
      { ipConfiguration: { ipv4: { bootProtocol: 'DHCP' as const } } },
      { properties: { bridge_opts: 'a=b' } },
      { qos: { outAverageLinkshare: 1 } },
      { dns: { nameServers: ['192.0.2.1'] } },
    ]) {
      expect(drop({ attachments: [{ id: A.storage, ...change }] }).noOp).toBe(false);
    }
  });

  it('drops a bond equal to the reported one (slaves in any order, mode by name or number) and keeps a changed one', () => {
    expect(drop({ bonds: [{ name: 'bond0', slaves: ['eth3', 'eth2'], options: 'mode=active-backup miimon=100' }] })).toMatchObject({
      noOp: true,
      dropped: { bonds: [{ name: 'bond0' }] },
    });
    expect(drop({ bonds: [{ name: 'bond0', slaves: ['eth3', 'eth2'], options: 'mode=1' }] }).noOp).toBe(false);
    expect(drop({ bonds: [{ name: 'bond0', slaves: ['eth2', 'eth3', 'eth4'], options: 'mode=1 miimon=100' }] }).noOp).toBe(false);
    // a new bond is never a no-op
    expect(drop({ bonds: [{ name: 'bond1', slaves: ['eth1', 'eth4'] }] }).noOp).toBe(false);
  });

  it('is not a no-op while anything else remains; an empty request is one', () => {
    expect(drop({ attachments: [{ id: A.storage }], removedUnmanagedNetworks: ['legacy'] })).toMatchObject({
      noOp: false,
      request: { attachments: [], removedUnmanagedNetworks: ['legacy'] },
    });
    expect(drop({ removedBonds: ['bond7'] }).noOp).toBe(false);
    expect(drop({}).noOp).toBe(true);
  });

  it('prepareHostSetupNetworks answers a no-op without validating, building or planning', () => {
    // ATTACHMENT_IS_NOT_REUSED would refuse a new one; an unchanged one is simply nothing to do
    expect(prepareHostSetupNetworks(request({ attachments: [{ id: A.storage }, { id: A.ovirtmgmt }] }), context)).toMatchObject({
      kind: PreparedKind.NO_OP,
      dropped: { attachments: [{ id: A.storage }, { id: A.ovirtmgmt }], bonds: [] },
    });
  });
});

describe('the context', () => {
  const issues = (edit: (w: ReturnType<typeof worldJson>) => void) => {
    const json = worldJson();
    edit(json);
    return HostSetupNetworksContext.safeParse(json).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
  };
  it('needs a host in the cluster with an interface report, and rows that belong together', () => {
    expect(issues(() => undefined)).toEqual([]);
    expect(issues((w) => (w.host.reportedInterfaces = null))).toEqual([
      'host.reportedInterfaces: Invalid input: expected object, received null',
    ]);
    expect(issues((w) => (w.host.clusterId = 'cluster-2'))).toEqual(['cluster.id: host host-1 is in cluster cluster-2, not cluster-1']);
    expect(issues((w) => (w.attachments[0].hostId = 'host-2'))).toEqual([
      `attachments.0.hostId: attachment ${A.ovirtmgmt} belongs to host host-2`,
    ]);
    expect(issues((w) => w.networks.pop())).toEqual([]);
    expect(issues((w) => w.networks.shift())).toEqual([
      `clusterNetworks.0.networkId: network ${N.ovirtmgmt} is not among the networks`,
      `attachments.0.networkId: network ${N.ovirtmgmt} is not among the networks`,
    ]);
  });
});
