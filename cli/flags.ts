/** zod pieces for CLI flags (commander hands us strings). */
import { z } from 'zod';
import { UsageError } from './usage-error';

export const portOption = z.coerce.number().int().min(1, 'ports are 1..65535').max(65_535, 'ports are 1..65535');

/** `--secret-env-prefix`: a non-empty variable-name prefix (an empty one would admit every variable). */
export const secretEnvPrefixOption = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable-name prefix such as HOSTPROV_SECRET_');

/** `maxConnections` → `--max-connections`: how an operator typed the flag a zod issue is about. */
export function flagName(key: PropertyKey): string {
  return `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Parses flags; problems become a UsageError (exit 2, no stack trace) that names each flag as typed. */
export function parseFlags<T>(schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new UsageError(parsed.error.issues.map((i) => `${i.path.length ? flagName(i.path[0]!) : 'input'}: ${i.message}`).join('; '));
}
