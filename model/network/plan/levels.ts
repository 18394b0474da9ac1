/**
 * The one table of link levels. A link may sit only on links of lower levels (a bond on NICs, a VLAN on a
 * NIC or a bond, a bridge on any of them), so links are created and adjusted in rising level order and
 * deleted in falling order. The desired state is sorted by it and the planner orders its link ops by it.
 */
import { LinkKind } from '../../net-state';
import { compareNames } from '../../name-order';

export const LINK_LEVEL: Readonly<Record<LinkKind, number>> = {
  [LinkKind.LOOPBACK]: 0,
  [LinkKind.OTHER]: 0,
  [LinkKind.NIC]: 0,
  [LinkKind.BOND]: 1,
  [LinkKind.VLAN]: 2,
  [LinkKind.BRIDGE]: 3,
};

/** What the level of a desired link depends on: what it creates (nothing, for a NIC). */
interface LeveledLink {
  name: string;
  create?: LinkKind | undefined;
}

/** Level of a desired link: what it creates, or a NIC when it creates nothing. */
export function linkLevel(link: Pick<LeveledLink, 'create'>): number {
  return LINK_LEVEL[link.create ?? LinkKind.NIC];
}

/** Level of a link as the kernel has it. */
export function currentLinkLevel(link: { kind: LinkKind }): number {
  return LINK_LEVEL[link.kind];
}

/** The creation order of desired links: rising level, then name. */
export function creationOrder(a: LeveledLink, b: LeveledLink): number {
  return linkLevel(a) - linkLevel(b) || compareNames(a.name, b.name);
}
