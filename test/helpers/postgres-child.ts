/**
 * Starts a throwaway PostgreSQL in a process of its own, prints where it lives as one JSON line, then
 * `hang`s (to be killed outright) or `exit`s without calling stop(): the leftovers test's owner process.
 */
import { startThrowawayPostgres } from '../../testbed/postgres';

const mode = process.argv[2];
const server = await startThrowawayPostgres();
process.stdout.write(`${JSON.stringify({ pid: server.pid, socketDir: server.socketDir })}\n`);
if (mode === 'exit') process.exit(0);
setInterval(() => undefined, 60_000);
