/**
 * The HOME the agent gives fence agents that run ipmitool (agent/fencing/ipmitool-home.ts): the directory
 * and its registry, and which agents get it. Two stand-in fence agents (shell scripts in a directory of
 * their own) tell the HOME they were given; test/agent/fence-node.test.ts runs the real fence_ipmilan and
 * ipmitool against a real BMC with it.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IPMITOOL_REGISTRY_NAMES,
  IPMITOOL_USER_REGISTRY_DIR,
  MINIMAL_PEN_REGISTRY,
  prepareIpmitoolHome,
} from '../../agent/fencing/ipmitool-home';
import { FenceOptionPolicies } from '../../agent/fencing/option-policies';
import { runFenceAgent } from '../../agent/fencing/run-fence-agent';
import { standInFenceRequest } from '../helpers/fence-request';

const request = (agent: string) => standInFenceRequest(agent);

/** A stand-in fence agent: its metadata declares `parameters`; run, it prints its HOME. */
function standIn(parameters: string[]): string {
  const declared = parameters
    .map(
      (name) =>
        `<parameter name="${name}" unique="0" required="0"><getopt mixed="--${name.replace(/_/g, '-')}=[value]" /><content type="string" /><shortdesc lang="en">${name}</shortdesc></parameter>`,
    )
    .join('');
  return [
    '#!/bin/sh',
    'if [ "$1" = "-o" ] && [ "$2" = "metadata" ]; then',
    `  echo '<?xml version="1.0" ?><resource-agent name="stand-in" shortdesc="x"><parameters>${declared}</parameters></resource-agent>'`,
    '  exit 0',
    'fi',
    'cat >/dev/null',
    'echo "HOME=$HOME"',
    '',
  ].join('\n');
}

describe('the HOME of fence agents that run ipmitool', () => {
  let dir: string;
  let agents: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostprov-ipmitool-home-'));
    agents = join(dir, 'agents');
    await mkdir(agents);
    await writeFile(join(agents, 'fence_likeipmi'), standIn(['ipaddr', 'ipmitool_path']), { mode: 0o755 });
    await writeFile(join(agents, 'fence_likessh'), standIn(['ipaddr', 'identity_file']), { mode: 0o755 });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is a private directory with a one-entry registry under both names, made again when changed or gone', async () => {
    const home = join(dir, 'runtime', 'ipmitool-home');
    expect(prepareIpmitoolHome(home)).toBe(home);
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    for (const name of IPMITOOL_REGISTRY_NAMES)
      expect(await readFile(join(home, IPMITOOL_USER_REGISTRY_DIR, name), 'utf8')).toBe(MINIMAL_PEN_REGISTRY);
    // Exactly one entry, in IANA's layout: a number, then the organization indented by two.
    expect(MINIMAL_PEN_REGISTRY.match(/^\d+$/gm)).toEqual(['0']);
    const file = join(home, IPMITOOL_USER_REGISTRY_DIR, 'enterprise-numbers.txt');
    await writeFile(file, '');
    await rm(join(home, IPMITOOL_USER_REGISTRY_DIR, 'enterprise-numbers'));
    prepareIpmitoolHome(home);
    for (const name of IPMITOOL_REGISTRY_NAMES)
      expect(await readFile(join(home, IPMITOOL_USER_REGISTRY_DIR, name), 'utf8')).toBe(MINIMAL_PEN_REGISTRY);
  });

  it('goes to an agent whose metadata declares ipmitool_path, and to no other', async () => {
    const home = join(dir, 'given');
    const options = { fenceAgentDir: agents, timeoutMs: 10_000, policies: new FenceOptionPolicies(), ipmitoolHome: home };
    const ipmi = await runFenceAgent(request('likeipmi'), options);
    expect(ipmi.stdout.trim()).toBe(`HOME=${home}`);
    expect(await readFile(join(home, IPMITOOL_USER_REGISTRY_DIR, 'enterprise-numbers.txt'), 'utf8')).toBe(MINIMAL_PEN_REGISTRY);
    const ssh = await runFenceAgent(request('likessh'), options);
    expect(ssh.stdout.trim()).toBe(`HOME=${process.env.HOME ?? homedir()}`);
    // Without a HOME to give, every agent keeps this process's.
    const { ipmitoolHome: _none, ...without } = options;
    expect((await runFenceAgent(request('likeipmi'), without)).stdout.trim()).toBe(`HOME=${process.env.HOME ?? homedir()}`);
  });

  it('never fails a fence: a HOME that cannot be made leaves the agent its own', async () => {
    const blocked = join(dir, 'blocked');
    await writeFile(blocked, 'a file where the directory would go\n');
    const options = {
      fenceAgentDir: agents,
      timeoutMs: 10_000,
      policies: new FenceOptionPolicies(),
      ipmitoolHome: join(blocked, 'ipmitool-home'),
    };
    const exit = await runFenceAgent(request('likeipmi'), options);
    expect(exit.exitCode).toBe(0);
    expect(exit.stdout.trim()).toBe(`HOME=${process.env.HOME ?? homedir()}`);
  });
});
