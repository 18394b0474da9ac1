/**
 * The throwaway PostgreSQL leaves nothing behind: stop() ends the server by pid and removes its
 * directory; a process that exits without stop() takes its server along; and the server of a process
 * killed outright is reaped by the next start.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../lib/ports';
import { isAlive, stopPid } from '../../lib/process';
import { findPostgresBinDir, reapStalePostgres, startThrowawayPostgres } from '../../testbed/postgres';
import { skipBecause } from '../helpers/skip';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = join(ROOT, 'test', 'helpers', 'postgres-child.ts');

/** Runs the child script and returns the server it reported, plus the child. */
async function serverInChild(mode: 'hang' | 'exit') {
  // One process (node with tsx's loader), so the pid the server records as its owner is the one we kill.
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout }).once('line', resolveLine);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before reporting its server`)));
  });
  return { child, ...(JSON.parse(line) as { pid: number; socketDir: string }) };
}

async function waitGone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !isAlive(pid);
}

describe.skipIf(
  skipBecause(findPostgresBinDir() ? null : 'Debian postgresql is not installed (./run setup)', 'throwaway PostgreSQL tests'),
)('throwaway PostgreSQL', () => {
  it('serves a database on its own socket and leaves nothing after stop()', async () => {
    const server = await startThrowawayPostgres();
    const dir = dirname(server.socketDir);
    try {
      expect(isAlive(server.pid)).toBe(true);
      expect(existsSync(join(server.socketDir, '.s.PGSQL.5432'))).toBe(true);
      expect(server.tcp).toBeNull();
      expect(() => server.tcpUrl('probe')).toThrow(/Unix socket only/);
      expect(await server.createDatabase('probe')).toContain('/probe?host=');
    } finally {
      await server.stop();
    }
    expect(isAlive(server.pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await server.stop();
  });

  it('also listens on a loopback TCP port when asked, with the settings it was given', async () => {
    const port = await freePort();
    const server = await startThrowawayPostgres({ tcpPort: port, settings: { max_connections: '150' } });
    try {
      expect(server.tcp).toEqual({ host: '127.0.0.1', port });
      expect(existsSync(join(server.socketDir, `.s.PGSQL.${port}`))).toBe(true);
      await server.createDatabase('overtcp');
      const client = new pg.Client({ connectionString: server.tcpUrl('overtcp') });
      await client.connect();
      try {
        const { rows } = await client.query<{ db: string; max: string; tcp: boolean }>(
          "select current_database() as db, current_setting('max_connections') as max, inet_server_addr() is not null as tcp",
        );
        expect(rows).toEqual([{ db: 'overtcp', max: '150', tcp: true }]);
      } finally {
        await client.end();
      }
    } finally {
      await server.stop();
    }
    expect(isAlive(server.pid)).toBe(false);
  });

  it('refuses a setting name that is not an identifier, before starting anything', async () => {
    await expect(startThrowawayPostgres({ settings: { 'fsync=on -c x': 'y' } })).rejects.toThrow(/lower-case identifiers/);
  });

  it('stops the server when its process exits without stop()', async () => {
    const { child, pid, socketDir } = await serverInChild('exit');
    await new Promise((r) => child.once('exit', r));
    expect(await waitGone(pid)).toBe(true);
    expect(existsSync(dirname(socketDir))).toBe(false);
  });

  it('reaps the server of a process killed outright', async () => {
    const { child, pid, socketDir } = await serverInChild('hang');
    try {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(isAlive(pid)).toBe(true);
      expect(await reapStalePostgres()).toBeGreaterThanOrEqual(1);
      expect(isAlive(pid)).toBe(false);
      expect(existsSync(dirname(socketDir))).toBe(false);
    } finally {
      await stopPid(pid, { signal: 'SIGQUIT', timeoutMs: 5_000 });
    }
  });
});
