/**
 * Secret references resolve only inside their roots (activities/secrets.ts): `file:` under the secrets
 * directory, realpath-checked; `env:` with the secret prefix. Refusals and failures are typed and name the
 * reference, never a value. `env:` PEMs the worker writes are 0600 in a 0700 directory and gone when the
 * worker stops or its process exits.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SecretRefusedError, SecretResolver, SecretUnavailableError } from '../../activities/secrets';
import { getLogger } from '../../lib/logger';
import { plainConnection } from '../../lib/temporal/connection';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';
import { startWorker } from '../../worker/main';
import { skipBecause } from '../helpers/skip';
import { temporalTarget, unavailableReason } from '../helpers/temporal';

const VALUE = 'the-secret-value-9f2c';

/** The typed failure `fn` throws; fails the test if it throws nothing. */
function failureOf(fn: () => unknown): ApplicationFailure {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

describe('secret references stay inside their roots', () => {
  let base: string;
  let root: string;
  let resolver: SecretResolver;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'hostprov-secrets-'));
    root = join(base, 'secrets');
    mkdirSync(join(root, 'pki'), { recursive: true, mode: 0o700 });
    writeFileSync(join(root, 'bmc'), `${VALUE}\n`, { mode: 0o600 });
    writeFileSync(join(root, 'pki', 'engine.pem'), 'PEM', { mode: 0o600 });
    writeFileSync(join(base, 'outside'), VALUE, { mode: 0o600 });
    symlinkSync(join(base, 'outside'), join(root, 'leads-out'));
    symlinkSync(join(root, 'bmc'), join(root, 'stays-in'));
    symlinkSync(base, join(root, 'dir-leads-out'));
    symlinkSync(root, join(base, 'root-link'));
    process.env.HOSTPROV_SECRET_TEST_BMC = VALUE;
    process.env.HOSTPROV_TEST_NOT_A_SECRET = VALUE;
    resolver = new SecretResolver({ secretsDir: root });
  });
  afterAll(() => {
    resolver.close();
    delete process.env.HOSTPROV_SECRET_TEST_BMC;
    delete process.env.HOSTPROV_TEST_NOT_A_SECRET;
    rmSync(base, { recursive: true, force: true });
  });

  it('resolves files under the secrets directory (through symlinks that stay inside) and prefixed variables', () => {
    expect(resolver.resolve(`file:${root}/bmc`)).toBe(VALUE);
    expect(resolver.resolve(`file:${root}/stays-in`)).toBe(VALUE);
    expect(resolver.resolveFile(`file:${root}/pki/engine.pem`)).toBe(join(root, 'pki', 'engine.pem'));
    expect(resolver.resolve('env:HOSTPROV_SECRET_TEST_BMC')).toBe(VALUE);
    // A secrets directory given through a symlink: references may use either path.
    const viaLink = new SecretResolver({ secretsDir: join(base, 'root-link') });
    expect(viaLink.resolve(`file:${base}/root-link/bmc`)).toBe(VALUE);
    expect(viaLink.resolve(`file:${root}/bmc`)).toBe(VALUE);
  });

  const refusals: Array<[string, (root: string, base: string) => string]> = [
    ['an absolute path outside', (_, b) => `file:${b}/outside`],
    ['a system file', () => 'file:/etc/passwd'],
    ['".." inside the path', (r) => `file:${r}/../outside`],
    ['".." that would come back inside', (r) => `file:${r}/pki/../bmc`],
    ['a symlink to a file outside', (r) => `file:${r}/leads-out`],
    ['a symlinked directory leading outside', (r) => `file:${r}/dir-leads-out/outside`],
    ['a relative path', () => 'file:secrets/bmc'],
    ['the directory itself', (r) => `file:${r}`],
    ['a variable without the prefix', () => 'env:HOSTPROV_TEST_NOT_A_SECRET'],
    ['PATH', () => 'env:PATH'],
    ['the bare prefix', () => 'env:HOSTPROV_SECRET_'],
    ['an unknown scheme', () => 'vault:kv/bmc'],
  ];
  it.each(refusals)('refuses %s as SecretRefused, naming the reference and never a value', (_, refOf) => {
    const ref = refOf(root, base);
    for (const resolve of [() => resolver.resolve(ref), () => resolver.resolveFile(ref)]) {
      const failure = failureOf(resolve);
      expect(failure).toBeInstanceOf(SecretRefusedError);
      expect(failure).toMatchObject({ type: 'SecretRefused', nonRetryable: true });
      expect(failure.message).toContain(ref);
      expect(failure.message).not.toContain(VALUE);
    }
  });

  it('reports what is inside the roots but not there as SecretUnavailable', () => {
    for (const ref of [`file:${root}/missing`, `file:${root}/pki`, 'env:HOSTPROV_SECRET_UNSET']) {
      // resolveFile hands TLS files on by path: it checks them as resolve reads them.
      for (const resolve of [() => resolver.resolve(ref), () => resolver.resolveFile(ref)]) {
        const failure = failureOf(resolve);
        expect(failure, ref).toBeInstanceOf(SecretUnavailableError);
        expect(failure).toMatchObject({ type: 'SecretUnavailable', nonRetryable: true });
        expect(failure.message).toContain(ref);
      }
    }
    const noRoot = new SecretResolver({ secretsDir: join(base, 'nowhere') });
    expect(failureOf(() => noRoot.resolve(`file:${base}/nowhere/bmc`)).message).toMatch(/secrets directory .*nowhere does not exist/);
  });

  it('refuses a policy that would admit everything', () => {
    expect(() => new SecretResolver({ envPrefix: '' })).toThrow(/must not be empty/);
    expect(() => new SecretResolver({ secretsDir: 'relative/dir' })).toThrow(/absolute/);
  });
});

