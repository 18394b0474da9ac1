/**
 * The agent says when its host is not guarded against ARP flux (agent/backend/arp-flux.ts): a real
 * `hostprov agent` process in a namespace whose ARP settings are the kernel's defaults warns once at start
 * and shows it on `/healthz`; once the shipped sysctl file is applied, `/healthz` no longer does, and an agent
 * started then does not warn. The reading itself is checked on /proc/sys-shaped directories beside it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arpFluxExposure } from '../../agent/backend/arp-flux';
import { PROJECT_ROOT } from '../../lib/paths';
import { VdsmCode } from '../../model/vdsm/error-codes';
import { netnsUnavailableReason } from '../../testbed/netns';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
import { httpGet, logLines } from '../helpers/agent-observe';
import { skipBecause } from '../helpers/skip';

const SYSCTL_FILE = join(PROJECT_ROOT, 'packaging', 'sysctl.d', 'hostprov-agent.conf');
const METRICS_PORT = 9_464;
const FLUX_WARNING = /ARP flux/;

describe('reading the ARP settings', () => {
  const root = mkdtempSync(join(tmpdir(), 'hostprov-arp-flux-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  /** A /proc/sys with `values[iface] = [arp_ignore, arp_announce]`. */
  const procSys = (name: string, values: Record<string, [number, number]>): string => {
    const dir = join(root, name);
    for (const [iface, [ignore, announce]] of Object.entries(values)) {
      const conf = join(dir, 'net', 'ipv4', 'conf', iface);
      mkdirSync(conf, { recursive: true });
      writeFileSync(join(conf, 'arp_ignore'), `${ignore}\n`);
      writeFileSync(join(conf, 'arp_announce'), `${announce}\n`);
    }
    return dir;
  };

  it('names every interface left unguarded, and those made later when default leaves them so', () => {
    const exposure = arpFluxExposure(procSys('defaults', { all: [0, 0], default: [0, 0], lo: [0, 0], eth0: [0, 0], eth1: [0, 0] }));
    expect(exposure).toEqual([
      'net.ipv4.conf.all.arp_ignore is 0, below 1: eth0, eth1, interfaces made from now on not guarded',
      'net.ipv4.conf.all.arp_announce is 0, below 2: eth0, eth1, interfaces made from now on not guarded',
    ]);
    const oneLeft = procSys('one-left', { all: [0, 2], default: [1, 2], eth0: [1, 0], eth1: [0, 0] });
    expect(arpFluxExposure(oneLeft)).toEqual(['net.ipv4.conf.all.arp_ignore is 0, below 1: eth1 not guarded']);
  });

  it('finds nothing to say where all guards, or each interface and default do, or there is nothing to read', () => {
    expect(arpFluxExposure(procSys('all', { all: [1, 2], default: [0, 0], eth0: [0, 0] }))).toEqual([]);
    expect(arpFluxExposure(procSys('each', { all: [0, 0], default: [2, 2], eth0: [1, 2], eth1: [8, 3] }))).toEqual([]);
    expect(arpFluxExposure(join(root, 'missing'))).toEqual([]);
  });
});

const reason = await netnsUnavailableReason();

describe.skipIf(skipBecause(reason, 'ARP flux warning test (needs network namespaces)'))(
  'an agent on a host without the ARP settings',
  () => {
    let h: AgentProcessHost;
    const health = async () => httpGet(h.endpoint.host, METRICS_PORT, '/healthz');
    const fluxWarnings = () => logLines(h).filter((l) => FLUX_WARNING.test(l.msg) && l.level >= 40);

    beforeAll(async () => {
      h = await createAgentProcessHost();
      // The kernel's defaults, whatever this machine's namespace handed down.
      const links = ['all', 'default', 'eth0', 'eth1'];
      await h.host.exec([
        'sysctl',
        '-q',
        '-w',
        ...links.flatMap((l) => [`net.ipv4.conf.${l}.arp_ignore=0`, `net.ipv4.conf.${l}.arp_announce=0`]),
      ]);
      await h.start({ extraArgs: ['--metrics-listen', `[::]:${METRICS_PORT}`] });
    });
    afterAll(async () => {
      await h?.close();
    });

    it('warns once at start, naming the settings and the file, and shows it on /healthz while serving', async () => {
      const warnings = fluxWarnings();
      expect(warnings, h.log()).toHaveLength(1);
      expect(JSON.stringify(warnings[0])).toMatch(/net\.ipv4\.conf\.all\.arp_ignore is 0.*eth0/);
      expect(JSON.stringify(warnings[0])).toMatch(/packaging\/sysctl\.d\/hostprov-agent\.conf/);
      const answer = await health();
      expect(answer.status).toBe(200);
      expect(answer.body).toMatch(/^ok: serving on .*; ARP flux: net\.ipv4\.conf\.all\.arp_ignore is 0/);
    });

    it('a change rolled back for want of a confirmation says, in the journal, that the host is not guarded', async () => {
      const change = {
        networks: { net9: { nic: 'eth1', bridged: 'false', ipaddr: '198.51.100.9', netmask: '255.255.255.0' } },
        bondings: {},
        options: { connectivityCheck: 'true', connectivityTimeout: '1' },
      };
      const refused = await h.call('Host.setupNetworks', change).catch((err: unknown) => err);
      expect(refused).toMatchObject({ code: VdsmCode.LOST_CONNECTION });
      const rollback = h.journal().find((record) => record.kind === 'rollback');
      expect(rollback?.outcome).toBe('ok');
      expect(rollback?.detail).toMatch(/^connectivity check failed; this host answers ARP on interfaces .*eth1.*hostprov-agent\.conf/);
    });

    it('stops saying so once the shipped file is applied, and an agent started then does not warn', async () => {
      await h.host.exec(['sysctl', '-q', '-p', SYSCTL_FILE]);
      expect((await health()).body).not.toMatch(FLUX_WARNING);
      await h.kill();
      await h.start({ extraArgs: ['--metrics-listen', `[::]:${METRICS_PORT}`] });
      expect(await h.call('Host.ping2', {})).toBe(true);
      // The log holds both processes' lines: still the first one's warning only.
      expect(fluxWarnings()).toHaveLength(1);
      expect((await health()).body).not.toMatch(FLUX_WARNING);
    });
  },
);
