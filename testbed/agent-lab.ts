/**
 * A testbed whose hosts run the hostprov agent (mutual TLS with a generated PKI, or insecure), plus the
 * install-host inputs that target them: each host's BMC for power management, the next host as fence
 * proxy. The demo, the install-host integration tests and the benchmark all stand on this.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { journalFile, readJournal, type JournalRecord } from '../agent/network/journal';
import { withFreshConnection } from '../vdsm/client/client';
import type { AgentEndpointInput } from '../vdsm/client/endpoint';
import { ensurePki, type Pki } from '../lib/pki';
import { PROJECT_ROOT } from '../lib/paths';
import type { InstallHostRequest } from '../model/install-host/contract';
import { VDSM_PORT } from '../model/vdsm/port';
import { waitForTcp } from './reachability';
import { createTestbed, type Testbed } from './testbed';
import { HostKind } from './description';
import type { TestbedHostOptions } from './options';
import { agentBundle } from './uml/agent-bundle';
import { AGENT_V8_FLAGS } from '../lib/agent-launch-files';

export interface AgentLabHost extends TestbedHostOptions {
  name: string;
  /** Run the agent in stock-VDSM mode (no Host.getRoute). @default false */
  vdsmCompat?: boolean;
  /** More `hostprov agent` flags (e.g. `--metrics-listen`). @default none */
  agentArgs?: readonly string[];
  /** More environment of this host's agent (a test hook, agent/network/test-pause.ts). @default none */
  agentEnv?: Readonly<Record<string, string>>;
}

export interface AgentLabOptions {
  stateDir: string;
  hosts: AgentLabHost[];
  /** Mutual TLS between worker and agents (a fresh PKI in `<stateDir>/pki`). @default true */
  tls?: boolean;
  /** Aborting it stops the build; what was built is torn down and the call rejects (see createTestbed). */
  signal?: AbortSignal;
}

