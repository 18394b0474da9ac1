/**
 * Settings shared by the property-based suites (fast-check). A failure prints the counterexample with its
 * `seed` and `path`; run the same cases again with
 *   HOSTPROV_PROPERTY_SEED=<seed> HOSTPROV_PROPERTY_PATH=<path> npx vitest run <file>
 * (the path is optional: it jumps straight to the shrunk counterexample).
 */
import type fc from 'fast-check';

export const REPLAY_HINT = 'replay: HOSTPROV_PROPERTY_SEED=<seed> [HOSTPROV_PROPERTY_PATH=<path>]';

export function propertyParameters<T>(numRuns: number): fc.Parameters<T> {
  const seed = process.env.HOSTPROV_PROPERTY_SEED;
  const path = process.env.HOSTPROV_PROPERTY_PATH;
  return {
    numRuns,
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
    ...(path !== undefined ? { path } : {}),
  };
}
