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
 * The successful ones are also written to a file in the agent's runtime directory, so an agent restarted in
 * between (a crash, `systemctl restart`) still answers their repeats; a reboot of the proxy host forgets
 * them, as it forgets the runtime directory. An action still running when the agent died has no outcome
 * to give: its repeat runs it again.
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
/** The file: request id (as JSON) → outcome, oldest first. */
const RememberedFileSchema = z.record(z.string(), RememberedSchema);

interface Running {
  fingerprint: string;
  done: Promise<FenceNodeResult>;
}

/** What makes two requests the same action: every parameter, the password included (hashed, never kept). */
export function fenceFingerprint(params: Readonly<Record<string, unknown>>): string {
  const sorted = Object.fromEntries(Object.entries(params).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

export class RepeatedFences {
  private readonly running = new Map<string, Running>();
  private readonly succeeded = new Map<string, Remembered>();

  /**
   * `file`: where the successful actions are kept across agent restarts. `onFileTrouble` hears why an
   * existing one was not taken (it is then replaced) or could not be written (the outcome still counts in
   * memory). @default in memory only
   */
  constructor(private readonly options: { file?: string; now?: () => number; onFileTrouble?: (why: string) => void } = {}) {
    if (options.file) this.load(options.file);
  }

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * Runs `act` for request `id`, or answers a repeat of it without running it. `repeated` says which; the
   * verb logs it.
   */
  async run(
    id: RequestId,
    action: FenceAction,
    fingerprint: string,
    act: () => Promise<FenceNodeResult>,
  ): Promise<{ result: FenceNodeResult; repeated: boolean }> {
    if (id === null || action === FenceAction.STATUS) return { result: await act(), repeated: false };
    const key = JSON.stringify(id);
    this.forgetExpired();
    const same = this.running.get(key) ?? this.succeeded.get(key);
    if (same) {
      if (same.fingerprint !== fingerprint)
        throw new VdsmError(
          JsonRpcCode.INVALID_PARAMS,
          `Host.fenceNode: request id ${key} was used for another power action within the last ${FENCE_REMEMBERED_MS / 60_000} minutes; send a new id`,
        );
      return { result: 'result' in same ? same.result : await same.done, repeated: true };
    }
    const done = act();
    this.running.set(key, { fingerprint, done });
    try {
      const result = await done;
      this.succeeded.set(key, { fingerprint, result, at: this.now });
      if (this.succeeded.size > REMEMBERED_AT_MOST) this.succeeded.delete(this.succeeded.keys().next().value as string);
      this.save();
      return { result, repeated: false };
    } finally {
      this.running.delete(key);
    }
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
    for (const [key, remembered] of Object.entries(parsed.data).sort(([, a], [, b]) => a.at - b.at)) this.succeeded.set(key, remembered);
    this.forgetExpired();
  }

  /** Only within a boot, like the runtime directory it lives in: no fsync. */
  private save(): void {
    if (!this.options.file) return;
    try {
      writeFileAtomic(this.options.file, `${JSON.stringify(Object.fromEntries(this.succeeded))}\n`, Durability.PROCESS);
    } catch (err) {
      this.options.onFileTrouble?.(`not written: ${String(err)}`);
    }
  }

  private forgetExpired(): void {
    const oldest = this.now - FENCE_REMEMBERED_MS;
    for (const [key, remembered] of this.succeeded) {
      if (remembered.at >= oldest) break;
      this.succeeded.delete(key);
    }
  }
}
