/**
 * Host QoS in the model (model/network/host-qos.ts): each device's tree from the networks on it, as VDSM
 * shapes it, what a change does to a device for what it holds, and the rates tc can show exactly.
 */
import { describe, expect, it } from 'vitest';
import { VdsmCode, VdsmError } from '../../model/vdsm/error-codes';
import {
  desiredDeviceQos,
  qosAction,
  qosBefore,
  qosDevices,
  reportedHostQos,
  sameDeviceQos,
  tcShowsExactly,
  type DeviceQos,
} from '../../model/network/host-qos';

const networks = {
  untagged: { nic: 'eth1', hostQos: { ls: 50, ul: 100_000_000 } },
  v100: { nic: 'eth1', vlan: 100, hostQos: { ls: 20 } },
  v200: { nic: 'eth1', vlan: 200, hostQos: { ls: 30, rt: 10_000_000 } },
  plain: { nic: 'eth2' },
  onBond: { bonding: 'bond0', vlan: 7, hostQos: { ls: 5 } },
};

describe("a device's QoS tree", () => {
  it('has a class per network on the device (the untagged one the default class) and a filter per VLAN', () => {
    expect(desiredDeviceQos(networks, 'eth1')).toEqual({
      classes: [
        { minor: 100, ls: 160 },
        { minor: 200, ls: 240, rt: 10_000_000 },
        { minor: 0x1388, ls: 400, ul: 100_000_000 },
      ],
      vlans: [100, 200],
    });
  });

  it('without an untagged network, has a default class that shares like the largest share (VDSM)', () => {
    expect(desiredDeviceQos({ v100: networks.v100, v200: networks.v200 }, 'eth1')?.classes).toContainEqual({ minor: 0x1388, ls: 240 });
    expect(desiredDeviceQos(networks, 'bond0')).toEqual({
      classes: [
        { minor: 7, ls: 40 },
        { minor: 0x1388, ls: 40 },
      ],
      vlans: [7],
    });
  });

  it('is none on a device whose networks have no QoS; only devices with one are QoS devices', () => {
    expect(desiredDeviceQos(networks, 'eth2')).toBeNull();
    expect(qosDevices(networks)).toEqual(['bond0', 'eth1']);
    expect(qosDevices({ plain: networks.plain }, { v100: networks.v100 }, { again: networks.v100 })).toEqual(['eth1']);
  });

  it('compares by classes and VLANs, in any order', () => {
    const a = desiredDeviceQos(networks, 'eth1') as DeviceQos;
    const b: DeviceQos = { classes: [...a.classes].reverse(), vlans: [...a.vlans].reverse() };
    expect(sameDeviceQos(a, b)).toBe(true);
    expect(sameDeviceQos(a, { ...a, vlans: [100] })).toBe(false);
    expect(sameDeviceQos(a, null)).toBe(false);
    expect(sameDeviceQos(null, null)).toBe(true);
  });

  it('reports a class as VDSM does: the share divided back, rates as they are, m1 and d zero', () => {
    expect(reportedHostQos({ minor: 0x1388, ls: 400, ul: 100_000_000 })).toEqual({
      out: { ls: { m1: 0, d: 0, m2: 50 }, ul: { m1: 0, d: 0, m2: 100_000_000 } },
    });
  });
});

describe('what a change does to a device', () => {
  const tree = desiredDeviceQos(networks, 'eth1') as DeviceQos;

  it('nothing when it holds the tree, intact', () => {
    expect(qosAction('eth1', tree, { kind: 'hostprov', qos: tree, intact: true })).toBeNull();
    expect(qosAction('eth1', null, { kind: 'none' })).toBeNull();
  });

  it('rebuilds hostprov’s tree when it differs or is incomplete, and builds one where there was none', () => {
    expect(qosAction('eth1', tree, { kind: 'hostprov', qos: tree, intact: false })).toEqual({ dev: 'eth1', clear: true, set: tree });
    expect(qosAction('eth1', null, { kind: 'hostprov', qos: tree, intact: true })).toEqual({ dev: 'eth1', clear: true, set: null });
    expect(qosAction('eth1', tree, { kind: 'none' })).toEqual({ dev: 'eth1', clear: false, set: tree });
    expect(qosAction('bond0', tree, { kind: 'absent' })).toEqual({ dev: 'bond0', clear: false, set: tree });
  });

  it('builds the tree anew on a device the change deletes and makes again, and nothing on one it only deletes', () => {
    expect(qosAction('bond0', tree, { kind: 'hostprov', qos: tree, intact: true }, true)).toEqual({
      dev: 'bond0',
      clear: false,
      set: tree,
    });
    expect(qosAction('bond0', null, { kind: 'hostprov', qos: tree, intact: true }, true)).toBeNull();
    expect(qosAction('bond0', tree, { kind: 'foreign', root: 'htb 1:' }, true)).toEqual({ dev: 'bond0', clear: false, set: tree });
  });

  it('never touches queueing hostprov did not set, and refuses a QoS on top of it', () => {
    expect(qosAction('eth1', null, { kind: 'foreign', root: 'htb 1:' })).toBeNull();
    let refused: unknown;
    try {
      qosAction('eth1', tree, { kind: 'foreign', root: 'htb 1:' });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(VdsmError);
    expect((refused as VdsmError).code).toBe(VdsmCode.BAD_PARAMS);
    expect((refused as VdsmError).message).toContain('htb 1:');
  });

  it('is undone by the tree the device had, or none', () => {
    expect(qosBefore({ kind: 'hostprov', qos: tree, intact: true })).toBe(tree);
    expect(qosBefore({ kind: 'none' })).toBeNull();
    expect(qosBefore({ kind: 'absent' })).toBeNull();
  });
});

describe('rates tc shows exactly', () => {
  it.each([
    [0, true],
    [160, true],
    [999_992, true],
    [1_500_000, true],
    [200_000_000, true],
    [12_345_000, true],
    [12_345_678, false],
    [1_000_008, false],
  ])('%d bit/s: %s', (bits, exact) => expect(tcShowsExactly(bits)).toBe(exact));
});