export interface AgentLab {
  testbed: Testbed;
  pki: Pki | null;
  /** An install-host request for `host`, fenced through the next host of the lab (if there is one). */
  installRequest(host: string, overrides?: Partial<InstallHostRequest>): InstallHostRequest;
  /** What `host`'s agent has done to it so far (its journal, oldest first). */
  journal(host: string): JournalRecord[];
  /** Resolves when every host's agent answers `Host.ping2` (booted and done restoring). */
  waitForAgents(timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

const CLIENT_CERT = 'engine';
const AGENT_STATE_SUBDIR = 'agent';

/** A booting agent accepts connections but answers 99 until it restored its configuration. */
async function waitForPing(endpoint: AgentEndpointInput, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await withFreshConnection(endpoint, (c) => c.call('Host.ping2', {}, { timeoutMs: 2000 }), { connectTimeoutMs: 2000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function createAgentLab(options: AgentLabOptions): Promise<AgentLab> {
  mkdirSync(options.stateDir, { recursive: true });
  const secretsDir = join(options.stateDir, 'secrets');
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const pki = (options.tls ?? true) ? await issueLabPki(options) : null;
  // Full-kernel guests run Node about 15 times slower: they start the agent from a one-file bundle.
  const bundledAgent = options.hosts.some((h) => h.kind === HostKind.UML) ? [process.execPath, ...AGENT_V8_FLAGS, await agentBundle()] : [];
  const testbed = await createTestbed({
    stateDir: join(options.stateDir, 'testbed'),
    hosts: options.hosts.map((h) => withAgentBoot(h, pki, bundledAgent)),
    bootCwd: PROJECT_ROOT,
    bootEnv: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOSTPROV_LOG_FORMAT: 'json',
      HOSTPROV_LOG_LEVEL: process.env.HOSTPROV_AGENT_LOG_LEVEL ?? 'info',
    },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let passwordFiles: Map<string, string>;
  try {
    passwordFiles = await writeBmcPasswordFiles(testbed, secretsDir);
    options.signal?.throwIfAborted();
  } catch (err) {
    // The caller never gets the lab, so nobody else could take the testbed down.
    await testbed.destroy().catch(() => undefined);
    throw err;
  }

  return {
    testbed,
    pki,
    installRequest: (name, overrides = {}) => ({ ...labInstallRequest(testbed, pki, passwordFiles, name), ...overrides }),
    journal: (name) => readJournal(journalFile(join(testbed.host(name).stateDir, AGENT_STATE_SUBDIR))),
    waitForAgents: (timeoutMs = 60_000) => waitForLabAgents(testbed, pki, timeoutMs),
    destroy: () => testbed.destroy(),
  };
}

/**
 * Host addresses are known only once the testbed claimed a subnet; certificates carry them as SANs, so
 * agents are given a generic certificate per host name and the engine verifies names, not IPs.
 */
function issueLabPki(options: AgentLabOptions): Promise<Pki> {
  return ensurePki(join(options.stateDir, 'pki'), {
    servers: options.hosts.map((h) => ({ name: h.name, dnsNames: [serverName(h.name)] })),
    clients: [{ name: CLIENT_CERT }],
  });
}

const serverName = (host: string): string => `${host}.hostprov.test`;

/**
 * The testbed host, booting `hostprov agent` on VDSM's port ({stateDir} is the host's; the agent keeps its
 * own under AGENT_STATE_SUBDIR). Full-kernel hosts run `bundledAgent` (node and the bundle) instead of bin/hostprov.
 */
function withAgentBoot(
  { vdsmCompat, agentArgs = [], agentEnv = {}, ...host }: AgentLabHost,
  pki: Pki | null,
  bundledAgent: readonly string[],
): TestbedHostOptions {
  const tlsArgs = pki
    ? ['--tls-cert', pki.server(host.name).certFile, '--tls-key', pki.server(host.name).keyFile, '--tls-ca', pki.caFile]
    : ['--insecure'];
  const program = host.kind === HostKind.UML ? bundledAgent : [join(PROJECT_ROOT, 'bin', 'hostprov')];
  // Boot commands start with the testbed's environment; env(1) adds this host's own.
  const env = Object.entries(agentEnv).map(([name, value]) => `${name}=${value}`);
  if (env.some((assignment) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(assignment)))
    throw new Error(`agentEnv of ${host.name}: bad variable name`);
  return {
    ...host,
    bootCommand: [
      ...(env.length ? ['/usr/bin/env', ...env] : []),
      ...program,
      'agent',
      '--listen',
      `[::]:${VDSM_PORT}`,
      '--state-dir',
      `{stateDir}/${AGENT_STATE_SUBDIR}`,
      '--runtime-dir',
      '{runtimeDir}/agent',
      ...tlsArgs,
      ...(vdsmCompat ? ['--vdsm-compat'] : []),
      ...agentArgs,
    ],
  };
}

/** Each host's BMC password in a 0600 file, so install requests carry a `file:` reference, never the password. */
async function writeBmcPasswordFiles(testbed: Testbed, secretsDir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const h of testbed.hosts) {
    const file = join(secretsDir, `${h.name}-bmc-password`);
    writeFileSync(file, (await testbed.bmcCredentials(h.name)).password, { mode: 0o600 });
    chmodSync(file, 0o600);
    files.set(h.name, file);
  }
  return files;
}

/** How a workflow input reaches `host`'s agent: TLS by file references (the worker resolves them). */
function agentTlsRefs(pki: Pki | null, host: string): InstallHostRequest['agent']['tls'] {
  return pki
    ? {
        certRef: `file:${pki.client(CLIENT_CERT).certFile}`,
        keyRef: `file:${pki.client(CLIENT_CERT).keyFile}`,
        caRef: `file:${pki.caFile}`,
        serverName: serverName(host),
      }
    : { insecure: true as const };
}

/** How this process reaches `host`'s agent directly (TLS by files). */
function agentEndpoint(pki: Pki | null, host: string, address: string): AgentEndpointInput {
  return pki
    ? { host: address, port: VDSM_PORT, tls: { ...pki.client(CLIENT_CERT), serverName: serverName(host) } }
    : { host: address, port: VDSM_PORT, tls: { insecure: true as const } };
}

/**
 * The lab's BMCs are `ipmi_sim`s that run the power script before they answer, so a power command has taken
 * effect when it returns. fence_ipmilan's default `power_wait` (2 s after each of the reboot's two power
 * commands) is for real BMCs, which answer first and act later; here it would only add 4 s to every reboot.
 */
export const LAB_FENCE_OPTIONS = 'power_wait=0';

/** An install of `name`, fenced through the next host of the lab when there is one. */
function labInstallRequest(
  testbed: Testbed,
  pki: Pki | null,
  passwordFiles: ReadonlyMap<string, string>,
  name: string,
): InstallHostRequest {
  const host = testbed.host(name);
  const index = testbed.hosts.findIndex((h) => h.name === name);
  const proxy = testbed.hosts.length > 1 ? testbed.hosts[(index + 1) % testbed.hosts.length] : undefined;
  return {
    version: 1,
    host: { id: `${testbed.description.token}-${name}`, name, address: host.address, clusterId: 'lab' },
    agent: { port: VDSM_PORT, tls: agentTlsRefs(pki, name) },
    managerAddress: testbed.manager.address,
    clusterLevel: '4.8',
    ...(proxy
      ? {
          powerManagement: {
            agent: 'ipmilan',
            address: host.bmc.address,
            port: host.bmc.port,
            username: host.bmc.username,
            passwordRef: `file:${passwordFiles.get(name)}`,
            options: LAB_FENCE_OPTIONS,
            proxy: {
              id: `${testbed.description.token}-${proxy.name}`,
              name: proxy.name,
              agent: { host: proxy.address, port: VDSM_PORT, tls: agentTlsRefs(pki, proxy.name) },
            },
          },
        }
      : {}),
    policy: { connectivityTimeoutSeconds: 30, reboot: true, commitMode: 'auto', agentWaitSeconds: 120 },
  };
}

async function waitForLabAgents(testbed: Testbed, pki: Pki | null, timeoutMs: number): Promise<void> {
  await Promise.all(
    testbed.hosts.map(async (h) => {
      await waitForTcp(h.address, VDSM_PORT, { timeoutMs });
      await waitForPing(agentEndpoint(pki, h.name, h.address), timeoutMs);
    }),
  );
}
