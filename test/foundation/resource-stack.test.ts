/** The resource stack behind every command's stop: newest first, each once, past failures, late arrivals. */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ResourceStack, StoppingError } from '../../lib/resource-stack';

// Silent: one case fails a release on purpose.
const log = pino({ level: 'silent' });

describe('ResourceStack', () => {
  it('releases newest first, each once, however often it is unwound', async () => {
    const stack = new ResourceStack(log);
    const released: string[] = [];
    for (const name of ['network', 'server', 'worker']) stack.push(name, async () => void released.push(name));
    await Promise.all([stack.unwind(), stack.unwind()]);
    await stack.unwind();
    expect(released).toEqual(['worker', 'server', 'network']);
    expect(stack.names).toEqual([]);
  });

  it('goes on past a failing release and reports it', async () => {
    const stack = new ResourceStack(log);
    const released: string[] = [];
    stack.push('a', async () => void released.push('a'));
    stack.push('b', async () => {
      throw new Error('b is stuck');
    });
    stack.push('c', async () => void released.push('c'));
    await stack.unwind();
    expect(released).toEqual(['c', 'a']);
    expect(stack.releaseFailures.map((f) => f.name)).toEqual(['b']);
  });

  it('tells starts in flight to stop, and releases what they register late at once', async () => {
    const stack = new ResourceStack(log);
    expect(stack.stopping.aborted).toBe(false);
    await stack.unwind();
    expect(stack.stopping.aborted).toBe(true);
    expect(stack.stopping.reason).toBeInstanceOf(StoppingError);
    const late = new Promise<void>((resolvePromise) => stack.push('late', async () => resolvePromise()));
    await expect(late).resolves.toBeUndefined();
  });

  it('releases what is registered while it unwinds in the same pass', async () => {
    const stack = new ResourceStack(log);
    const released: string[] = [];
    stack.push('first', async () => {
      // A start that was in flight registers its result while an older resource is being released.
      stack.push('in-flight', async () => void released.push('in-flight'));
      released.push('first');
    });
    await stack.unwind();
    expect(released).toEqual(['first', 'in-flight']);
  });

  it('hands every release the hurry signal, aborted by hurry()', async () => {
    const stack = new ResourceStack(log);
    let seen: AbortSignal | undefined;
    let hurried = false;
    stack.push('slow', async ({ hurry }) => {
      seen = hurry;
      await new Promise<void>((resolvePromise) => hurry.addEventListener('abort', () => resolvePromise(), { once: true }));
      hurried = true;
    });
    const unwinding = stack.unwind();
    expect(seen?.aborted).toBe(false);
    stack.hurry();
    await unwinding;
    expect(hurried).toBe(true);
  });
});
