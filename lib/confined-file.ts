/**
 * Files read only from inside one directory: an absolute path with no `..`, whose real path (symlinks
 * resolved) still lies under the directory's real path, opened with O_NOFOLLOW and read only if it is a
 * regular file. The worker's secret references (activities/secrets.ts) and the payload encryption keys
 * (lib/temporal/payload-keys.ts) both go through here, so a name chosen by whoever starts a workflow or
 * edits a key directory never makes us read a file elsewhere.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync, type Stats } from 'node:fs';
import { isAbsolute, normalize, sep } from 'node:path';

/** The path points outside the directory (or is not a plain absolute path): never read, whatever it names. */
export class OutsideRootError extends Error {
  override readonly name = 'OutsideRootError';
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(`${path} is refused: ${why}`);
  }
}

/** The path is acceptable, but there is nothing readable there. */
export class ConfinedFileUnavailableError extends Error {
  override readonly name = 'ConfinedFileUnavailableError';
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(`${path} cannot be read: ${why}`);
  }
}

const inside = (path: string, dir: string): boolean => path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);

export interface ConfinementOptions {
  /** How messages name the directory, e.g. 'the secrets directory'. @default 'the directory' */
  rootLabel?: string;
}

/** The real path of `path`, if it lies inside `root` (both resolved with realpath); throws otherwise. */
export function confinedRealPath(root: string, path: string, { rootLabel = 'the directory' }: ConfinementOptions = {}): string {
  if (!isAbsolute(path)) throw new OutsideRootError(path, 'not an absolute path');
  if (path.split('/').includes('..')) throw new OutsideRootError(path, 'contains ".."');
  let realRoot: string;
  try {
    realRoot = realpathSync.native(root);
  } catch {
    throw new ConfinedFileUnavailableError(path, `${rootLabel} ${root} does not exist`);
  }
  if (!inside(normalize(path), normalize(root)) && !inside(normalize(path), realRoot)) {
    throw new OutsideRootError(path, `outside ${rootLabel} ${root}`);
  }
  let real: string;
  try {
    real = realpathSync.native(path);
  } catch (err) {
    throw new ConfinedFileUnavailableError(
      path,
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file does not exist' : (err as Error).message,
    );
  }
  if (!inside(real, realRoot)) throw new OutsideRootError(path, `a symlink leads outside ${rootLabel} ${root}`);
  return real;
}

/** The content of a regular file inside `root` (see {@link confinedRealPath}), and its status. */
export function readConfinedFile(root: string, path: string, options: ConfinementOptions = {}): { content: Buffer; stats: Stats } {
  return withConfinedFile(root, path, options, (fd, stats) => ({ content: readFileSync(fd), stats }));
}

/**
 * The real path of a regular file inside `root` that this process can open for reading, checked as
 * {@link readConfinedFile} checks it, without reading it: for files handed on by path (TLS material).
 */
export function checkConfinedFile(root: string, path: string, options: ConfinementOptions = {}): string {
  return withConfinedFile(root, path, options, (_fd, _stats, real) => real);
}

function withConfinedFile<T>(
  root: string,
  path: string,
  options: ConfinementOptions,
  use: (fd: number, stats: Stats, real: string) => T,
): T {
  const real = confinedRealPath(root, path, options);
  let fd: number;
  try {
    // O_NOFOLLOW: the path was checked symlink-free; one swapped in since is not followed.
    fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new ConfinedFileUnavailableError(path, (err as Error).message);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new ConfinedFileUnavailableError(path, 'not a regular file');
    return use(fd, stats, real);
  } finally {
    closeSync(fd);
  }
}
