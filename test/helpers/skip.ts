/**
 * Skips must say why, in the test output: `describe.skipIf(skipBecause(reason))`.
 */
export function skipBecause(reason: string | null | undefined, what = 'tests'): boolean {
  if (reason) process.stdout.write(`[hostprov] skipping ${what}: ${reason}\n`);
  return Boolean(reason);
}
