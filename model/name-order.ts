/**
 * The order of names (links, networks, config keys) wherever the model sorts them: by UTF-16 code unit, as
 * `<` compares strings. `localeCompare` would ask ICU for the process's locale collation: its order moves
 * with the host's locale and ICU version (a plan, a report or a workflow's input must not), and its first
 * call loads collation data, a few milliseconds of every fresh agent's first change.
 */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
