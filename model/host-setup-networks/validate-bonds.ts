/**
 * Rules for bonds: new or updated ones and their slaves, removed ones, and the bond mode under a VM network
 * (ovirt-engine HostSetupNetworksValidator `validNewOrModifiedBonds`, `validateModifiedBondSlaves`,
 * `validRemovedBonds`, `bondNotUpdatedAndRemovedSimultaneously`, `validateBondModeVsNetworksAttachedToIt`;
 * docs/engine-host-networking.md#bond-modes).
 *
 * Deliberate difference: a bond name longer than 15 characters is a bad format too. The engine lets it
 * through to VDSM, which the kernel then refuses (IFNAMSIZ).
 */
import type { ReportedNetwork } from '../host-networking/reported-interfaces';
import { bondModeNumber } from '../network/bond-options';
import { parseBondOptions, type CompletedBond, type CompletedRequest } from './complete';
import type { ContextIndex } from './context';
import { attachmentPath, describeAttachment, type EffectiveAttachment } from './effective-set';
import type { SyncReporter } from './sync';
import { violation, ViolationKey, type Violation } from './violations';

/** Cluster level from which bond names may be any word after `bond` (engine config `CustomBondNameSupported`). */
export const CUSTOM_BOND_NAME_LEVEL = '4.3';

/** The kernel's limit on interface names. */
const MAX_INTERFACE_NAME = 15;

/** Bond modes a VM network may sit on (ovirt-engine `BondMode.isBondModeValidForVmNetwork`): active-backup, balance-xor, broadcast, 802.3ad. */
export const VM_NETWORK_BOND_MODES: readonly string[] = ['1', '2', '3', '4'];

function atLeast(version: string, floor: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [floorMajor = 0, floorMinor = 0] = floor.split('.').map(Number);
  return major > floorMajor || (major === floorMajor && minor >= floorMinor);
}

export function bondNamePattern(compatibilityVersion: string): RegExp {
  return atLeast(compatibilityVersion, CUSTOM_BOND_NAME_LEVEL) ? /^bond\w+$/ : /^bond\d+$/;
}

export function checkBonds(request: CompletedRequest, index: ContextIndex, effective: readonly EffectiveAttachment[]): Violation[] {
  const out: Violation[] = [];
  const pattern = bondNamePattern(index.context.cluster.compatibilityVersion);
  for (const bond of request.bonds) {
    const path = ['bonds', bond.index];
    if (!pattern.test(bond.name) || bond.name.length > MAX_INTERFACE_NAME) {
      out.push(
        violation(
          ViolationKey.NETWORK_BOND_NAME_BAD_FORMAT,
          `bond ${bond.name}: a bond name is "bond" followed by ${pattern.source.includes('\\d') ? 'digits' : 'letters, digits or underscores'}, at most ${MAX_INTERFACE_NAME} characters`,
          [...path, 'name'],
          { bondName: bond.name, pattern: pattern.source },
        ),
      );
    }
    const kind = index.interfaceKind(bond.name);
    if (kind === 'nic' || kind === 'vlan') {
      out.push(
        violation(
          ViolationKey.NETWORK_INTERFACE_IS_NOT_BOND,
          `bond ${bond.name}: the host has a ${kind === 'nic' ? 'NIC' : 'VLAN device'} of that name`,
          [...path, 'name'],
          { interfaceName: bond.name, kind },
        ),
      );
    }
    const distinct = [...new Set(bond.slaves)];
    if (distinct.length < 2) {
      out.push(
        violation(
          ViolationKey.NETWORK_BONDS_INVALID_SLAVE_COUNT,
          `bond ${bond.name}: a bond needs at least two slaves, got ${distinct.length}`,
          [...path, 'slaves'],
          {
            bondName: bond.name,
            slaves: distinct,
          },
        ),
      );
    }
    for (const slave of distinct) out.push(...checkSlave(bond, slave, request, index, effective));
  }
  out.push(...slavesReferencedTwice(request));
  return out;
}

