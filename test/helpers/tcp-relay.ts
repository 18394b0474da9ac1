/**
 * A loopback TCP relay in front of an agent, whose live connections a test can cut: the way a management
 * change kills the session that carries setupNetworks, without touching the agent. With
 * `holdAfterFirst`, every connection after the first is accepted but not forwarded until `release()`. With
 * `gate`, every connection is held until the test lets it through (`pass()`) or stops holding (`release()`),
 * and `nextHeld()` tells the test that a client is waiting: a step of a workflow that is certainly in the
 * middle of its activity. With `inspect`, the test sees the plaintext (insecure agents only) and may drop a
 * connection on what it carries, as a broken path drops some traffic and not other.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpRelay {
  port: number;
  /** Destroys every forwarded connection open right now (held ones stay held). */
  cutAll(): number;
  /** Destroys every connection held right now (a paused client never sees its peer go, e.g. a killed worker). */
  dropHeld(): number;
  /** Forwards held connections and stops holding new ones. */
  release(): void;
  /** Holds every new connection again (after `release()`). */
  hold(): void;
  /** Forwards the connections held right now; later ones are held as before. Returns how many. */
  pass(): number;
  /** How many connections are held right now (a held client that gave up is gone from the count). */
  readonly heldCount: number;
  /** Resolves once a connection is held (at once when one is). */
  nextHeld(): Promise<void>;
  close(): Promise<void>;
}

export interface TcpRelayOptions {
  holdAfterFirst?: boolean;
  /** Holds every connection from the first one on. */
  gate?: boolean;
  /** Sees every chunk, from the client or from the agent; `'drop'` destroys that connection instead. */
  inspect?: (chunk: Buffer, from: 'client' | 'agent') => 'forward' | 'drop';
}

export async function startTcpRelay(target: { host: string; port: number }, options: TcpRelayOptions = {}): Promise<TcpRelay> {
  const open = new Set<Socket>();
  const held: Socket[] = [];
  let accepted = 0;
  let holding = Boolean(options.holdAfterFirst || options.gate);
  const heldFrom = options.gate ? 1 : 2;
  const waiters: Array<() => void> = [];

  const forward = (client: Socket): void => {
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => undefined);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
    }
    const { inspect } = options;
    if (!inspect) {
      client.pipe(upstream).pipe(client);
    } else {
      const relay = (from: Socket, to: Socket, side: 'client' | 'agent') =>
        from.on('data', (chunk: Buffer) => {
          if (inspect(chunk, side) === 'drop') {
            client.destroy();
            upstream.destroy();
          } else {
            to.write(chunk);
          }
        });
      relay(client, upstream, 'client');
      relay(upstream, client, 'agent');
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };

  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    accepted += 1;
    if (holding && accepted >= heldFrom) {
      client.pause();
      held.push(client);
      client.on('close', () => {
        const at = held.indexOf(client);
        if (at >= 0) held.splice(at, 1);
      });
      for (const wake of waiters.splice(0)) wake();
    } else {
      forward(client);
    }
  });
  server.on('connection', (s) => s.on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    cutAll() {
      const n = open.size;
      for (const s of open) s.destroy();
      return n;
    },
    dropHeld() {
      const dropped = held.splice(0);
      for (const client of dropped) client.destroy();
      return dropped.length;
    },
    release() {
      holding = false;
      for (const client of held.splice(0)) {
        forward(client);
        client.resume();
      }
    },
    hold() {
      holding = true;
      accepted = Math.max(accepted, heldFrom);
    },
    pass() {
      const passing = held.splice(0);
      for (const client of passing) {
        forward(client);
        client.resume();
      }
      return passing.length;
    },
    get heldCount() {
      return held.length;
    },
    nextHeld() {
      if (held.length) return Promise.resolve();
      return new Promise<void>((r) => waiters.push(r));
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of [...open, ...held]) s.destroy();
        server.close(() => r());
      }),
  };
}
