/**
 * `hostprov`: the one command for operators and for the demo. Each sub-command lives in cli/commands/<name>.ts
 * and exports `register(program)`; flags are validated with zod there (bad input: a clear message, exit 2).
 */
import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { getLogger } from '../lib/logger';
import { TemporalConfigError } from '../lib/temporal/connection';
import { PayloadKeysError } from '../lib/temporal/payload-keys';
import { commands } from './commands';
import { stopInProgress } from './signals';
import { UsageError } from './usage-error';

async function main(argv: string[]): Promise<void> {
  const program = new Command('hostprov')
    .description('Provision the management network of hypervisor hosts with durable Temporal workflows')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  // A start interrupted by a stop signal fails wherever it was; the signal handler is releasing what was
  // started and exits with the signal's code when done.
  if (stopInProgress()) {
    getLogger('cli').debug({ err }, 'interrupted by the stop signal');
    return;
  }
  if (err instanceof CommanderError) process.exit(err.exitCode);
  // Configuration the operator gave (flags, Temporal profile, key files): a message, no stack trace.
  if (err instanceof UsageError || err instanceof ZodError || err instanceof TemporalConfigError || err instanceof PayloadKeysError) {
    process.stderr.write(`hostprov: ${err instanceof ZodError ? formatZod(err) : err.message}\n`);
    process.exit(2);
  }
  const log = getLogger('cli');
  log.error({ err }, err instanceof Error ? err.message : String(err));
  process.exit(1);
});

function formatZod(err: ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
}
