/**
 * Runs a `hostprov` program made of the given sub-commands: parsing, the exit codes of bad input (2) and
 * failures (1), and the hand-over to a stop signal in progress. Shared by the full CLI (cli/main.ts) and
 * the agent-only entry that is bundled for slow hosts (cli/agent-main.ts).
 */
import { Command, CommanderError } from 'commander';
import { z } from 'zod';
import { getLogger } from '../lib/logger';
import { stopInProgress } from './signals';
import { UsageError } from './usage-error';

export type RegisterCommand = (program: Command) => void;

/** A sub-command by name, its module loaded only when needed. */
export interface LazyCommand {
  /** The names of the top-level commands `register` adds (`program.command(name)`). */
  readonly names: readonly string[];
  load(): Promise<RegisterCommand>;
}

/**
 * The commands to load for `argv`: the one named by the first argument, or all of them when there is none,
 * it is an option (`--help`), `help`, or a name we do not know (commander then lists them all).
 */
export function commandsFor(argv: readonly string[], commands: readonly LazyCommand[]): readonly LazyCommand[] {
  const first = argv[2];
  const named = first === undefined || first.startsWith('-') ? undefined : commands.find((c) => c.names.includes(first));
  return named ? [named] : commands;
}

async function main(argv: string[], commands: readonly LazyCommand[]): Promise<void> {
  const program = new Command('hostprov')
    .description('Provision the management network of hypervisor hosts with durable Temporal workflows')
    .showHelpAfterError()
    .exitOverride();
  const registers = await Promise.all(commandsFor(argv, commands).map((c) => c.load()));
  for (const register of registers) register(program);
  await program.parseAsync(argv);
}

/** Errors that mean the operator's configuration is wrong (exit 2, a message, no stack trace). */
export type UsageErrorClass = abstract new (...args: never[]) => Error;

export function runCli(argv: string[], commands: readonly LazyCommand[], usageErrors: readonly UsageErrorClass[] = []): void {
  main(argv, commands).catch((err: unknown) => {
    // A start interrupted by a stop signal fails wherever it was; the signal handler is releasing what was
    // started and exits with the signal's code when done.
    if (stopInProgress()) {
      getLogger('cli').debug({ err }, 'interrupted by the stop signal');
      return;
    }
    if (err instanceof CommanderError) process.exit(err.exitCode);
    // Configuration the operator gave (flags, Temporal profile, key files): a message, no stack trace.
    // zod's core error: the classic API's ZodError is one, and so is what the zod/mini contracts throw.
    const zodError = err instanceof z.core.$ZodError ? err : null;
    if (zodError || (err instanceof Error && (err instanceof UsageError || usageErrors.some((c) => err instanceof c)))) {
      process.stderr.write(`hostprov: ${zodError ? formatZod(zodError) : (err as Error).message}\n`);
      process.exit(err instanceof UsageError ? err.exitCode : 2);
    }
    const log = getLogger('cli');
    log.error({ err }, err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}

function formatZod(err: z.core.$ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
}
