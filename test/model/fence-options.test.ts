/**
 * The static fence-options rule (model/fencing/fence-options.ts) that both the install-host contract and
 * the agent apply: examples, the contract, and a property over generated options strings.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FenceOptionRefusal,
  FenceOptionRefusedError,
  MAX_FENCE_OPTIONS,
  parseFenceOptions,
  staticFenceOptionRefusal,
} from '../../model/fencing/fence-options';
import { InstallHostInput, type InstallHostRequest } from '../../model/install-host/contract';
import { propertyParameters, REPLAY_HINT } from '../helpers/property';

function refusalOf(options: string): FenceOptionRefusedError {
  try {
    parseFenceOptions(options);
  } catch (err) {
    if (err instanceof FenceOptionRefusedError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be refused`);
}

describe('fence options, static rule', () => {
  it('splits on newlines, commas and whitespace into key=value items and flags', () => {
    expect(parseFenceOptions('ipport=9623\nlanplus=1,cipher=3  power_wait=4,\n')).toEqual([
      { position: 1, key: 'ipport', value: '9623' },
      { position: 2, key: 'lanplus', value: '1' },
      { position: 3, key: 'cipher', value: '3' },
      { position: 4, key: 'power_wait', value: '4' },
    ]);
    expect(parseFenceOptions('')).toEqual([]);
    expect(parseFenceOptions('verbose --ipport=623 tls1.0')).toEqual([
      { position: 1, key: 'verbose', value: null },
      { position: 2, key: '--ipport', value: '623' },
      { position: 3, key: 'tls1.0', value: null },
    ]);
  });

  it('refuses scripts, paths and files in every spelling, naming the key but never the value', () => {
    for (const key of [
      'passwd_script',
      'password_script',
      'password-script',
      '--password-script',
      'PASSWD_SCRIPT',
      '-S',
      'snmp_priv_passwd_script',
      'ipmitool_path',
      'ipmitool-path',
      '--sudo-path',
      'debug_file',
      'debug',
      '-D',
      'identity_file',
      'ssh_options',
      'exec',
      'runonfail',
      'kubeconfig',
    ]) {
      const err = refusalOf(`ipport=623 ${key}=touch\${IFS}/tmp/hostprov-marker`);
      expect(err.refusal, key).toBe(FenceOptionRefusal.RUNS_PROGRAM);
      expect(err.key).toBe(key);
      expect(err.position).toBe(2);
      expect(err.message).toContain(`(${key})`);
      expect(err.message).not.toContain('touch');
    }
  });

  it('refuses every spelling of the lines the verb writes, and what replaces the action', () => {
    for (const key of [
      'agent',
      'ip',
      'ipaddr',
      '-a',
      'IP',
      'username',
      'login',
      '-l',
      'password',
      'passwd',
      '-p',
      '--password',
      'plug',
      'port',
      '-n',
      'action',
      '-o',
      '--action',
      'secure',
      'ssh',
      '-x',
      'port_as_ip',
      'port-as-ip',
      'help',
      '-h',
      'version',
      '-V',
      'usage',
    ]) {
      const err = refusalOf(`${key}=hunter2`);
      expect(err.refusal, key).toBe(FenceOptionRefusal.RESERVED);
      expect(err.message).toContain(`(${key})`);
      expect(err.message).not.toContain('hunter2');
    }
  });

  it('refuses line injection and malformed items; the key is named when it is readable', () => {
    // A newline always starts a new item, which is checked on its own.
    expect(refusalOf('ipport=623\npasswd_script=x')).toMatchObject({ position: 2, key: 'passwd_script' });
    expect(refusalOf('ipport=623\rpasswd=x')).toMatchObject({ position: 2, key: 'passwd' });
    expect(refusalOf('ipport=623\0passwd=x')).toMatchObject({ position: 1, key: 'ipport', refusal: FenceOptionRefusal.MALFORMED });
    expect(refusalOf('ipport=välue')).toMatchObject({ key: 'ipport', refusal: FenceOptionRefusal.MALFORMED });
    for (const options of ['=x', 'ke/y=1', '#comment', '---x=1', 'ab c=\u0001'])
      expect(refusalOf(options).refusal, options).toBe(FenceOptionRefusal.MALFORMED);
    expect(refusalOf('=secret').key).toBeNull();
    expect(refusalOf(Array.from({ length: MAX_FENCE_OPTIONS + 1 }, () => 'lanplus=1').join(' ')).refusal).toBe(
      FenceOptionRefusal.MALFORMED,
    );
  });

  it('leaves other names to the agent, which knows its parameters', () => {
    for (const key of ['ipport', 'lanplus', 'cipher', 'method', '-u', '-P', 'subscriptionId', 'tls1.0', 'ip_', 'plugs'])
      expect(staticFenceOptionRefusal(key), key).toBeNull();
  });
});

describe('install-host contract, powerManagement.options', () => {
  const request = (options: string): InstallHostRequest => ({
    version: 1,
    host: { id: 'h1', name: 'h1', address: '198.18.1.10', clusterId: 'c1' },
    agent: { tls: { insecure: true } },
    managerAddress: '198.19.1.1',
    clusterLevel: '4.8',
    powerManagement: {
      agent: 'ipmilan',
      address: '198.18.1.200',
      username: 'admin',
      passwordRef: 'env:HOSTPROV_SECRET_BMC',
      options,
      proxy: { id: 'h2', name: 'h2', agent: { host: '198.18.1.11', tls: { insecure: true } } },
    },
  });

  it('refuses the injection before it reaches a host, naming the field and the key, not the value', () => {
    for (const options of [
      'passwd_script=touch${IFS}/tmp/x',
      'lanplus=1\n--password-script=touch${IFS}/tmp/x',
      'ip=10.0.0.1',
      'ipmitool_path=/tmp/x',
    ]) {
      const result = InstallHostInput.safeParse(request(options));
      expect(result.success, options).toBe(false);
      expect(result.error?.issues[0]?.path.join('.')).toBe('powerManagement.options');
      expect(result.error?.issues[0]?.message).toMatch(/^fence option #\d \([-a-z_]+\) refused: /);
      expect(result.error?.issues[0]?.message).not.toContain('/tmp/x');
    }
  });

  it('accepts ordinary options and the empty default', () => {
    expect(InstallHostInput.parse(request('lanplus=1,cipher=3 power_wait=4')).powerManagement?.options).toBe(
      'lanplus=1,cipher=3 power_wait=4',
    );
    const { options: _, ...withoutOptions } = request('').powerManagement!;
    expect(InstallHostInput.parse({ ...request(''), powerManagement: withoutOptions }).powerManagement?.options).toBe('');
  });
});

// ---- property: what fence-agents would read from any accepted options string ------------------------------

/**
 * An independent model of fence-agents' stdin reader (lib/fencing.py.py `_parse_input_stdin`): a name is
 * looked up as a long option with `-`→`_` or `_`→`-` applied, else taken as the internal key. Long options
 * of the dangerous keys, from fencing.py's `all_opt` and the agents that add their own.
 */
