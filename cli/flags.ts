/** zod pieces for CLI flags (commander hands us strings). */
import { z } from 'zod';

export const portOption = z.coerce.number().int().min(1, 'ports are 1..65535').max(65_535, 'ports are 1..65535');

/** `--secret-env-prefix`: a non-empty variable-name prefix (an empty one would admit every variable). */
export const secretEnvPrefixOption = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable-name prefix such as HOSTPROV_SECRET_');
