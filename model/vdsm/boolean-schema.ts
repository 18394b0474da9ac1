/**
 * VDSM's loosely typed booleans (boolean.ts) as a zod schema, for verb params. Apart from the reader, which
 * the install-host workflow imports: every workflow run evaluates its imports again, zod included.
 */
import { z } from 'zod';
import { readVdsmBoolean } from './boolean';

/** The same reader for zod-parsed params: output is a real boolean, a value it cannot read is an issue. */
export const VdsmBoolean = z.unknown().transform((value, ctx): boolean => {
  const read = readVdsmBoolean(value);
  if (read !== undefined) return read;
  ctx.addIssue({ code: 'custom', message: 'expected a boolean (true/false, yes/no, on/off, 1/0)' });
  return z.NEVER;
});
