/**
 * A power action asked again under the same JSON-RPC id is the same action, not another
 * (docs/vdsm-verbs.md#fencenode). A caller that lost the answer (its connection dropped, its worker died)
 * asks again with the id it used, and the host must not be rebooted a second time:
 * - while the first runs, the repeat waits for it and gets its answer;
 * - after it succeeded, the repeat gets the same answer, for {@link FENCE_REMEMBERED_MS};
 * - a failed one is not remembered: asking again runs the agent again, which is what a retry after a
 *   failure is for;
 * - the same id with other parameters is no repeat, and is refused.
 * `status` is never joined: it changes nothing, and a remembered answer would be stale.
 *
 * The actions are also written to a file in the agent's runtime directory, the running ones before their
 * fence agent starts, so an agent restarted in between (a crash, `systemctl restart`) still answers their
 * repeats. The fence agent of an action that was running then outlives the process that started it
 * (fence-run.ts): its repeat waits for it and gets its outcome; only an action that left none (it never
 * started, or was killed before it could record one) runs again. A reboot of the proxy host forgets them
 * all, as it forgets the runtime directory.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { JsonRpcCode, VdsmError } from '../../model/vdsm/error-codes';
import { FenceAction } from '../../model/vdsm/fence-node';
import { Durability, writeFileAtomic } from '../persistence/config-store';
import type { FenceNodeResult } from './fence-result';

/** How long a successful action answers its repeats: longer than a caller's retries of it take. */
export const FENCE_REMEMBERED_MS = 15 * 60_000;
/** The file in the agent's runtime directory. */
export const FENCE_REPEATS_FILE = 'fence-repeats.json';
/** Successful actions remembered at most; the oldest goes first. */
const REMEMBERED_AT_MOST = 64;

type RequestId = string | number | null;

const RememberedSchema = z.object({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  result: z.object({ power: z.enum(['on', 'off', 'unknown']), operationStatus: z.enum(['initiated', 'skipped']).optional() }),
  at: z.number().int().nonnegative(),
});
type Remembered = z.infer<typeof RememberedSchema>;
/** An action whose fence agent was started at `at` and had not finished when this was written. */
const StartedSchema = z.object({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  started: z.literal(true),
  at: z.number().int().nonnegative(),
});
type Started = z.infer<typeof StartedSchema>;
/** The file: request id (as JSON) → outcome or start, oldest first. */
const RememberedFileSchema = z.record(z.string(), z.union([RememberedSchema, StartedSchema]));

interface Running {
  fingerprint: string;
  at: number;
  done: Promise<{ result: FenceNodeResult; repeated: boolean }>;
}

/**
 * How an action is run, and how the outcome of its run started by an earlier agent process is taken. `key`
 * is the request id (as JSON) the run is joined under, `null` for one never joined (status, no id): a run
 * a later process may look for must be found from it.
 */
export interface FenceActing {
  /** Runs the action now. */
  start(key: string | null): Promise<FenceNodeResult>;
  /**
   * The outcome of the run an earlier process started at `startedAt`, awaited while it runs; `null` when it
   * left none and nothing of it runs.
   */
  startedBefore(startedAt: number, key: string): Promise<FenceNodeResult | null>;
}

