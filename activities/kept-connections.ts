/**
 * Connections to agents kept open for a moment between calls. An install's short steps (waiting for the
 * agent, its capabilities, its route, the commit, the verification) run one after the other in the same
 * worker, and each fresh connection costs a TCP and TLS handshake and a STOMP CONNECT on both ends; kept,
 * they share one (docs/performance.md#agent-connections). A connection nobody has used for `idleMs` is
 * closed. One whose agent went away in between (a reboot) costs nothing extra: the VDSM client opens a new
 * session on its next call.
 *
 * The confirm loop after `Host.setupNetworks` never uses these: each of its polls must prove that a *new*
 * connection reaches the host.
 */
import type { AgentEndpoint } from '../vdsm/client/endpoint';
import { withFreshAgentConnection, type AgentConnectOptions, type AgentConnection, type ConnectAgent } from './agent-connection';

/** How long an unused connection stays open; 0 keeps none (a fresh connection for every call). @default 2000 */
export const DEFAULT_KEEP_IDLE_MS = 2_000;

interface Kept {
  connection: Promise<AgentConnection>;
  users: number;
  idle?: NodeJS.Timeout;
}

export class KeptAgentConnections {
  readonly #kept = new Map<string, Kept>();

  constructor(
    private readonly connect: ConnectAgent,
    private readonly idleMs = DEFAULT_KEEP_IDLE_MS,
  ) {}

  /** Runs `fn` with the kept connection to `endpoint`, opening one (with `options`) if there is none. */
  async run<T>(endpoint: AgentEndpoint, fn: (connection: AgentConnection) => Promise<T>, options?: AgentConnectOptions): Promise<T> {
    // The endpoint names the address and the files of its TLS identity, so equal keys mean the same peer
    // reached as the same client.
    if (this.idleMs === 0) return withFreshAgentConnection(this.connect, endpoint, fn, options);
    const key = JSON.stringify(endpoint);
    let kept = this.#kept.get(key);
    if (!kept) {
      const opening: Kept = { connection: this.connect(endpoint, options), users: 0 };
      opening.connection.catch(() => this.#forget(key, opening));
      this.#kept.set(key, opening);
      kept = opening;
    }
    clearTimeout(kept.idle);
    kept.users += 1;
    try {
      return await fn(await kept.connection);
    } finally {
      kept.users -= 1;
      if (kept.users === 0) {
        const idle = kept;
        idle.idle = setTimeout(() => void this.#close(key, idle), this.idleMs);
        idle.idle.unref();
      }
    }
  }

  /** Closes every kept connection (a worker shutting down). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#kept].map(([key, kept]) => this.#close(key, kept)));
  }

  get size(): number {
    return this.#kept.size;
  }

  #forget(key: string, kept: Kept): void {
    if (this.#kept.get(key) === kept) this.#kept.delete(key);
  }

  async #close(key: string, kept: Kept): Promise<void> {
    clearTimeout(kept.idle);
    this.#forget(key, kept);
    const connection = await kept.connection.catch(() => undefined);
    await connection?.close().catch(() => undefined);
  }
}
