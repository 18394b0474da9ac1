/**
 * Secret references (`file:/abs/path`, `env:NAME`) resolved on the worker, so secrets never enter workflow
 * history; and only inside their roots, so whoever can start a workflow cannot make the worker read (and
 * send to a host of their choosing) any file or variable it can see:
 * - `file:` must name a regular file under the secrets directory, with no `..` and no symlink leading out
 *   (both paths are resolved with realpath and compared);
 * - `env:` must name a variable with the secret prefix.
 * TLS material must be a file for the TLS stack: an `env:` PEM is written to a 0600 file in a 0700 directory
 * of the worker's own, removed by {@link SecretResolver.close} (the worker calls it when it stops) or at
 * process exit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { checkConfinedFile, ConfinedFileUnavailableError, OutsideRootError, readConfinedFile } from '../lib/confined-file';
import { FailureType, isRetryable } from '../model/failures';

/** @default for `file:` references: the worker's configuration directory. */
export const DEFAULT_SECRETS_DIR = '/etc/hostprov';
/** @default for `env:` references. */
export const DEFAULT_SECRET_ENV_PREFIX = 'HOSTPROV_SECRET_';

export interface SecretPolicy {
  /** `file:` references resolve only to files inside this directory. @default '/etc/hostprov' */
  secretsDir?: string;
  /** `env:` references name only variables starting with this. @default 'HOSTPROV_SECRET_' */
  envPrefix?: string;
  /** Where the private directory for `env:` PEMs is made. @default os.tmpdir() */
  scratchParent?: string;
}

/** The reference exists in principle but cannot be read here (unset variable, missing file). */
export class SecretUnavailableError extends ApplicationFailure {
  constructor(
    readonly ref: string,
    why: string,
  ) {
    super(
      `secret ${ref} is not available on this worker: ${why}`,
      FailureType.SECRET_UNAVAILABLE,
      !isRetryable(FailureType.SECRET_UNAVAILABLE),
    );
  }
}

/** The reference points outside what this worker may read: never resolved, whatever it names. */
export class SecretRefusedError extends ApplicationFailure {
  constructor(
    readonly ref: string,
    why: string,
  ) {
    super(`secret ${ref} is refused on this worker: ${why}`, FailureType.SECRET_REFUSED, !isRetryable(FailureType.SECRET_REFUSED));
  }
}

const FILE = 'file:';
const ENV = 'env:';
const SECRETS_DIR_LABEL = 'the secrets directory';

/** Runs a confined file access, turning its errors into the typed failures of this reference. */
function confined<T>(ref: string, access: () => T): T {
  try {
    return access();
  } catch (err) {
    if (err instanceof OutsideRootError) throw new SecretRefusedError(ref, err.why);
    if (err instanceof ConfinedFileUnavailableError) throw new SecretUnavailableError(ref, err.why);
    throw err;
  }
}

export class SecretResolver {
  readonly secretsDir: string;
  readonly envPrefix: string;
  readonly #scratchParent: string;
  #scratch: string | null = null;
  readonly #materialised = new Map<string, string>();
  readonly #removeAtExit = () => this.close();

  constructor(policy: SecretPolicy = {}) {
    this.secretsDir = normalize(policy.secretsDir ?? DEFAULT_SECRETS_DIR);
    this.envPrefix = policy.envPrefix ?? DEFAULT_SECRET_ENV_PREFIX;
    if (!isAbsolute(this.secretsDir)) throw new Error(`the secrets directory must be an absolute path, not ${this.secretsDir}`);
    if (this.envPrefix === '') throw new Error('the secret environment prefix must not be empty (it would admit every variable)');
    this.#scratchParent = policy.scratchParent ?? tmpdir();
  }

  /** The secret's value (e.g. a BMC password), trimmed of one trailing newline. */
  resolve(ref: string): string {
    if (ref.startsWith(ENV)) {
      const value = process.env[this.#envName(ref)];
      if (value === undefined) throw new SecretUnavailableError(ref, 'environment variable not set');
      return value;
    }
    if (ref.startsWith(FILE)) return this.#readFile(ref).replace(/\r?\n$/, '');
    throw new SecretRefusedError(ref, 'unknown reference scheme (use file: or env:)');
  }

  /** A file holding the secret (TLS certificates and keys): the file itself, or a private copy of a variable. */
  resolveFile(ref: string): string {
    if (ref.startsWith(FILE)) return this.#checkedFile(ref);
    if (!ref.startsWith(ENV)) throw new SecretRefusedError(ref, 'unknown reference scheme (use file: or env:)');
    const done = this.#materialised.get(ref);
    if (done) return done;
    const value = this.resolve(ref);
    const path = join(this.#scratchDir(), `secret-${this.#materialised.size}.pem`);
    writeFileSync(path, value, { mode: 0o600, flag: 'wx' });
    this.#materialised.set(ref, path);
    return path;
  }

  /** The private directory of `env:` PEMs, if one was made (tests check its mode and its removal). */
  get scratchDir(): string | null {
    return this.#scratch;
  }

  /** Removes the `env:` PEMs written so far. Idempotent; resolving again makes a new directory. */
  close(): void {
    process.removeListener('exit', this.#removeAtExit);
    if (this.#scratch) rmSync(this.#scratch, { recursive: true, force: true });
    this.#scratch = null;
    this.#materialised.clear();
  }

  #envName(ref: string): string {
    const name = ref.slice(ENV.length);
    if (!name.startsWith(this.envPrefix) || name.length === this.envPrefix.length) {
      throw new SecretRefusedError(ref, `only variables named ${this.envPrefix}… may be read`);
    }
    return name;
  }

  /** The file's real path, if it is a readable regular file inside the secrets directory; refuses anything else. */
  #checkedFile(ref: string): string {
    return confined(ref, () => checkConfinedFile(this.secretsDir, ref.slice(FILE.length), { rootLabel: SECRETS_DIR_LABEL }));
  }

  #readFile(ref: string): string {
    return confined(ref, () =>
      readConfinedFile(this.secretsDir, ref.slice(FILE.length), { rootLabel: SECRETS_DIR_LABEL }),
    ).content.toString('utf8');
  }

  #scratchDir(): string {
    if (!this.#scratch) {
      // mkdtemp makes the directory 0700.
      this.#scratch = mkdtempSync(join(this.#scratchParent, 'hostprov-worker-secrets-'));
      process.once('exit', this.#removeAtExit);
    }
    return this.#scratch;
  }
}
