/**
 * When a test fails, what the consoles of this process's testbed hosts (their agents' logs, in an agent lab)
 * printed while it ran: a lab's state dir is removed when its file ends, and its agents' logs with it, so
 * a failure seen only in CI could not tell a stalled agent from a lost packet without them.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { beforeEach } from 'vitest';
import { testbedsBuiltHere } from '../../testbed/testbed';

/** Per host, the last lines printed. */
const MAX_LINES = 40;
/** Hosts printed per failure (a fleet lab has 20 or more); the others are named. */
const MAX_HOSTS = 10;
/** Bytes read from the end of a console that grew more. */
const MAX_BYTES = 64 * 1024;

function sizeOf(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}

/** The last lines of `path` from byte `from` on. */
function tailFrom(path: string, from: number): string[] {
  const size = sizeOf(path);
  const start = Math.max(from, size - MAX_BYTES);
  if (size <= start) return [];
  const buffer = Buffer.alloc(size - start);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(fd);
  }
  const lines = buffer.toString('utf8').trimEnd().split('\n');
  // A cut line at the start of the window is dropped, unless the window is the whole growth.
  return (start > from ? lines.slice(1) : lines).slice(-MAX_LINES);
}

beforeEach(({ task, onTestFailed }) => {
  // Consoles as they were when the test started: a lab built by the test itself starts at 0.
  const sizes = new Map<string, number>();
  for (const testbed of testbedsBuiltHere()) for (const host of testbed.hosts) sizes.set(host.consoleLog, sizeOf(host.consoleLog));
  onTestFailed(() => {
    const grown = testbedsBuiltHere()
      .flatMap((testbed) => testbed.hosts)
      .map((host) => ({ host, lines: tailFrom(host.consoleLog, sizes.get(host.consoleLog) ?? 0) }))
      .filter(({ lines }) => lines.length > 0);
    if (grown.length === 0) return;
    const shown = grown.slice(0, MAX_HOSTS);
    const parts = shown.map(
      ({ host, lines }) => `--- ${host.name} (${host.consoleLog}), last ${lines.length} line(s) during the test ---\n${lines.join('\n')}`,
    );
    if (grown.length > shown.length)
      parts.push(
        `--- not shown: ${grown
          .slice(MAX_HOSTS)
          .map(({ host }) => host.name)
          .join(', ')} ---`,
      );
    console.error(`"${task.name}" failed; the testbed hosts' consoles while it ran:\n${parts.join('\n')}`);
  });
});
