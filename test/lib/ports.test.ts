/** lib/ports.ts: ports picked for servers come from below the kernel's ephemeral range, distinct and bindable. */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralPortsFrom, freePorts } from '../../lib/ports';

const canListen = (port: number): Promise<boolean> =>
  new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => done(true)));
  });

describe('ephemeralPortsFrom', () => {
  it("reads the range's first port, and falls back to Linux's default", () => {
    expect(ephemeralPortsFrom(() => '32768\t60999\n')).toBe(32_768);
    expect(ephemeralPortsFrom(() => '40000 50000')).toBe(40_000);
    expect(ephemeralPortsFrom(() => 'nonsense')).toBe(32_768);
    expect(
      ephemeralPortsFrom(() => {
        throw new Error('ENOENT');
      }),
    ).toBe(32_768);
  });
});

describe('freePorts', () => {
  it('gives distinct ports below the ephemeral range, each free to bind', async () => {
    const ephemeralFrom = ephemeralPortsFrom();
    const ports = await freePorts(12);
    expect(new Set(ports).size).toBe(12);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(ephemeralFrom);
      expect(await canListen(port)).toBe(true);
    }
  });

  it('keeps below a bound it is given', async () => {
    for (const port of await freePorts(20, { below: 21_000, ephemeralFrom: 60_000 })) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(21_000);
    }
  });

  it('lets the kernel pick where the ephemeral range leaves too few ports below it, and refuses a bound it cannot keep', async () => {
    const ports = await freePorts(3, { ephemeralFrom: 1_024 });
    expect(new Set(ports).size).toBe(3);
    await expect(freePorts(1, { below: 32_768, ephemeralFrom: 1_024 })).rejects.toThrow(/no range of free ports below 32768/);
  });
});
