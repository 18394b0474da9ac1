/**
 * The systemd units in packaging/systemd: systemd itself accepts them (`systemd-analyze verify`, no
 * warning either, where systemd-analyze is installed; the key checks below parse the files and run
 * everywhere), they keep what the agent relies on (a runtime directory that survives a restart, so a
 * restart never looks like a boot; a private state directory; DHCP clients left running across a restart),
 * and every flag they pass exists on the command they start.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, type Option } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from '../../cli/commands';
import { parseListen } from '../../cli/commands/agent';
import { MetricsListen } from '../../lib/metrics/endpoint';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';
import { onPath } from '../../testbed/requirements';
import { skipBecause } from '../helpers/skip';

const UNIT_DIR = join(PROJECT_ROOT, 'packaging', 'systemd');
const AGENT_UNIT = 'hostprov-agent.service';
const WORKER_UNIT = 'hostprov-worker.service';
const INSTALLED_BIN = '/usr/local/bin/hostprov';

type Unit = Record<string, Record<string, string[]>>;

/** A unit file's sections and keys (repeated keys keep every value; `\` continues a line), as systemd reads them. */
function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section: Record<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = unit[header[1]!] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 0) throw new Error(`not a unit file line: ${line}`);
    const key = line.slice(0, eq).trim();
    (section[key] ??= []).push(line.slice(eq + 1).trim());
  }
  return unit;
}

const readUnit = (name: string): Unit => parseUnit(readFileSync(join(UNIT_DIR, name), 'utf8'));
const one = (unit: Unit, section: string, key: string): string | undefined => unit[section]?.[key]?.at(-1);

/** ExecStart split into argv (the units use no quoting) with its `--flag value` pairs. */
function execStart(unit: Unit): { argv: string[]; flags: Map<string, string | true> } {
  const argv = (one(unit, 'Service', 'ExecStart') ?? '').split(/\s+/).filter(Boolean);
  const flags = new Map<string, string | true>();
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(arg, next);
      i += 1;
    } else flags.set(arg, true);
  }
  return { argv, flags };
}

/** The long flags a `hostprov <command>` accepts, from the CLI's own definitions. */
async function cliFlags(command: string): Promise<Map<string, Option>> {
  const program = new Command('hostprov');
  for (const entry of commands) (await entry.load())(program);
  const sub = program.commands.find((c) => c.name() === command);
  if (!sub) throw new Error(`no hostprov ${command}`);
  return new Map(sub.options.map((o) => [o.long ?? '', o]));
}

