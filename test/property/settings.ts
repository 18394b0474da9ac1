/**
 * What every property suite (fast-check) shares. A failing property prints its seed and the path of the
 * shrunk counterexample, e.g. `{ seed: 42, path: "6:1:0", endOnFailure: true }`. To run exactly that case
 * again:
 *
 *   HOSTPROV_FC_SEED=42 HOSTPROV_FC_PATH=6:1:0 npx vitest run test/property/<suite>.test.ts
 *
 * With only HOSTPROV_FC_SEED, the whole suite runs from that seed. Without either, every run draws a new
 * seed, so CI keeps exploring new cases.
 */
import type { Parameters } from 'fast-check';
import { z } from 'zod';

const ReplayEnv = z.object({
  HOSTPROV_FC_SEED: z.coerce.number().int().optional(),
  HOSTPROV_FC_PATH: z
    .string()
    .regex(/^\d+(:\d+)*$/, 'a fast-check path such as 6:1:0')
    .optional(),
});

/**
 * `numRuns` cases, or the one case HOSTPROV_FC_SEED/HOSTPROV_FC_PATH name. `overrides` are for suites with
 * state outside the process (a real kernel): `{ endOnFailure: true }` reports the first failing case
 * instead of shrinking it on a kernel that case already changed.
 */
export function propertyParameters<T>(numRuns: number, overrides: Parameters<T> = {}): Parameters<T> {
  const env = ReplayEnv.parse({ HOSTPROV_FC_SEED: process.env.HOSTPROV_FC_SEED || undefined, HOSTPROV_FC_PATH: process.env.HOSTPROV_FC_PATH || undefined });
  return {
    numRuns,
    ...overrides,
    ...(env.HOSTPROV_FC_SEED !== undefined ? { seed: env.HOSTPROV_FC_SEED } : {}),
    ...(env.HOSTPROV_FC_PATH !== undefined ? { path: env.HOSTPROV_FC_PATH, endOnFailure: true } : {}),
  };
}
