/**
 * IpAddress parses with zod's shared patterns frozen, as the SDK freezes them in the workflow sandbox (zod is
 * preloaded there): it used zod's module-constant patterns, whose `lastIndex` zod resets before each test, so
 * every address a workflow parsed (DNS name servers) threw a TypeError. It accepts what zod's formats accept,
 * and its JSON Schema keeps their `format`.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IpAddress } from '../../model/host-networking/values';

describe('IpAddress', () => {
  it("accepts what zod's formats accept, and publishes their format", () => {
    const zods = z.union([z.ipv4(), z.ipv6()]);
    for (const value of ['0.0.0.0', '255.255.255.255', '1.2.3', '01.2.3.4', '::', '::1', 'fe80::1%eth0', '2001:db8::1:2:3:4:5', 'x', ''])
      expect(IpAddress.safeParse(value).success, value).toBe(zods.safeParse(value).success);
    expect(z.toJSONSchema(IpAddress)).toEqual(z.toJSONSchema(zods));
  });

  // Last: it freezes zod's shared patterns for the rest of this file.
  it("parses with zod's shared patterns frozen", () => {
    Object.freeze(z.core.regexes.ipv4);
    Object.freeze(z.core.regexes.ipv6);
    // zod's own formats now fail as they did in the sandbox; IpAddress does not.
    expect(() => z.ipv4().parse('192.0.2.53')).toThrow(/read only property 'lastIndex'/);
    expect(IpAddress.parse('192.0.2.53')).toBe('192.0.2.53');
    expect(IpAddress.parse('2001:db8::53')).toBe('2001:db8::53');
    expect(IpAddress.safeParse('192.0.2.256').success).toBe(false);
    expect(IpAddress.safeParse('::@1\\').success).toBe(false);
  });
});
