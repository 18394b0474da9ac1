/**
 * `hostprov agent` alone: the entry point that testbed/agent-bundle.ts compiles into one file for hosts
 * where Node is slow to load hundreds of modules (a User-Mode Linux guest reads them through hostfs).
 * Same flags, same behaviour as `bin/hostprov agent`.
 */
import { register as agent } from './commands/agent';
import { runCli } from './run-cli';

runCli(process.argv, [{ names: ['agent'], load: () => Promise.resolve(agent) }]);
