/**
 * Private directories for state and secrets: 0700, files in them 0600 (their writers pass the mode).
 * A root directory someone hands us (`--state-dir`) must already be private or not exist yet: an existing
 * wider one may be shared (`/tmp`, `/etc`) and is not ours to chmod. Directories inside a private root are
 * ours: they are created 0700 or tightened (an older version may have made them wider).
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

export class UnsafeDirectoryError extends Error {
  override readonly name = 'UnsafeDirectoryError';
  constructor(
    readonly path: string,
    readonly mode: number,
  ) {
    super(
      `${path} is open to other users (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}); keep private files in a new directory, or chmod 700 ${path}`,
    );
  }
}

/** Creates `dir` (and missing parents) 0700; an existing one must not be open to group or others. */
export function ensurePrivateRootSync(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const { mode } = statSync(dir);
  if ((mode & 0o077) !== 0) throw new UnsafeDirectoryError(dir, mode);
}

/** Creates `dir` 0700 inside a private root, or tightens it to 0700. */
export function ensurePrivateSubdirSync(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}
