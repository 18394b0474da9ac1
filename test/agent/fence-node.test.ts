/**
 * `Host.fenceNode` (docs/vdsm-verbs.md#fencenode): stdin lines and result mapping on their own, then the real
 * path — the verb handler runs the real fence_ipmilan against a testbed host's real BMC (ipmi_sim), whose
 * power control really powers the namespaced host off and on.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FenceAgentTimeoutError } from '../../agent/fencing/errors';
import { IPMITOOL_USER_REGISTRY_DIR } from '../../agent/fencing/ipmitool-home';
import fc from 'fast-check';
import { parseFenceAgentMetadata } from '../../agent/fencing/agent-metadata';
import { DEFAULT_FENCE_AGENT_DIR } from '../../agent/fencing/fence';
import { FENCE_AGENT_NAME, renderFenceAgentInput, type FenceRequest } from '../../agent/fencing/fence-request';
import { FenceOptionPolicies, readFenceAgentMetadataXml } from '../../agent/fencing/option-policies';
import { FenceOptionRefusal, FenceOptionRefusedError } from '../../model/fencing/fence-options';
import { fenceResultFromExit } from '../../agent/fencing/fence-result';
import type { FenceAgentExit } from '../../agent/fencing/run-fence-agent';
import { createFenceNodeVerb, FENCE_NODE_METHOD, FENCE_NODE_PARAMS, parseFenceNodeParams } from '../../agent/verbs/fence-node';
import type { RpcContext } from '../../vdsm/verbs';
import { JsonRpcCode, VdsmCode, VdsmError } from '../../model/vdsm/error-codes';
import { propertyParameters, REPLAY_HINT } from '../helpers/property';
import { skipBecause } from '../helpers/skip';
import { run } from '../../lib/process';
import { canConnect, waitForTcp } from '../../testbed/reachability';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { createTestbed, type Testbed } from '../../testbed/testbed';
import { capturingLogger, cleanUp, makeStateDir, SERVICE_PORT, SERVING_BOOT_COMMAND } from '../testbed/helpers/fixture';

const ctx: RpcContext = { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', connectionId: 'test', requestId: 'req-1' };
/** A request of its own: the verb answers a power action repeated under one id with the first one's outcome. */
const freshCtx = (): RpcContext => ({ ...ctx, requestId: randomUUID() });

const request: FenceRequest = {
  addr: '198.18.7.200',
  port: '',
  agent: 'ipmilan',
  username: 'admin',
  password: 's3cret',
  action: 'status',
  secure: false,
  options: '',
};

/** Calls the handler and returns the VdsmError it rejects with (fails the test if it resolves). */
async function vdsmErrorOf(promise: Promise<unknown>): Promise<VdsmError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a VDSM error, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(VdsmError);
  return outcome.error as VdsmError;
}

describe('fence agent stdin', () => {
  it("writes VDSM's lines in VDSM's order, then the checked options", () => {
    expect(renderFenceAgentInput(request, [])).toBe(
      'agent=fence_ipmilan\nipaddr=198.18.7.200\nlogin=admin\naction=status\npasswd=s3cret\n',
    );
    expect(renderFenceAgentInput({ ...request, port: '3', secure: true }, ['ipport=9623', 'lanplus=1'])).toBe(
      'agent=fence_ipmilan\nipaddr=198.18.7.200\nlogin=admin\naction=status\npasswd=s3cret\nport=3\nsecure=yes\nipport=9623\nlanplus=1\n',
    );
  });
});

const fenceIpmilan = join(DEFAULT_FENCE_AGENT_DIR, 'fence_ipmilan');
const noFenceAgent = existsSync(fenceIpmilan) ? null : `${fenceIpmilan} is not installed (scripts/setup installs fence-agents)`;

