/** Bond options in the kernel's spelling (model/network/bond-options.ts), for keys hostile input may carry. */
import { describe, expect, it } from 'vitest';
import { nonDefaultBondOptions, normalBondOptionValue, sameBondConfiguration } from '../../model/network/bond-options';

describe('bond options', () => {
  it('spells enum options by name and keeps default values out', () => {
    expect(normalBondOptionValue('lacp_rate', '1')).toBe('fast');
    expect(nonDefaultBondOptions({ mode: '4', miimon: '100', lacp_rate: '1' })).toEqual({ lacp_rate: 'fast' });
  });

  it('treats a key named after a member of Object.prototype as an unknown option, kept and never equal', () => {
    const options = { toString: '1', constructor: '0', valueOf: 'x' };
    expect(normalBondOptionValue('constructor', '1')).toBe('1');
    expect(nonDefaultBondOptions(options)).toEqual(options);
    expect(sameBondConfiguration({ mode: '1', options }, { mode: '1', options: {} })).toBe(false);
  });
});
