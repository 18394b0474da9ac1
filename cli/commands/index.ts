import type { Command } from 'commander';

/** Sub-commands in help order. Each module exports `register(program)`. */
export const commands: Array<(program: Command) => void> = [];
