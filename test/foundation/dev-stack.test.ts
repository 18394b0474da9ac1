/**
 * `bin/hostprov dev` as an operator runs it: the Web UI answers over HTTP and decodes payloads through the
 * stack's codec server, the search attributes are registered, Ctrl-C stops everything (exit 130), and a busy
 * port is refused with a message naming it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/paths';
import { freePorts } from '../../lib/ports';
import { stopChild } from '../../lib/process';

const BIN = join(PROJECT_ROOT, 'bin', 'hostprov');

function startDev(args: string[]): { child: ChildProcess; output: () => string; closed: Promise<{ code: number | null }> } {
  const child = spawn(BIN, ['dev', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOSTPROV_LOG_FORMAT: 'json' } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  // 'close' comes after the exit and after the last output, so assertions on the output see all of it.
  const closed = new Promise<{ code: number | null }>((r) => child.once('close', (code) => r({ code })));
  return { child, output: () => out, closed };
}

/** Every port `hostprov dev` binds, chosen by the test so none collides with another process. */
function portFlags(p: { temporalPort?: number; uiPort?: number; httpPort?: number; metricsPort?: number; codecPort?: number }): string[] {
  return [
    '--temporal-port',
    String(p.temporalPort),
    '--ui-port',
    String(p.uiPort),
    '--http-port',
    String(p.httpPort),
    '--metrics-port',
    String(p.metricsPort),
    '--codec-port',
    String(p.codecPort),
  ];
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('hostprov dev', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-dev-'));
  const children: ChildProcess[] = [];
  const blockers: Server[] = [];
  afterAll(async () => {
    for (const child of children) await stopChild(child, { signal: 'SIGINT', timeoutMs: 15_000 });
    for (const server of blockers) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the Web UI while it runs, registers the search attributes, and stops on Ctrl-C', async () => {
    const [temporalPort, uiPort, httpPort, metricsPort, codecPort] = await freePorts(5);
    const dev = startDev(['--data-dir', join(dir, 'stack'), ...portFlags({ temporalPort, uiPort, httpPort, metricsPort, codecPort })]);
    children.push(dev.child);
    await until('"dev stack is up"', () => dev.output().includes('dev stack is up') || dev.child.exitCode !== null, 90_000);
    expect(dev.child.exitCode, dev.output()).toBeNull();
    // Its worker reads secret files from a private dir of its own and allows lab agents without TLS.
    expect(dev.output()).toContain(
      `Secrets:  file: references under ${join(dir, 'stack', 'secrets')}, env: references HOSTPROV_SECRET_*; agents without TLS allowed`,
    );
    expect(statSync(join(dir, 'stack', 'secrets')).mode & 0o777).toBe(0o700);

    const response = await fetch(`http://127.0.0.1:${uiPort}/`);
    expect(response.status).toBe(200);
    expect((await response.text()).toLowerCase()).toContain('<!doctype html>');

    // History is encrypted with a key the stack made for itself, and the Web UI decodes it through the
    // stack's codec server: the UI's settings name it, and it answers the UI's origin.
    const keys = join(dir, 'stack', 'secrets', 'payload-keys');
    const keyFile = readdirSync(keys).find((f) => f.endsWith('.key'));
    expect(statSync(join(keys, keyFile!)).mode & 0o777).toBe(0o600);
    const codecUrl = `http://127.0.0.1:${codecPort}`;
    expect(dev.output()).toContain(`Codec:    ${codecUrl} (payloads encrypted with key ${keyFile!.replace(/\.key$/, '')}`);
    const settings = (await (await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    expect(settings.Codec.Endpoint).toBe(codecUrl);
    const preflight = await fetch(`${codecUrl}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: `http://127.0.0.1:${uiPort}`, 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(`http://127.0.0.1:${uiPort}`);

    const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['HostName', 'ClusterId', 'InstallPhase']));
    } finally {
      await connection.close();
    }

    dev.child.kill('SIGINT');
    const { code } = await dev.closed;
    // 128 + SIGINT: a stop by signal is reported as such (cli/signals.ts).
    expect(code, dev.output()).toBe(130);
    await expect(fetch(`http://127.0.0.1:${uiPort}/`)).rejects.toThrow();
    await expect(fetch(`${codecUrl}/decode`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('refuses a busy port with a message naming it, and starts nothing', async () => {
    // The blocker holds a port the kernel picked, so nothing else can have it.
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((resolvePromise, reject) => {
      blocker.once('error', reject);
      blocker.listen(0, '127.0.0.1', () => resolvePromise());
    });
    const busy = (blocker.address() as AddressInfo).port;
    const [temporalPort, httpPort, metricsPort, codecPort] = await freePorts(4);
    const dev = startDev(['--data-dir', join(dir, 'busy'), ...portFlags({ temporalPort, uiPort: busy, httpPort, metricsPort, codecPort })]);
    children.push(dev.child);
    const { code } = await dev.closed;
    expect(code).toBe(1);
    expect(dev.output()).toContain(`Temporal Web UI (--ui-port) port 127.0.0.1:${busy} is already in use`);
  });
});
