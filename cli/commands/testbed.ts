/**
 * `hostprov testbed up|down|status|power`: namespaced test hosts with real BMCs, for the demo and for
 * trying the agent by hand. Everything is described in `<state-dir>/testbed.json`, so `down`, `status`
 * and `power` work from any later process.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { getLogger } from '../../lib/logger';
import { FenceAction } from '../../model/vdsm/fence-node';
import { MAX_HOSTS } from '../../testbed/addressing';
import { readDescription, type TestbedDescription } from '../../testbed/description';
import { HOST_NAME, SHELL_SAFE_ABSOLUTE_PATH, type TestbedHostOptions } from '../../testbed/options';
import { fenceThroughBmc, powerState } from '../../testbed/power';
import { createTestbed, Testbed, TestbedExistsError } from '../../testbed/testbed';
import { destroyTestbed } from '../../testbed/teardown';
import { UsageError } from '../usage-error';

const StateDir = z
  .string({ message: 'is required' })
  .min(1, { message: 'is required' })
  .transform((dir) => resolve(dir))
  .pipe(z.string().regex(SHELL_SAFE_ABSOLUTE_PATH, { message: 'must resolve to a path of letters, digits, _ . / - only' }));

const HostName = z.string().regex(HOST_NAME, { message: 'host names look like host1' });

const UpFlags = z.object({
  stateDir: StateDir,
  hosts: z.coerce.number().int().min(1).max(MAX_HOSTS).default(2),
  dhcp: z.array(HostName).default([]),
  withoutRoute: z.array(HostName).default([]),
  nics: z.coerce.number().int().min(1).max(8).default(1),
  bootCommand: z
    .string()
    .transform((s) => s.trim().split(/\s+/).filter(Boolean))
    .pipe(z.array(z.string()).min(1, { message: 'must name a program' }))
    .optional(),
  json: z.boolean().default(false),
});

const DownFlags = z.object({ stateDir: StateDir, keepFiles: z.boolean().default(false) });
const StatusFlags = z.object({ stateDir: StateDir, json: z.boolean().default(false) });
const PowerArgs = z.object({
  host: HostName,
  action: z.enum(FenceAction, { message: 'must be on, off, status or reboot' }),
  stateDir: StateDir,
});

/** `['stateDir']` → `--state-dir`, `['dhcp', 1]` → `--dhcp[1]`; positional arguments → `<host>`. */
function flagName(path: ReadonlyArray<PropertyKey>, positional: readonly string[]): string {
  const [head = '', ...rest] = path.map(String);
  const name = positional.includes(head) ? `<${head}>` : `--${head.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return `${name}${rest.map((r) => `[${r}]`).join('')}`;
}

/** zod problems with what was typed become a UsageError (exit 2, no stack trace). */
function parseFlags<T>(schema: z.ZodType<T>, raw: unknown, positional: readonly string[] = []): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new UsageError(
    parsed.error.issues.map((i) => `${i.path.length ? flagName(i.path, positional) : 'input'}: ${i.message}`).join('; '),
  );
}

function hostOptions(flags: z.infer<typeof UpFlags>): TestbedHostOptions[] {
  const names = Array.from({ length: flags.hosts }, (_, i) => `host${i + 1}`);
  for (const name of [...flags.dhcp, ...flags.withoutRoute]) {
    if (!names.includes(name)) throw new UsageError(`no host ${name}: with --hosts ${flags.hosts} the hosts are ${names.join(', ')}`);
  }
  return names.map((name) => ({
    name,
    factory: flags.dhcp.includes(name) ? 'dhcp' : 'static',
    defaultRoute: !flags.withoutRoute.includes(name),
    nics: flags.nics,
  }));
}

function describe(description: TestbedDescription, power?: Record<string, string>): string {
  const { manager, subnet } = description;
  const lines = [
    `testbed ${subnet.hostSubnet} (token ${description.token}, ${description.phase}) in ${description.stateDir}`,
    `manager side: ${manager.interface} in the root namespace; gateway ${manager.gateway}, manager address ${manager.address}`,
    `switch: namespace ${description.switch.namespace}; DHCP server ${description.dhcp.address} (namespace ${description.dhcp.namespace}); BMCs in namespace ${description.oob.namespace}`,
  ];
  for (const h of description.hosts) {
    const route = h.factory.gateway ? `default via ${h.factory.gateway}` : 'no default route';
    const state = power?.[h.name] ? ` [${power[h.name]}]` : '';
    lines.push(
      `${h.name}${state}: namespace ${h.namespace}, ${h.nics.map((n) => n.name).join('+')}, ${h.address} (${h.factory.boot}, ${route})`,
      `  BMC ${h.bmc.address}:${h.bmc.port} (fence agent ${h.bmc.agent}, user ${h.bmc.username}); state ${h.stateDir}; runtime ${h.runtimeDir}; console ${h.consoleLog}`,
    );
  }
  lines.push(`BMC passwords: ${description.credentialsFile}`, `tear down: hostprov testbed down --state-dir ${description.stateDir}`);
  return `${lines.join('\n')}\n`;
}

async function openTestbed(stateDir: string): Promise<Testbed> {
  const description = await readDescription(stateDir);
  if (!description)
    throw new UsageError(`no testbed in ${stateDir} (no testbed.json); start one with hostprov testbed up --state-dir ${stateDir}`);
  return new Testbed(description, getLogger('testbed'));
}

export function register(program: Command): void {
  const testbed = program
    .command('testbed')
    .description('Namespaced test hosts on a switch with real BMCs (ipmi_sim), DHCP and a manager side');

  testbed
    .command('up')
    .description('Build a testbed and boot its hosts')
    .option('--state-dir <dir>', 'directory for testbed.json, host state/runtime dirs and logs')
    .option('--hosts <n>', `number of hosts (1..${MAX_HOSTS})`, '2')
    .option('--dhcp <names...>', 'hosts whose factory network config is DHCP (others: static)')
    .option('--without-route <names...>', 'hosts without a default route (no route to the manager address)')
    .option('--nics <n>', 'NICs per host (eth0…; only eth0 is configured)', '1')
    .option(
      '--boot-command <command>',
      'started in each host at power-on; split on spaces; {host} {stateDir} {runtimeDir} {address} {namespace} {managerAddress} {gateway} are replaced',
    )
    .option('--json', 'print the description as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(UpFlags, raw);
      const hosts = hostOptions(flags);
      const created = await createTestbed({
        stateDir: flags.stateDir,
        hosts,
        ...(flags.bootCommand ? { bootCommand: flags.bootCommand } : {}),
        log: getLogger('testbed'),
      }).catch((err: unknown) => {
        throw err instanceof TestbedExistsError ? new UsageError(err.message) : err;
      });
      process.stdout.write(flags.json ? `${JSON.stringify(created.description, null, 2)}\n` : describe(created.description));
    });

  testbed
    .command('down')
    .description('Tear a testbed down (idempotent; also a half-built one)')
    .option('--state-dir <dir>', 'the testbed’s state dir')
    .option('--keep-files', 'keep logs and host state dirs')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(DownFlags, raw);
      const description = await readDescription(flags.stateDir);
      if (!description) {
        process.stdout.write(`no testbed in ${flags.stateDir}; nothing to do\n`);
        return;
      }
      await destroyTestbed(description, { removeFiles: !flags.keepFiles, log: getLogger('testbed') });
      process.stdout.write(`testbed ${description.subnet.hostSubnet} in ${flags.stateDir} torn down\n`);
    });

  testbed
    .command('status')
    .description('Describe a testbed and the power state of its hosts')
    .option('--state-dir <dir>', 'the testbed’s state dir')
    .option('--json', 'print JSON')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(StatusFlags, raw);
      const bed = await openTestbed(flags.stateDir);
      const power: Record<string, string> = {};
      for (const host of bed.hosts)
        power[host.name] = await powerState(host).catch((err: unknown) => `unknown (${err instanceof Error ? err.message : String(err)})`);
      process.stdout.write(flags.json ? `${JSON.stringify({ ...bed.description, power }, null, 2)}\n` : describe(bed.description, power));
    });

  testbed
    .command('power')
    .description('Power a host on/off/reboot or query it, through its BMC with the real fence_ipmilan')
    .argument('<host>', 'host name, e.g. host1')
    .argument('<action>', 'on | off | reboot | status')
    .option('--state-dir <dir>', 'the testbed’s state dir')
    .action(async (host: string, action: string, raw: Record<string, unknown>) => {
      const args = parseFlags(PowerArgs, { host, action, stateDir: raw.stateDir }, ['host', 'action']);
      const bed = await openTestbed(args.stateDir);
      if (!bed.hosts.some((h) => h.name === args.host))
        throw new UsageError(`no host ${args.host} in this testbed; hosts are ${bed.hosts.map((h) => h.name).join(', ')}`);
      const result = await fenceThroughBmc(await bed.bmcCredentials(args.host), args.action, { log: getLogger('fencing') });
      process.stdout.write(
        args.action === FenceAction.STATUS ? `${result.power}\n` : `${args.action}: ${result.operationStatus ?? result.power}\n`,
      );
    });
}
