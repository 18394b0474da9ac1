/** `hostprov host-networks …`: a host's networks (status and refresh for now). */
import type { Command } from 'commander';
import { addStatusCommands } from './host-networks-status';

export function register(program: Command): void {
  const group = program.command('host-networks').description("A host's networks: status against what the host reports, refresh");
  addStatusCommands(group);
}
