/**
 * `hostprov`: the one command for operators and for the demo. Each sub-command lives in cli/commands/<name>.ts
 * and exports `register(program)`; flags are validated with zod there (bad input: a clear message, exit 2).
 */
import { TemporalConfigError } from '../lib/temporal/connection';
import { PayloadKeysError } from '../lib/temporal/payload-keys';
import { commands } from './commands';
import { runCli } from './run-cli';

runCli(process.argv, commands, [TemporalConfigError, PayloadKeysError]);
