/**
 * How we run ISC dhclient: file layout, argv, and recognising our own dhclient behind a pid.
 */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/paths';
import { isAlive } from '../../../lib/process';
import type { Family } from '../../../model/net-state';
import { inTargetArgv, type NetnsTarget } from '../target';
import { leaseFileName } from './lease';

/**
 * Our `-sf` script (shipped next to this file; must stay executable). Found from the project root rather than
 * from this module's URL, so the single-file agent bundle (testbed/uml/agent-bundle.ts) finds it too.
 */
export const DHCLIENT_SCRIPT = join(PROJECT_ROOT, 'agent', 'backend', 'dhcp', 'hostprov-dhclient-script');

/** Only what the agent uses; the stock config also asks for hostname, NTP, MTU, ... */
export const DHCLIENT_CONF: Record<Family, string> = {
  4: '# Written by the hostprov agent.\nrequest subnet-mask, broadcast-address, routers, domain-name-servers, domain-name, domain-search;\n',
  6: '# Written by the hostprov agent.\nrequest dhcp6.name-servers, dhcp6.domain-search;\n',
};

export interface DhcpPaths {
  /** `<runtimeDir>/dhcp`: lease JSON, pid files, logs, dhclient config. */
  runtimeDir: string;
  /** Where dhclient keeps its lease database (`<stateDir or runtimeDir>/dhcp`), reused after a restart. */
  leaseDbDir: string;
}

export function dhcpFiles(paths: DhcpPaths, dev: string, family: Family) {
  const base = `${dev}.${family}`;
  return {
    lease: join(paths.runtimeDir, leaseFileName(dev, family)),
    pid: join(paths.runtimeDir, `${base}.pid`),
    log: join(paths.runtimeDir, `${base}.log`),
    conf: join(paths.runtimeDir, `dhclient${family}.conf`),
    leaseDb: join(paths.leaseDbDir, `${base}.leases`),
  };
}

export interface DhclientSettings {
  dev: string;
  family: Family;
  table: number;
  defaultRoute: boolean;
  sourceRouting: boolean;
}

/** argv of a daemonising (`-nw`) dhclient with our script and files, inside the target namespace. */
export function dhclientArgv(target: NetnsTarget, paths: DhcpPaths, settings: DhclientSettings): string[] {
  const files = dhcpFiles(paths, settings.dev, settings.family);
  return inTargetArgv(target, [
    'dhclient',
    `-${settings.family}`,
    '-nw',
    '-cf',
    files.conf,
    '-pf',
    files.pid,
    '-lf',
    files.leaseDb,
    '-sf',
    DHCLIENT_SCRIPT,
    ...['-e', `HOSTPROV_LEASE_DIR=${paths.runtimeDir}`],
    ...['-e', `HOSTPROV_LOG_FILE=${files.log}`],
    ...['-e', `HOSTPROV_TABLE=${settings.table}`],
    ...['-e', `HOSTPROV_DEFAULT_ROUTE=${settings.defaultRoute ? 1 : 0}`],
    ...['-e', `HOSTPROV_SOURCE_ROUTING=${settings.sourceRouting ? 1 : 0}`],
    settings.dev,
  ]);
}

/**
 * Runs a self-daemonising program to the exit of its foreground process. Output goes to `logPath`, not to
 * pipes: the daemon would keep a pipe open and a pipe-reading runner would wait for it forever.
 */
export async function runDaemonizing(
  argv: readonly string[],
  logPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | null> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('runDaemonizing: empty argv');
  const log = await open(logPath, 'a');
  try {
    return await new Promise<number | null>((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['ignore', log.fd, log.fd], env });
      child.once('error', reject);
      child.once('exit', (code) => resolve(code));
    });
  } finally {
    await log.close();
  }
}

/** The pid in `pidFile` if that process is alive and is our dhclient for that pid file; otherwise null. */
export async function ourDhclientPid(pidFile: string): Promise<number | null> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return null;
  // Pids get reused: only a dhclient started with this very pid file is ours to stop.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const args = cmdline.split('\0');
  const isDhclient = (args[0] ?? '').endsWith('dhclient');
  return isDhclient && args.includes(pidFile) ? pid : null;
}
