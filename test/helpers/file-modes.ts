/** Permission bits of everything under a directory, to check that private state stays private. */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface ModeEntry {
  /** Path relative to the walked directory. */
  path: string;
  kind: 'dir' | 'file';
  /** Permission bits, e.g. `0o600`. */
  mode: number;
}

/** Every directory and file under `dir` (symlinks are skipped: their mode means nothing). */
export function modesUnder(dir: string): ModeEntry[] {
  const out: ModeEntry[] = [];
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub)).sort()) {
      const path = sub ? `${sub}/${name}` : name;
      const info = lstatSync(join(dir, path));
      if (info.isSymbolicLink()) continue;
      out.push({ path, kind: info.isDirectory() ? 'dir' : 'file', mode: info.mode & 0o777 });
      if (info.isDirectory()) walk(path);
    }
  };
  walk('');
  return out;
}

/** The entries that are not 0700 directories or 0600 files (expected to be `[]`). */
export function notPrivate(dir: string): string[] {
  return modesUnder(dir)
    .filter((e) => e.mode !== (e.kind === 'dir' ? 0o700 : 0o600))
    .map((e) => `${e.path} (${e.kind} ${e.mode.toString(8)})`);
}
