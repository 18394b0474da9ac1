/** The model's one order of names (model/name-order.ts): code units, the same in every locale. */
import { describe, expect, it } from 'vitest';
import { compareNames } from '../../model/name-order';

describe('compareNames', () => {
  it('orders by code unit: upper case before lower case, punctuation by its code, no locale folding', () => {
    const names = ['vlan10', 'Bond0', 'bond_0', 'bond-1', 'bond0', 'eth10', 'eth2', 'ä0', 'z0'];
    expect([...names].sort(compareNames)).toEqual(['Bond0', 'bond-1', 'bond0', 'bond_0', 'eth10', 'eth2', 'vlan10', 'z0', 'ä0']);
  });

  it('is the order of <, whatever a locale collation would say', () => {
    const names = ['a', 'B', 'ä', 'z', '_x', '-x'];
    const byOperator = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect([...names].sort(compareNames)).toEqual(byOperator);
    // Two collations that disagree with each other (and with it): why the model does not use localeCompare.
    expect([...names].sort((a, b) => a.localeCompare(b, 'sv'))).not.toEqual([...names].sort((a, b) => a.localeCompare(b, 'de')));
    expect([...names].sort((a, b) => a.localeCompare(b, 'de'))).not.toEqual(byOperator);
    expect(compareNames('eth0', 'eth0')).toBe(0);
  });
});
