/**
 * Drift informs; it never blocks: prepareHostSetupNetworks with the real out-of-sync reporter (its
 * default), on a host whose storage network drifts. Modifying storage without syncing it is refused with
 * every differing property and both values; any other request goes through with a warning; syncing or
 * removing storage gives neither. World: ./world.ts.
 */
import { describe, expect, it } from 'vitest';
import { DriftWarningKind } from '../../../model/host-setup-networks/drift';
import { PreparedKind, prepareHostSetupNetworks, type PreparedHostSetupNetworks } from '../../../model/host-setup-networks/prepare';
import { alwaysInSync } from '../../../model/host-setup-networks/sync';
import { ViolationKey } from '../../../model/host-setup-networks/violations';
import { A, defaultRouteMovedToDisplay, request, world } from './world';

type Json = ReturnType<typeof JSON.parse>;
type Parts = Parameters<typeof request>[0];

/** The host has storage (VLAN 100 on bond0) with MTU 9000 and address 198.51.100.99; the data center says 1500 and 198.51.100.10. */
function storageDrifts(json: Json): void {
  const storage = json.host.reportedInterfaces.networks.find((n: Json) => n.name === 'storage');
  storage.mtu = 9000;
  storage.ipv4 = { bootProtocol: 'STATIC_IP', address: '198.51.100.99', netmask: '255.255.255.0', gateway: null };
}

/** The host no longer reports storage at all. */
function storageGone(json: Json): void {
  json.host.reportedInterfaces.networks = json.host.reportedInterfaces.networks.filter((n: Json) => n.name !== 'storage');
}

function prepare(parts: Parts, ...edits: Array<(json: Json) => void>): PreparedHostSetupNetworks {
  return prepareHostSetupNetworks(
    request(parts),
    world((json) => edits.forEach((edit) => edit(json))),
  );
}

const STORAGE_DIFFERENCES = ['MTU: desired 1500, host 9000', 'IPV4_ADDRESS: desired 198.51.100.10, host 198.51.100.99'];
const dhcp = { ipv4: { bootProtocol: 'DHCP' as const } };

