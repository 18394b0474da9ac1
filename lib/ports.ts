/** Port helpers: fail early with a message naming the busy port, and find free ports for tests. */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly role: string,
  ) {
    super(`${role} port ${host}:${port} is already in use; stop whatever listens there or choose another port (see --help)`);
  }
}

function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolvePromise(true)));
  });
}

/** Throws {@link PortInUseError} for the first port (in the given order) that cannot be bound. */
export async function assertPortsFree(host: string, ports: ReadonlyArray<{ port: number; role: string }>): Promise<void> {
  for (const { port, role } of ports) {
    if (!(await probe(host, port))) throw new PortInUseError(host, port, role);
  }
}

/** The lowest port a picked port may have: above the well-known and commonly configured service ports. */
const LOWEST_PICKED_PORT = 20_000;
/** Fewer candidates than this below the ephemeral range, and the kernel picks (`listen` on port 0) instead. */
const MIN_CANDIDATES = 1_000;

/**
 * The first port of the kernel's ephemeral range (`net.ipv4.ip_local_port_range`, which IPv6 shares), or
 * Linux's default where it cannot be read.
 */
export function ephemeralPortsFrom(readRange: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')): number {
  try {
    const low = Number(readRange().trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 0 && low < 65_536) return low;
  } catch {
    // Not Linux, or /proc not mounted: fall through.
  }
  return 32_768;
}

export interface FreePortsOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** Every port below this (a server that stores ports in 16-bit signed columns needs 32768). @default no bound */
  below?: number;
  /** The first port of the kernel's ephemeral range. @default {@link ephemeralPortsFrom}() */
  ephemeralFrom?: number;
}

/** A port free right now on `host` (there is an unavoidable race until it is bound); see {@link freePorts}. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, { host });
  return port!;
}

/**
 * `count` distinct ports free right now on `host`, for a server that is then told to bind them: all are held
 * open together, so none is handed out twice.
 *
 * They come from below the kernel's ephemeral range, at random. A port from that range can be taken by any
 * outgoing connection between this check and the server's bind (its source port then blocks the bind: seen
 * as a dev server failing with "address already in use" in a full test run); a port below it is taken only by
 * a listener that asks for that number. Where the range leaves too few ports below it, the kernel picks.
 */
export async function freePorts(
  count: number,
  { host = '127.0.0.1', below, ephemeralFrom = ephemeralPortsFrom() }: FreePortsOptions = {},
): Promise<number[]> {
  const highest = Math.min(ephemeralFrom, below ?? 65_536);
  const held: Server[] = [];
  try {
    if (highest - LOWEST_PICKED_PORT < MIN_CANDIDATES) {
      if (below !== undefined) throw new Error(`no range of free ports below ${below} outside the kernel's ephemeral ports on ${host}`);
      for (let i = 0; i < count; i++) held.push(await listening(host, 0));
    } else {
      const tried = new Set<number>();
      while (held.length < count) {
        if (tried.size >= MIN_CANDIDATES)
          throw new Error(`no ${count} free ports between ${LOWEST_PICKED_PORT} and ${highest - 1} on ${host}`);
        const port = randomInt(LOWEST_PICKED_PORT, highest);
        if (tried.has(port)) continue;
        tried.add(port);
        const server = await listening(host, port).catch(() => null);
        if (server) held.push(server);
      }
    }
    return held.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(held.map((server) => new Promise<void>((done) => server.close(() => done()))));
  }
}

function listening(host: string, port: number): Promise<Server> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => resolvePromise(server));
  });
}
