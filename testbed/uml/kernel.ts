/**
 * The full kernel of the testbed's full-kernel hosts: Debian's `user-mode-linux` package (a Linux 6.1
 * kernel that runs as an ordinary process, `linux.uml`, with bonding, 8021q and bridge as modules under
 * /usr/lib/uml/modules). Guests boot with this machine's file system as their root (hostfs), so Node,
 * iproute2, dhclient and the checkout are the same inside.
 */
import { createHash } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';

export const UML_KERNEL = '/usr/bin/linux.uml';
export const UML_MODULES_ROOT = '/usr/lib/uml/modules';

/** Source of the LD_PRELOAD shim that lets UML 6.1 run on hosts with AVX-512/AMX (see the file). */
const SHIM_SOURCE = join(PROJECT_ROOT, 'testbed', 'uml', 'xstate-shim.c');

/** Where compiled testbed artefacts go (ignored by git; rebuilt when their source changes). */
export const BUILD_DIR = join(PROJECT_ROOT, 'dist');

/** Memory of a guest: Node (the agent) and the kernel fit with room to spare. */
export const GUEST_MEMORY = '384M';

export class UmlUnavailableError extends Error {
  override readonly name = 'UmlUnavailableError';
  constructor(readonly reason: string) {
    super(`full-kernel testbed hosts cannot run here: ${reason}`);
  }
}

/** The module tree of the installed UML kernel (`/usr/lib/uml/modules/<version>`). */
export async function umlModulesDir(): Promise<string> {
  const versions = await readdir(UML_MODULES_ROOT).catch(() => [] as string[]);
  const version = versions.sort().at(-1);
  if (!version) throw new UmlUnavailableError(`no kernel modules under ${UML_MODULES_ROOT}; run ./run setup (user-mode-linux)`);
  return join(UML_MODULES_ROOT, version);
}

/** `null` when full-kernel hosts can run here; otherwise why not (for a printed test skip). */
export async function umlUnavailableReason(): Promise<string | null> {
  try {
    await access(UML_KERNEL, constants.X_OK);
  } catch {
    return `${UML_KERNEL} is missing; run ./run setup (Debian package user-mode-linux)`;
  }
  try {
    await umlModulesDir();
  } catch (err) {
    return (err as Error).message;
  }
  const { code } = await run(['sh', '-c', 'command -v modprobe && command -v cc'], {
    allowFailure: true,
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
  });
  if (code !== 0) return 'modprobe (kmod) or a C compiler (gcc) is missing; run ./run setup';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing (taps connect guests to the switch)';
  return null;
}

/** Writes `build` output to a temporary file beside `path` and renames it: concurrent builders never see half a file. */
export async function buildOnce(path: string, build: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(path)) return path;
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await build(tmp);
  await rename(tmp, path);
  return path;
}

/** Compiles the xstate shim (once per source version) and returns the shared object's path. */
export async function xstateShim(): Promise<string> {
  const source = await readFile(SHIM_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  return buildOnce(join(BUILD_DIR, 'uml', `xstate-shim-${hash}.so`), async (tmp) => {
    await run(['cc', '-O2', '-Wall', '-shared', '-fPIC', '-o', tmp, SHIM_SOURCE, '-ldl']);
  });
}