describe('drift informs; it never blocks', () => {
  it('refuses a change to the drifting network without sync, naming each differing property with both values', () => {
    const prepared = prepare({ attachments: [{ id: A.storage, ipConfiguration: dhcp }] }, storageDrifts);
    expect(prepared.kind).toBe(PreparedKind.INVALID);
    if (prepared.kind !== PreparedKind.INVALID) return;
    expect(prepared.violations).toEqual([
      {
        key: ViolationKey.NETWORK_NOT_IN_SYNC,
        message: expect.stringContaining('MTU: desired 1500, host 9000; IPV4_ADDRESS: desired 198.51.100.10, host 198.51.100.99'),
        path: ['attachments', 0],
        details: { networkName: 'storage', attachmentId: A.storage, differences: STORAGE_DIFFERENCES },
      },
    ]);
    expect(prepared.warnings).toEqual([]);
  });

  it('lets a change that does not touch the drifting network through, with a warning naming the drift', () => {
    const prepared = prepare({ attachments: [{ networkName: 'vmnet', nicName: 'eth1' }] }, storageDrifts);
    expect(prepared.kind).toBe(PreparedKind.READY);
    expect(prepared.warnings).toEqual([
      {
        kind: DriftWarningKind.OUT_OF_SYNC,
        attachmentId: A.storage,
        networkName: 'storage',
        nicName: 'bond0',
        differences: STORAGE_DIFFERENCES,
        resent: false,
        message: expect.stringMatching(
          /^network storage on bond0 is out of sync \(MTU: desired 1500, host 9000; .*\); this request does not touch it$/,
        ),
      },
    ]);
  });

  it('lets a change to the bond under the drifting network through, with the warning', () => {
    const prepared = prepare({ bonds: [{ name: 'bond0', slaves: ['eth2', 'eth3'], options: 'mode=4 miimon=100' }] }, storageDrifts);
    expect(prepared.kind).toBe(PreparedKind.READY);
    expect(prepared.warnings.map((w) => [w.networkName, w.kind])).toEqual([['storage', 'out-of-sync']]);
  });

  it('syncs the drifting network with overrideConfiguration: accepted, re-sent, no warning', () => {
    const prepared = prepare({ attachments: [{ id: A.storage, overrideConfiguration: true }] }, storageDrifts);
    expect(prepared.kind).toBe(PreparedKind.READY);
    if (prepared.kind !== PreparedKind.READY) return;
    expect(Object.keys(prepared.payload.networks)).toEqual(['storage']);
    expect(prepared.payload.networks.storage).toMatchObject({ mtu: 1500, ipaddr: '198.51.100.10' });
    expect(prepared.warnings).toEqual([]);
  });

  it('removes the drifting network without refusal or warning', () => {
    const prepared = prepare({ removedAttachments: [A.storage] }, storageDrifts);
    expect(prepared).toMatchObject({ kind: PreparedKind.READY, warnings: [] });
  });

  it('warns on a request that changes nothing, too', () => {
    const prepared = prepare({ attachments: [{ id: A.storage }] }, storageDrifts);
    expect(prepared.kind).toBe(PreparedKind.NO_OP);
    expect(prepared.warnings.map((w) => w.networkName)).toEqual(['storage']);
  });

  it('warns on a refused request about the drift it did not cause', () => {
    const prepared = prepare({ attachments: [{ networkName: 'nosuch', nicName: 'eth1' }] }, storageDrifts);
    expect(prepared.kind).toBe(PreparedKind.INVALID);
    expect(prepared.warnings.map((w) => w.networkName)).toEqual(['storage']);
  });

  it('does not refuse a change to a network the host does not report; it warns about it when untouched', () => {
    expect(prepare({ attachments: [{ id: A.storage, ipConfiguration: dhcp }] }, storageGone)).toMatchObject({
      kind: PreparedKind.READY,
      warnings: [],
    });
    const untouched = prepare({ attachments: [{ networkName: 'vmnet', nicName: 'eth1' }] }, storageGone);
    expect(untouched.kind).toBe(PreparedKind.READY);
    expect(untouched.warnings).toEqual([
      expect.objectContaining({ kind: DriftWarningKind.NOT_REPORTED, networkName: 'storage', differences: [] }),
    ]);
  });

  it('says so when the default-route move re-sends a drifting network the request does not name', () => {
    // the role moved to display: the host still holds the route on ovirtmgmt, so both differ in DEFAULT_ROUTE
    const prepared = prepare({ attachments: [{ id: A.display, overrideConfiguration: true }] }, defaultRouteMovedToDisplay);
    expect(prepared.kind).toBe(PreparedKind.READY);
    expect(prepared.warnings).toEqual([
      expect.objectContaining({
        networkName: 'ovirtmgmt',
        resent: true,
        differences: ['DEFAULT_ROUTE: desired false, host true'],
        message: expect.stringContaining('re-sends it'),
      }),
    ]);
    // without sync, changing display is refused: the host does not hold the route there yet
    const refused = prepare({ attachments: [{ id: A.display, ipConfiguration: dhcp }] }, defaultRouteMovedToDisplay);
    expect(refused.kind === PreparedKind.INVALID && refused.violations.map((v) => v.details.differences)).toEqual([
      ['DEFAULT_ROUTE: desired true, host false'],
    ]);
  });

  it('checks nothing with alwaysInSync', () => {
    const prepared = prepareHostSetupNetworks(request({ attachments: [{ id: A.storage, ipConfiguration: dhcp }] }), world(storageDrifts), {
      syncReport: alwaysInSync,
    });
    expect(prepared).toMatchObject({ kind: PreparedKind.READY, warnings: [] });
  });
});
