/**
 * hostprov-dhclient-script run as dhclient runs it (its variables in the environment), in a namespace of
 * its own, with values a hostile DHCP server could send: only addresses and domain names reach the lease
 * file the agent writes resolv.conf from, the server's words are never globbed, and the search domains come
 * in the stock script's order (the domain name first, unless the search list has it).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DHCLIENT_SCRIPT } from '../../../agent/backend/dhcp/dhclient';
import { DhcpLease } from '../../../agent/backend/dhcp/lease';
import { run } from '../../../lib/process';
import { Netns } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import { kernelSkipReason, uniqueNetnsName, withTempDir } from './kernel-helpers';

describe.skipIf(skipBecause(kernelSkipReason, 'dhclient script tests'))('hostprov-dhclient-script', () => {
  let ns: Netns;
  let dir: Awaited<ReturnType<typeof withTempDir>>;

  beforeAll(async () => {
    dir = await withTempDir('dhclient-script');
    // Files named like a valid domain and address: a glob of the server's `*` would turn into them.
    writeFileSync(join(dir.path, 'globbed.example'), '');
    writeFileSync(join(dir.path, '192.0.2.77'), '');
    ns = await Netns.create(uniqueNetnsName('hpds'));
    await ns.ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
    await ns.ip(['link', 'set', 'eth0', 'up']);
  });
  afterAll(async () => {
    await ns?.destroy();
    await dir?.remove();
  });

  /** Runs the script with dhclient's variables `vars`, in `dir` as its working directory. */
  async function runScript(vars: Record<string, string>): Promise<void> {
    const env = { interface: 'eth0', HOSTPROV_LEASE_DIR: dir.path, HOSTPROV_TABLE: '254', HOSTPROV_DEFAULT_ROUTE: '0', ...vars };
    await run(['ip', 'netns', 'exec', ns.name, 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'bash', DHCLIENT_SCRIPT], {
      cwd: dir.path,
    });
  }

  /** {@link runScript}, then the lease it recorded. */
  async function bound(family: 4 | 6, vars: Record<string, string>): Promise<DhcpLease> {
    await runScript(vars);
    return DhcpLease.parse(JSON.parse(readFileSync(join(dir.path, `eth0.${family}.json`), 'utf8')));
  }

  const v4Lease = { new_ip_address: '192.0.2.10', new_subnet_mask: '255.255.255.0' };

  it('DHCPv4: keeps addresses and domain names only, the domain name first; nothing is globbed or run', async () => {
    const lease = await bound(4, {
      reason: 'BOUND',
      ...v4Lease,
      new_domain_name_servers: '192.0.2.53 not-an-address 192.0.2.54;reboot *',
      new_domain_name: 'lab.example.org $(touch pwned)',
      new_domain_search: 'example.org. * under_score.example -lead.example lab.example.org.x evil\\nnameserver',
    });
    expect(lease.nameservers).toEqual(['192.0.2.53']);
    expect(lease.searchDomains).toEqual(['lab.example.org', 'example.org', 'lab.example.org.x']);
    expect(existsSync(join(dir.path, 'pwned'))).toBe(false);
  });

  it('DHCPv4: a domain name the search list has is not repeated, and the list keeps its order', async () => {
    const lease = await bound(4, {
      reason: 'RENEW',
      ...v4Lease,
      new_domain_name: 'b.example',
      new_domain_search: 'a.example. b.example. c.example d.example e.example f.example g.example',
    });
    expect(lease.searchDomains).toEqual(['a.example', 'b.example', 'c.example', 'd.example', 'e.example', 'f.example']);
  });

  it('logs a refused value on one line, its control characters replaced', async () => {
    const logFile = join(dir.path, 'script.log');
    await runScript({
      reason: 'BOUND',
      new_ip_address: '192.0.2.10',
      new_subnet_mask: '255.255.255.0\n2026-01-01T00:00:00Z BOUND[eth0] forged',
      HOSTPROV_LOG_FILE: logFile,
    });
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ignoring lease with address=192\.0\.2\.10 mask=255\.255\.255\.0\?2026-01-01T00:00:00Z BOUND\[eth0\] forged$/);
  });

  it('DHCPv6: the domain search list, checked the same way', async () => {
    const lease = await bound(6, {
      reason: 'BOUND6',
      new_ip6_address: '2001:db8::10',
      new_ip6_prefixlen: '64',
      new_dhcp6_name_servers: '2001:db8::53 fe80::1%eth0',
      new_dhcp6_domain_search: 'v6.example. bad_label.example *',
    });
    expect(lease.nameservers).toEqual(['2001:db8::53']);
    expect(lease.searchDomains).toEqual(['v6.example']);
  });
});
