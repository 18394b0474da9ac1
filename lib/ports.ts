/** Port helpers: fail early with a message naming the busy port, and find free ports for tests. */
import { createServer } from 'node:net';

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

/** A port the kernel considers free right now on `host` (there is an unavoidable race until it is bound). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  return port!;
}

/** `count` distinct ports free right now: all are held open together, so none is handed out twice. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<typeof server>((resolvePromise, reject) => {
        server.once('error', reject);
        server.listen({ host, port: 0 }, () => resolvePromise(server));
      });
    }),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise<void>((r) => server.close(() => r()))));
  return ports;
}
