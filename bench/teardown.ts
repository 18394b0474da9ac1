/**
 * Everything a benchmark creates (namespaces, processes, servers, temp dirs) is registered here as soon as
 * it exists and torn down in reverse order in `finally`, on success and on failure alike. A step that fails
 * is logged and the others still run.
 */
import type { Logger } from '../lib/logger';

export class Teardown {
  private readonly steps: Array<{ what: string; fn: () => unknown }> = [];

  constructor(private readonly log: Logger) {}

  add(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn });
  }

  async run(): Promise<void> {
    while (this.steps.length) {
      const step = this.steps.pop();
      if (!step) break;
      try {
        await step.fn();
      } catch (err) {
        this.log.warn({ err, what: step.what }, 'teardown step failed');
      }
    }
  }
}

/**
 * `promise`, or a rejection with the abort reason as soon as `signal` fires (the promise keeps running; a
 * late rejection of it is handled here, never unhandled). For waits nothing else would end, e.g. a
 * workflow result after the worker stopped on the same Ctrl-C.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
