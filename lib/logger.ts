/**
 * One structured logger for every hostprov process (CLI, worker, agent, testbed).
 *
 * JSON lines on stderr by default, so logs can be shipped as they are; a human-readable rendering when
 * stderr is a terminal or `HOSTPROV_LOG_FORMAT=pretty`. Level from `HOSTPROV_LOG_LEVEL` (default `info`).
 * stdout stays free for command output (results, tables, JSON).
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type Logger = PinoLogger;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function levelFromEnv(): LevelWithSilent {
  const raw = (process.env.HOSTPROV_LOG_LEVEL ?? 'info').toLowerCase();
  return (LEVELS as readonly string[]).includes(raw) ? (raw as LevelWithSilent) : 'info';
}

function wantsPretty(): boolean {
  const format = process.env.HOSTPROV_LOG_FORMAT;
  if (format === 'json') return false;
  if (format === 'pretty') return true;
  return Boolean(process.stderr.isTTY);
}

let root: Logger | undefined;

/** The process-wide root logger; `name` becomes the `component` field of a child logger. */
export function getLogger(component?: string): Logger {
  root ??= pino(
    { level: levelFromEnv(), base: { pid: process.pid } },
    wantsPretty()
      ? pretty({ destination: 2, sync: true, colorize: Boolean(process.stderr.isTTY), ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' })
      : pino.destination({ dest: 2, sync: true }),
  );
  return component ? root.child({ component }) : root;
}
