/** resolv.conf as the agent rewrites it: the nameserver lines replaced in place, everything else kept; when it writes at all. */
import { describe, expect, it } from 'vitest';
import { withNameservers, withSearchDomains } from '../../../agent/backend/resolv-conf';
import {
  defaultRouteNameservers,
  followsLeaseNameservers,
  leaseDns,
  planLeaseResolvConf,
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

describe('leaseDns', () => {
  const lease = (family: 4 | 6, defaultRoute: boolean, nameservers: string[], searchDomains: string[] = []) => ({
    family,
    defaultRoute,
    nameservers,
    searchDomains,
  });

  it("are the default-route leases' servers and domains, IPv4's first, each once, servers in lower case", () => {
    expect(
      leaseDns([
        lease(6, true, ['2001:DB8::53', '192.0.2.53'], ['v6.example.org', 'example.org']),
        lease(4, true, ['192.0.2.53', '192.0.2.54'], ['example.org']),
        lease(4, false, ['198.51.100.1'], ['other.example']),
      ]),
    ).toEqual({ nameservers: ['192.0.2.53', '192.0.2.54', '2001:db8::53'], searchDomains: ['example.org', 'v6.example.org'] });
  });

  it('drop anything that is not an address or a domain name, since each becomes part of a line of resolv.conf; six domains at most', () => {
    expect(
      leaseDns([
        lease(
          4,
          true,
          ['192.0.2.53\nsearch evil', '', 'fe80::1%eth0', '192.0.2.99'],
          ['evil.example\nnameserver 203.0.113.1', 'a b', '-x.example', `${'a'.repeat(64)}.example`, 'ok.example'],
        ),
      ]),
    ).toEqual({ nameservers: ['192.0.2.99'], searchDomains: ['ok.example'] });
    const many = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((label) => `${label}.example`);
    expect(leaseDns([lease(4, true, [], many)]).searchDomains).toEqual(many.slice(0, 6));
    expect(leaseDns([])).toEqual({ nameservers: [], searchDomains: [] });
  });
});

describe('withSearchDomains', () => {
  it('puts one search line where the first search or domain line was, dropping the others', () => {
    expect(withSearchDomains('domain old.example\nnameserver 192.0.2.1\nsearch older.example\n', ['a.example', 'b.example'])).toBe(
      'search a.example b.example\nnameserver 192.0.2.1\n',
    );
  });

  it('puts it before the first nameserver line when there is none, else at the end', () => {
    expect(withSearchDomains('# c\nnameserver 192.0.2.1\n', ['a.example'])).toBe('# c\nsearch a.example\nnameserver 192.0.2.1\n');
    expect(withSearchDomains('options timeout:1', ['a.example'])).toBe('options timeout:1\nsearch a.example\n');
    expect(withSearchDomains('', ['a.example'])).toBe('search a.example\n');
  });
});

describe('planLeaseResolvConf', () => {
  const file = (text: string | null, managed = false) => ({ text, managed });

  it('writes what the lease offers, and leaves what it does not offer as it is', () => {
    expect(planLeaseResolvConf(file(FILE), { nameservers: ['192.0.2.53'], searchDomains: [] })).toEqual({
      kind: 'write',
      before: FILE,
      after: '# written by the installer\nsearch example.org\nnameserver 192.0.2.53\noptions timeout:1\n',
    });
    expect(planLeaseResolvConf(file(FILE), { nameservers: [], searchDomains: ['lab.example'] })).toEqual({
      kind: 'write',
      before: FILE,
      after: '# written by the installer\nsearch lab.example\nnameserver 198.51.100.1\nnameserver 198.51.100.2\noptions timeout:1\n',
    });
  });

  it('leaves the file alone when the lease offers nothing or what it has, and one a resolver service owns', () => {
    expect(planLeaseResolvConf(file(FILE), { nameservers: [], searchDomains: [] })).toEqual({ kind: 'unchanged' });
    expect(planLeaseResolvConf(file(FILE), { nameservers: ['198.51.100.1', '198.51.100.2'], searchDomains: ['example.org'] })).toEqual({
      kind: 'unchanged',
    });
    expect(planLeaseResolvConf(file(null, true), { nameservers: ['192.0.2.53'], searchDomains: [] })).toEqual({ kind: 'managed' });
  });
});