describe('secret files the worker writes', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hostprov-scratch-'));
  afterEach(() => {
    delete process.env.HOSTPROV_SECRET_TEST_PEM;
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('writes an env: PEM once, 0600 in a 0700 directory, and removes it on close', () => {
    process.env.HOSTPROV_SECRET_TEST_PEM = '-----BEGIN CERTIFICATE-----\nMII…\n';
    const resolver = new SecretResolver({ scratchParent: scratch });
    const file = resolver.resolveFile('env:HOSTPROV_SECRET_TEST_PEM');
    expect(resolver.resolveFile('env:HOSTPROV_SECRET_TEST_PEM')).toBe(file);
    expect(readFileSync(file, 'utf8')).toBe(process.env.HOSTPROV_SECRET_TEST_PEM);
    const dir = resolver.scratchDir ?? '';
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    resolver.close();
    expect(existsSync(dir)).toBe(false);
  });

  it('removes them when the process exits', async () => {
    const child = await run(
      [join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), join(PROJECT_ROOT, 'test', 'activities', 'fixtures', 'materialise-and-exit.ts')],
      {
        env: { ...process.env, HOSTPROV_SECRET_FIXTURE_PEM: 'PEM', TMPDIR: scratch },
      },
    );
    const { dir, file } = JSON.parse(child.stdout) as { dir: string; file: string };
    expect(file.startsWith(`${dir}/`)).toBe(true);
    expect(dir.startsWith(scratch)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });

  const reason = unavailableReason();
  it.skipIf(skipBecause(reason, 'worker shutdown removing its secret files'))('removes them when the worker stops', async () => {
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    process.env.HOSTPROV_SECRET_TEST_PEM = 'PEM';
    const dataDir = mkdtempSync(join(scratch, 'worker-'));
    // Payload encryption is not what this is about (and the secrets directory here is the default one).
    const worker = await startWorker({
      temporal: plainConnection(target.address, target.namespace),
      encryptPayloads: false,
      taskQueue: `secrets-${Date.now()}`,
      dataDir,
      workflowBundlePath: target.workflowBundlePath,
      log: getLogger('secrets-test'),
    });
    const file = worker.secrets.resolveFile('env:HOSTPROV_SECRET_TEST_PEM');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await worker.shutdown();
    expect(existsSync(file)).toBe(false);
  });

  it('the worker CLI validates its secret flags', async () => {
    const cli = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'worker', '--secret-env-prefix', 'not a prefix'], { allowFailure: true });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('secretEnvPrefix');
  });
});
