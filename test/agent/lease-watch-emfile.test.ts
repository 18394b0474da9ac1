/**
 * An agent that cannot get an inotify instance keeps serving. A real `hostprov agent` process runs in a user
 * namespace of its own whose inotify instance limit (`/proc/sys/user/max_inotify_instances`, one per user
 * namespace) is 0, so its lease directory watch fails with a real EMFILE, as on a machine whose
 * `fs.inotify.max_user_instances` is exhausted; the machine-wide limit is never touched. The agent must
 * serve, warn once (which watch, what is lost, which sysctl), show it on `/healthz` and `/metrics`, announce
 * lease changes by polling meanwhile, and set the watch up once the limit is raised.
 *
 * The user namespace costs the agent its capabilities in the host's network namespace, so nothing here
 * changes the network: the lease is a file dropped where the agent's DHCP script would write it.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../vdsm/client/client';
import { run } from '../../lib/process';
import { netnsUnavailableReason } from '../../testbed/netns';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
import { httpGet, logLines } from '../helpers/agent-observe';
import { skipBecause } from '../helpers/skip';

async function userNamespaceUnavailableReason(): Promise<string | null> {
  const probe = await run(['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 0 > /proc/sys/user/max_inotify_instances'], {
    allowFailure: true,
  });
  return probe.code === 0 ? null : `no user namespace with a limit of its own: ${probe.stderr.trim()}`;
}

const reason = (await netnsUnavailableReason()) ?? (await userNamespaceUnavailableReason());
/** Inside the host's own namespace. */
const METRICS_PORT = 9_464;
/** The agent's argv follows: a user namespace with no inotify instance to give, then the agent. */
const NO_INOTIFY = ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 0 > /proc/sys/user/max_inotify_instances && exec "$@"', 'sh'];

async function until(what: string, ready: () => Promise<boolean> | boolean, h: AgentProcessHost, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent log:\n${h.log().split('\n').slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const watchGauge = async (h: AgentProcessHost): Promise<number> =>
  Number(/^hostprov_agent_dhcp_lease_watch_up (\S+)$/m.exec((await httpGet(h.endpoint.host, METRICS_PORT, '/metrics')).body)?.[1]);

describe.skipIf(skipBecause(reason, 'lease watch EMFILE test'))('an agent whose lease directory watch gets EMFILE', () => {
  let h: AgentProcessHost;
  let events: string[];
  let listener: AgentClient | undefined;

  beforeAll(async () => {
    h = await createAgentProcessHost();
    await h.start({ wrap: NO_INOTIFY, extraArgs: ['--metrics-listen', `[::]:${METRICS_PORT}`] });
    events = [];
    listener = await AgentClient.connect(h.endpoint, { onEvent: (e) => events.push(e.method) });
  });
  afterAll(async () => {
    await listener?.close();
    await h?.close();
  });

  it('serves, warns once saying what is lost and which sysctl to raise, and shows it on /healthz and /metrics', async () => {
    expect(await listener!.call('Host.ping2')).toBe(true);
    const warnings = logLines(h).filter((l) => /cannot watch the DHCP lease directory/.test(l.msg) && l.level >= 40);
    expect(warnings, h.log()).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/EMFILE/);
    expect(warnings[0]!.msg).toMatch(/polling every 2 s/);
    expect(warnings[0]!.msg).toMatch(/sysctl -w fs\.inotify\.max_user_instances=/);

    const health = await httpGet(h.endpoint.host, METRICS_PORT, '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toMatch(/^ok: serving on .*; no DHCP lease directory watch \(EMFILE/);
    expect(await watchGauge(h)).toBe(0);
  });

  it('announces a lease change by polling while it has no watch', async () => {
    // Where the agent's DHCP script records a lease, written the same way (temp file, then rename).
    const lease = {
      dev: 'eth7',
      family: 4,
      address: '192.0.2.7',
      prefixLen: 24,
      routers: [],
      nameservers: [],
      leaseTime: 600,
      time: Math.floor(Date.now() / 1000),
      reason: 'BOUND',
      table: 254,
      defaultRoute: false,
      sourceRouting: false,
    };
    const dir = join(h.runtimeDir, 'dhcp');
    writeFileSync(join(dir, '.eth7.4.json.tmp'), JSON.stringify(lease));
    renameSync(join(dir, '.eth7.4.json.tmp'), join(dir, 'eth7.4.json'));
    await until('the lease event', () => events.includes('|net|host_conn|no_id'), h, 15_000);
  });

  it('sets the watch up once the limit allows it, and says so', async () => {
    await run(['nsenter', '--user', '--target', String(h.pid), 'sh', '-c', 'echo 8 > /proc/sys/user/max_inotify_instances']);
    await until('the lease watch', async () => (await watchGauge(h)) === 1, h);
    expect(logLines(h).filter((l) => /lease directory watch set up/i.test(l.msg))).toHaveLength(1);
    expect((await httpGet(h.endpoint.host, METRICS_PORT, '/healthz')).body).not.toMatch(/lease directory watch/);
  });
});