describe('systemd unit of the agent', () => {
  const unit = readUnit(AGENT_UNIT);
  const { argv, flags } = execStart(unit);

  it('keeps the runtime directory across restarts (tmpfs: not across a reboot) and passes exactly it to the agent', () => {
    const runtimeDirectory = one(unit, 'Service', 'RuntimeDirectory');
    expect(runtimeDirectory).toBe('hostprov-agent');
    expect(one(unit, 'Service', 'RuntimeDirectoryPreserve')).toBe('yes');
    expect(one(unit, 'Service', 'RuntimeDirectoryMode')).toBe('0700');
    expect(flags.get('--runtime-dir')).toBe(`/run/${runtimeDirectory}`);
  });

  it('has systemd create the state directory 0700 and passes exactly it to the agent', () => {
    const stateDirectory = one(unit, 'Service', 'StateDirectory');
    expect(stateDirectory).toBe('hostprov-agent');
    expect(one(unit, 'Service', 'StateDirectoryMode')).toBe('0700');
    expect(flags.get('--state-dir')).toBe(`/var/lib/${stateDirectory}`);
  });

  it('is hardened, yet keeps the capabilities and socket families host networking needs', () => {
    const capabilities = (one(unit, 'Service', 'CapabilityBoundingSet') ?? '').split(/\s+/).sort();
    expect(capabilities).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW']);
    expect(one(unit, 'Service', 'User'), 'root: it configures the host').toBeUndefined();
    const families = (one(unit, 'Service', 'RestrictAddressFamilies') ?? '').split(/\s+/);
    for (const family of ['AF_NETLINK', 'AF_PACKET', 'AF_INET', 'AF_INET6', 'AF_UNIX']) expect(families, family).toContain(family);
    for (const key of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'ProtectKernelModules', 'RestrictSUIDSGID'])
      expect(one(unit, 'Service', key), key).toBe('yes');
    expect(one(unit, 'Service', 'ProtectSystem')).toBe('strict');
    // The network is the agent's job: nothing may hide it or its sysctls; Node's JIT needs W+X memory.
    for (const key of ['PrivateNetwork', 'ProtectKernelTunables', 'IPAddressDeny', 'MemoryDenyWriteExecute'])
      expect(one(unit, 'Service', key), key).toBeUndefined();
  });

  it('serves its metrics on loopback only', () => {
    expect(MetricsListen.parse(flags.get('--metrics-listen'))).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('stops only the agent process, leaving its DHCP clients to keep the leases', () => {
    expect(one(unit, 'Service', 'KillMode')).toBe('process');
  });

  it('starts `hostprov agent` with mutual TLS, on flags the agent has, with their defaults matching', async () => {
    expect(argv.slice(0, 2)).toEqual([INSTALLED_BIN, 'agent']);
    const known = await cliFlags('agent');
    for (const flag of flags.keys()) expect(known.has(flag), `hostprov agent has no ${flag}`).toBe(true);
    expect(flags.has('--insecure')).toBe(false);
    for (const tls of ['--tls-cert', '--tls-key', '--tls-ca']) expect(typeof flags.get(tls), tls).toBe('string');
    expect(parseListen(String(flags.get('--listen')))).toEqual({ host: '::', port: 54321 });
    // Same places as the agent's own defaults, so `hostprov agent` run by hand on the host finds the same state.
    expect(flags.get('--state-dir')).toBe(known.get('--state-dir')?.defaultValue);
    expect(flags.get('--runtime-dir')).toBe(known.get('--runtime-dir')?.defaultValue);
  });
});

describe('systemd unit of the worker', () => {
  const unit = readUnit(WORKER_UNIT);
  const { argv, flags } = execStart(unit);

  it('starts `hostprov worker` on flags the worker has, against a PostgreSQL store, never accepting insecure agents', async () => {
    expect(argv.slice(0, 2)).toEqual([INSTALLED_BIN, 'worker']);
    const known = await cliFlags('worker');
    for (const flag of flags.keys()) expect(known.has(flag), `hostprov worker has no ${flag}`).toBe(true);
    expect(String(flags.get('--database'))).toMatch(/^postgres:\/\//);
    expect(flags.has('--allow-insecure-agents')).toBe(false);
  });

  it('runs unprivileged: no capabilities, read-only system, its own state directory passed to it', () => {
    expect(one(unit, 'Service', 'CapabilityBoundingSet')).toBe('');
    expect(one(unit, 'Service', 'NoNewPrivileges')).toBe('yes');
    expect(one(unit, 'Service', 'ProtectSystem')).toBe('strict');
    expect(flags.get('--data-dir')).toBe(`/var/lib/${one(unit, 'Service', 'StateDirectory')}`);
    expect((one(unit, 'Service', 'RestrictAddressFamilies') ?? '').split(/\s+/)).not.toContain('AF_PACKET');
  });

  it("serves its own and the SDK's metrics on loopback only", () => {
    expect(MetricsListen.parse(flags.get('--metrics-listen')).host).toBe('127.0.0.1');
    expect(MetricsListen.parse(flags.get('--sdk-metrics-listen')).host).toBe('127.0.0.1');
  });

  it('runs as its own user and gives the drain time to finish before systemd kills it', () => {
    expect(one(unit, 'Service', 'User')).toBe('hostprov');
    expect(one(unit, 'Service', 'KillSignal')).toBe('SIGTERM');
    // --shutdown-grace, then the SDK's 10 s for activities that ignore their cancellation (worker/main.ts).
    const graceSeconds = Number(flags.get('--shutdown-grace'));
    expect(Number(/^(\d+)s$/.exec(one(unit, 'Service', 'TimeoutStopSec') ?? '')?.[1])).toBeGreaterThan(graceSeconds + 10);
  });
});

const systemdAnalyze = await onPath('systemd-analyze');

describe.skipIf(
  skipBecause(systemdAnalyze ? null : 'systemd-analyze is not installed (Debian package systemd)', 'systemd-analyze verify of the units'),
)('systemd-analyze verify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-units-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Verifies a copy of the unit whose ExecStart points at this checkout's bin/hostprov (verify checks that
   * the program exists); passes only when systemd has nothing to say, warnings included.
   */
  async function verify(name: string, edit: (text: string) => string = (t) => t): Promise<{ code: number | null; output: string }> {
    const text = edit(readFileSync(join(UNIT_DIR, name), 'utf8')).replaceAll(INSTALLED_BIN, join(PROJECT_ROOT, 'bin', 'hostprov'));
    const file = join(dir, name);
    writeFileSync(file, text);
    const result = await run(['systemd-analyze', 'verify', '--man=no', file], { allowFailure: true, timeoutMs: 60_000 });
    return { code: result.code, output: `${result.stdout}${result.stderr}`.trim() };
  }

  it.each([AGENT_UNIT, WORKER_UNIT])('accepts %s without a warning (systemd-analyze verify)', async (name) => {
    expect(await verify(name)).toEqual({ code: 0, output: '' });
  });

  it('would catch a misspelled key (the check can fail)', async () => {
    const result = await verify(AGENT_UNIT, (t) => t.replace(/^RuntimeDirectoryPreserve=/m, 'RuntimeDirectoryPreserv='));
    expect(result.output).toMatch(/Unknown key/);
  });
});
