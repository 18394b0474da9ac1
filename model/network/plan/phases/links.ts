/**
 * Links: delete the absent ones (and those of the wrong kind), dependents first; then, lowest level first,
 * create the missing ones and adjust the attributes of the others (MTU bottom-up: a VLAN may not exceed its
 * base, and lowering a base lowers its VLANs with it). Admin state belongs to the ups, masters to their phase.
 */
import { CreatableLinkType, PlanOpKind, type LinkState, type PlanOp, type PlanOpOf } from '../../../net-state';
import { bridgeOptionsToChange } from '../../bridge-options';
import type { DesiredLink } from '../../desired-state';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

export function linksPhase(merged: MergedState): PhaseOps {
  return {
    teardown: merged.deletedLinks.map((name): PlanOp => ({ kind: PlanOpKind.LINK_DEL, name })),
    build: merged.desiredLinks.flatMap((want): PlanOp[] => {
      const have = merged.survivingLinks.get(want.name);
      if (!have) return want.create ? [linkAdd(want, want.create)] : [];
      const change = attributeChanges(want, have);
      return change ? [change] : [];
    }),
  };
}

function linkAdd(want: DesiredLink, type: CreatableLinkType): PlanOp {
  const op: PlanOpOf<typeof PlanOpKind.LINK_ADD> = { kind: PlanOpKind.LINK_ADD, name: want.name, type };
  if (want.mac !== undefined) op.mac = want.mac;
  if (want.mtu !== undefined) op.mtu = want.mtu;
  switch (type) {
    case CreatableLinkType.BRIDGE:
      op.stp = want.stp ?? false;
      if (want.bridgeOptions && Object.keys(want.bridgeOptions).length) op.bridgeOptions = want.bridgeOptions;
      break;
    case CreatableLinkType.BOND:
      op.bondMode = want.bondMode ?? 'balance-rr';
      op.bondOptions = want.bondOptions ?? {};
      break;
    case CreatableLinkType.VLAN:
      op.vlanBase = want.vlanBase ?? '';
      op.vlanId = want.vlanId ?? 0;
      break;
  }
  return op;
}

/** MTU, MAC, STP and bridge options of an existing link, in one `link set`; null when all of them match. */
function attributeChanges(want: DesiredLink, have: LinkState): PlanOp | null {
  const mtu = want.mtu !== undefined && want.mtu !== have.mtu ? want.mtu : undefined;
  const mac = want.mac !== undefined && want.mac.toLowerCase() !== have.mac.toLowerCase() ? want.mac : undefined;
  const stp = want.stp !== undefined && have.bridge && want.stp !== have.bridge.stp ? want.stp : undefined;
  const options = want.bridgeOptions && have.bridge ? bridgeOptionsToChange(want.bridgeOptions, have.bridge.options) : {};
  const bridgeOptions = Object.keys(options).length ? options : undefined;
  if (mtu === undefined && mac === undefined && stp === undefined && bridgeOptions === undefined) return null;
  return {
    kind: PlanOpKind.LINK_SET,
    name: want.name,
    ...(mtu !== undefined ? { mtu } : {}),
    ...(mac !== undefined ? { mac } : {}),
    ...(stp !== undefined ? { stp } : {}),
    ...(bridgeOptions !== undefined ? { bridgeOptions } : {}),
  };
}
