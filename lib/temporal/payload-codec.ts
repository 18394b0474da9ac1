/**
 * The Temporal payload codec that keeps workflow history unreadable to whoever reads the server's database
 * or history API (SECURITY.md, "What is encrypted where").
 *
 * Each payload is serialised whole (its metadata too, so the original encoding is hidden) and sealed with
 * AES-256-GCM under the primary key: `data` = 12-byte random nonce ‖ ciphertext ‖ 16-byte tag, metadata
 * `encoding: binary/encrypted` and `encryption-key-id: <key id>`. The key id is bound to the ciphertext as
 * GCM's additional data, so a payload relabelled with another key id fails authentication.
 *
 * Decoding uses the key the payload names, whichever is primary now, so history written before a rotation
 * stays readable. Payloads that are not encrypted pass through unchanged (history from before encryption was
 * turned on).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type * as Proto from '@temporalio/proto';
import type { PayloadKeyRing } from './payload-keys';

// A CommonJS package whose named exports Node's ESM loader cannot see (it re-exports a generated root).
const { temporal } = createRequire(import.meta.url)('@temporalio/proto') as typeof Proto;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array | null | undefined): string | undefined => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/** The payload names a key this process does not have. */
export class UnknownPayloadKeyError extends Error {
  override readonly name = 'UnknownPayloadKeyError';
  constructor(
    readonly keyId: string,
    known: readonly string[],
    dir: string,
  ) {
    super(
      `payload encrypted with key ${JSON.stringify(keyId)}, which is not among the keys in ${dir} (${known.join(', ')}); copy that key file there`,
    );
  }
}

/** The payload claims encryption but cannot be opened: no key id, too short, or tampered with. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly ring: PayloadKeyRing) {}

  get primaryKeyId(): string {
    return this.ring.primaryId;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : payload));
  }

  private encrypt(payload: Payload): Payload {
    const keyId = this.ring.primaryId;
    const key = this.ring.keys.get(keyId);
    if (!key) throw new UnknownPayloadKeyError(keyId, [...this.ring.keys.keys()], this.ring.dir);
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(utf8.encode(keyId));
    const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(keyId) }, data: sealed };
  }

  private decrypt(payload: Payload): Payload {
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (!keyId) throw new PayloadDecryptionError(`an encrypted payload without ${KEY_ID_METADATA} metadata`);
    const key = this.ring.keys.get(keyId);
    if (!key) throw new UnknownPayloadKeyError(keyId, [...this.ring.keys.keys()], this.ring.dir);
    const sealed = Buffer.from(payload.data ?? new Uint8Array());
    if (sealed.length < NONCE_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(
        `an encrypted payload of ${sealed.length} bytes is too short to be one (key ${JSON.stringify(keyId)})`,
      );
    const decipher = createDecipheriv(CIPHER, key, sealed.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(utf8.encode(keyId));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `an encrypted payload does not authenticate under key ${JSON.stringify(keyId)} (altered, or another key of that name)`,
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}
