/** A comma-separated list of counts as a flag takes it (`--hosts 10,50,100`), validated with zod. */
import { z } from 'zod';

/**
 * `"10,50,100"` → `[10, 50, 100]`: whole numbers within `min..max`, at least one, none twice, in the order
 * given (the order the benchmark runs them). Messages name `flag`.
 */
export function countList(flag: string, min: number, max: number) {
  return z
    .string({ message: `${flag} must be a comma-separated list of numbers` })
    .transform((text) => text.split(',').map((part) => part.trim()))
    .pipe(
      z
        .array(
          z
            .string()
            .regex(/^\d{1,9}$/, `${flag} takes whole numbers separated by commas`)
            .transform(Number)
            .pipe(
              z.number().min(min, `${flag}: each count must be at least ${min}`).max(max, `${flag}: each count must be at most ${max}`),
            ),
        )
        .min(1, `${flag} needs at least one count`)
        .refine((counts) => new Set(counts).size === counts.length, `${flag} names a count twice`),
    );
}
