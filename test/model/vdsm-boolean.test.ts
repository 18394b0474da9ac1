import { describe, expect, it } from 'vitest';
import { readVdsmBoolean, vdsmBoolean } from '../../model/vdsm/boolean';
import { VdsmBoolean } from '../../model/vdsm/boolean-schema';
import { VdsmCode, VdsmError } from '../../model/vdsm/error-codes';

describe('VDSM booleans', () => {
  it('reads what the engine and VDSM use: JSON booleans, 0/1, and true/false, yes/no, on/off, 1/0 in any case', () => {
    for (const v of [true, 1, 'true', 'TRUE', 'True', 'yes', 'Yes', 'on', 'ON', '1', ' true '])
      expect(readVdsmBoolean(v), JSON.stringify(v)).toBe(true);
    for (const v of [false, 0, 'false', 'False', 'no', 'NO', 'off', 'Off', '0', '\tno\n'])
      expect(readVdsmBoolean(v), JSON.stringify(v)).toBe(false);
  });

  it("does not read anything else, where VDSM's tobool would answer a silent false", () => {
    for (const v of ['', 'maybe', 'enabled', 'y', 'n', '2', '-1', '1.0', 2, -1, 0.5, null, undefined, {}, [], ['true']]) {
      expect(readVdsmBoolean(v), JSON.stringify(v)).toBeUndefined();
    }
  });

  it('throws a VDSM error naming the field, with the code the caller chose', () => {
    expect(vdsmBoolean('yes', 'network n: bridged')).toBe(true);
    expect(() => vdsmBoolean('maybe', 'network n: bridged')).toThrow(VdsmError);
    expect(() => vdsmBoolean('maybe', 'options.connectivityCheck')).toThrow(
      expect.objectContaining({ code: VdsmCode.BAD_PARAMS, message: 'options.connectivityCheck: expected a boolean, got "maybe"' }),
    );
    expect(() => vdsmBoolean(2, 'x', VdsmCode.BAD_BRIDGE)).toThrow(expect.objectContaining({ code: VdsmCode.BAD_BRIDGE }));
  });

  it('gives zod schemas the same reader', () => {
    expect(VdsmBoolean.parse('off')).toBe(false);
    expect(VdsmBoolean.parse(1)).toBe(true);
    const refused = VdsmBoolean.safeParse('enabled');
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/expected a boolean/);
  });
});