function checkSlave(
  bond: CompletedBond,
  slave: string,
  request: CompletedRequest,
  index: ContextIndex,
  effective: readonly EffectiveAttachment[],
): Violation[] {
  const path = ['bonds', bond.index, 'slaves', bond.slaves.indexOf(slave)];
  const kind = index.interfaceKind(slave);
  if (kind === null) {
    return [
      violation(
        ViolationKey.HOST_NETWORK_INTERFACE_HAVING_NAME_DOES_NOT_EXIST,
        `bond ${bond.name}: slave ${slave} is no interface the host reports`,
        path,
        { bondName: bond.name, nicName: slave },
      ),
    ];
  }
  if (kind !== 'nic') {
    return [
      violation(
        ViolationKey.NETWORK_INTERFACE_BOND_OR_VLAN_CANNOT_BE_SLAVE,
        `bond ${bond.name}: slave ${slave} is a ${kind === 'bond' ? 'bond' : 'VLAN device'}; only NICs can be slaves`,
        path,
        {
          bondName: bond.name,
          nicName: slave,
          kind,
        },
      ),
    ];
  }
  const out: Violation[] = [];
  const owner = index.bondOfSlave(slave);
  const ownerUpdated = owner ? request.bonds.find((b) => b.name === owner.name) : undefined;
  // Free when its bond goes away, or is updated without it, in the same request.
  if (
    owner &&
    owner.name !== bond.name &&
    !request.removedBonds.includes(owner.name) &&
    !(ownerUpdated && !ownerUpdated.slaves.includes(slave))
  ) {
    out.push(
      violation(
        ViolationKey.NETWORK_INTERFACE_ALREADY_IN_BOND,
        `bond ${bond.name}: slave ${slave} is already a slave of bond ${owner.name}; remove it from ${owner.name} (or remove ${owner.name}) in the same request`,
        path,
        { bondName: bond.name, nicName: slave, currentBond: owner.name },
      ),
    );
  }
  for (const a of effective) {
    if (a.nicName !== slave) continue;
    const key =
      a.id === null
        ? ViolationKey.NETWORK_INTERFACE_ADDED_TO_BOND_AND_NETWORK_IS_ATTACHED_TO_IT_AT_THE_SAME_TIME
        : ViolationKey.NETWORK_INTERFACE_ATTACHED_TO_NETWORK_CANNOT_BE_SLAVE;
    out.push(
      violation(key, `bond ${bond.name}: slave ${slave} carries ${describeAttachment(a)}; a slave carries no network`, path, {
        bondName: bond.name,
        nicName: slave,
        networkName: a.network?.name ?? null,
        attachmentId: a.id,
      }),
    );
  }
  for (const network of index.unmanagedNetworks.filter((n: ReportedNetwork) => n.baseInterface === slave)) {
    out.push(
      violation(
        ViolationKey.NETWORK_INTERFACE_WITH_UNMANAGED_NETWORK_CANNOT_BE_SLAVE,
        `bond ${bond.name}: slave ${slave} carries the unmanaged network ${network.name}; remove that network first`,
        path,
        { bondName: bond.name, nicName: slave, networkName: network.name },
      ),
    );
  }
  return out;
}

/** A NIC listed as a slave more than once, in one bond or across bonds; reported once per NIC. */
function slavesReferencedTwice(request: CompletedRequest): Violation[] {
  const uses = new Map<string, string[]>();
  for (const bond of request.bonds) for (const slave of bond.slaves) uses.set(slave, [...(uses.get(slave) ?? []), bond.name]);
  return [...uses.entries()]
    .filter(([, bonds]) => bonds.length > 1)
    .map(([slave, bonds]) => {
      const first = request.bonds.find((b) => b.slaves.includes(slave));
      return violation(
        ViolationKey.NETWORK_INTERFACE_REFERENCED_AS_A_SLAVE_MULTIPLE_TIMES,
        `slave ${slave} is listed ${bonds.length} times (bonds ${[...new Set(bonds)].join(', ')}); a NIC can be the slave of one bond, once`,
        first ? ['bonds', first.index, 'slaves'] : ['bonds'],
        { nicName: slave, bondNames: [...new Set(bonds)] },
      );
    });
}