describe.skipIf(skipBecause(noFenceAgent, "fence options against fence_ipmilan's metadata"))(
  "fence options by fence_ipmilan's own metadata",
  () => {
    const policies = new FenceOptionPolicies();
    const policy = () => policies.policyFor(fenceIpmilan, 'ipmilan');

    it('reads the metadata once and keeps it', async () => {
      const fresh = new FenceOptionPolicies();
      const [a, b] = await Promise.all([fresh.policyFor(fenceIpmilan, 'ipmilan'), fresh.policyFor(fenceIpmilan, 'ipmilan')]);
      await fresh.policyFor(fenceIpmilan, 'ipmilan');
      expect(a).toBe(b);
      expect(fresh.reads).toBe(1);
      expect(a.agent).toBe('fence_ipmilan');
    });

    it('reads it again when the agent on disk changes (a package update)', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'hostprov-fence-agent-'));
      try {
        const copy = join(dir, 'fence_ipmilan');
        await copyFile(fenceIpmilan, copy);
        await chmod(copy, 0o755);
        const fresh = new FenceOptionPolicies();
        await fresh.policyFor(copy, 'ipmilan');
        await utimes(copy, new Date(), new Date(Date.now() + 5_000));
        await fresh.policyFor(copy, 'ipmilan');
        expect(fresh.reads).toBe(2);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('writes accepted options under their own names, whatever spelling came in', async () => {
      expect((await policy()).check('ipport=9623\n--lanplus=1,-C=3 Power-Wait=4 method=cycle verbose')).toEqual([
        'ipport=9623',
        'lanplus=1',
        'cipher=3',
        'power_wait=4',
        'method=cycle',
        'verbose',
      ]);
    });

    it("refuses scripts, paths and files, every alias of the verb's own lines, and what the agent does not declare", async () => {
      const p = await policy();
      for (const key of [
        'passwd_script',
        'password_script',
        'password-script',
        '--password-script',
        '-S',
        'ipmitool_path',
        'sudo_path',
        'debug',
        'debug_file',
        '-D',
      ])
        expect(p.refusalOf(key), key).toBe(FenceOptionRefusal.RUNS_PROGRAM);
      for (const key of [
        'ip',
        'ipaddr',
        '-a',
        'username',
        'login',
        'password',
        'passwd',
        'plug',
        'port',
        '-n',
        'action',
        'port_as_ip',
        'help',
        'version',
      ])
        expect(p.refusalOf(key), key).toBe(FenceOptionRefusal.RESERVED);
      for (const key of ['secure', 'ssh_options', 'snmp_priv_passwd', 'nosuchoption', 'agent'])
        expect(p.refusalOf(key), key).not.toBeNull();
      for (const key of ['ipport', 'lanplus', 'cipher', 'method', 'privlvl', 'hexadecimal_kg', 'power_wait', '-P', '--ipport'])
        expect(p.refusalOf(key), key).toBeNull();
      expect(() => p.check('ipport=1 snmp_priv_passwd=x')).toThrow(/#2 \(snmp_priv_passwd\) refused: not a parameter of fence_ipmilan/);
    });

    /** The stdin keys fence_ipmilan must never get from options (read off its metadata by hand). */
    const IPMILAN_DANGEROUS = new Set([
      'action',
      'ip',
      'ipaddr',
      'login',
      'username',
      'passwd',
      'password',
      'passwd_script',
      'password_script',
      'plug',
      'port',
      'port_as_ip',
      'debug',
      'debug_file',
      'ipmitool_path',
      'sudo_path',
      'help',
      'version',
    ]);

    it(`property: no generated options string gets a script, path or reserved key to fence_ipmilan (${REPLAY_HINT})`, async () => {
      const p = await policy();
      const metadata = parseFenceAgentMetadata('ipmilan', await readFenceAgentMetadataXml(fenceIpmilan, 'ipmilan', 15_000));
      // How fence_ipmilan resolves a stdin name (lib/fencing.py.py _parse_input_stdin): its long option with
      // "-"→"_" or "_"→"-", else the name itself; then that parameter and everything it obsoletes.
      const byLong = new Map(metadata.parameters.filter((m) => m.long).map((m) => [m.long ?? '', m]));
      const resolve = (name: string) =>
        byLong.get(name.replace(/-/g, '_')) ?? byLong.get(name.replace(/_/g, '-')) ?? metadata.parameters.find((m) => m.name === name);
      const names = [...metadata.parameters.flatMap((m) => [m.name, m.long ?? m.name]), 'agent', 'secure', 'nosuch'];
      const spelledName = fc
        .constantFrom(...names)
        .chain((n) => fc.tuple(fc.constantFrom('', '-', '--'), fc.mixedCase(fc.constant(n)), fc.boolean()))
        .map(([dashes, n, swap]) => dashes + (swap ? n.replace(/[-_]/g, (c) => (c === '-' ? '_' : '-')) : n));
      const shortName = fc.constantFrom(...metadata.parameters.flatMap((m) => (m.short ? [`-${m.short}`] : [])));
      const value = fc.oneof(fc.constant(null), fc.string({ unit: 'binary', maxLength: 8 }), fc.constant('touch${IFS}/tmp/x'));
      const item = fc
        .tuple(fc.oneof(spelledName, shortName, fc.string({ unit: 'binary', maxLength: 6 })), value)
        .map(([k, v]) => (v === null ? k : `${k}=${v}`));
      const options = fc
        .array(fc.tuple(item, fc.constantFrom('\n', '\r', ' ', ',', '\0', '\t', '')), { maxLength: 6 })
        .map((parts) => parts.map(([i, sep]) => i + sep).join(''));
      fc.assert(
        fc.property(options, (raw) => {
          let lines: string[];
          try {
            lines = p.check(raw);
          } catch (err) {
            if (err instanceof FenceOptionRefusedError) return true;
            throw err;
          }
          return lines.every((line) => {
            if (!/^[!-~]+$/.test(line)) return false;
            const parameter = resolve(line.split('=', 1)[0] ?? '');
            // What fence_ipmilan would act on: a declared parameter, never a dangerous one.
            return (
              parameter !== undefined &&
              !IPMILAN_DANGEROUS.has(parameter.name) &&
              !(parameter.obsoletes && IPMILAN_DANGEROUS.has(parameter.obsoletes))
            );
          });
        }),
        propertyParameters(5_000),
      );
    });
  },
);

describe('fence result mapping', () => {
  const exit = (exitCode: number | null, stderr = ''): FenceAgentExit => ({
    exitCode,
    signal: exitCode === null ? 'SIGKILL' : null,
    stdout: '',
    stderr,
    durationMs: 1,
  });
  const codeOf = (fn: () => unknown): number => {
    try {
      fn();
    } catch (err) {
      if (err instanceof VdsmError) return err.code;
      throw err;
    }
    throw new Error('expected a VDSM error');
  };

  it('maps status exits 0 and 2 to on and off, anything else to code 1', () => {
    expect(fenceResultFromExit('ipmilan', 'status', exit(0), 'pw')).toEqual({ power: 'on' });
    expect(fenceResultFromExit('ipmilan', 'status', exit(2), 'pw')).toEqual({ power: 'off' });
    expect(codeOf(() => fenceResultFromExit('ipmilan', 'status', exit(1), 'pw'))).toBe(1);
    expect(codeOf(() => fenceResultFromExit('ipmilan', 'status', exit(3), 'pw'))).toBe(1);
    expect(codeOf(() => fenceResultFromExit('ipmilan', 'status', exit(null), 'pw'))).toBe(1);
  });

  it('maps on/off/reboot success to initiated and failures to their exit code', () => {
    for (const action of ['on', 'off', 'reboot'] as const) {
      expect(fenceResultFromExit('ipmilan', action, exit(0), 'pw')).toEqual({ power: 'unknown', operationStatus: 'initiated' });
    }
    expect(codeOf(() => fenceResultFromExit('ipmilan', 'off', exit(5), 'pw'))).toBe(5);
    expect(codeOf(() => fenceResultFromExit('ipmilan', 'reboot', exit(null), 'pw'))).toBe(1);
  });

  it("puts the agent's stderr tail into the message, with the password blanked out", () => {
    let message = '';
    try {
      fenceResultFromExit('ipmilan', 'off', exit(1, 'noise\nERROR: login pw failed for pw\n'), 'pw');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('fence_ipmilan off exited with 1');
    expect(message).toContain('ERROR: login **** failed for ****');
  });
});

describe('Host.fenceNode params', () => {
  const valid = { addr: '198.18.7.200', port: '', agent: 'ipmilan', username: 'admin', password: 'pw', action: 'status' };

  it('has VDSM schema order for positional params', () => {
    const verb = createFenceNodeVerb();
    expect(verb.method).toBe(FENCE_NODE_METHOD);
    expect(verb.params).toEqual(['addr', 'port', 'agent', 'username', 'password', 'action', 'secure', 'options', 'policy']);
    expect(FENCE_NODE_PARAMS).toEqual(verb.params);
  });

  it('accepts port and secure as strings or as numbers/booleans, and fills defaults', () => {
    expect(parseFenceNodeParams({ ...valid, port: '623', secure: 'false' })).toMatchObject({
      port: '623',
      secure: false,
      options: '',
      policy: null,
    });
    expect(parseFenceNodeParams({ ...valid, port: 623, secure: true })).toMatchObject({ port: '623', secure: true });
    expect(parseFenceNodeParams({ ...valid, secure: 'true' }).secure).toBe(true);
    expect(parseFenceNodeParams({ ...valid, secure: 'yes' }).secure).toBe(true);
    expect(parseFenceNodeParams({ ...valid, port: null, secure: null, options: null })).toMatchObject({
      port: '',
      secure: false,
      options: '',
    });
    // The engine always sends secure as "": not given, so false.
    expect(parseFenceNodeParams({ ...valid, secure: '' }).secure).toBe(false);
    expect(parseFenceNodeParams({ ...valid, secure: 1 }).secure).toBe(true);
    expect(
      parseFenceNodeParams({ ...valid, policy: { skipFencingIfGlusterBricksUp: 'false', storageDomainHostIdMap: {} } }).policy,
    ).toMatchObject({
      skipFencingIfGlusterBricksUp: false,
    });
  });

  it('answers bad params with JSON-RPC "invalid params", naming fields but never echoing the password', async () => {
    const verb = createFenceNodeVerb();
    const cases: Array<Record<string, unknown>> = [
      { ...valid, action: 'explode' },
      { ...valid, agent: '../../bin/sh' },
      { ...valid, agent: 'fence_ipmilan/../x' },
      { ...valid, addr: '' },
      { ...valid, secure: 'maybe' },
      // Words VDSM's own readers do not know are refused, not read as true.
      { ...valid, secure: 'enabled' },
      { ...valid, policy: { skipFencingIfGlusterBricksUp: 'y' } },
      { ...valid, password: 'pw-secret\naction=off' },
      { ...valid, options: 'action=off' },
    ];
    for (const params of cases) {
      const err = await vdsmErrorOf(verb.handler(params, ctx));
      expect(err.code, JSON.stringify(params)).toBe(JsonRpcCode.INVALID_PARAMS);
      expect(err.message).not.toContain('pw-secret');
    }
    const missing = await vdsmErrorOf(verb.handler({ addr: 'x' }, ctx));
    expect(missing.message).toMatch(/agent/);
    expect(FENCE_AGENT_NAME.test('ipmilan')).toBe(true);
  });

  it('answers code 43 for an agent that is not installed', async () => {
    const err = await vdsmErrorOf(createFenceNodeVerb().handler({ ...valid, agent: 'nosuchagent' }, ctx));
    expect(err.code).toBe(VdsmCode.FENCE_AGENT_MISSING);
    expect(err.message).toContain('/usr/sbin/fence_nosuchagent');
    const emptyDir = await mkdtemp(join(tmpdir(), 'hostprov-noagents-'));
    try {
      const inEmptyDir = await vdsmErrorOf(createFenceNodeVerb({ fenceAgentDir: emptyDir }).handler(valid, ctx));
      expect(inEmptyDir.code).toBe(VdsmCode.FENCE_AGENT_MISSING);
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  });
});

const unavailable = await testbedUnavailableReason();

describe.skipIf(skipBecause(unavailable, 'Host.fenceNode against a real BMC'))('Host.fenceNode through fence_ipmilan and ipmi_sim', () => {
  let stateDir: string | undefined;
  let testbed: Testbed | undefined;
  const captured = capturingLogger();
  const verb = createFenceNodeVerb({ log: captured.log });

  beforeAll(async () => {
    stateDir = await makeStateDir('fence');
    testbed = await createTestbed({ stateDir, hosts: [{ name: 'target' }], bootCommand: SERVING_BOOT_COMMAND, powerOffGraceMs: 1_000 });
    await waitForTcp(testbed.host('target').address, SERVICE_PORT, { timeoutMs: 20_000 });
  });

  afterAll(async () => {
    await cleanUp(testbed, stateDir);
  });

  const bed = (): Testbed => {
    if (!testbed) throw new Error('testbed was not built');
    return testbed;
  };
  const target = () => bed().host('target');
  const fenceNode = async (action: 'status' | 'on' | 'off' | 'reboot', overrides: Record<string, unknown> = {}) =>
    verb.handler({ ...(await bed().fenceNodeParams('target', action)), ...overrides }, freshCtx());

  it('reports a running host as on', async () => {
    expect(await fenceNode('status')).toEqual({ power: 'on' });
  });

  it("with the agent's ipmitool HOME, fences as before, and ipmitool reads that HOME's registry, not the system's", async () => {
    const home = join(stateDir ?? '', 'ipmitool-home');
    const withHome = createFenceNodeVerb({ log: captured.log, ipmitoolHome: home });
    expect(await withHome.handler(await bed().fenceNodeParams('target', 'status'), freshCtx())).toEqual({ power: 'on' });
    expect(existsSync(join(home, IPMITOOL_USER_REGISTRY_DIR, 'enterprise-numbers.txt'))).toBe(true);
    // `mc info` names the BMC's manufacturer from the registry (ipmi_sim reports 0x1291, MontaVista).
    const creds = await bed().bmcCredentials('target');
    const manufacturer = async (env: NodeJS.ProcessEnv): Promise<string> => {
      const argv = ['ipmitool', '-I', 'lan', '-H', creds.address, '-p', String(creds.port), '-U', creds.username, '-E', 'mc', 'info'];
      const { stdout } = await run(argv, { env: { ...env, IPMI_PASSWORD: creds.password } });
      return /^Manufacturer Name\s*:\s*(.*)$/m.exec(stdout)?.[1]?.trim() ?? `no manufacturer in: ${stdout}`;
    };
    expect(await manufacturer(process.env)).toMatch(/MontaVista/);
    expect(await manufacturer({ ...process.env, HOME: home })).toMatch(/^Unknown/);
  });

  it('powers the host off: it stops answering and status reports off', async () => {
    expect(await fenceNode('off')).toEqual({ power: 'unknown', operationStatus: 'initiated' });
    expect(await canConnect(target().address, SERVICE_PORT, 500)).toBe(false);
    expect(await bed().bootPid('target')).toBeNull();
    expect(await fenceNode('status')).toEqual({ power: 'off' });
  });

  it('powers it on: the boot command runs again in a fresh runtime dir, the state dir kept its files', async () => {
    await writeFile(join(target().stateDir, 'kept'), 'survives power cycles\n');
    await writeFile(join(target().runtimeDir, 'stale'), 'from the previous boot\n');
    expect(await fenceNode('on')).toEqual({ power: 'unknown', operationStatus: 'initiated' });
    await waitForTcp(target().address, SERVICE_PORT, { timeoutMs: 20_000 });
    expect(await fenceNode('status')).toEqual({ power: 'on' });
    expect(await readdir(target().runtimeDir)).toEqual(['booted']);
    expect(await readFile(join(target().stateDir, 'kept'), 'utf8')).toBe('survives power cycles\n');
    expect((await readFile(join(target().stateDir, 'boots'), 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('reboots it: a new boot (new pid), running again', async () => {
    const before = await bed().bootPid('target');
    expect(before).not.toBeNull();
    expect(await fenceNode('reboot')).toEqual({ power: 'unknown', operationStatus: 'initiated' });
    // "on" is reported as soon as the boot starts; its service answering proves the boot got through.
    await waitForTcp(target().address, SERVICE_PORT, { timeoutMs: 20_000 });
    const after = await bed().bootPid('target');
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
    expect((await readFile(join(target().stateDir, 'boots'), 'utf8')).trim().split('\n')).toHaveLength(3);
  });

  it('reboots with the power-cycle method too (a chassis reset through ipmi_sim)', async () => {
    const before = await bed().bootPid('target');
    const params = await bed().fenceNodeParams('target', 'reboot');
    expect(await verb.handler({ ...params, options: `${String(params.options)}\nmethod=cycle` }, freshCtx())).toEqual({
      power: 'unknown',
      operationStatus: 'initiated',
    });
    // fence_ipmilan does not wait for "on" after a cycle and ipmi_sim powers on from a timer: the power-off
    // already ended the old boot, so the service answering is the new boot.
    await waitForTcp(target().address, SERVICE_PORT, { timeoutMs: 20_000 });
    const after = await bed().bootPid('target');
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
  });

  it('reboots once for a reboot asked again under its id, while it runs, after, and after a restart; another action under that id is refused', async () => {
    const boots = async () => (await readFile(join(target().stateDir, 'boots'), 'utf8')).trim().split('\n').length;
    const before = { boots: await boots(), pid: await bed().bootPid('target') };
    const params = await bed().fenceNodeParams('target', 'reboot');
    const same = { ...ctx, requestId: randomUUID() };
    const repeatsFile = join(stateDir ?? '', 'fence-repeats.json');
    const proxy = createFenceNodeVerb({ log: captured.log, repeatsFile });
    // A caller that lost the answer asks again: at once (the first still runs), once it is over, and of an
    // agent started again on the same runtime directory.
    const [first, joined] = await Promise.all([proxy.handler(params, same), proxy.handler(params, same)]);
    await waitForTcp(target().address, SERVICE_PORT, { timeoutMs: 20_000 });
    const later = await proxy.handler(params, same);
    const restarted = await createFenceNodeVerb({ log: captured.log, repeatsFile }).handler(params, same);
    expect([first, joined, later, restarted]).toEqual(Array(4).fill({ power: 'unknown', operationStatus: 'initiated' }));
    expect(await boots()).toBe(before.boots + 1);
    expect(await bed().bootPid('target')).not.toBe(before.pid);
    expect(captured.lines.filter((line) => line.includes('a repeated request'))).toHaveLength(3);
    const other = await vdsmErrorOf(proxy.handler(await bed().fenceNodeParams('target', 'off'), same));
    expect(other.code).toBe(JsonRpcCode.INVALID_PARAMS);
    expect(other.message).toMatch(/was used for another power action/);
    expect(await fenceNode('status')).toEqual({ power: 'on' });
    // Without joining (a stock-VDSM agent), the same id reboots again.
    const stock = createFenceNodeVerb({ log: captured.log, joinRepeatedIds: false });
    const pid = await bed().bootPid('target');
    await stock.handler(params, same);
    await waitForTcp(target().address, SERVICE_PORT, { timeoutMs: 20_000 });
    expect(await boots()).toBe(before.boots + 2);
    expect(await bed().bootPid('target')).not.toBe(pid);
  });

  it('validates params given as strings, as engines send them', async () => {
    expect(await fenceNode('status', { port: '623', secure: 'false' })).toEqual({ power: 'on' });
  });

  it('answers a wrong password with a VDSM error carrying the agent message, and keeps working', async () => {
    const err = await vdsmErrorOf(fenceNode('status', { password: 'wrong-password' }));
    expect(err.code).toBe(VdsmCode.GENERAL_FAILURE);
    expect(err.message).toMatch(/fence_ipmilan status exited with 1: .+/);
    expect(err.message).not.toContain('wrong-password');
    expect(await fenceNode('status')).toEqual({ power: 'on' });
  });

  it('kills an agent that takes too long, with everything it started', async () => {
    // Nobody answers on this address of the testbed switch: fence_ipmilan would retry for many seconds.
    const silent = `198.18.${bed().description.subnet.index}.99`;
    const slow = createFenceNodeVerb({ timeoutMs: 1_000, log: captured.log });
    const err = await vdsmErrorOf(slow.handler({ ...(await bed().fenceNodeParams('target', 'status')), addr: silent }, freshCtx()));
    expect(err).toBeInstanceOf(FenceAgentTimeoutError);
    expect(err.code).toBe(VdsmCode.GENERAL_FAILURE);
    // fence_ipmilan gets the address on stdin; its ipmitool child has it on the command line.
    const leftovers = async () => {
      const result = await run(['pgrep', '-f', '--', `ipmitool .*-H ${silent.replace(/\./g, '\\.')} `], { allowFailure: true });
      if (result.code !== 0 && result.code !== 1) throw new Error(`pgrep failed: ${result.stderr}`);
      return result.stdout.trim();
    };
    await expect.poll(leftovers, { timeout: 10_000 }).toBe('');
  });

  describe('options that would run something or override the verb', () => {
    let markers: string;
    beforeAll(async () => {
      markers = await mkdtemp(join(tmpdir(), 'hostprov-fence-markers-'));
      // A stand-in for ipmitool: if an option ever makes fence_ipmilan run it, it leaves a marker.
      await writeFile(join(markers, 'fake-ipmitool'), `#!/bin/sh\ntouch ${markers}/ran-fake-ipmitool\nexit 1\n`, { mode: 0o755 });
    });
    afterAll(async () => {
      if (markers) await rm(markers, { recursive: true, force: true });
    });
    const touch = (name: string) => `touch\${IFS}${markers}/${name}`;

    it('the payloads are live: written to fence_ipmilan as VDSM would write them, they run as root', async () => {
      // The control that makes the refusals below meaningful: unchecked, each payload leaves its marker.
      const creds = await bed().bmcCredentials('target');
      const base = {
        addr: creds.address,
        port: '',
        agent: 'ipmilan',
        username: creds.username,
        password: creds.password,
        action: 'status' as const,
        secure: false,
      };
      const asVdsm = (extra: string) => renderFenceAgentInput(base, [`ipport=${creds.port}`, extra]);
      await run([fenceIpmilan], { input: asVdsm(`passwd_script=${touch('control-script')}`), allowFailure: true });
      await run([fenceIpmilan], { input: asVdsm(`ipmitool_path=${markers}/fake-ipmitool`), allowFailure: true });
      expect((await readdir(markers)).sort()).toEqual(['control-script', 'fake-ipmitool', 'ran-fake-ipmitool']);
      await rm(join(markers, 'control-script'));
      await rm(join(markers, 'ran-fake-ipmitool'));
    });

    const injections: Array<{ options: (port: number) => string; key: string }> = [
      { key: 'passwd_script', options: () => `passwd_script=${touch('passwd_script')}` },
      { key: 'password_script', options: () => `password_script=${touch('password_script')}` },
      { key: 'password-script', options: () => `password-script=${touch('password-script')}` },
      { key: '--password-script', options: () => `--password-script=${touch('dashdash-password-script')}` },
      { key: '-S', options: () => `-S=${touch('S')}` },
      { key: 'PASSWD_SCRIPT', options: () => `PASSWD_SCRIPT=${touch('upper')}` },
      { key: 'ipmitool_path', options: () => `ipmitool_path=${markers}/fake-ipmitool` },
      { key: 'ipmitool-path', options: () => `ipmitool-path=${markers}/fake-ipmitool` },
      { key: 'sudo_path', options: () => `use_sudo=1 sudo_path=${markers}/fake-ipmitool` },
      { key: 'debug_file', options: () => `debug_file=${markers}/debug-log` },
      { key: 'passwd_script', options: (port) => `ipport=${port}\npasswd_script=${touch('newline')}` },
      { key: 'passwd_script', options: (port) => `ipport=${port}\rpasswd_script=${touch('carriage-return')}` },
      { key: 'ipport', options: (port) => `ipport=${port}\0passwd_script=${touch('nul')}` },
      { key: 'ip', options: () => 'ip=198.18.255.1' },
      { key: 'ipaddr', options: () => 'ipaddr=198.18.255.1' },
      { key: '-a', options: () => '-a=198.18.255.1' },
      { key: 'username', options: () => 'username=root' },
      { key: 'login', options: () => 'login=root' },
      { key: 'password', options: () => 'password=other-secret' },
      { key: 'passwd', options: () => 'passwd=other-secret' },
      { key: 'plug', options: () => 'plug=2' },
      { key: 'port', options: () => 'port=2' },
      { key: 'action', options: () => 'action=off' },
      { key: '-o', options: () => '-o=off' },
      { key: 'help', options: () => 'help=1' },
      { key: 'port_as_ip', options: () => 'port_as_ip=1' },
    ];

    it.each(injections.map((c) => [c.key, c] as const))(
      'refuses %s with an error naming the key, and nothing runs',
      async (_, { key, options }) => {
        const { port } = await bed().bmcCredentials('target');
        const raw = options(port);
        const err = await vdsmErrorOf(fenceNode('off', { options: raw }));
        expect(err.code).toBe(JsonRpcCode.INVALID_PARAMS);
        expect(err.message).toContain(`(${key}) refused`);
        // Never the value: it may be a password, and here it is the payload.
        const value =
          raw
            .split(/[\s,\0]+/)
            .find((item) => item.startsWith(`${key}=`))
            ?.slice(key.length + 1) ?? '';
        if (value.length >= 4) expect(err.message).not.toContain(value);
        expect(err.message).not.toContain(markers);
        expect(await readdir(markers)).toEqual(['fake-ipmitool']);
      },
    );

    it('after all of them the host was never powered off', async () => {
      expect(await fenceNode('status')).toEqual({ power: 'on' });
      expect(await canConnect(target().address, SERVICE_PORT, 2_000)).toBe(true);
    });

    it('options the agent declares still work, in any spelling', async () => {
      const { port } = await bed().bmcCredentials('target');
      expect(await fenceNode('status', { options: `--ipport=${port},Power-Wait=1 -m=onoff` })).toEqual({ power: 'on' });
    });
  });

  it('never logs the BMC password', async () => {
    const { password } = await bed().bmcCredentials('target');
    expect(captured.lines.length).toBeGreaterThan(0);
    expect(captured.lines.join('')).not.toContain(password);
  });
});
