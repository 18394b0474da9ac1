/** The CLI loads a command's module only when that command runs (docs/performance.md#starting-the-cli). */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commands } from '../../cli/commands';
import { commandsFor } from '../../cli/run-cli';

const argv = (...args: string[]) => ['node', 'hostprov', ...args];

describe('lazy command table', () => {
  it('names exactly the top-level commands each module registers', async () => {
    for (const entry of commands) {
      const program = new Command('hostprov');
      (await entry.load())(program);
      expect(
        program.commands.map((c) => c.name()),
        `module of ${entry.names.join(', ')}`,
      ).toEqual(entry.names);
    }
  });

  it('gives every command one entry', () => {
    const names = commands.flatMap((c) => c.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it('loads only the module of the command that runs', () => {
    expect(commandsFor(argv('agent', '--listen', '[::]:54321'), commands).map((c) => c.names)).toEqual([['agent']]);
    expect(commandsFor(argv('codec-server', '--help'), commands).map((c) => c.names)).toEqual([['codec', 'codec-server']]);
    expect(commandsFor(argv('host-networks', 'status', 'h1'), commands).map((c) => c.names)).toEqual([['host-networks']]);
  });

  it('loads every module for the full help and for a name it does not know (commander lists them all)', () => {
    for (const args of [[], ['--help'], ['-h'], ['help'], ['help', 'agent'], ['nosuch']]) {
      expect(commandsFor(argv(...args), commands), args.join(' ') || '(no arguments)').toBe(commands);
    }
  });
});
