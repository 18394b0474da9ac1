/**
 * The agent's two configurations (docs/setup-networks.md#running-and-safe-configuration): the running
 * config — what is applied now, rewritten on every setupNetworks — and the safe (persistent) config, which
 * survives reboots and is what the host comes back to. Promotion is atomic: a new generation directory is
 * written and fsynced, then a symlink is renamed onto `persistence/netconf`, so a crash leaves either the old
 * or the new safe config, never a mix.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ensurePrivateSubdirSync, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../lib/private-dir';
import { RunningConfigSchema, NetworkConfigSchema, BondConfigSchema, ReleasedDevicesSchema } from '../../model/network/config-schema';
import { EMPTY_CONFIG, type RunningConfig } from '../../model/network/config';

export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`agent config file ${path} is unreadable: ${detail}`);
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * How far a write must survive:
 * - `reboot`: a crash of the whole host (power loss) leaves the old or the new content — fsync of the file
 *   and of its directory. For what the agent reads at a later boot (the running and the safe configuration).
 * - `process`: a crash of the agent leaves the old or the new content — the rename alone, no fsync. Only for
 *   state that the next boot discards without reading (docs/setup-networks.md#what-is-written-and-how-durably).
 */
export const Durability = { REBOOT: 'reboot', PROCESS: 'process' } as const;
export type Durability = (typeof Durability)[keyof typeof Durability];

/**
 * Writes a file atomically and privately (0600): new temp file, rename over the old one; with
 * {@link Durability.REBOOT} also fsync of the file before the rename and of the directory after it.
 * @param durability @default 'reboot'
 */
export function writeFileAtomic(path: string, content: string, durability: Durability = Durability.REBOOT): void {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  // `wx`: a new file or an error, never one planted there (the mode applies only to a new file).
  writeFileSync(tmp, content, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  if (durability === Durability.REBOOT) fsyncPath(tmp);
  renameSync(tmp, path);
  if (durability === Durability.REBOOT) fsyncPath(join(path, '..'));
}

async function fsyncPathAsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * {@link writeFileAtomic} without blocking the event loop: the writes and syncs run on libuv's thread pool,
 * so the agent can read the kernel (or answer other verbs) while the disk syncs.
 * @param durability @default 'reboot'
 */
export async function writeFileAtomicAsync(path: string, content: string, durability: Durability = Durability.REBOOT): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, content, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  if (durability === Durability.REBOOT) await fsyncPathAsync(tmp);
  await rename(tmp, path);
  if (durability === Durability.REBOOT) await fsyncPathAsync(join(path, '..'));
}

/** In a safe config's generation beside `nets/` and `bonds/`: the NICs a network left (`RunningConfig.releasedDevices`). */
const RELEASED_DEVICES_FILE = 'released-devices.json';

export class ConfigStore {
  private readonly runningFile: string;
  private readonly persistenceDir: string;
  private readonly safeLink: string;

  constructor(readonly stateDir: string) {
    ensurePrivateSubdirSync(join(stateDir, 'staging'));
    this.persistenceDir = join(stateDir, 'persistence');
    ensurePrivateSubdirSync(this.persistenceDir);
    this.runningFile = join(stateDir, 'staging', 'running-config.json');
    this.safeLink = join(this.persistenceDir, 'netconf');
  }

  loadRunning(): RunningConfig {
    if (!existsSync(this.runningFile)) return EMPTY_CONFIG;
    try {
      return RunningConfigSchema.parse(JSON.parse(readFileSync(this.runningFile, 'utf8')));
    } catch (err) {
      throw new ConfigFileError(this.runningFile, (err as Error).message);
    }
  }

  saveRunning(config: RunningConfig): void {
    writeFileAtomic(this.runningFile, runningConfigText(config));
  }

  /**
   * {@link saveRunning} on the thread pool: a change writes and syncs it while it reads the kernel back.
   * Settle it before any other write of the running config, or the two renames could land in either order.
   */
  saveRunningAsync(config: RunningConfig): Promise<void> {
    return writeFileAtomicAsync(this.runningFile, runningConfigText(config));
  }

  /** The safe config, or `null` if nothing was ever made safe. */
  loadSafe(): RunningConfig | null {
    if (!existsSync(this.safeLink)) return null;
    const dir = this.safeLink;
    const read = <T>(sub: string, schema: { parse(v: unknown): T }): Record<string, T> => {
      const path = join(dir, sub);
      if (!existsSync(path)) return {};
      const out: Record<string, T> = {};
      for (const file of readdirSync(path)
        .filter((f) => f.endsWith('.json'))
        .sort()) {
        try {
          out[file.slice(0, -5)] = schema.parse(JSON.parse(readFileSync(join(path, file), 'utf8')));
        } catch (err) {
          throw new ConfigFileError(join(path, file), (err as Error).message);
        }
      }
      return out;
    };
    const releasedFile = join(dir, RELEASED_DEVICES_FILE);
    let releasedDevices: string[] = [];
    if (existsSync(releasedFile)) {
      try {
        releasedDevices = ReleasedDevicesSchema.parse(JSON.parse(readFileSync(releasedFile, 'utf8')));
      } catch (err) {
        throw new ConfigFileError(releasedFile, (err as Error).message);
      }
    }
    return {
      networks: read('nets', NetworkConfigSchema),
      bonds: read('bonds', BondConfigSchema),
      ...(releasedDevices.length ? { releasedDevices } : {}),
    };
  }

  /** Promotes `config` to the safe config atomically (VDSM `_atomic_copytree`). */
  persistSafe(config: RunningConfig): void {
    const generation = join(this.persistenceDir, `netconf.${randomBytes(6).toString('hex')}`);
    for (const [sub, entries] of [
      ['nets', config.networks],
      ['bonds', config.bonds],
    ] as const) {
      mkdirSync(join(generation, sub), { recursive: true, mode: PRIVATE_DIR_MODE });
      for (const [name, value] of Object.entries(entries)) {
        const file = join(generation, sub, `${name}.json`);
        writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
        fsyncPath(file);
      }
      fsyncPath(join(generation, sub));
    }
    if (config.releasedDevices?.length) {
      const file = join(generation, RELEASED_DEVICES_FILE);
      writeFileSync(file, `${JSON.stringify(config.releasedDevices)}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
      fsyncPath(file);
    }
    fsyncPath(generation);
    const previous = existsSync(this.safeLink) ? readlinkSync(this.safeLink) : null;
    const tmpLink = `${this.safeLink}.tmp-${randomBytes(4).toString('hex')}`;
    symlinkSync(basename(generation), tmpLink);
    renameSync(tmpLink, this.safeLink);
    fsyncPath(this.persistenceDir);
    if (previous) rmSync(join(this.persistenceDir, previous), { recursive: true, force: true });
  }
}

function runningConfigText(config: RunningConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}
