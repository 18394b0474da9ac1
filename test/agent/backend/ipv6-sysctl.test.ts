/**
 * The IPv6 switches' files: only link names the kernel allows reach /proc/sys, and a link without them is left
 * out of a read. Setting them is shown on a real kernel by test/agent/agent-ipv6-per-bridge.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readIpv6States, setIpv6 } from '../../../agent/backend/ipv6-sysctl';

const sysctl = (name: string) => Number(readFileSync(`/proc/sys/net/ipv6/conf/lo/${name}`, 'utf8').trim());

describe('the IPv6 switches per link', () => {
  it('refuses a name that would leave the link directory, and writes nothing', async () => {
    for (const name of ['..', '.', 'a/b', '../all', 'x'.repeat(16), '']) {
      await expect(setIpv6(name, { enabled: false }), name).rejects.toThrow(/not a link name/);
      await expect(setIpv6(name, { enabled: true, autoconf: false, defaultRouter: false }), name).rejects.toThrow(/not a link name/);
    }
  });

  it('reads lo as the kernel has it, and leaves out a link that does not exist or a bad name', () => {
    const read = readIpv6States(['lo', 'no-such-link0', '../all']);
    expect([...read.keys()]).toEqual(['lo']);
    const enabled = sysctl('disable_ipv6') === 0;
    // accept_ra 1 takes nothing on a link that forwards IPv6.
    const autoconf =
      ['autoconf', 'accept_ra', 'accept_redirects'].every((name) => sysctl(name) !== 0) &&
      !(sysctl('accept_ra') === 1 && sysctl('forwarding') !== 0);
    const defaultRouter = sysctl('accept_ra_defrtr') !== 0;
    expect(read.get('lo')).toEqual(!enabled ? { enabled } : autoconf ? { enabled, autoconf, defaultRouter } : { enabled, autoconf });
  });
});
