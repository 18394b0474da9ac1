/** resolv.conf as the agent rewrites it: the nameserver lines replaced in place, everything else kept; when it writes at all. */
import { describe, expect, it } from 'vitest';
import { withNameservers } from '../../../agent/backend/resolv-conf';
import {
  defaultRouteNameservers,
  followsLeaseNameservers,
  leaseNameservers,
  planResolvConf,
} from '../../../agent/network/resolv-conf-plan';
import type { NetworkConfig } from '../../../model/network/config';

const FILE = '# written by the installer\nsearch example.org\nnameserver 198.51.100.1\nnameserver 198.51.100.2\noptions timeout:1\n';

const network = (over: Partial<NetworkConfig>): NetworkConfig => ({
  mtu: 1500,
  bridged: true,
  stp: false,
  bootproto: 'none',
  dhcpv6: false,
  ipv6autoconf: false,
  defaultRoute: false,
  nameservers: [],
  ...over,
});

describe('withNameservers', () => {
  it('replaces the nameserver lines where the first was, keeping every other line', () => {
    expect(withNameservers(FILE, ['192.0.2.53', '2001:db8::53'])).toBe(
      '# written by the installer\nsearch example.org\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions timeout:1\n',
    );
  });

  it('appends them to a file without any, and writes them alone into an empty one', () => {
    expect(withNameservers('options timeout:1', ['192.0.2.53'])).toBe('options timeout:1\nnameserver 192.0.2.53\n');
    expect(withNameservers('', ['192.0.2.53'])).toBe('nameserver 192.0.2.53\n');
  });
});

describe('planResolvConf', () => {
  it('writes when the nameservers differ, and remembers the text to put back', () => {
    expect(planResolvConf({ text: FILE, managed: false }, ['192.0.2.53'])).toEqual({
      kind: 'write',
      before: FILE,
      after: withNameservers(FILE, ['192.0.2.53']),
    });
    expect(planResolvConf({ text: null, managed: false }, ['192.0.2.53'])).toMatchObject({ kind: 'write', before: null });
  });

  it('leaves the file alone with no nameservers, the same ones in the same order, or a resolver service owning it', () => {
    expect(planResolvConf({ text: FILE, managed: false }, [])).toEqual({ kind: 'unchanged' });
    expect(planResolvConf({ text: FILE, managed: false }, ['198.51.100.1', '198.51.100.2'])).toEqual({ kind: 'unchanged' });
    expect(planResolvConf({ text: FILE, managed: false }, ['198.51.100.2', '198.51.100.1'])).toMatchObject({ kind: 'write' });
    expect(planResolvConf({ text: null, managed: true }, ['192.0.2.53'])).toEqual({ kind: 'managed' });
  });
});

describe('planResolvConf of a request that cleared the nameservers', () => {
  it('drops the nameserver lines and keeps the rest, remembering the text to put back', () => {
    expect(planResolvConf({ text: FILE, managed: false }, [], true)).toEqual({
      kind: 'write',
      before: FILE,
      after: '# written by the installer\nsearch example.org\noptions timeout:1\n',
    });
  });

  it('leaves a file without nameservers, a missing file and one a resolver service owns alone', () => {
    expect(planResolvConf({ text: 'search example.org\n', managed: false }, [], true)).toEqual({ kind: 'unchanged' });
    expect(planResolvConf({ text: null, managed: false }, [], true)).toEqual({ kind: 'unchanged' });
    expect(planResolvConf({ text: null, managed: true }, [], true)).toEqual({ kind: 'managed' });
  });
});

describe('defaultRouteNameservers', () => {
  it("are the default-route network's; a removed network and the others count for nothing", () => {
    expect(
      defaultRouteNameservers({
        storage: network({ nameservers: [] }),
        gone: { remove: true },
        ovirtmgmt: network({ defaultRoute: true, nameservers: ['192.0.2.53'] }),
      }),
    ).toEqual(['192.0.2.53']);
    expect(defaultRouteNameservers({ storage: network({}) })).toEqual([]);
  });
});

describe('followsLeaseNameservers', () => {
  it('holds for a DHCP (or DHCPv6) default-route network that names no nameservers', () => {
    expect(followsLeaseNameservers({ mgmt: network({ defaultRoute: true, bootproto: 'dhcp' }) })).toBe(true);
    expect(followsLeaseNameservers({ mgmt: network({ defaultRoute: true, dhcpv6: true, ipv6addr: undefined }) })).toBe(true);
  });

  it('not for named nameservers, a static default-route network, or DHCP on another network', () => {
    expect(followsLeaseNameservers({ mgmt: network({ defaultRoute: true, bootproto: 'dhcp', nameservers: ['192.0.2.1'] }) })).toBe(false);
    expect(followsLeaseNameservers({ mgmt: network({ defaultRoute: true, ipaddr: '192.0.2.10', prefix: 24 }) })).toBe(false);
    expect(
      followsLeaseNameservers({
        mgmt: network({ defaultRoute: true, ipaddr: '192.0.2.10', prefix: 24 }),
        storage: network({ bootproto: 'dhcp' }),
      }),
    ).toBe(false);
    expect(followsLeaseNameservers({})).toBe(false);
  });
});

describe('leaseNameservers', () => {
  const lease = (family: 4 | 6, defaultRoute: boolean, nameservers: string[]) => ({ family, defaultRoute, nameservers });

  it("are the default-route leases' servers, IPv4's first, each once, in lower case", () => {
    expect(
      leaseNameservers([
        lease(6, true, ['2001:DB8::53', '192.0.2.53']),
        lease(4, true, ['192.0.2.53', '192.0.2.54']),
        lease(4, false, ['198.51.100.1']),
      ]),
    ).toEqual(['192.0.2.53', '192.0.2.54', '2001:db8::53']);
  });

  it('drop anything that is not an address, since each becomes a line of resolv.conf', () => {
    expect(leaseNameservers([lease(4, true, ['192.0.2.53\nsearch evil', '', 'fe80::1%eth0', '192.0.2.99'])])).toEqual(['192.0.2.99']);
    expect(leaseNameservers([])).toEqual([]);
  });
});
