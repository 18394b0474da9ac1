/**
 * Cluster compatibility levels ("4.8"): a major and a minor number, compared as numbers, so "4.8" and "4.08"
 * are one level, as the engine's `Version` reads them; a part that is not a number compares as nothing.
 * Pure: the workflow and the store's activities use it, and recorded installs replay through it, so what
 * it decides for a given input must not change.
 */

/** Whether two levels are the same version. */
export function sameClusterLevel(a: string, b: string): boolean {
  const [aMajor, aMinor] = a.split('.').map(Number);
  const [bMajor, bMinor] = b.split('.').map(Number);
  return aMajor === bMajor && aMinor === bMinor;
}

/** Whether `level` is `[major, minor]` or later (a missing minor counts as 0). */
export function clusterLevelAtLeast(level: string, [major, minor]: readonly [number, number]): boolean {
  const [a = 0, b = 0] = level.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/**
 * Whether a host that reports `supported` (its capabilities' `clusterLevels`) can serve a cluster at `level`:
 * the engine's check when the host comes up (`VersionSupport.checkClusterVersionSupported`), which otherwise
 * makes the host NonOperational (CLUSTER_VERSION_INCOMPATIBLE_WITH_CLUSTER). A host that reports no levels
 * (an agent older than the field) is not refused: nothing says it cannot.
 */
export function hostSupportsClusterLevel(supported: readonly string[], level: string): boolean {
  return supported.length === 0 || supported.some((l) => sameClusterLevel(l, level));
}
