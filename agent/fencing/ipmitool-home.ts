/**
 * The HOME the agent gives fence agents that run ipmitool (fence_ipmilan and its aliases).
 *
 * ipmitool 1.8.19 (Debian 12's) loads the IANA private enterprise number registry at every start, to name
 * BMC manufacturers: a 4.7 MB text file, parsed into a list, some 35 ms of CPU per run. fence_ipmilan runs
 * ipmitool five times per reboot (status, off, status, on, status), so that parse was most of a fence's CPU
 * on the proxy host (docs/performance.md#what-a-reboot-costs). Power control names no manufacturer.
 *
 * ipmitool looks for the registry under `$HOME/.local/usr/share/misc` before the system's copy
 * (`oem_info_list_load` in ipmitool's lib/ipmi_strings.c). This directory holds a registry of one entry
 * there, under both names builds use. An ipmitool that does not look there reads the system's file as
 * before: slower, and otherwise the same. Fence agents that do not declare `ipmitool_path` keep the agent's
 * own HOME (an ssh-based agent's known hosts live there).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where, in the agent's runtime directory, the HOME is. */
export const IPMITOOL_HOME_SUBDIR = 'ipmitool-home';
/** The directory, under the HOME ipmitool is given, where it looks for its own copy of the registry. */
export const IPMITOOL_USER_REGISTRY_DIR = join('.local', 'usr', 'share', 'misc');
/** Upstream's file name, and Debian's. */
export const IPMITOOL_REGISTRY_NAMES = ['enterprise-numbers', 'enterprise-numbers.txt'] as const;
/** The parameter through which a fence agent declares, in its metadata, that it runs ipmitool. */
export const IPMITOOL_PARAMETER = 'ipmitool_path';

/** A registry in IANA's layout with its first entry only: what ipmitool needs to parse, nothing it would look up. */
export const MINIMAL_PEN_REGISTRY = [
  'PRIVATE ENTERPRISE NUMBERS',
  '',
  '(written by the hostprov agent for the fence agents it runs; see agent/fencing/ipmitool-home.ts)',
  '',
  'Decimal',
  '| Organization',
  '| | Contact',
  '| | | Email',
  '| | | |',
  '0',
  '  Reserved',
  '    Internet Assigned Numbers Authority',
  '      iana&iana.org',
  '',
].join('\n');

/**
 * Makes `home` (mode 0700) with the minimal registry in it, unless it is there already; returns `home`.
 * Cheap when it is: one read per name. The agent's runtime directory holds it, so a reboot starts it over.
 */
export function prepareIpmitoolHome(home: string): string {
  const dir = join(home, IPMITOOL_USER_REGISTRY_DIR);
  for (const name of IPMITOOL_REGISTRY_NAMES) {
    const file = join(dir, name);
    if (readIfPresent(file) === MINIMAL_PEN_REGISTRY) continue;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, MINIMAL_PEN_REGISTRY, { mode: 0o644 });
    renameSync(partial, file);
  }
  return home;
}

function readIfPresent(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
