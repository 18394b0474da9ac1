/**
 * Routing-table ids from the names iproute2 prints. `ip -j` shows `main`, `local` and `default` (and any
 * name an administrator put in rt_tables) instead of the number; the model keeps numbers only.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const BUILTIN_TABLE_IDS: ReadonlyMap<string, number> = new Map([
  ['unspec', 0],
  ['default', 253],
  ['main', 254],
  ['local', 255],
]);

export const LOCAL_TABLE = 255;

/** `1234` → 1234, `main` → 254, a name from `names` → its id; `undefined` if unknown. */
export function routeTableId(table: string, names: ReadonlyMap<string, number> = BUILTIN_TABLE_IDS): number | undefined {
  if (/^\d+$/.test(table)) return Number(table);
  return BUILTIN_TABLE_IDS.get(table) ?? names.get(table);
}

/** Parses rt_tables syntax: `<id> <name>` per line, `#` comments. */
export function routeTableNamesFromText(text: string): Map<string, number> {
  const names = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+|0x[0-9a-fA-F]+)\s+([^\s#]+)/.exec(line);
    if (match?.[1] && match[2]) names.set(match[2], Number(match[1]));
  }
  return names;
}

/** Where iproute2 looks for table names (the distribution's and the administrator's); later files win. */
const RT_TABLES_FILES = ['/usr/share/iproute2/rt_tables', '/usr/lib/iproute2/rt_tables', '/etc/iproute2/rt_tables'];
const RT_TABLES_DIRS = ['/usr/share/iproute2/rt_tables.d', '/usr/lib/iproute2/rt_tables.d', '/etc/iproute2/rt_tables.d'];

/** Reads the host's table names; only needed when `ip` printed a name that is not built in. */
export async function loadRouteTableNames(): Promise<Map<string, number>> {
  const files = [...RT_TABLES_FILES];
  for (const dir of RT_TABLES_DIRS) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    files.push(
      ...entries
        .filter((e) => e.endsWith('.conf'))
        .sort()
        .map((e) => join(dir, e)),
    );
  }
  const names = new Map<string, number>();
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const [name, id] of routeTableNamesFromText(text)) names.set(name, id);
  }
  return names;
}
