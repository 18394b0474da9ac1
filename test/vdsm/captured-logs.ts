/** A logger whose JSON lines land in `lines`, to assert what operators would see. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../lib/logger';

export function capturedLogs(level: string): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: pino({ level }, sink) };
}
