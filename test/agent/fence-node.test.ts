/**
 * `Host.fenceNode` (vdsm-protocol.md §3.6): stdin lines and result mapping on their own, then the real
 * path — the verb handler runs the real fence_ipmilan against a testbed host's real BMC (ipmi_sim), whose
 * power control really powers the namespaced host off and on.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FenceAgentTimeoutError } from '../../agent/fencing/errors';
import { FENCE_AGENT_NAME, renderFenceAgentInput, splitFenceOptions, type FenceRequest } from '../../agent/fencing/fence-request';
import { fenceResultFromExit } from '../../agent/fencing/fence-result';
import type { FenceAgentExit } from '../../agent/fencing/run-fence-agent';
import { createFenceNodeVerb, FENCE_NODE_METHOD, FENCE_NODE_PARAMS, parseFenceNodeParams } from '../../agent/verbs/fence-node';
import type { RpcContext } from '../../agent/transport/types';
import { JsonRpcCode, VdsmCode, VdsmError } from '../../model/vdsm/error-codes';
import { skipBecause } from '../helpers/skip';
import { run } from '../../lib/process';
import { canConnect, waitForTcp } from '../../testbed/reachability';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { createTestbed, type Testbed } from '../../testbed/testbed';
import { capturingLogger, cleanUp, makeStateDir, SERVICE_PORT, SERVING_BOOT_COMMAND } from '../testbed/helpers/fixture';

const ctx: RpcContext = { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', connectionId: 'test', requestId: 'req-1' };

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
  it("writes VDSM's lines in VDSM's order", () => {
    expect(renderFenceAgentInput(request)).toBe('agent=fence_ipmilan\nipaddr=198.18.7.200\nlogin=admin\naction=status\npasswd=s3cret\n');
    expect(renderFenceAgentInput({ ...request, port: '3', secure: true, options: 'ipport=9623 lanplus=1' })).toBe(
      'agent=fence_ipmilan\nipaddr=198.18.7.200\nlogin=admin\naction=status\npasswd=s3cret\nport=3\nsecure=yes\nipport=9623\nlanplus=1\n',
    );
  });

  it('accepts options separated by newlines, commas or spaces, one line each', () => {
    expect(splitFenceOptions('ipport=9623\nlanplus=1,cipher=3  power_wait=4,\n')).toEqual(['ipport=9623', 'lanplus=1', 'cipher=3', 'power_wait=4']);
    expect(splitFenceOptions('')).toEqual([]);
    expect(splitFenceOptions('verbose')).toEqual(['verbose']);
  });

  it('refuses options that would override our own lines or are not key=value', () => {
    for (const options of ['action=off', 'ipport=1 passwd=x', 'port=5', '=x', 'ke/y=1', 'key=välue']) {
      expect(() => splitFenceOptions(options), options).toThrow(VdsmError);
    }
    // Values may be secrets (SNMP passphrases): errors name the key only.
    expect(() => splitFenceOptions('ipport=1 passwd=hunter2')).toThrow(/option #2 \(passwd\)/);
    expect(() => splitFenceOptions('ipport=1 passwd=hunter2')).not.toThrow(/hunter2/);
  });
});

describe('fence result mapping', () => {
  const exit = (exitCode: number | null, stderr = ''): FenceAgentExit => ({ exitCode, signal: exitCode === null ? 'SIGKILL' : null, stdout: '', stderr, durationMs: 1 });
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
    expect(parseFenceNodeParams({ ...valid, port: '623', secure: 'false' })).toMatchObject({ port: '623', secure: false, options: '', policy: null });
    expect(parseFenceNodeParams({ ...valid, port: 623, secure: true })).toMatchObject({ port: '623', secure: true });
    expect(parseFenceNodeParams({ ...valid, secure: 'true' }).secure).toBe(true);
    expect(parseFenceNodeParams({ ...valid, secure: 'yes' }).secure).toBe(true);
    expect(parseFenceNodeParams({ ...valid, port: null, secure: null, options: null })).toMatchObject({ port: '', secure: false, options: '' });
    // The engine always sends secure as "": not given, so false.
    expect(parseFenceNodeParams({ ...valid, secure: '' }).secure).toBe(false);
    expect(parseFenceNodeParams({ ...valid, secure: 1 }).secure).toBe(true);
    expect(parseFenceNodeParams({ ...valid, policy: { skipFencingIfGlusterBricksUp: 'false', storageDomainHostIdMap: {} } }).policy).toMatchObject({
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
    verb.handler({ ...(await bed().fenceNodeParams('target', action)), ...overrides }, ctx);

  it('reports a running host as on', async () => {
    expect(await fenceNode('status')).toEqual({ power: 'on' });
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
    expect(await verb.handler({ ...params, options: `${String(params.options)}\nmethod=cycle` }, ctx)).toEqual({ power: 'unknown', operationStatus: 'initiated' });
    // fence_ipmilan does not wait for "on" after a cycle and ipmi_sim powers on from a timer: the power-off
    // already ended the old boot, so the service answering is the new boot.
    await waitForTcp(target().address, SERVICE_PORT, { timeoutMs: 20_000 });
    const after = await bed().bootPid('target');
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
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
    const err = await vdsmErrorOf(slow.handler({ ...(await bed().fenceNodeParams('target', 'status')), addr: silent }, ctx));
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

  it('never logs the BMC password', async () => {
    const { password } = await bed().bmcCredentials('target');
    expect(captured.lines.length).toBeGreaterThan(0);
    expect(captured.lines.join('')).not.toContain(password);
  });
});
