/**
 * What a client keeps between connections to agents, so that a fresh connection (the confirm loop opens one
 * every poll, and every activity opens its own) costs a TCP connect and an abbreviated TLS handshake, not
 * three file reads, a key parse and a full certificate exchange (docs/performance.md#agent-connections):
 * - one `SecureContext` per set of PEM files, rebuilt when a file changes (certificates are rotated in place);
 * - the last TLS session per agent address and context, offered for resumption. An agent that restarted, or
 *   rotated its certificate, has new ticket keys: it declines the ticket and a full handshake follows.
 * A resumed session carries the peer certificate the full handshake verified, so resumption changes the
 * cost of a connection, never whom it authenticates.
 */
import { statSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { loadTlsMaterial, MIN_TLS_VERSION, type TlsFiles } from '../tls';

/** Sessions kept at most (one per agent address): a fleet's worth, the oldest dropped first. @default 4096 */
export const MAX_TLS_SESSIONS = 4096;

interface CachedContext {
  /** Identity of the three files when the context was built (inode, size, modification time). */
  stamp: string;
  /**
   * The context, or its build while it runs: the first connections of a burst (a worker given 20 installs at
   * once) all miss the cache, and each built its own context from the same files.
   */
  context: Promise<SecureContext>;
}

/** Synchronous on purpose: three stats cost microseconds, while a trip through the thread pool costs more than the reads it saves. */
function stampOf(files: TlsFiles): string {
  return [files.certFile, files.keyFile, files.caFile]
    .map((f) => {
      // A file that cannot be stat'ed gets no stamp: loadTlsMaterial then reports it with its role.
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

async function buildContext(files: TlsFiles): Promise<SecureContext> {
  const material = await loadTlsMaterial(files);
  return createSecureContext({ cert: material.cert, key: material.key, ca: material.ca, minVersion: MIN_TLS_VERSION });
}

export class ClientTlsCache {
  readonly #contexts = new Map<string, CachedContext>();
  readonly #sessions = new Map<string, Buffer>();

  constructor(private readonly maxSessions = MAX_TLS_SESSIONS) {}

  /**
   * The context for these files and the key its sessions are kept under.
   * @throws TlsMaterialError when a file cannot be read.
   */
  async context(files: TlsFiles): Promise<{ context: SecureContext; key: string }> {
    const filesKey = JSON.stringify([files.certFile, files.keyFile, files.caFile]);
    const stamp = stampOf(files);
    const key = `${filesKey}${stamp}`;
    const cached = this.#contexts.get(filesKey);
    if (cached && cached.stamp === stamp && !stamp.includes('missing')) return { context: await cached.context, key };
    const entry: CachedContext = { stamp, context: buildContext(files) };
    this.#contexts.set(filesKey, entry);
    try {
      return { context: await entry.context, key };
    } catch (err) {
      // A failed build is not kept: the next connection reads the files again (and reports them again).
      if (this.#contexts.get(filesKey) === entry) this.#contexts.delete(filesKey);
      throw err;
    }
  }

  /** The session to offer when connecting to `address` with the context `contextKey`, if one was kept. */
  session(contextKey: string, address: string): Buffer | undefined {
    return this.#sessions.get(`${contextKey}@${address}`);
  }

  /** Keeps the session the agent issued (TLS 1.3 sends it after the handshake, possibly more than once). */
  keepSession(contextKey: string, address: string, session: Buffer): void {
    const key = `${contextKey}@${address}`;
    this.#sessions.delete(key);
    this.#sessions.set(key, session);
    if (this.#sessions.size > this.maxSessions) this.#sessions.delete(this.#sessions.keys().next().value as string);
  }

  /** Forgets the session for `address` (the handshake that used it failed). */
  dropSession(contextKey: string, address: string): void {
    this.#sessions.delete(`${contextKey}@${address}`);
  }
}

/** The cache every client session of this process shares. */
export const clientTlsCache = new ClientTlsCache();
