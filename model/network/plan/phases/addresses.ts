/**
 * Addresses: delete the unwanted ones on owned devices (decided in the merged record); add the missing ones,
 * and a static one whose value the kernel has only as a lease (once the lease is deleted).
 */
import { PlanOpKind, type PlanOp } from '../../../net-state';
import { addressMeets } from '../identity';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

export function addressesPhase(merged: MergedState): PhaseOps {
  const { current, desired, goneLinks } = merged;
  return {
    teardown: merged.deletedAddresses.map((address): PlanOp => ({ kind: PlanOpKind.ADDR_DEL, address })),
    build: desired.addresses
      .filter((want) => goneLinks.has(want.dev) || !current.addresses.some((have) => addressMeets(have, want)))
      .map((address): PlanOp => ({ kind: PlanOpKind.ADDR_ADD, address })),
  };
}
