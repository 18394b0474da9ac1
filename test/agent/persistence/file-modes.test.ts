/**
 * The agent's state (running config, safe config, journal) is private whatever the umask: 0600 files in
 * 0700 directories; wider ones an older version left are tightened, and a wide state dir someone else may
 * share is refused before anything is written. The same after real applies: test/agent/agent-network.test.ts.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../../../agent/agent-service';
import { Journal } from '../../../agent/network/journal';
import { ConfigStore } from '../../../agent/persistence/config-store';
import { getLogger } from '../../../lib/logger';
import { UnsafeDirectoryError } from '../../../lib/private-dir';
import type { RunningConfig } from '../../../model/network/config';
import { modesUnder, notPrivate } from '../../helpers/file-modes';

const config: RunningConfig = {
  networks: {
    ovirtmgmt: {
      nic: 'eth0',
      bridged: true,
      stp: false,
      mtu: 1500,
      bootproto: 'none',
      ipaddr: '198.18.250.10',
      prefix: 24,
      dhcpv6: false,
      ipv6autoconf: false,
      defaultRoute: true,
      nameservers: [],
    },
  },
  bonds: {},
};

describe('agent state file modes', () => {
  const dirs: string[] = [];
  const scratch = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-modes-'));
    dirs.push(dir);
    return dir;
  };
  let umask: number | undefined;
  afterEach(() => {
    if (umask !== undefined) process.umask(umask);
    umask = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes 0600 files in 0700 directories even under umask 000', () => {
    umask = process.umask(0);
    const state = join(scratch(), 'state');
    mkdirSync(state, { mode: 0o700 });
    const store = new ConfigStore(state);
    store.saveRunning(config);
    store.persistSafe(config);
    store.persistSafe(config);
    const journal = new Journal(state, { maxBytes: 200 });
    for (let i = 0; i < 5; i += 1) journal.write({ kind: 'apply', requestId: i, outcome: 'ok' });

    const paths = modesUnder(state).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['staging/running-config.json', 'journal.jsonl', 'journal.jsonl.1']));
    expect(paths.some((p) => /^persistence\/netconf\.[0-9a-f]+\/nets\/ovirtmgmt\.json$/.test(p))).toBe(true);
    expect(notPrivate(state)).toEqual([]);
  });

  it('tightens what an older version left open', () => {
    const state = join(scratch(), 'state');
    mkdirSync(join(state, 'staging'), { recursive: true, mode: 0o755 });
    chmodSync(join(state, 'staging'), 0o755);
    chmodSync(state, 0o700);
    writeFileSync(join(state, 'journal.jsonl'), '', { mode: 0o644 });
    chmodSync(join(state, 'journal.jsonl'), 0o644);
    new ConfigStore(state);
    new Journal(state);
    expect(lstatSync(join(state, 'staging')).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(state, 'journal.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('refuses a state dir others can enter, without writing into it or chmodding it', async () => {
    const state = join(scratch(), 'shared');
    mkdirSync(state);
    chmodSync(state, 0o755);
    const runtime = join(scratch(), 'run');
    await expect(
      startAgent({
        listen: { host: '127.0.0.1', port: 0 },
        stateDir: state,
        runtimeDir: runtime,
        tls: 'insecure',
        log: getLogger('modes-test'),
      }),
    ).rejects.toThrow(UnsafeDirectoryError);
    await expect(
      startAgent({
        listen: { host: '127.0.0.1', port: 0 },
        stateDir: state,
        runtimeDir: runtime,
        tls: 'insecure',
        log: getLogger('modes-test'),
      }),
    ).rejects.toThrow(/mode 0755.*chmod 700/);
    expect(readdirSync(state)).toEqual([]);
    expect(lstatSync(state).mode & 0o777).toBe(0o755);
  });
});
