/**
 * The flag values of the host networking commands, in process: every value an operator can type parses
 * to the model's type or fails with a message naming the flag, and store errors become the operator's
 * message with the rule's name, its sentence and the exit code. The commands themselves run through
 * bin/hostprov in host-networking-catalogue.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  addAttachmentRequest,
  Ipv4Flag,
  Ipv6Flag,
  removeAttachmentRequest,
  updateAttachmentRequest,
} from '../../cli/host-networking/attachment-request';
import { describeChanges } from '../../cli/host-networking/output';
import type { NetworkAttachment } from '../../model/host-networking/network-attachment';
import { cliErrorFromStore, HostNetworkingExit, RULE_SENTENCES } from '../../cli/host-networking/store-errors';
import {
  DnsServersFlag,
  MtuFlag,
  PortFlag,
  PropertiesFlag,
  QosFlag,
  rolesFromFlags,
  VlanFlag,
} from '../../cli/host-networking/value-flags';
import { parseFlags } from '../../cli/flags';
import { UsageError } from '../../cli/usage-error';
import {
  StoreBusyError,
  StoreConstraint,
  StoreConstraintError,
  StoreEntity,
  StoreInputError,
  StoreNotFoundError,
} from '../../store/errors';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('host networking flag values', () => {
  const Flags = z.object({
    vlan: VlanFlag.optional(),
    mtu: MtuFlag.optional(),
    dnsServers: DnsServersFlag.optional(),
    qos: QosFlag.optional(),
    property: PropertiesFlag.optional(),
    agentPort: PortFlag.optional(),
  });
  const parse = (raw: Record<string, unknown>) => parseFlags(Flags, raw);

  it("parses what operators type into the model's values", () => {
    expect(
      parse({
        vlan: '100',
        mtu: '9000',
        dnsServers: '192.0.2.53,2001:db8::53',
        qos: 'linkshare=50,upperlimit=2000,realtime=100',
        property: ['bridge_opts=forward_delay=1500', 'ethtool_opts=-K eth0 tx off'],
        agentPort: '54321',
      }),
    ).toEqual({
      vlan: 100,
      mtu: 9000,
      dnsServers: ['192.0.2.53', '2001:db8::53'],
      qos: { outAverageLinkshare: 50, outAverageUpperlimit: 2000, outAverageRealtime: 100 },
      property: { bridge_opts: 'forward_delay=1500', ethtool_opts: '-K eth0 tx off' },
      agentPort: 54321,
    });
    expect(parse({ vlan: 'none', dnsServers: 'none', qos: 'none', mtu: '0' })).toEqual({ vlan: null, dnsServers: [], qos: null, mtu: 0 });
  });

  it.each([
    [{ vlan: '4095' }, /^--vlan: /],
    [{ vlan: '-1' }, /^--vlan: /],
    [{ vlan: 'ten' }, /^--vlan: /],
    [{ mtu: '67' }, /^--mtu: MTU is 0 \(default\) or 68\.\.65535$/],
    [{ mtu: '1e3' }, /^--mtu: an MTU is a whole number$/],
    [{ dnsServers: '192.0.2.1,192.0.2.2,192.0.2.3,192.0.2.4' }, /^--dns-servers: at most 3 name servers$/],
    [{ dnsServers: 'ns1.example.test' }, /^--dns-servers: /],
    [{ qos: 'linkshare=0' }, /^--qos: /],
    [{ qos: 'linkshare=101' }, /^--qos: /],
    [{ qos: 'burst=5' }, /^--qos: "burst=5": expected linkshare=N/],
    [{ property: ['novalue'] }, /^--property: "novalue": expected key=value$/],
    [{ property: ['a=1', 'a=2'] }, /^--property: property a is given twice$/],
    [{ property: ['bad key=1'] }, /^--property: property bad key: property names are 1\.\.128/],
    [{ agentPort: '0' }, /^--agent-port: ports are 1\.\.65535$/],
    [{ agentPort: '65536' }, /^--agent-port: ports are 1\.\.65535$/],
  ])('refuses %j naming the flag', (raw, message) => {
    expect(usageMessage(() => parse(raw))).toMatch(message);
  });

  it('sets only the roles whose flags were given', () => {
    expect(rolesFromFlags({})).toEqual({});
    expect(rolesFromFlags({ display: true, migration: false })).toEqual({ display: true, migration: false });
  });
});

describe('store errors for operators', () => {
  it('names the rule and says it in a sentence, exit 3; every rule has a sentence', () => {
    const err = cliErrorFromStore(
      new StoreConstraintError(StoreConstraint.NETWORK_IN_USE, 'network storage is attached to cluster c1; detach it first'),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(HostNetworkingExit.REFUSED);
    expect((err as Error).message).toBe(
      'refused by rule network_in_use (a network attached to a cluster or a host cannot be removed): network storage is attached to cluster c1; detach it first; nothing was changed',
    );
    for (const constraint of Object.values(StoreConstraint)) expect(RULE_SENTENCES[constraint]).toMatch(/^[a-z].{10,}/);
  });

  it('bad input exits 2, a missing row 4, a busy database 1; other errors pass through', () => {
    const input = cliErrorFromStore(new StoreInputError('network', ['mtu: too small'])) as UsageError;
    expect([input.exitCode, input.message]).toEqual([2, 'invalid network: mtu: too small; nothing was changed']);
    const missing = cliErrorFromStore(new StoreNotFoundError(StoreEntity.HOST, 'h9')) as UsageError;
    expect([missing.exitCode, missing.message]).toEqual([4, 'host h9 does not exist; nothing was changed']);
    expect((cliErrorFromStore(new StoreBusyError('locked')) as UsageError).exitCode).toBe(1);
    const other = new Error('boom');
    expect(cliErrorFromStore(other)).toBe(other);
  });
});

describe('what a write prints', () => {
  it('lists changed fields, walks objects present on both sides, skips timestamps', () => {
    const before = { name: 'a', mtu: 1500, qos: { outAverageLinkshare: 5 }, agent: { host: 'h', port: 1 }, updatedAt: '1' };
    const after = { name: 'a', mtu: 9000, qos: { outAverageLinkshare: 6 }, agent: null, updatedAt: '2' };
    expect(describeChanges(before, after)).toEqual([
      'mtu: 1500 → 9000',
      'qos.outAverageLinkshare: 5 → 6',
      'agent: {"host":"h","port":1} → -',
    ]);
    expect(describeChanges(before, before)).toEqual([]);
  });
});

describe('attachment commands as hostSetupNetworks requests', () => {
  const stored: NetworkAttachment = {
    id: '6f1c2a9e-0b7d-4c1e-9a35-2d4f8e6b1c70',
    hostId: 'host-1',
    networkId: '0b5e8a4c-3f2d-4e61-8c9b-7a1d2e3f4a5b',
    networkName: 'storage',
    nicName: 'eth1',
    ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } },
    properties: {},
    qos: null,
    dns: null,
    requestedBy: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
  const Ip = z.object({ ipv4: Ipv4Flag.optional(), ipv6: Ipv6Flag.optional() });

  it("parses the IP flags into the request's address shapes", () => {
    expect(
      parseFlags(Ip, { ipv4: 'static:192.0.2.10/255.255.255.0,gateway=192.0.2.1', ipv6: 'static:2001:db8::10/64,gateway=2001:db8::1' }),
    ).toEqual({
      ipv4: { bootProtocol: 'STATIC_IP', address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1' },
      ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8::10', prefix: 64, gateway: '2001:db8::1' },
    });
    expect(parseFlags(Ip, { ipv4: 'dhcp', ipv6: 'dhcp+autoconf' })).toEqual({
      ipv4: { bootProtocol: 'DHCP' },
      ipv6: { bootProtocol: 'POLY_DHCP_AUTOCONF' },
    });
    expect(parseFlags(Ip, { ipv4: 'none', ipv6: 'none' })).toEqual({ ipv4: { bootProtocol: 'NONE' }, ipv6: { bootProtocol: 'NONE' } });
    for (const ipv4 of ['static:192.0.2.10', 'static:192.0.2.300/24', 'static:192.0.2.10/33', 'static:192.0.2.10/24,gw=192.0.2.1', 'bootp'])
      expect(usageMessage(() => parseFlags(Ip, { ipv4 }))).toMatch(/^--ipv4: /);
    for (const ipv6 of ['static:2001:db8::10', 'static:2001:db8::10/129', 'static:192.0.2.1/64', 'slaac'])
      expect(usageMessage(() => parseFlags(Ip, { ipv6 }))).toMatch(/^--ipv6: /);
  });

  it('add is one new attachment, by network name or id; update names the stored one and only the given fields; remove is one removal', () => {
    const byName = addAttachmentRequest(
      'host-1',
      'storage',
      { nic: 'bond0', ipv4: { bootProtocol: 'DHCP' }, dns: { nameServers: ['192.0.2.53'] } },
      { rollbackOnFailure: false },
    );
    expect(byName).toEqual({
      version: 1,
      hostId: 'host-1',
      attachments: [
        {
          networkName: 'storage',
          nicName: 'bond0',
          ipConfiguration: { ipv4: { bootProtocol: 'DHCP' } },
          dns: { nameServers: ['192.0.2.53'] },
          overrideConfiguration: false,
        },
      ],
      removedAttachments: [],
      bonds: [],
      removedBonds: [],
      removedUnmanagedNetworks: [],
      options: { rollbackOnFailure: false, connectivityTimeoutSeconds: 120, commitOnSuccess: false },
    });
    expect(addAttachmentRequest('host-1', stored.networkId, {}).attachments).toEqual([
      { networkId: stored.networkId, overrideConfiguration: false },
    ]);
    expect(updateAttachmentRequest(stored, { qos: null, properties: {} }).attachments).toEqual([
      { id: stored.id, networkId: stored.networkId, qos: null, properties: {}, overrideConfiguration: false },
    ]);
    expect(updateAttachmentRequest(stored, { overrideConfiguration: true }).attachments[0]?.overrideConfiguration).toBe(true);
    const removal = removeAttachmentRequest(stored, { connectivityTimeoutSeconds: 30 });
    expect([removal.hostId, removal.attachments, removal.removedAttachments, removal.options.connectivityTimeoutSeconds]).toEqual([
      'host-1',
      [],
      [stored.id],
      30,
    ]);
  });
});
