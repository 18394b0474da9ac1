/**
 * The pending network transaction: what the agent needs to undo a `setupNetworks` it has started, written
 * *before* the first change to the host, atomically (temp file, rename). It must survive a crash of the
 * agent, not of the host, so it lives in the runtime directory, a tmpfs a reboot empties (the safe-config
 * restore decides the host's state then), and is not fsynced (docs/setup-networks.md#what-is-written-and-how-durably).
 * On the disk of the state directory, its three writes per change cost ~1.5 ms each when the running
 * configuration's fsyncs hold ext4's journal (docs/performance.md#where-a-change-of-100-networks-spends-its-time).
 * The connectivity check's timer lives in the agent process; this record is what lets an agent that
 * was killed in the middle of a change (during the apply, or while waiting for the manager's confirmation)
 * finish or undo it when it starts again in the same boot, instead of leaving an unconfirmed change on the
 * host until the next reboot. NetworkManager's checkpoints give the same guarantee by keeping the timer in
 * the daemon. The policy lives in the network service (`recoverPendingTransaction`) and in the README.
 *
 * When the transaction ends, the record is replaced by its outcome, so a caller that retries the same request
 * id after an agent restart learns what happened instead of applying again.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { KernelStateSchema } from '../../model/net-state-schema';
import { DeviceQosSchema, DhcpClientSpecSchema, RunningConfigSchema } from '../../model/network/config-schema';
import { ConfigFileError, Durability, writeFileAtomic } from './config-store';

export const TransactionPhase = {
  /** Recorded before the first change; the apply may be partly done. */
  APPLYING: 'applying',
  /** Applied and verified; it stays only if a confirmation arrives before the deadline. */
  AWAITING_CONFIRMATION: 'awaiting-confirmation',
  /** Confirmed, or applied without a connectivity check: the change stays; a requested commit may be due. */
  CONFIRMED: 'confirmed',
  /** Over: the record holds only the request's outcome. */
  FINISHED: 'finished',
} as const;
export type TransactionPhase = (typeof TransactionPhase)[keyof typeof TransactionPhase];

/** What puts the host back exactly as it was, through the planner (`desiredStateFromSnapshot`). */
export const RestorePointSchema = z
  .object({
    /**
     * The kernel state before the change, of the scope's links and tables only (`snapshotInScope`); records
     * of earlier agents hold all of it, which reads the same.
     */
    kernel: KernelStateSchema,
    /** DHCP clients that ran before (ours, and the OS's ones the change took over). */
    dhcp: z.array(DhcpClientSpecSchema),
    /** The running config before the change. */
    config: RunningConfigSchema,
    /** Links and routing tables the change may touch: the rollback puts exactly these back. */
    scope: z.object({ links: z.array(z.string()), tables: z.array(z.number().int()) }).strict(),
    /**
     * resolv.conf before the change, when the change writes it (`text` null: there was none). Absent in
     * records of changes that leave it, and of agents before it.
     */
    resolvConf: z.object({ text: z.string().nullable() }).strict().optional(),
    /**
     * The QoS tree of each device the change gives another one (`qos` null: the kernel's default queueing).
     * Absent in records of changes without QoS, and of agents before it.
     */
    qos: z.array(z.object({ dev: z.string(), qos: DeviceQosSchema.nullable() }).strict()).optional(),
  })
  .strict();
export type RestorePoint = z.infer<typeof RestorePointSchema>;

const RequestIdSchema = z.union([z.string(), z.number(), z.null()]);

export const PendingTransactionSchema = z
  .object({
    version: z.literal(1),
    requestId: RequestIdSchema,
    phase: z.enum([TransactionPhase.APPLYING, TransactionPhase.AWAITING_CONFIRMATION, TransactionPhase.CONFIRMED]),
    /** When the transaction began (ISO 8601), for operators. */
    startedAt: z.string(),
    connectivityCheck: z.boolean(),
    timeoutMs: z.number().int().nonnegative(),
    commitOnSuccess: z.boolean(),
    /**
     * Wall-clock deadline (ms since the epoch) of the connectivity check, set once the change is applied:
     * unconfirmed by then, the change is rolled back. `null` before the apply and without a check.
     */
    deadline: z.number().nullable(),
    restorePoint: RestorePointSchema,
  })
  .strict();
export type PendingTransaction = z.infer<typeof PendingTransactionSchema>;

export const TransactionOutcomeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }).strict(),
  /** A VDSM error as the caller got it. */
  z.object({ ok: z.literal(false), code: z.number().int(), message: z.string() }).strict(),
]);
export type TransactionOutcome = z.infer<typeof TransactionOutcomeSchema>;

export const FinishedTransactionSchema = z
  .object({
    version: z.literal(1),
    requestId: RequestIdSchema,
    phase: z.literal(TransactionPhase.FINISHED),
    finishedAt: z.string(),
    outcome: TransactionOutcomeSchema,
  })
  .strict();
export type FinishedTransaction = z.infer<typeof FinishedTransactionSchema>;

export const TransactionRecordSchema = z.union([PendingTransactionSchema, FinishedTransactionSchema]);
export type TransactionRecord = z.infer<typeof TransactionRecordSchema>;

/** The transaction record of an agent whose runtime directory is `runtimeDir`. */
export function pendingTransactionFile(runtimeDir: string): string {
  return join(runtimeDir, 'pending-transaction.json');
}

/** Where earlier agents kept the record: in the state directory, on disk (see {@link moveLegacyTransaction}). */
export function legacyPendingTransactionFile(stateDir: string): string {
  return join(stateDir, 'staging', 'pending-transaction.json');
}

/**
 * An agent upgraded in the middle of a change finds the record where the earlier agent wrote it: it is
 * moved into the runtime directory, unread, and then settled like any other (recovered in the same boot,
 * discarded at the first start of a new one). A record already in the runtime directory is the newer one.
 * Returns whether a record was found in the old place.
 */
export function moveLegacyTransaction(stateDir: string, runtimeDir: string): boolean {
  const legacy = legacyPendingTransactionFile(stateDir);
  if (!existsSync(legacy)) return false;
  const target = pendingTransactionFile(runtimeDir);
  if (!existsSync(target)) writeFileAtomic(target, readFileSync(legacy, 'utf8'), Durability.PROCESS);
  rmSync(legacy, { force: true });
  return true;
}

export class PendingTransactionStore {
  readonly file: string;

  /** `runtimeDir` must exist (the agent makes it, 0700, at start). */
  constructor(runtimeDir: string) {
    this.file = pendingTransactionFile(runtimeDir);
  }

  /** The last transaction, pending or finished; `null` if there is none. */
  load(): TransactionRecord | null {
    if (!existsSync(this.file)) return null;
    try {
      return TransactionRecordSchema.parse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch (err) {
      throw new ConfigFileError(this.file, (err as Error).message);
    }
  }

  /** On disk for any later agent process of this boot when it returns (the boot's end discards it). */
  save(record: TransactionRecord): void {
    writeFileAtomic(this.file, `${JSON.stringify(record)}\n`, Durability.PROCESS);
  }

  /** Forgets the transaction (a new boot: the safe-config restore decides the host's state). */
  remove(): void {
    rmSync(this.file, { force: true });
  }
}
