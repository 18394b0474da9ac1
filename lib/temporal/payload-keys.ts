/**
 * The payload encryption keys (SECURITY.md, "Payload keys"): files in `<secrets-dir>/payload-keys/`, read
 * once at start by every process that talks to Temporal (worker, CLI, codec server).
 *
 * - `<key-id>.key`: 32 random bytes, base64 (one line), mode 0600. The file name without `.key` is the key
 *   id written into every payload it encrypts; ids are letters, digits, `.`, `_` and `-`.
 * - `primary`: one line, the id of the key new payloads are encrypted with. Every other key still decrypts,
 *   which is what makes rotation possible (`hostprov codec new-key`, `hostprov codec set-primary`).
 *
 * Files are read through lib/confined-file.ts, so a symlink in the key directory never makes us read a file
 * outside the secrets directory; a key file that group or others may read is refused.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ConfinedFileUnavailableError, confinedRealPath, OutsideRootError, readConfinedFile } from '../confined-file';

export const PAYLOAD_KEYS_SUBDIR = 'payload-keys';
export const PRIMARY_KEY_FILE = 'primary';
export const KEY_FILE_SUFFIX = '.key';
/** AES-256: 32 bytes. */
export const PAYLOAD_KEY_BYTES = 32;
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface PayloadKeyRing {
  /** The key new payloads are encrypted with. */
  readonly primaryId: string;
  /** Every key this process knows, by id (the primary included). */
  readonly keys: ReadonlyMap<string, Buffer>;
  /** Where they were read from, for messages. */
  readonly dir: string;
}

/** The key directory, a key file or the primary pointer is missing, malformed or unsafe. */
export class PayloadKeysError extends Error {
  override readonly name = 'PayloadKeysError';
}

export function payloadKeysDir(secretsDir: string): string {
  return join(secretsDir, PAYLOAD_KEYS_SUBDIR);
}

const ROOT_LABEL = { rootLabel: 'the secrets directory' };

function readInside(secretsDir: string, path: string): { content: Buffer; mode: number } {
  try {
    const { content, stats } = readConfinedFile(secretsDir, path, ROOT_LABEL);
    return { content, mode: stats.mode & 0o777 };
  } catch (err) {
    if (err instanceof OutsideRootError || err instanceof ConfinedFileUnavailableError) throw new PayloadKeysError(err.message);
    throw err;
  }
}

/** Reads every key and the primary pointer; throws {@link PayloadKeysError} naming the file at fault. */
export function loadPayloadKeys(secretsDir: string): PayloadKeyRing {
  if (!isAbsolute(secretsDir)) throw new PayloadKeysError(`the secrets directory must be an absolute path, not ${secretsDir}`);
  const dir = payloadKeysDir(secretsDir);
  let names: string[];
  try {
    names = readdirSync(confinedRealPath(secretsDir, dir, ROOT_LABEL));
  } catch (err) {
    if (err instanceof OutsideRootError) throw new PayloadKeysError(err.message);
    throw new PayloadKeysError(
      `no payload encryption keys in ${dir} (${err instanceof ConfinedFileUnavailableError ? err.why : (err as Error).message}); ` +
        `make one with \`hostprov codec new-key --secrets-dir ${secretsDir}\``,
    );
  }
  const keys = new Map<string, Buffer>();
  for (const name of names.filter((n) => n.endsWith(KEY_FILE_SUFFIX)).sort()) {
    const id = name.slice(0, -KEY_FILE_SUFFIX.length);
    const path = join(dir, name);
    if (!KEY_ID_PATTERN.test(id)) throw new PayloadKeysError(`${path}: a key id is letters, digits, ".", "_" and "-" (at most 64)`);
    const { content, mode } = readInside(secretsDir, path);
    if ((mode & 0o077) !== 0)
      throw new PayloadKeysError(`${path}: mode ${mode.toString(8).padStart(4, '0')} lets others read the key; chmod 600 it`);
    keys.set(id, decodeKey(path, content));
  }
  if (keys.size === 0)
    throw new PayloadKeysError(
      `no payload encryption keys (*${KEY_FILE_SUFFIX}) in ${dir}; make one with \`hostprov codec new-key --secrets-dir ${secretsDir}\``,
    );
  const primaryPath = join(dir, PRIMARY_KEY_FILE);
  const primaryId = readInside(secretsDir, primaryPath).content.toString('utf8').trim();
  if (!keys.has(primaryId))
    throw new PayloadKeysError(
      `${primaryPath} names key ${JSON.stringify(primaryId)}, which is not among the keys in ${dir} (${[...keys.keys()].join(', ')})`,
    );
  return { primaryId, keys, dir };
}

function decodeKey(path: string, content: Buffer): Buffer {
  const text = content.toString('utf8').trim();
  const key = Buffer.from(text, 'base64');
  // Buffer.from ignores what is not base64; a round trip catches it.
  if (key.length !== PAYLOAD_KEY_BYTES || key.toString('base64') !== text) {
    throw new PayloadKeysError(`${path}: expected ${PAYLOAD_KEY_BYTES} random bytes in base64 (one line of 44 characters)`);
  }
  return key;
}

/** A new key id: its creation time (so ids sort by age) and a random suffix. */
export function newKeyId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export interface NewPayloadKeyOptions {
  /** @default a new id from {@link newKeyId} */
  id?: string;
  /** Point `primary` at the new key. @default true */
  makePrimary?: boolean;
}

/** Writes a new random key (0600, in a 0700 directory) and, unless told otherwise, makes it the primary. */
export function createPayloadKey(
  secretsDir: string,
  { id = newKeyId(), makePrimary = true }: NewPayloadKeyOptions = {},
): { id: string; path: string } {
  if (!KEY_ID_PATTERN.test(id))
    throw new PayloadKeysError(`key id ${JSON.stringify(id)}: letters, digits, ".", "_" and "-" only (at most 64)`);
  const dir = payloadKeysDir(secretsDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const path = join(dir, `${id}${KEY_FILE_SUFFIX}`);
  try {
    writeFileSync(path, `${randomBytes(PAYLOAD_KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new PayloadKeysError(`${path} exists already; a key is never overwritten`);
    throw err;
  }
  if (makePrimary) writePrimary(dir, id);
  return { id, path };
}

/** Points `primary` at a key that exists (checked by loading the whole ring afterwards). */
export function setPrimaryPayloadKey(secretsDir: string, id: string): PayloadKeyRing {
  const before = loadPayloadKeys(secretsDir);
  if (!before.keys.has(id))
    throw new PayloadKeysError(`no key ${JSON.stringify(id)} in ${before.dir} (${[...before.keys.keys()].join(', ')})`);
  writePrimary(before.dir, id);
  return loadPayloadKeys(secretsDir);
}

function writePrimary(dir: string, id: string): void {
  // Renamed into place, so a process starting meanwhile reads the old or the new id, never half a line.
  const temporary = join(dir, `.${PRIMARY_KEY_FILE}.${process.pid}.tmp`);
  writeFileSync(temporary, `${id}\n`, { mode: 0o600 });
  renameSync(temporary, join(dir, PRIMARY_KEY_FILE));
}
