/**
 * writeResolvConf (agent/backend/resolv-conf.ts) on real files: the file it puts in place keeps the mode and
 * owner of the one it replaces, and a new one is readable by every process, whatever the agent's umask.
 * The umask is the process's: each case sets and restores it around the synchronous write, with nothing
 * else running in this test file.
 */
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeResolvConf } from '../../../agent/backend/resolv-conf';
import { skipBecause } from '../../helpers/skip';

const dir = mkdtempSync(join(tmpdir(), 'hostprov-resolv-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function underUmask(mask: number, write: () => void): void {
  const before = process.umask(mask);
  try {
    write();
  } finally {
    process.umask(before);
  }
}

const modeOf = (path: string): number => statSync(path).mode & 0o7777;

describe('writeResolvConf', () => {
  it('creates a missing file 0644 under a umask of 077', () => {
    const path = join(dir, 'new', 'resolv.conf');
    underUmask(0o077, () => writeResolvConf(path, 'nameserver 192.0.2.53\n'));
    expect(readFileSync(path, 'utf8')).toBe('nameserver 192.0.2.53\n');
    expect(modeOf(path)).toBe(0o644);
  });

  it('keeps the mode of the file it replaces, under a umask of 077 too', () => {
    const path = join(dir, 'resolv.conf');
    writeFileSync(path, 'nameserver 198.51.100.1\n');
    chmodSync(path, 0o644);
    underUmask(0o077, () => writeResolvConf(path, 'nameserver 192.0.2.53\n'));
    expect(modeOf(path)).toBe(0o644);
    chmodSync(path, 0o640);
    writeResolvConf(path, 'nameserver 192.0.2.54\n');
    expect(modeOf(path)).toBe(0o640);
    expect(readFileSync(path, 'utf8')).toBe('nameserver 192.0.2.54\n');
    // Nothing but the file is left beside it.
    expect(readdirSync(dir).filter((name) => name.startsWith('resolv.conf'))).toEqual(['resolv.conf']);
  });

  it.skipIf(skipBecause(process.getuid?.() === 0 ? null : 'only root can give a file to another owner', 'the resolv.conf owner test'))(
    'keeps the owner of the file it replaces (root can give it back)',
    () => {
      const path = join(dir, 'owned-resolv.conf');
      writeFileSync(path, 'nameserver 198.51.100.1\n');
      chownSync(path, 65_534, 65_534);
      writeResolvConf(path, 'nameserver 192.0.2.53\n');
      expect(statSync(path)).toMatchObject({ uid: 65_534, gid: 65_534 });
    },
  );
});
