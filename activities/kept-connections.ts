/**
 * Connections to agents kept open for a moment between calls. An install's short steps (waiting for the
 * agent, its capabilities, its route, the commit, the verification) run one after the other in the same
 * worker, and each fresh connection costs a TCP and TLS handshake and a STOMP CONNECT on both ends; kept,
 * they share one (docs/performance.md#agent-connections). A connection nobody has used for `idleMs` is
 * closed. One whose agent went away in between (a reboot) costs nothing extra: the VDSM client opens a new
 * session on its next call.
 *
 * `Host.setupNetworks` goes over the same connection, as the engine sends it over its one connection to the
 * host: a connection and its TLS resumption fewer per install, on the worker and on the agent
 * (docs/performance.md#the-apply-on-the-kept-connection). So every kept connection subscribes to the agent's
 * events, and a {@link KeptAgentConnections.lease} hears them while it holds the connection. The confirm
 * loop never uses these: each of its polls must prove that a *new* connection reaches the host.
 */
import type { AgentEndpoint } from '../vdsm/client/endpoint';
import type { AgentEvent } from '../vdsm/verbs';
import { withFreshAgentConnection, type AgentConnectOptions, type AgentConnection, type ConnectAgent } from './agent-connection';

/** How long an unused connection stays open; 0 keeps none (a fresh connection for every call). @default 2000 */
export const DEFAULT_KEEP_IDLE_MS = 2_000;

interface Kept {
  connection: Promise<AgentConnection>;
  users: number;
  idle?: NodeJS.Timeout;
  /** Who hears the agent's events on this connection now (the leases that asked to). */
  listeners: Set<(event: AgentEvent) => void>;
}

/** A connection held until {@link KeptConnectionLease.release}; kept open afterwards for the next caller. */
export interface KeptConnectionLease {
  connection: AgentConnection;
  release(): Promise<void>;
}

export class KeptAgentConnections {
  readonly #kept = new Map<string, Kept>();

  constructor(
    private readonly connect: ConnectAgent,
    private readonly idleMs = DEFAULT_KEEP_IDLE_MS,
  ) {}

  /** Runs `fn` with the kept connection to `endpoint`, opening one (with `options`) if there is none. */
  async run<T>(endpoint: AgentEndpoint, fn: (connection: AgentConnection) => Promise<T>, options?: AgentConnectOptions): Promise<T> {
    if (this.idleMs === 0) return withFreshAgentConnection(this.connect, endpoint, fn, options);
    const lease = await this.lease(endpoint, options);
    try {
      return await fn(lease.connection);
    } finally {
      await lease.release();
    }
  }

  /**
   * The kept connection to `endpoint` (opened with `options` if there is none), held until released; `onEvent`
   * hears the agent's events on it meanwhile. With an idle time of 0, a connection of its own, closed on release.
   */
  async lease(
    endpoint: AgentEndpoint,
    options?: Omit<AgentConnectOptions, 'onEvent'>,
    onEvent?: (event: AgentEvent) => void,
  ): Promise<KeptConnectionLease> {
    if (this.idleMs === 0) {
      const connection = await this.connect(endpoint, { ...options, ...(onEvent ? { onEvent } : {}) });
      return { connection, release: () => connection.close() };
    }
    // The endpoint names the address and the files of its TLS identity, so equal keys mean the same peer
    // reached as the same client.
    const key = JSON.stringify(endpoint);
    let kept = this.#kept.get(key);
    if (!kept) {
      const listeners = new Set<(event: AgentEvent) => void>();
      const connection = this.connect(endpoint, { ...options, onEvent: (event) => listeners.forEach((listener) => listener(event)) });
      const opening: Kept = { connection, users: 0, listeners };
      connection.catch(() => this.#forget(key, opening));
      this.#kept.set(key, opening);
      kept = opening;
    }
    const held = kept;
    clearTimeout(held.idle);
    held.users += 1;
    if (onEvent) held.listeners.add(onEvent);
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      if (onEvent) held.listeners.delete(onEvent);
      held.users -= 1;
      if (held.users === 0) {
        held.idle = setTimeout(() => void this.#close(key, held), this.idleMs);
        held.idle.unref();
      }
    };
    try {
      return { connection: await held.connection, release };
    } catch (err) {
      await release();
      throw err;
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
