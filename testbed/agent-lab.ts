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
import { AGENT_PORT_DEFAULT } from './agent-lab-constants';
import { waitForTcp } from './reachability';
import { createTestbed, type Testbed } from './testbed';
import { HostKind } from './description';
import type { TestbedHostOptions } from './options';
import { agentBundle } from './uml/agent-bundle';

export interface AgentLabHost extends TestbedHostOptions {
  name: string;
  /** Run the agent in stock-VDSM mode (no Host.getRoute). @default false */
  vdsmCompat?: boolean;
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
  const tls = options.tls ?? true;
  mkdirSync(options.stateDir, { recursive: true });
  const secrets = join(options.stateDir, 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const bin = join(PROJECT_ROOT, 'bin', 'hostprov');

  // Host addresses are known only once the testbed claimed a subnet; certificates carry them as SANs, so
  // agents are given a generic certificate per host name and the engine verifies names, not IPs.
  const pki = tls
    ? await ensurePki(join(options.stateDir, 'pki'), {
        servers: options.hosts.map((h) => ({ name: h.name, dnsNames: [`${h.name}.hostprov.test`] })),
        clients: [{ name: CLIENT_CERT }],
      })
    : null;

  // Full-kernel guests run Node about 15 times slower: they start the agent from a one-file bundle.
  const umlAgent = options.hosts.some((h) => h.kind === HostKind.UML) ? [process.execPath, await agentBundle()] : [];
  const hosts = options.hosts.map((h) => {
    const tlsArgs = pki ? ['--tls-cert', pki.server(h.name).certFile, '--tls-key', pki.server(h.name).keyFile, '--tls-ca', pki.caFile] : ['--insecure'];
    const { vdsmCompat, ...testbedHost } = h;
    // {stateDir} is the host's state directory; the agent keeps its own under AGENT_STATE_SUBDIR.
    return {
      ...testbedHost,
      bootCommand: [...(h.kind === HostKind.UML ? umlAgent : [bin]), 'agent', '--listen', `[::]:${AGENT_PORT_DEFAULT}`, '--state-dir', `{stateDir}/${AGENT_STATE_SUBDIR}`, '--runtime-dir', '{runtimeDir}/agent', ...tlsArgs, ...(vdsmCompat ? ['--vdsm-compat'] : [])],
    };
  });
  const testbed = await createTestbed({
    stateDir: join(options.stateDir, 'testbed'),
    hosts,
    bootCwd: PROJECT_ROOT,
    bootEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTPROV_LOG_FORMAT: 'json', HOSTPROV_LOG_LEVEL: process.env.HOSTPROV_AGENT_LOG_LEVEL ?? 'info' },
    ...(options.signal ? { signal: options.signal } : {}),
  });

  const agentTls = (host: string) =>
    pki
      ? { certRef: `file:${pki.client(CLIENT_CERT).certFile}`, keyRef: `file:${pki.client(CLIENT_CERT).keyFile}`, caRef: `file:${pki.caFile}`, serverName: `${host}.hostprov.test` }
      : { insecure: true as const };

  const agentEndpoint = (name: string, address: string) =>
    pki
      ? { host: address, port: AGENT_PORT_DEFAULT, tls: { ...pki.client(CLIENT_CERT), serverName: `${name}.hostprov.test` } }
      : { host: address, port: AGENT_PORT_DEFAULT, tls: { insecure: true as const } };

  const passwordFiles = new Map<string, string>();
  async function passwordRef(host: string): Promise<string> {
    let file = passwordFiles.get(host);
    if (!file) {
      file = join(secrets, `${host}-bmc-password`);
      writeFileSync(file, (await testbed.bmcCredentials(host)).password, { mode: 0o600 });
      chmodSync(file, 0o600);
      passwordFiles.set(host, file);
    }
    return `file:${file}`;
  }
  try {
    for (const h of testbed.hosts) await passwordRef(h.name);
    options.signal?.throwIfAborted();
  } catch (err) {
    // The caller never gets the lab, so nobody else could take the testbed down.
    await testbed.destroy().catch(() => undefined);
    throw err;
  }

  return {
    testbed,
    pki,
    installRequest(name, overrides = {}) {
      const host = testbed.host(name);
      const index = testbed.hosts.findIndex((h) => h.name === name);
      const proxy = testbed.hosts.length > 1 ? testbed.hosts[(index + 1) % testbed.hosts.length] : undefined;
      const request: InstallHostRequest = {
        version: 1,
        host: { id: `${testbed.description.token}-${name}`, name, address: host.address, clusterId: 'lab' },
        agent: { port: AGENT_PORT_DEFAULT, tls: agentTls(name) },
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
                options: '',
                proxy: { id: `${testbed.description.token}-${proxy.name}`, name: proxy.name, agent: { host: proxy.address, port: AGENT_PORT_DEFAULT, tls: agentTls(proxy.name) } },
              },
            }
          : {}),
        policy: { connectivityTimeoutSeconds: 30, reboot: true, commitMode: 'auto', agentWaitSeconds: 120 },
      };
      return { ...request, ...overrides };
    },
    journal(name) {
      return readJournal(journalFile(join(testbed.host(name).stateDir, AGENT_STATE_SUBDIR)));
    },
    async waitForAgents(timeoutMs = 60_000) {
      await Promise.all(
        testbed.hosts.map(async (h) => {
          await waitForTcp(h.address, AGENT_PORT_DEFAULT, { timeoutMs });
          await waitForPing(agentEndpoint(h.name, h.address), timeoutMs);
        }),
      );
    },
    destroy: () => testbed.destroy(),
  };
}
