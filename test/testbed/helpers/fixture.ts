/** Shared pieces of the testbed tests: state dirs, a boot command that serves TCP and leaves traces. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../../lib/logger';
import type { Testbed } from '../../../testbed/testbed';

/** Port the test boot command serves on inside each host. */
export const SERVICE_PORT = 8000;

/**
 * Boot command of test hosts: records the boot in the persistent state dir (`boots`, one line per boot),
 * drops a marker in the runtime dir, then serves HTTP on {@link SERVICE_PORT} until powered off.
 */
export const SERVING_BOOT_COMMAND: readonly string[] = [
  'bash',
  '-c',
  'echo "boot $$" >> "$HOSTPROV_TESTBED_STATE_DIR/boots"; touch "$HOSTPROV_TESTBED_RUNTIME_DIR/booted"; ' +
    `exec python3 -m http.server --bind 0.0.0.0 --directory "$HOSTPROV_TESTBED_STATE_DIR" ${SERVICE_PORT}`,
];

/** A fresh, shell-safe directory under the OS temp dir. */
export async function makeStateDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `hostprov-${label}-`));
}

/** Tears the testbed down and removes the dir, even if the teardown throws (then rethrows). */
export async function cleanUp(testbed: Testbed | undefined, stateDir: string | undefined): Promise<void> {
  try {
    await testbed?.destroy();
  } finally {
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }
}

/** A logger whose JSON lines are kept in `lines` (to assert on what was, and was not, logged). */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

export { isAlive as isRunning } from '../../../lib/process';
