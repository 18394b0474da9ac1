/**
 * The static part of the fence-options rule, shared by the install-host contract and the agent's
 * `Host.fenceNode`: what an `options` string may contain whatever fence agent will read it.
 *
 * Why a rule at all: VDSM appends `options` to the fence agent's stdin (vdsm lib/vdsm/API.py `fenceNode`),
 * and fence-agents read every stdin line `name=value` by its parameter name or long option name,
 * with `-` and `_` interchangeable (fence-agents lib/fencing.py.py `_parse_input_stdin`). So an option can
 * - run a program as root on the proxy host: `passwd_script=` / `password-script=` go to `os.popen`,
 *   `*_path=` chooses the binary that runs, `ssh_options=` reaches ssh's command line;
 * - write or read a file as root: `debug_file=`, `identity_file=`, …;
 * - override a line the verb writes itself: `ip=`, `username=`, `password=`, `plug=`, `action=`, …;
 * - or make the agent do something else than asked: `help=1` / `version=1` exit 0 without fencing.
 *
 * This module refuses all of those by name, in every spelling (case, `-`/`_`, leading dashes, the
 * getopt short letter), plus malformed items. The agent adds the allow-list from the fence agent's own
 * metadata on top (agent/fencing/option-policy.ts): only parameters the agent declares pass there.
 */

/** The lines `Host.fenceNode` writes itself, in VDSM's order (vdsm lib/vdsm/API.py `fenceNode`). */
export const FenceStdinKey = {
  AGENT: 'agent',
  IPADDR: 'ipaddr',
  LOGIN: 'login',
  ACTION: 'action',
  PASSWD: 'passwd',
  PORT: 'port',
  SECURE: 'secure',
} as const;
export type FenceStdinKey = (typeof FenceStdinKey)[keyof typeof FenceStdinKey];

export const FenceOptionRefusal = {
  /** Not `key` or `key=value` of printable ASCII, or too many items. */
  MALFORMED: 'malformed',
  /** Sets (or redirects) a line the verb writes itself, or replaces the requested action. */
  RESERVED: 'reserved',
  /** Names a program, script or file on the proxy host, or passes options to a program. */
  RUNS_PROGRAM: 'runs-program',
  /** Not a parameter of this fence agent (its metadata does not declare it). */
  UNKNOWN: 'unknown',
} as const;
export type FenceOptionRefusal = (typeof FenceOptionRefusal)[keyof typeof FenceOptionRefusal];

const REFUSAL_TEXT: Record<FenceOptionRefusal, string> = {
  malformed: 'expected key=value or a flag name, printable ASCII without control characters',
  reserved:
    'overrides a line Host.fenceNode writes from its own parameters (address, user, password, plug, action, secure) or replaces the action',
  'runs-program': 'names a program, script or file on the proxy host',
  unknown: 'not a parameter of this fence agent',
};

/**
 * A refused `options` item. The message names its position and key, never its value: values may be
 * secrets (SNMP passphrases, Kg keys).
 */
export class FenceOptionRefusedError extends Error {
  override readonly name = 'FenceOptionRefusedError';
  constructor(
    /** 1-based position of the item in the options string. */
    readonly position: number,
    /** The key as written, `null` when the item has no readable key. */
    readonly key: string | null,
    readonly refusal: FenceOptionRefusal,
    detail: string = REFUSAL_TEXT[refusal],
  ) {
    super(`fence option #${position}${key === null ? '' : ` (${key})`} refused: ${detail}`);
  }
}

/** One accepted item: the key as written and its value (`null` for a bare flag). */
export interface FenceOptionItem {
  readonly position: number;
  readonly key: string;
  readonly value: string | null;
}

/** More items than any fence agent has parameters for is not a configuration. */
export const MAX_FENCE_OPTIONS = 64;

/**
 * Items are separated by newlines, commas or whitespace (VDSM's schema says space-separated `var=val`,
 * engines have sent comma-separated lists): one stdin line each. A `\r` or `\n` therefore always starts a
 * new item, which is checked like any other: no value can smuggle a line in.
 */
const SEPARATORS = /[\s,]+/;

