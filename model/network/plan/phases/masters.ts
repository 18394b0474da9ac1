/**
 * Masters: release the ports that must leave a master that stays; after the links exist, enslave ports to
 * their bonds and bridges, lower-level masters first. A port joins a bond only while down (the ups bring it
 * back). Enslaving resets a bridge's MTU to its smallest port's, so a bridge that got ports has its own MTU
 * set again afterwards.
 */
import { CreatableLinkType, PlanOpKind, type PlanOp } from '../../../net-state';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

export function mastersPhase(merged: MergedState): PhaseOps {
  const enslaving = merged.enslavements.flatMap(({ port, master, downFirst }): PlanOp[] => [
    ...(downFirst ? [{ kind: PlanOpKind.LINK_DOWN, name: port } as const] : []),
    { kind: PlanOpKind.LINK_SET, name: port, master },
  ]);
  const bridgeMtus = merged.desiredLinks
    .filter(
      (want) =>
        want.create === CreatableLinkType.BRIDGE && want.mtu !== undefined && merged.enslavements.some((e) => e.master === want.name),
    )
    .map((want): PlanOp => ({ kind: PlanOpKind.LINK_SET, name: want.name, mtu: want.mtu }));
  return {
    teardown: merged.releasedPorts.map((name): PlanOp => ({ kind: PlanOpKind.LINK_SET, name, master: null })),
    build: [...enslaving, ...bridgeMtus],
  };
}
