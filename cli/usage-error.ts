/** A problem with what the operator typed: printed without a stack trace, exit code 2 unless told otherwise. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  /** @default 2 */
  readonly exitCode: number;
  constructor(message: string, options?: { exitCode?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options?.exitCode ?? 2;
  }
}
