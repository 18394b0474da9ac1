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
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}
