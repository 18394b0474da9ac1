/** `hostprov host-networks …`: a host's networks: status, refresh, sync, and the refresh schedule. */
import type { Command } from 'commander';
import { addScheduleCommand } from './host-networks-schedule';
import { addStatusCommands } from './host-networks-status';
import { addSyncCommand } from './host-networks-sync';

export function register(program: Command): void {
  const group = program
    .command('host-networks')
    .description("A host's networks: status against what the host reports, refresh, sync, refresh schedule");
  addStatusCommands(group);
  addSyncCommand(group);
  addScheduleCommand(group);
}