/** Parameter names seen in fence agents' metadata: letters, digits, `_`, `-`, `.` (`tls1.0`). */
const KEY = /^-{0,2}[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Printable ASCII; separators never get here. */
const VALUE = /^[!-~]*$/;

/**
 * Names that are (aliases of) the lines the verb writes, in fence-agents' spellings (lib/fencing.py.py
 * `all_opt`: `ipaddr` is `--ip`, `login` is `--username`, `passwd` is `--password`, `port` is `--plug`,
 * `secure` is `--ssh`), plus what redirects them (`port_as_ip` takes the address from the plug line) or
 * replaces the action (`help`, `version`, `usage` print and exit 0, which would read as "on" / "done").
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...Object.values(FenceStdinKey),
  'ip',
  'username',
  'password',
  'plug',
  'ssh',
  'port_as_ip',
  'help',
  'version',
  'usage',
]);

/** fence-agents' getopt letters for the reserved names above (lib/fencing.py.py `all_opt`). */
const RESERVED_SHORT: ReadonlySet<string> = new Set(['a', 'l', 'p', 'o', 'n', 'x', 'h', 'V']);

/**
 * Parameters of fence-agents that run something or name a file, whose names do not say so: a command
 * (`exec`, `runonfail`, `runonwarn`), ssh's command line (`ssh_options`: `-oProxyCommand=` runs a program),
 * a file written or read as root (`debug` is the old name of `debug_file`, `logfile`, credentials and
 * certificates by path).
 */
const PROGRAM_NAMES: ReadonlySet<string> = new Set([
  'exec',
  'runonfail',
  'runonwarn',
  'ssh_options',
  'debug',
  'logfile',
  'cacert',
  'tlscacert',
  'tlscert',
  'tlskey',
  'kubeconfig',
  'openrc',
  'serviceaccount',
]);

/** Suffixes that name a script, a binary or a file (`passwd_script`, `ipmitool_path`, `identity_file`). */
const PROGRAM_NAME_PATTERN = /(script|_path|_file)$/;

/** fence-agents' getopt letters of the script and file options (`-S` password script, `-R` SNMP one, `-D` debug file). */
const PROGRAM_SHORT: ReadonlySet<string> = new Set(['S', 'R', 'D']);

/** How a key is read: a getopt letter (case-sensitive) or a name (`-`/`_`, case and leading dashes folded). */
export type FenceOptionKeyName = { readonly short: string } | { readonly long: string };

export function fenceOptionKeyName(key: string): FenceOptionKeyName {
  const bare = key.replace(/^-+/, '');
  if (bare.length === 1) return { short: bare };
  return { long: bare.toLowerCase().replace(/-/g, '_') };
}

/** The static refusal of a key (see the module comment), or `null` if only an agent's metadata can tell. */
export function staticFenceOptionRefusal(key: string): FenceOptionRefusal | null {
  const name = fenceOptionKeyName(key);
  if ('short' in name) {
    if (RESERVED_SHORT.has(name.short)) return FenceOptionRefusal.RESERVED;
    if (PROGRAM_SHORT.has(name.short)) return FenceOptionRefusal.RUNS_PROGRAM;
    return null;
  }
  if (RESERVED_NAMES.has(name.long)) return FenceOptionRefusal.RESERVED;
  if (PROGRAM_NAMES.has(name.long) || PROGRAM_NAME_PATTERN.test(name.long)) return FenceOptionRefusal.RUNS_PROGRAM;
  return null;
}

/**
 * Splits `options` into items and applies the static rule; throws {@link FenceOptionRefusedError} for the
 * first item refused. Pure: the contract runs it on workflow input, the agent before its metadata check.
 */
export function parseFenceOptions(options: string): FenceOptionItem[] {
  const raw = options.split(SEPARATORS).filter((item) => item !== '');
  if (raw.length > MAX_FENCE_OPTIONS) {
    throw new FenceOptionRefusedError(MAX_FENCE_OPTIONS + 1, null, FenceOptionRefusal.MALFORMED, `more than ${MAX_FENCE_OPTIONS} options`);
  }
  return raw.map((item, i) => {
    const position = i + 1;
    const eq = item.indexOf('=');
    const key = eq === -1 ? item : item.slice(0, eq);
    const value = eq === -1 ? null : item.slice(eq + 1);
    if (!KEY.test(key)) throw new FenceOptionRefusedError(position, null, FenceOptionRefusal.MALFORMED);
    if (value !== null && !VALUE.test(value)) throw new FenceOptionRefusedError(position, key, FenceOptionRefusal.MALFORMED);
    const refusal = staticFenceOptionRefusal(key);
    if (refusal) throw new FenceOptionRefusedError(position, key, refusal);
    return { position, key, value };
  });
}

/** The rule as a yes/no with the reason, for zod refinements. */
export function fenceOptionsProblem(options: string): string | null {
  try {
    parseFenceOptions(options);
    return null;
  } catch (err) {
    if (err instanceof FenceOptionRefusedError) return err.message;
    throw err;
  }
}
