/** Addresses: delete the unwanted ones on owned devices (decided in the merged record); add the missing ones. */
import { PlanOpKind, type PlanOp } from '../../../net-state';
import { sameAddress } from '../identity';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

export function addressesPhase(merged: MergedState): PhaseOps {
  const { current, desired, goneLinks } = merged;
  return {
    teardown: merged.deletedAddresses.map((address): PlanOp => ({ kind: PlanOpKind.ADDR_DEL, address })),
    build: desired.addresses
      .filter((address) => goneLinks.has(address.dev) || !current.addresses.some((a) => sameAddress(a, address)))
      .map((address): PlanOp => ({ kind: PlanOpKind.ADDR_ADD, address })),
  };
}
