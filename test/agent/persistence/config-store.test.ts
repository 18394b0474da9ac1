/**
 * The safe configuration keeps the NICs a network left (`releasedDevices`) beside its networks and bonds, so a
 * boot's restore turns their IPv6 off again (docs/setup-networks.md#ipv6-per-device). On the real kernel:
 * test/agent/agent-ipv6-per-bridge.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigFileError, ConfigStore } from '../../../agent/persistence/config-store';
import type { NetworkConfig, RunningConfig } from '../../../model/network/config';

const storage: NetworkConfig = {
  nic: 'eth2',
  bridged: false,
  stp: false,
  mtu: 1500,
  bootproto: 'none',
  dhcpv6: false,
  ipv6autoconf: true,
  defaultRoute: false,
  nameservers: [],
};
const withReleased: RunningConfig = { networks: { storage }, bonds: {}, releasedDevices: ['eth1', 'eth3'] };

describe('the safe configuration', () => {
  const dirs: string[] = [];
  const storeIn = () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-safe-'));
    dirs.push(dir);
    return { dir, store: new ConfigStore(dir) };
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const generationOf = (dir: string) =>
    join(
      dir,
      'persistence',
      readdirSync(join(dir, 'persistence')).find((f) => f.startsWith('netconf.'))!,
    );

  it('keeps the released NICs, and a configuration without any has no such file', () => {
    const { dir, store } = storeIn();
    store.persistSafe(withReleased);
    expect(store.loadSafe()).toEqual(withReleased);
    expect(JSON.parse(readFileSync(join(generationOf(dir), 'released-devices.json'), 'utf8'))).toEqual(['eth1', 'eth3']);

    const none: RunningConfig = { networks: { storage }, bonds: {} };
    store.persistSafe(none);
    expect(store.loadSafe()).toEqual(none);
    expect(readdirSync(generationOf(dir)).sort()).toEqual(['bonds', 'nets']);
  });

  it('refuses a damaged list, naming the file', () => {
    const { dir, store } = storeIn();
    store.persistSafe(withReleased);
    const file = join(generationOf(dir), 'released-devices.json');
    writeFileSync(file, '["eth1", 7]\n');
    expect(() => store.loadSafe()).toThrow(ConfigFileError);
    // named as the agent reads it: through the `netconf` link to the current generation
    expect(() => store.loadSafe()).toThrow(join(dir, 'persistence', 'netconf', 'released-devices.json'));
  });
});