/** What makes two requests the same action: every parameter, the password included (hashed, never kept). */
export function fenceFingerprint(params: Readonly<Record<string, unknown>>): string {
  const sorted = Object.fromEntries(Object.entries(params).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

export class RepeatedFences {
  private readonly running = new Map<string, Running>();
  private readonly succeeded = new Map<string, Remembered>();
  /** Actions an earlier agent process started and had not finished when it wrote the file. */
  private readonly startedBefore = new Map<string, Started>();

  /**
   * `file`: where the actions are kept across agent restarts. `onFileTrouble` hears why an existing one was
   * not taken (it is then replaced) or could not be written (the outcome still counts in memory).
   * @default in memory only
   */
  constructor(private readonly options: { file?: string; now?: () => number; onFileTrouble?: (why: string) => void } = {}) {
    if (options.file) this.load(options.file);
  }

  /** The request keys (ids as JSON) of actions an earlier agent process started and did not see end. */
  startedBeforeKeys(): string[] {
    this.forgetExpired();
    return [...this.startedBefore.keys()];
  }

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * Runs the action for request `id`, or answers a repeat of it without running it again. `repeated` says
   * which; the verb logs it.
   */
  async run(
    id: RequestId,
    action: FenceAction,
    fingerprint: string,
    acting: FenceActing,
  ): Promise<{ result: FenceNodeResult; repeated: boolean }> {
    if (id === null || action === FenceAction.STATUS) return { result: await acting.start(null), repeated: false };
    const key = JSON.stringify(id);
    this.forgetExpired();
    const same = this.running.get(key) ?? this.succeeded.get(key) ?? this.startedBefore.get(key);
    if (same && same.fingerprint !== fingerprint)
      throw new VdsmError(
        JsonRpcCode.INVALID_PARAMS,
        `Host.fenceNode: request id ${key} was used for another power action within the last ${FENCE_REMEMBERED_MS / 60_000} minutes; send a new id`,
      );
    if (same && 'done' in same) return { result: (await same.done).result, repeated: true };
    if (same && 'result' in same) return { result: same.result, repeated: true };
    const earlier = this.startedBefore.get(key);
    // On record (for joiners and for the file) before `settle` starts; its `done` is set right after.
    const entry: Running = { fingerprint, at: earlier?.at ?? this.now, done: Promise.resolve(undefined as never) };
    this.running.set(key, entry);
    entry.done = this.settle(key, entry, earlier, acting);
    try {
      const outcome = await entry.done;
      this.succeeded.set(key, { fingerprint, result: outcome.result, at: this.now });
      if (this.succeeded.size > REMEMBERED_AT_MOST) this.succeeded.delete(this.succeeded.keys().next().value as string);
      return outcome;
    } finally {
      this.running.delete(key);
      this.save();
    }
  }

  /** The earlier process's outcome, when it left one; else a run of this process, on record before it starts. */
  private async settle(
    key: string,
    entry: Running,
    earlier: Started | undefined,
    acting: FenceActing,
  ): Promise<{ result: FenceNodeResult; repeated: boolean }> {
    if (earlier) {
      try {
        const result = await acting.startedBefore(earlier.at, key);
        if (result) return { result, repeated: true };
      } finally {
        this.startedBefore.delete(key);
      }
    }
    entry.at = this.now;
    this.save();
    return { result: await acting.start(key), repeated: false };
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.options.onFileTrouble?.(String(err));
      return;
    }
    let parsed;
    try {
      parsed = RememberedFileSchema.safeParse(JSON.parse(text));
    } catch (err) {
      this.options.onFileTrouble?.(`not JSON: ${String(err)}`);
      return;
    }
    if (!parsed.success) {
      this.options.onFileTrouble?.(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return;
    }
    for (const [key, entry] of Object.entries(parsed.data).sort(([, a], [, b]) => a.at - b.at)) {
      if ('result' in entry) this.succeeded.set(key, entry);
      else this.startedBefore.set(key, entry);
    }
    this.forgetExpired();
  }

  /** Only within a boot, like the runtime directory it lives in: no fsync. */
  private save(): void {
    if (!this.options.file) return;
    const started = (map: ReadonlyMap<string, { fingerprint: string; at: number }>) =>
      [...map].map(([key, { fingerprint, at }]): [string, Started] => [key, { fingerprint, started: true, at }]);
    const entries = [...this.succeeded, ...started(this.startedBefore), ...started(this.running)].sort(([, a], [, b]) => a.at - b.at);
    try {
      writeFileAtomic(this.options.file, `${JSON.stringify(Object.fromEntries(entries))}\n`, Durability.PROCESS);
    } catch (err) {
      this.options.onFileTrouble?.(`not written: ${String(err)}`);
    }
  }

  /** Both maps hold their entries oldest first. */
  private forgetExpired(): void {
    const oldest = this.now - FENCE_REMEMBERED_MS;
    for (const map of [this.succeeded, this.startedBefore]) {
      for (const [key, entry] of map) {
        if (entry.at >= oldest) break;
        map.delete(key);
      }
    }
  }
}