const LONG_OPTION_TO_KEY: Record<string, string> = {
  ip: 'ipaddr',
  username: 'login',
  password: 'passwd',
  'password-script': 'passwd_script',
  plug: 'port',
  ssh: 'secure',
  action: 'action',
  'debug-file': 'debug',
  'ipmitool-path': 'ipmitool_path',
  'sudo-path': 'sudo_path',
  'ssh-path': 'ssh_path',
  'telnet-path': 'telnet_path',
  'snmp-priv-passwd-script': 'snmp_priv_passwd_script',
  'snmpget-path': 'snmpget_path',
  'identity-file': 'identity_file',
  'port-as-ip': 'port_as_ip',
  'ssh-options': 'ssh_options',
  help: 'help',
  version: 'version',
  exec: 'exec',
};
const DANGEROUS_KEYS = new Set([...Object.values(LONG_OPTION_TO_KEY), 'agent']);
const DANGEROUS_SHORT = new Set(['a', 'l', 'p', 'S', 'o', 'n', 'x', 'D', 'R', 'h', 'V']);

function keyFenceAgentsRead(name: string): string {
  const dashed = name.replace(/_/g, '-');
  const underscored = name.replace(/-/g, '_');
  return LONG_OPTION_TO_KEY[underscored] ?? LONG_OPTION_TO_KEY[dashed] ?? name;
}

