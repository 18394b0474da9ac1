/**
 * One testbed holds at most MAX_HOSTS hosts (its /24's address plan, testbed/addressing.ts), so a benchmark
 * of more hosts builds several, each on a subnet of its own.
 */

/** `total` hosts in the fewest labs of at most `maxPerLab` each, as even as possible (larger labs first). */
export function labSizes(total: number, maxPerLab: number): number[] {
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`a lab split needs at least one host, not ${total}`);
  if (!Number.isInteger(maxPerLab) || maxPerLab < 1) throw new RangeError(`a lab holds at least one host, not ${maxPerLab}`);
  const labs = Math.ceil(total / maxPerLab);
  const base = Math.floor(total / labs);
  return Array.from({ length: labs }, (_, i) => base + (i < total % labs ? 1 : 0));
}