export function checkRemovedBonds(request: CompletedRequest, index: ContextIndex, effective: readonly EffectiveAttachment[]): Violation[] {
  const out: Violation[] = [];
  for (const [i, name] of request.removedBonds.entries()) {
    const path = ['removedBonds', i];
    const kind = index.interfaceKind(name);
    if (kind === null) {
      out.push(
        violation(ViolationKey.NETWORK_BOND_RECORDS_DOES_NOT_EXISTS, `removedBonds[${i}]: the host reports no bond ${name}`, path, {
          bondName: name,
        }),
      );
      continue;
    }
    if (kind !== 'bond') {
      out.push(
        violation(
          ViolationKey.NETWORK_INTERFACE_IS_NOT_BOND,
          `removedBonds[${i}]: ${name} is a ${kind === 'nic' ? 'NIC' : 'VLAN device'}, not a bond`,
          path,
          { interfaceName: name, kind },
        ),
      );
      continue;
    }
    const users = effective.filter((a) => a.nicName === name);
    if (users.length) {
      out.push(
        violation(
          ViolationKey.BOND_USED_BY_NETWORK_ATTACHMENTS,
          `removedBonds[${i}]: bond ${name} still carries ${users.map(describeAttachment).join(', ')}; remove or move those attachments in the same request`,
          path,
          {
            bondName: name,
            attachmentIds: users.flatMap((a) => (a.id === null ? [] : [a.id])),
            networkNames: users.flatMap((a) => (a.network ? [a.network.name] : [])),
          },
        ),
      );
    }
  }
  for (const bond of request.bonds) {
    if (request.removedBonds.includes(bond.name)) {
      out.push(
        violation(
          ViolationKey.BONDS_UPDATED_AND_REMOVED_SIMULTANEOUSLY,
          `bond ${bond.name} is both updated and removed`,
          ['bonds', bond.index],
          {
            bondName: bond.name,
          },
        ),
      );
    }
  }
  return out;
}

/** The numeric mode of an option string or a reported option record; `null` when missing or unknown. */
function modeOf(options: string | Readonly<Record<string, string>>): string | null {
  const mode = typeof options === 'string' ? parseBondOptions(options).mode : options.mode;
  return mode === undefined ? null : bondModeNumber(mode);
}

/**
 * A VM network on a bond needs a mode that keeps its bridge's traffic sane. Not checked for a stored
 * attachment whose network is out of sync and not being synced: the request does not touch it.
 */
export function checkBondModes(
  request: CompletedRequest,
  index: ContextIndex,
  effective: readonly EffectiveAttachment[],
  syncReport: SyncReporter,
): Violation[] {
  const out: Violation[] = [];
  for (const a of effective) {
    if (!a.network?.vmNetwork || a.nicName === null) continue;
    if (a.stored && !a.overrideConfiguration && !syncReport(a.stored).inSync) continue;
    const requested = request.bonds.find((b) => b.name === a.nicName);
    const reported = requested ? undefined : index.reportedBond(a.nicName);
    if (!requested && !reported) continue;
    const mode = modeOf(requested ? requested.options : (reported?.options ?? {}));
    if (mode !== null && VM_NETWORK_BOND_MODES.includes(mode)) continue;
    out.push(
      violation(
        ViolationKey.INVALID_BOND_MODE_FOR_BOND_WITH_VM_NETWORK,
        `${describeAttachment(a)}: VM network ${a.network.name} cannot sit on bond ${a.nicName} in mode ${mode ?? '(none)'}; use mode 1, 2, 3 or 4`,
        requested ? ['bonds', requested.index, 'options'] : attachmentPath(a, 'nicName'),
        { bondName: a.nicName, networkName: a.network.name, mode },
      ),
    );
  }
  return out;
}
