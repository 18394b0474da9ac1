/**
 * Properties of resolv.conf as the agent rewrites it (agent/backend/resolv-conf.ts,
 * agent/network/resolv-conf-plan.ts), over arbitrary files: the lines it does not own stay, in order; the
 * nameservers and search domains are exactly the ones given; and a second write of the same settings
 * changes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nameserversFromResolvConf, withNameservers, withSearchDomains } from '../../agent/backend/resolv-conf';
import { planLeaseResolvConf } from '../../agent/network/resolv-conf-plan';
import { propertyParameters, REPLAY_HINT } from '../helpers/property';

const OWNED = /^\s*(nameserver|search|domain)\s/;

/** Lines a file may hold, the agent's own kinds made likely; none holds a line break. */
const line = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', ' ', '\t', '#', '.', ':', '1', '\r', 'é') }),
  fc.constantFrom(
    'nameserver 198.51.100.1',
    '  nameserver\t2001:db8::1',
    'search a.example',
    'domain b.example',
    'options ndots:2',
    '#nameserver 1.1.1.1',
  ),
);
/** A file's text, with or without a newline after its last line. */
const fileText = fc
  .tuple(fc.array(line, { maxLength: 12 }), fc.boolean())
  .map(([lines, endsWithNewline]) => (lines.length ? `${lines.join('\n')}${endsWithNewline ? '\n' : ''}` : ''));
const servers = fc.uniqueArray(fc.ipV4(), { minLength: 1, maxLength: 4 });
const domains = fc.uniqueArray(fc.domain(), { minLength: 1, maxLength: 6 });

const others = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !OWNED.test(l));

describe(`resolv.conf rewrites (${REPLAY_HINT})`, () => {
  it('keep every line they do not own, in order, and hold exactly the settings given', () => {
    fc.assert(
      fc.property(fileText, servers, domains, (text, ns, search) => {
        const after = withNameservers(withSearchDomains(text, search), ns);
        expect(others(after)).toEqual(others(text));
        expect(nameserversFromResolvConf(after)).toEqual(ns);
        expect(after.split('\n').filter((l) => /^\s*(search|domain)\s/.test(l))).toEqual([`search ${search.join(' ')}`]);
      }),
      propertyParameters(2000),
    );
  });

  it('change nothing when written a second time', () => {
    fc.assert(
      fc.property(fileText, servers, domains, (text, ns, search) => {
        const first = planLeaseResolvConf({ text, managed: false }, { nameservers: ns, searchDomains: search });
        const written = first.kind === 'write' ? first.after : text;
        expect(planLeaseResolvConf({ text: written, managed: false }, { nameservers: ns, searchDomains: search })).toEqual({
          kind: 'unchanged',
        });
      }),
      propertyParameters(2000),
    );
  });
});
