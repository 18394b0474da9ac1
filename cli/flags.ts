/** zod pieces for CLI flags (commander hands us strings). */
import { z } from 'zod';

export const portOption = z.coerce.number().int().min(1, 'ports are 1..65535').max(65_535, 'ports are 1..65535');
