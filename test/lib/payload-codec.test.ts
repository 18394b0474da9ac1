/**
 * The payload codec (lib/temporal/payload-codec.ts) and its key files (lib/temporal/payload-keys.ts):
 * AES-256-GCM with the key id in the metadata, decryption with any known key (rotation), typed errors that
 * name the key id or the file, key files only from inside the secrets directory and only when private.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  UnknownPayloadKeyError,
} from '../../lib/temporal/payload-codec';
import { createPayloadKey, loadPayloadKeys, payloadKeysDir, PayloadKeysError, setPrimaryPayloadKey } from '../../lib/temporal/payload-keys';

const SECRET = { host: { address: '192.0.2.77' }, powerManagement: { username: 'bmc-operator-x' }, network: 'ovirtmgmt' };
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

describe('payload codec', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-codec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('encrypts every payload whole under the primary key, named in the metadata, and decrypts it back', async () => {
    createPayloadKey(dir, { id: 'key-a' });
    const codec = new AesGcmPayloadCodec(loadPayloadKeys(dir));
    const plain = defaultPayloadConverter.toPayload(SECRET);
    const [sealed] = await codec.encode([plain]);
    expect(text(sealed?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed?.metadata?.[KEY_ID_METADATA])).toBe('key-a');
    expect(Object.keys(sealed?.metadata ?? {}).sort()).toEqual(['encoding', KEY_ID_METADATA]);
    // Nothing of the value nor of its original encoding (json/plain) is left readable.
    for (const needle of ['192.0.2.77', 'bmc-operator-x', 'ovirtmgmt', 'json/plain'])
      expect(Buffer.from(sealed!.data!).includes(needle)).toBe(false);
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(SECRET);
    expect(text(opened?.metadata?.encoding)).toBe('json/plain');
    // A fresh nonce each time: the same value never encrypts to the same bytes.
    const [again] = await codec.encode([plain]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(sealed!.data!))).toBe(false);
  });

  it('lets payloads that are not encrypted through (history from before encryption was turned on)', async () => {
    createPayloadKey(dir);
    const codec = new AesGcmPayloadCodec(loadPayloadKeys(dir));
    const plain = defaultPayloadConverter.toPayload('plain');
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('rotation: after key B becomes primary, new payloads use B and those written with A still decode', async () => {
    createPayloadKey(dir, { id: 'key-a' });
    const [underA] = await new AesGcmPayloadCodec(loadPayloadKeys(dir)).encode([defaultPayloadConverter.toPayload(SECRET)]);
    // Two steps, as SECURITY.md describes: hand B to every process, then make it primary.
    createPayloadKey(dir, { id: 'key-b', makePrimary: false });
    expect(loadPayloadKeys(dir).primaryId).toBe('key-a');
    setPrimaryPayloadKey(dir, 'key-b');
    const rotated = new AesGcmPayloadCodec(loadPayloadKeys(dir));
    expect(rotated.primaryKeyId).toBe('key-b');
    const [underB] = await rotated.encode([defaultPayloadConverter.toPayload(SECRET)]);
    expect(text(underB?.metadata?.[KEY_ID_METADATA])).toBe('key-b');
    const opened = await rotated.decode([underA!, underB!]);
    expect(opened.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([SECRET, SECRET]);
  });

  it('names the key id it lacks, and refuses payloads that were altered or relabelled', async () => {
    createPayloadKey(dir, { id: 'key-a' });
    const [sealed] = await new AesGcmPayloadCodec(loadPayloadKeys(dir)).encode([defaultPayloadConverter.toPayload(SECRET)]);
    const other = mkdtempSync(join(dir, 'other-'));
    createPayloadKey(other, { id: 'key-z' });
    const stranger = new AesGcmPayloadCodec(loadPayloadKeys(other));
    const unknown = await stranger.decode([sealed!]).catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(UnknownPayloadKeyError);
    expect((unknown as UnknownPayloadKeyError).keyId).toBe('key-a');
    expect((unknown as Error).message).toContain('"key-a"');

    const mine = new AesGcmPayloadCodec(loadPayloadKeys(dir));
    const flipped: Payload = { ...sealed!, data: Buffer.from(sealed!.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(mine.decode([flipped])).rejects.toThrow(PayloadDecryptionError);
    // Relabelled with another key id, even one holding the very same key bytes: the id is authenticated
    // data, so the payload fails rather than decrypts under a name it was not written with.
    writeFileSync(join(payloadKeysDir(dir), 'key-a-copy.key'), readFileSync(join(payloadKeysDir(dir), 'key-a.key')), { mode: 0o600 });
    const withCopy = new AesGcmPayloadCodec(loadPayloadKeys(dir));
    expect(defaultPayloadConverter.fromPayload((await withCopy.decode([sealed!]))[0]!)).toEqual(SECRET);
    const relabelled: Payload = { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('key-a-copy') } };
    await expect(withCopy.decode([relabelled])).rejects.toThrow(/does not authenticate under key "key-a-copy"/);
    await expect(mine.decode([{ metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) }, data: new Uint8Array(40) }])).rejects.toThrow(
      /without encryption-key-id/,
    );
  });
});

describe('payload key files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are 32 random bytes in base64, 0600 in a 0700 directory, with the primary named in `primary`', () => {
    const { id, path } = createPayloadKey(dir);
    expect(id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(path).toBe(join(payloadKeysDir(dir), `${id}.key`));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(payloadKeysDir(dir)).mode & 0o777).toBe(0o700);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(readFileSync(join(payloadKeysDir(dir), 'primary'), 'utf8').trim()).toBe(id);
    const ring = loadPayloadKeys(dir);
    expect(ring.primaryId).toBe(id);
    expect([...ring.keys.keys()]).toEqual([id]);
    expect(() => createPayloadKey(dir, { id })).toThrow(/exists already; a key is never overwritten/);
  });

  it('refuse what is missing, malformed, readable by others, or outside the secrets directory, naming the file', () => {
    expect(() => loadPayloadKeys(dir)).toThrow(/no payload encryption keys in .*payload-keys .*hostprov codec new-key --secrets-dir/);
    const keys = payloadKeysDir(dir);
    createPayloadKey(dir, { id: 'good' });

    writeFileSync(join(keys, 'short.key'), `${Buffer.alloc(16).toString('base64')}\n`, { mode: 0o600 });
    expect(() => loadPayloadKeys(dir)).toThrow(
      new PayloadKeysError(`${join(keys, 'short.key')}: expected 32 random bytes in base64 (one line of 44 characters)`),
    );
    rmSync(join(keys, 'short.key'));

    writeFileSync(join(keys, 'open.key'), `${Buffer.alloc(32, 7).toString('base64')}\n`);
    chmodSync(join(keys, 'open.key'), 0o644);
    expect(() => loadPayloadKeys(dir)).toThrow(/open\.key: mode 0644 lets others read the key; chmod 600 it/);
    rmSync(join(keys, 'open.key'));

    const outside = mkdtempSync(join(tmpdir(), 'hostprov-keys-outside-'));
    try {
      writeFileSync(join(outside, 'stolen.key'), `${Buffer.alloc(32, 9).toString('base64')}\n`, { mode: 0o600 });
      symlinkSync(join(outside, 'stolen.key'), join(keys, 'stolen.key'));
      expect(() => loadPayloadKeys(dir)).toThrow(/stolen\.key is refused: a symlink leads outside the secrets directory/);
    } finally {
      rmSync(join(keys, 'stolen.key'));
      rmSync(outside, { recursive: true, force: true });
    }

    writeFileSync(join(keys, 'primary'), 'gone\n');
    expect(() => loadPayloadKeys(dir)).toThrow(/primary names key "gone", which is not among the keys in .* \(good\)/);
    expect(() => setPrimaryPayloadKey(dir, 'nope')).toThrow(PayloadKeysError);
    expect(() => createPayloadKey(dir, { id: '../escape' })).toThrow(/key id "..\/escape"/);
  });

  it('a key directory that is itself a symlink out of the secrets directory is refused', () => {
    const outside = mkdtempSync(join(tmpdir(), 'hostprov-keys-outside-'));
    try {
      createPayloadKey(outside);
      mkdirSync(dir, { recursive: true });
      symlinkSync(payloadKeysDir(outside), payloadKeysDir(dir));
      expect(() => loadPayloadKeys(dir)).toThrow(/a symlink leads outside the secrets directory/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
