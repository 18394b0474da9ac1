/**
 * Properties of the install-host input contract (model/install-host/contract.ts), the boundary where a
 * caller's JSON enters a workflow: hostile variations of a valid input are either refused with a ZodError
 * whose issues name a field, or parse to a value that validates again to itself, also after the JSON trip
 * through Temporal's payloads. Nothing else is ever thrown.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InstallHostInput } from '../../model/install-host/contract';
import { propertyParameters, REPLAY_HINT } from '../helpers/property';

/** Every optional part present, so that variations reach each field. */
const VALID = {
  version: 1,
  host: { id: '3f1c9a7e', name: 'host1', address: '198.18.1.10', clusterId: 'default' },
  agent: {
    host: '198.18.1.10',
    port: 54321,
    tls: {
      certRef: 'file:/etc/hostprov/engine.pem',
      keyRef: 'file:/etc/hostprov/engine.key',
      caRef: 'env:HOSTPROV_CA',
      serverName: 'host1.example',
    },
  },
  managerAddress: '198.19.1.1',
  managementNetwork: { name: 'ovirtmgmt', vlan: 10, mtu: 1500, vmNetwork: true, stp: false, defaultRoute: true },
  clusterLevel: '4.8',
  powerManagement: {
    agent: 'ipmilan',
    address: '198.18.1.200',
    port: 623,
    username: 'admin',
    passwordRef: 'env:BMC_PASSWORD',
    options: 'lanplus=1',
    proxy: { id: 'p1', name: 'host2', agent: { host: '198.18.1.11', port: 54321, tls: { insecure: true } } },
  },
  policy: { connectivityTimeoutSeconds: 120, reboot: true, commitMode: 'auto', agentWaitSeconds: 300 },
};

type Path = ReadonlyArray<string>;

/** The path of every value in `value`, objects included. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return [prefix, ...Object.entries(value).flatMap(([key, child]) => pathsOf(child, [...prefix, key]))];
}
const PATHS = pathsOf(VALID).filter((p) => p.length > 0);

/** Strings an attacker or a confused caller might send: separators, traversal, secrets in place of references. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\n',
    'file:../../etc/shadow',
    'file:/etc/shadow\n',
    'env:',
    'env:1X',
    '-----BEGIN PRIVATE KEY-----',
    '198.18.1.10; reboot',
    'lanplus=1 passwd_script=touch${IFS}/tmp/x',
    '4.8\n',
    '4.8.1',
    '__proto__',
    'constructor',
    'auto ',
    'commit-on-success',
    'x'.repeat(300),
  ),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constantFrom(0, -0, -1, 1, 65_535, 65_536, 4094, 4095, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY),
  ),
  fc.constantFrom(null, undefined, true, false, [], {}),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
    JSON.parse('{"constructor":{"prototype":{"polluted":true}}}') as unknown,
  ),
);

type Mutation =
  { kind: 'set'; path: Path; value: unknown } | { kind: 'delete'; path: Path } | { kind: 'add'; path: Path; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), path: fc.constantFrom(...PATHS), value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...PATHS) }),
  fc.record({
    kind: fc.constant('add' as const),
    path: fc.constantFrom([], ...PATHS),
    key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'insecure', 'extra')),
    value: hostileValue,
  }),
);

/** A deep copy of VALID with the mutations applied (own properties only, so `__proto__` stays data). */
function mutate(mutations: readonly Mutation[]): unknown {
  const root = structuredClone(VALID) as Record<string, unknown>;
  for (const m of mutations) {
    const parentPath = m.kind === 'add' ? m.path : m.path.slice(0, -1);
    let parent: unknown = root;
    for (const key of parentPath)
      parent = typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[key] : undefined;
    if (typeof parent !== 'object' || parent === null) continue;
    const key = m.kind === 'add' ? m.key : m.path[m.path.length - 1]!;
    if (m.kind === 'delete') delete (parent as Record<string, unknown>)[key];
    else Object.defineProperty(parent, key, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

const inputs: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }).map(mutate), weight: 8 },
  { arbitrary: fc.anything(), weight: 1 },
);

/** JSON as Temporal's default payload converter would carry it. */
const overJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

describe(`install-host input properties (${REPLAY_HINT})`, () => {
  it('the untouched input is valid (so refusals below are about the variation)', () => {
    expect(InstallHostInput.safeParse(VALID).success).toBe(true);
  });

  it('refuses a variation with a ZodError naming a field, or parses it to a value that validates again to itself', () => {
    let accepted = 0;
    fc.assert(
      fc.property(inputs, (input) => {
        let result: ReturnType<typeof InstallHostInput.safeParse>;
        try {
          result = InstallHostInput.safeParse(input);
        } catch (err) {
          throw new Error(`safeParse threw ${String(err)}`, { cause: err });
        }
        if (result.success) {
          accepted += 1;
          const again = InstallHostInput.safeParse(result.data);
          expect(again.success && overJson(again.data)).toEqual(overJson(result.data));
          const afterJson = InstallHostInput.safeParse(overJson(result.data));
          expect(afterJson.success && overJson(afterJson.data)).toEqual(overJson(result.data));
          // Nothing reached Object.prototype.
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          return;
        }
        // zod's core error (the contract is written with zod/mini; the classic API's ZodError is one too)
        expect(result.error).toBeInstanceOf(z.core.$ZodError);
        const isObject = typeof input === 'object' && input !== null && !Array.isArray(input);
        for (const issue of result.error.issues) {
          const namesField = issue.path.length > 0 || (issue.code === 'unrecognized_keys' && issue.keys.length > 0) || !isObject;
          expect(namesField, JSON.stringify(issue)).toBe(true);
        }
        // `parse` throws that same kind of error and nothing else.
        expect(() => InstallHostInput.parse(input)).toThrow(z.core.$ZodError);
      }),
      propertyParameters(2000),
    );
    // The variations must not all be refusals: some leave the input valid (a changed name, a removed default).
    expect(accepted).toBeGreaterThan(0);
  });
});