/** Stricter than fence-agents: case folded, leading dashes dropped (a command line), getopt letters. */
function dangerousInAnySpelling(key: string): boolean {
  const bare = key.replace(/^-+/, '');
  if (bare.length === 1) return DANGEROUS_SHORT.has(bare);
  return DANGEROUS_KEYS.has(keyFenceAgentsRead(bare.toLowerCase()));
}

const DANGEROUS_NAMES = [
  ...Object.keys(LONG_OPTION_TO_KEY),
  ...DANGEROUS_KEYS,
  'password_script',
  'debug_file',
  'snmpwalk_path',
  'use_sudo_path',
];
const SAFE_NAMES = [
  'ipport',
  'lanplus',
  'cipher',
  'method',
  'privlvl',
  'power_wait',
  'power_timeout',
  'login_timeout',
  'auth',
  'hexadecimal_kg',
  'verbose',
  'delay',
  'target',
  'retry_on',
  'ipmitool_timeout',
];

/** `name` in any case, with any `_`/`-` swapped and 0..2 leading dashes. */
const spelled = (names: readonly string[]) =>
  fc
    .constantFrom(...names)
    .chain((name) =>
      fc.tuple(
        fc.constantFrom('', '-', '--'),
        fc.mixedCase(fc.constant(name)),
        fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }),
      ),
    )
    .map(
      ([dashes, cased, swaps]) =>
        dashes + [...cased].map((c, i) => ((c === '_' || c === '-') && swaps[i] ? (c === '_' ? '-' : '_') : c)).join(''),
    );

const anyValue = fc.oneof(
  fc.constant(null),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('touch${IFS}/tmp/x', '1', 'off', '', '="x"'),
);
const item = fc
  .oneof(
    fc.tuple(spelled(DANGEROUS_NAMES), anyValue),
    fc.tuple(spelled(SAFE_NAMES), anyValue),
    fc.tuple(
      fc.constantFrom(...DANGEROUS_SHORT, 'u', 'P', 'C').map((l) => `-${l}`),
      anyValue,
    ),
    fc.tuple(fc.string({ unit: 'binary', maxLength: 10 }), anyValue),
  )
  .map(([key, value]) => (value === null ? key : `${key}=${value}`));
const separator = fc.constantFrom('\n', '\r\n', '\r', ' ', ',', '\t', ', ', '\n\n', '\0', '\u2028', '\u00a0', '\v', '\f', '');
const optionsString = fc.array(fc.tuple(item, separator), { maxLength: 8 }).map((parts) => parts.map(([i, s]) => i + s).join(''));

const printableValue = fc.string({
  unit: fc
    .integer({ min: 0x21, max: 0x7e })
    .filter((c) => c !== 0x2c)
    .map((c) => String.fromCharCode(c)),
  maxLength: 16,
});

describe(`fence options property (${REPLAY_HINT})`, () => {
  it('no generated options string gets a script, path, file or reserved key through', () => {
    fc.assert(
      fc.property(optionsString, (options) => {
        let items;
        try {
          items = parseFenceOptions(options);
        } catch (err) {
          if (err instanceof FenceOptionRefusedError) return true; // refused: nothing reaches an agent
          throw err;
        }
        // No dangerous key in any spelling, and each item is one stdin line with nothing to split or hide.
        return items.every(({ key, value }) => !dangerousInAnySpelling(key) && /^[!-~]+$/.test(`${key}=${value ?? ''}`));
      }),
      propertyParameters(10_000),
    );
  });

  it('ordinary parameters with printable values always pass, unchanged (the rule is not "refuse everything")', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(spelled(SAFE_NAMES), printableValue), { minLength: 1, maxLength: 8 }),
        separator.filter((s) => /^[\s,]+$/.test(s)),
        (pairs, sep) => {
          const items = parseFenceOptions(pairs.map(([k, v]) => `${k}=${v}`).join(sep));
          return items.length === pairs.length && items.every((it, i) => it.key === pairs[i]?.[0] && it.value === pairs[i]?.[1]);
        },
      ),
      propertyParameters(5_000),
    );
  });
});
