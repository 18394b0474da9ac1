/**
 * Properties of the iproute2 argument checkers (agent/backend/iproute2/arguments.ts): whatever they are
 * given, they either refuse it with UnsafeBatchArgumentError or return a token that stays exactly one
 * argument of an `ip -batch` line. iproute2 splits batch lines on whitespace, starts a comment at `#` and
 * groups words in quotes (ip/ip.c batch, lib/utils.c makeargs); an empty token would shift the arguments
 * after it. So an accepted token is non-empty printable ASCII without quotes, `#` or backslash.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsafeBatchArgumentError } from '../../agent/backend/errors';
import {
  checkedAddress,
  checkedBondMode,
  checkedBondOption,
  checkedCidr,
  checkedIfname,
  checkedInteger,
  checkedMac,
  checkedProtocol,
  checkedTable,
  checkedU32,
} from '../../agent/backend/iproute2/arguments';
import { propertyParameters, REPLAY_HINT } from '../helpers/property';

/** One batch argument: printable ASCII (0x21-0x7e) except `"` `#` `'` and backslash, and not empty. */
const SAFE_TOKEN = /^[!$-&(-[\]-~]+$/;

/** Characters that change how a batch line splits, or that no token needs. */
const HOSTILE = [
  ' ',
  '\t',
  '\n',
  '\r',
  '\v',
  '\f',
  '\0',
  '#',
  '"',
  "'",
  '\\',
  '\u00a0',
  '\u2028',
  '\u3000',
  '%',
  '/',
  ',',
  '=',
  '-',
  '.',
  '..',
];

/** Values near what each checker accepts, with hostile characters spliced in. */
const nearValid = [
  'eth0',
  'bond0',
  'ovirtmgmt',
  'br-int.10',
  'a:b',
  '00:1a:2b:3c:4d:5e',
  '192.0.2.1',
  '2001:db8::1',
  'fe80::1%eth0',
  '192.0.2.0/24',
  '2001:db8::/64',
  '10',
  '4294967295',
  '4294967296',
  'static',
  'dhcp',
  'active-backup',
  '802.3ad',
  '4',
  'layer3+4',
  'fast',
  '100',
  '192.0.2.1,192.0.2.2',
  'filter_active',
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: fc.constantFrom(...HOSTILE, 'a', '0', ':', 'f'), maxLength: 24 }),
  fc.tuple(fc.constantFrom(...nearValid), fc.nat(), fc.constantFrom(...HOSTILE), fc.boolean()).map(([base, at, insert, replace]) => {
    const i = at % (base.length + 1);
    return base.slice(0, i) + insert + base.slice(replace ? i + 1 : i);
  }),
  fc.constantFrom(...nearValid),
);

/** Anything a JSON request can carry, and some things it cannot. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileString, weight: 6 },
  { arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 0, 1, 4094, 4095, 0xffff_ffff, 2 ** 32, 2 ** 53, -0)), weight: 2 },
  { arbitrary: fc.anything({ withBigInt: true, withNullPrototype: true, withMap: true, withSet: true }), weight: 1 },
);

/** Runs a checker; an accepted token must be safe, a refusal must be the typed error. */
function expectSafeOrRefused(check: () => string | readonly string[]): void {
  let result: string | readonly string[];
  try {
    result = check();
  } catch (err) {
    if (!(err instanceof UnsafeBatchArgumentError)) throw err;
    return;
  }
  for (const token of typeof result === 'string' ? [result] : result) {
    if (!SAFE_TOKEN.test(token)) throw new Error(`accepted an unsafe token ${JSON.stringify(token)}`);
  }
}

const BOND_OPTION_KEYS = [
  'arp_validate',
  'arp_all_targets',
  'primary_reselect',
  'fail_over_mac',
  'xmit_hash_policy',
  'lacp_rate',
  'ad_select',
  'miimon',
  'updelay',
  'downdelay',
  'arp_interval',
  'min_links',
  'primary',
  'active_slave',
  'ad_actor_system',
  'arp_ip_target',
  'ns_ip6_target',
  'mode',
];

describe(`iproute2 argument checker properties (${REPLAY_HINT})`, () => {
  const checkers: Array<[string, (value: unknown) => string | readonly string[]]> = [
    ['checkedIfname', (v) => checkedIfname('f', v)],
    ['checkedMac', (v) => checkedMac('f', v)],
    ['checkedInteger', (v) => checkedInteger('f', v, 0, 4094)],
    ['checkedAddress v4', (v) => checkedAddress('f', v, 4)],
    ['checkedAddress v6', (v) => checkedAddress('f', v, 6)],
    ['checkedCidr v4', (v) => checkedCidr('f', v, 4)],
    ['checkedCidr v6', (v) => checkedCidr('f', v, 6)],
    ['checkedTable', (v) => checkedTable('f', v)],
    ['checkedU32', (v) => checkedU32('f', v)],
    ['checkedProtocol', (v) => checkedProtocol('f', v)],
    ['checkedBondMode', (v) => checkedBondMode('f', v)],
  ];

  it.each(checkers)('%s accepts only tokens that stay one batch argument', (_name, check) => {
    fc.assert(
      fc.property(anyValue, (value) => expectSafeOrRefused(() => check(value))),
      propertyParameters(3000),
    );
  });

  it('checkedBondOption accepts only a known key and a safe value, for any key and value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...BOND_OPTION_KEYS), hostileString), anyValue, (key, value) => {
        expectSafeOrRefused(() => checkedBondOption(key, value));
      }),
      propertyParameters(3000),
    );
  });

  it('refuses, typed, an option named after a member of Object.prototype (found by the property above)', () => {
    for (const key of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(() => checkedBondOption(key, 'eth0'), key).toThrow(UnsafeBatchArgumentError);
    }
  });

  it('accepts the plain values a plan uses, unchanged (or in canonical form)', () => {
    // Guards the properties above against a checker that refuses everything.
    expect(checkedIfname('f', 'br-int.10')).toBe('br-int.10');
    expect(checkedMac('f', '00:1A:2B:3C:4D:5E')).toBe('00:1a:2b:3c:4d:5e');
    expect(checkedCidr('f', '192.0.2.0/024', 4)).toBe('192.0.2.0/24');
    expect(checkedAddress('f', '2001:db8::1', 6)).toBe('2001:db8::1');
    expect(checkedBondOption('arp_ip_target', '192.0.2.1,192.0.2.2')).toEqual(['arp_ip_target', '192.0.2.1,192.0.2.2']);
  });
});
