/**
 * Secret references (`file:/abs/path`, `env:NAME`) resolved on the worker, so secrets never enter
 * workflow history. TLS material must be a file for the TLS stack; an `env:` PEM is written to a private
 * (0600) file under the worker's runtime directory.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../model/failures';
import { activityFailure } from './failure-mapping';

function unavailable(ref: string, why: string): ApplicationFailure {
  return activityFailure(FailureType.SECRET_UNAVAILABLE, `secret ${ref} is not available on this worker: ${why}`);
}

/** The secret's value (e.g. a BMC password), trimmed of one trailing newline. */
export function resolveSecret(ref: string): string {
  if (ref.startsWith('env:')) {
    const value = process.env[ref.slice(4)];
    if (value === undefined) throw unavailable(ref, 'environment variable not set');
    return value;
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    try {
      return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw unavailable(ref, (err as Error).message);
    }
  }
  throw unavailable(ref, 'unknown reference scheme (use file: or env:)');
}

/** A file path holding the secret (for TLS certificates and keys). */
export function resolveSecretFile(ref: string, runtimeDir = join(tmpdir(), 'hostprov-worker')): string {
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    if (!existsSync(path)) throw unavailable(ref, 'file does not exist');
    return path;
  }
  const value = resolveSecret(ref);
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  const path = join(runtimeDir, `secret-${createHash('sha256').update(ref).digest('hex').slice(0, 16)}.pem`);
  writeFileSync(path, value, { mode: 0o600 });
  return path;
}
