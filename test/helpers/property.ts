/**
 * Settings shared by the property-based suites (fast-check). A failure prints the counterexample with its
 * `seed` and `path`; run the same cases again with
 *   HOSTPROV_PROPERTY_SEED=<seed> HOSTPROV_PROPERTY_PATH=<path> npx vitest run <file>
 * (the path is optional: it jumps straight to the shrunk counterexample).
 */
import type fc from 'fast-check';

export const REPLAY_HINT = 'replay: HOSTPROV_PROPERTY_SEED=<seed> [HOSTPROV_PROPERTY_PATH=<path>]';

/**
 * `numRuns` cases, or those of the seed (and path) given. `overrides` are for suites whose cases share state
 * outside the process, such as a real kernel: `{ endOnFailure: true }` reports the first failing case
 * instead of shrinking it on a kernel that case may already have changed.
 */
export function propertyParameters<T>(numRuns: number, overrides: fc.Parameters<T> = {}): fc.Parameters<T> {
  const seed = process.env.HOSTPROV_PROPERTY_SEED;
  const path = process.env.HOSTPROV_PROPERTY_PATH;
  return {
    numRuns,
    ...overrides,
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
    ...(path !== undefined ? { path } : {}),
  };
}
