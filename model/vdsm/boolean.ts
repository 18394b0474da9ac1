/**
 * The one reader of VDSM's loosely typed booleans. The engine sends booleans as JSON booleans or as strings:
 * `bridged: "true"`, `STP: "yes"`/`"no"`, `connectivityCheck: "true"`, fenceNode's `secure` as a string.
 *
 * VDSM itself has two readers: `tobool` (vdsm lib/vdsm/common/conv.py) takes `"true"` and integer strings, and
 * reads everything else, the integer 1, `"yes"` and `"on"` included, as false without a word;
 * `stp_booleanize` (vdsm lib/vdsm/network/netinfo/bridges.py) takes true/false, on/off and yes/no and refuses the
 * rest. This reader takes the union of the words both understand and refuses anything else: a value it cannot
 * read is an error, never a silent false (a silent false turns off rollback or a bridge). Two deliberate
 * differences from `tobool`: the integer 1 is true, and integer strings other than "0" and "1" are refused.
 */
import { VdsmCode, VdsmError } from './error-codes';

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', 'no', 'off', '0']);

/** JSON booleans, the numbers 0 and 1, and (trimmed, any case) true/false, yes/no, on/off, 1/0; else undefined. */
export function readVdsmBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

/** As {@link readVdsmBoolean}, throwing a VDSM error naming the field when the value is not a boolean. */
export function vdsmBoolean(value: unknown, field: string, code: number = VdsmCode.BAD_PARAMS): boolean {
  const read = readVdsmBoolean(value);
  if (read === undefined) throw new VdsmError(code, `${field}: expected a boolean, got ${JSON.stringify(value)}`);
  return read;
}
