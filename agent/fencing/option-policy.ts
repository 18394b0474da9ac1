/**
 * Fence options by allow-list: an item passes only if it names a parameter the fence agent declares in its
 * metadata, and neither that parameter nor any alias of it is refused. On top of the static rule
 * (model/fencing/fence-options.ts), the metadata tells, per agent:
 * - aliases: a parameter, the one it `obsoletes`, and every parameter with the same long option or getopt
 *   letter are one option (`ip`, `ipaddr`, `-a`, `--ip`); refusing one refuses all its spellings;
 * - what runs a program or names a file: the getopt placeholder (`[script]`, `[path]`, `[command]`,
 *   `[file]`) or the description ("Script to run…", "Path to…", "…the supplied command is run", "…file").
 * Accepted items are written with the parameter's own name, so the agent reads exactly what was checked.
 */
import {
  fenceOptionKeyName,
  FenceOptionRefusal,
  FenceOptionRefusedError,
  parseFenceOptions,
  staticFenceOptionRefusal,
  type FenceOptionItem,
} from '../../model/fencing/fence-options';
import type { FenceAgentMetadata, FenceAgentParameter } from './agent-metadata';

const PROGRAM_PLACEHOLDER = /script|path|command|file|run_on/i;
/** `file` but not `--debug-file` (the `quiet` option mentions that one). */
const PROGRAM_DESCRIPTION = /\bscript\b|\bbinary\b|\bexecutable\b|\bpath to\b|\bcommand (is run|to execute)\b|(?<![-\w])file\b/i;
/** "Replaced by port/-n/--plug" (fence_mpath `key`): an alias the metadata names only in words. */
const REPLACED_BY = /\breplaced by\s+(\S+)/i;

export interface FenceOptionPolicy {
  readonly agent: string;
  /** Checks `options`; returns the stdin lines to write. Throws {@link FenceOptionRefusedError}. */
  check(options: string): string[];
  /** Why a parameter name is refused, `null` if it is accepted (for tests and diagnostics). */
  refusalOf(name: string): FenceOptionRefusal | null;
  /** Whether the agent's metadata declares a parameter of this name (`ipmitool_path`: it runs ipmitool). */
  declares(name: string): boolean;
}

interface OptionGroup {
  readonly members: FenceAgentParameter[];
  refusal: FenceOptionRefusal | null;
}

/** A key as the policy indexes it: `long:<folded name>` or `short:<letter>`. */
function spelling(key: string): string {
  const name = fenceOptionKeyName(key);
  return 'long' in name ? `long:${name.long}` : `short:${name.short}`;
}

/** Every way a parameter can be named: its name, its long option, its getopt letter, the name it replaces. */
function spellingsOf(parameter: FenceAgentParameter): string[] {
  return [parameter.name, parameter.long, parameter.short ? `-${parameter.short}` : null, parameter.obsoletes]
    .filter((s): s is string => s !== null)
    .map(spelling);
}

function refusalOfParameter(parameter: FenceAgentParameter): FenceOptionRefusal | null {
  // Names only: what a getopt letter means is this agent's business (`-a` is `--access-key` in fence_aws),
  // and a letter shared with a reserved parameter puts both in one group anyway.
  const byName = [parameter.name, parameter.long, parameter.obsoletes].filter((s): s is string => s !== null).map(staticFenceOptionRefusal);
  if (byName.includes(FenceOptionRefusal.RESERVED)) return FenceOptionRefusal.RESERVED;
  if (byName.includes(FenceOptionRefusal.RUNS_PROGRAM)) return FenceOptionRefusal.RUNS_PROGRAM;
  if (parameter.placeholder && PROGRAM_PLACEHOLDER.test(parameter.placeholder)) return FenceOptionRefusal.RUNS_PROGRAM;
  if (PROGRAM_DESCRIPTION.test(parameter.shortdesc)) return FenceOptionRefusal.RUNS_PROGRAM;
  const replacedBy = REPLACED_BY.exec(parameter.shortdesc)?.[1]?.split('/').filter(Boolean) ?? [];
  if (replacedBy.some((name) => name.length > 2 && staticFenceOptionRefusal(name) === FenceOptionRefusal.RESERVED))
    return FenceOptionRefusal.RESERVED;
  return null;
}

/** The policy of one fence agent, from its metadata. Pure. */
export function fenceOptionPolicy(metadata: FenceAgentMetadata): FenceOptionPolicy {
  // Union of parameters sharing any spelling: each spelling points at its group.
  const groupOf = new Map<string, OptionGroup>();
  for (const parameter of metadata.parameters) {
    const spellings = spellingsOf(parameter);
    const existing = [...new Set(spellings.map((s) => groupOf.get(s)).filter((g): g is OptionGroup => g !== undefined))];
    const group: OptionGroup = { members: [parameter, ...existing.flatMap((g) => g.members)], refusal: null };
    for (const member of group.members) for (const s of spellingsOf(member)) groupOf.set(s, group);
  }
  const groups = new Set(groupOf.values());
  for (const group of groups) {
    const refusals = group.members.map(refusalOfParameter);
    group.refusal = refusals.includes(FenceOptionRefusal.RESERVED)
      ? FenceOptionRefusal.RESERVED
      : (refusals.find((r) => r !== null) ?? null);
  }
  // The name to write for each spelling: a parameter's own name first, then its other spellings.
  const nameOf = new Map<string, string>();
  for (const parameter of metadata.parameters) nameOf.set(spelling(parameter.name), parameter.name);
  for (const parameter of metadata.parameters) for (const s of spellingsOf(parameter)) if (!nameOf.has(s)) nameOf.set(s, parameter.name);

  const lookup = (key: string): { group: OptionGroup; name: string } | null => {
    const group = groupOf.get(spelling(key));
    const name = nameOf.get(spelling(key));
    return group && name ? { group, name } : null;
  };

  const lineOf = (item: FenceOptionItem): string => {
    const found = lookup(item.key);
    if (!found)
      throw new FenceOptionRefusedError(item.position, item.key, FenceOptionRefusal.UNKNOWN, `not a parameter of ${metadata.agent}`);
    if (found.group.refusal) throw new FenceOptionRefusedError(item.position, item.key, found.group.refusal);
    return item.value === null ? found.name : `${found.name}=${item.value}`;
  };

  return {
    agent: metadata.agent,
    check: (options) => parseFenceOptions(options).map(lineOf),
    refusalOf(name) {
      const statically = staticFenceOptionRefusal(name);
      if (statically) return statically;
      const found = lookup(name);
      return found ? found.group.refusal : FenceOptionRefusal.UNKNOWN;
    },
    declares: (name) => metadata.parameters.some((parameter) => parameter.name === name),
  };
}
