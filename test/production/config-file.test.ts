/**
 * `--config FILE` of `hostprov agent` and `hostprov worker` (cli/config-file.ts): flags beat HOSTPROV_*
 * variables, which beat the file, which beats the defaults; a bad file is exit 2 naming the file and the
 * key, before anything starts.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { commands } from '../../cli/commands';
import { AgentConfigFile } from '../../cli/commands/agent';
import { readConfigFile, settingEnvName } from '../../cli/config-file';
import { temporalConfigFromFlags } from '../../cli/temporal-flags';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';

const dir = mkdtempSync(join(tmpdir(), 'hostprov-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The options `hostprov <command> ...args` would hand its action, with the action replaced by a recorder. */
async function optionsOf(command: 'agent' | 'worker', args: readonly string[]): Promise<Record<string, unknown>> {
  const program = new Command('hostprov').exitOverride();
  for (const entry of commands) (await entry.load())(program);
  const sub = program.commands.find((c) => c.name() === command)!;
  let seen: Record<string, unknown> | undefined;
  sub.action((raw: Record<string, unknown>) => {
    seen = raw;
  });
  await program.parseAsync(['node', 'hostprov', command, ...args]);
  if (!seen) throw new Error('the action did not run');
  return seen;
}

const savedEnv = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('HOSTPROV_') && !(key in savedEnv)) delete process.env[key];
});

describe('config file precedence', () => {
  it("names each setting's variable HOSTPROV_ plus the flag in upper snake case", () => {
    expect(settingEnvName('stateDir')).toBe('HOSTPROV_STATE_DIR');
    expect(settingEnvName('metricsListen')).toBe('HOSTPROV_METRICS_LISTEN');
  });

  it('agent: flag > HOSTPROV_* variable > file > default', async () => {
    const file = configFile('agent.json', {
      stateDir: '/file/state',
      runtimeDir: '/file/run',
      listen: '127.0.0.1:6000',
      metricsListen: '9100',
      maxConnections: 7,
    });
    process.env.HOSTPROV_RUNTIME_DIR = '/env/run';
    process.env.HOSTPROV_LISTEN = '127.0.0.1:7000';
    const options = await optionsOf('agent', ['--config', file, '--listen', '127.0.0.1:8000']);
    expect(options.listen).toBe('127.0.0.1:8000'); // flag over variable and file
    expect(options.runtimeDir).toBe('/env/run'); // variable over file
    expect(options.stateDir).toBe('/file/state'); // file over default
    expect(options.metricsListen).toBe('9100');
    expect(options.maxConnections).toBe('7');
    expect(options.fenceAgentDir).toBe('/usr/sbin'); // the documented default, untouched
  });

  it("worker: the file sets the worker's settings and its Temporal address; a variable still wins", async () => {
    const file = configFile('worker.json', {
      address: 'temporal.example:7233',
      namespace: 'hostprov',
      taskQueue: 'from-file',
      shutdownGrace: 20,
      maxHostEventWatches: 5000,
      maxCachedWorkflows: 300,
      metricsListen: '127.0.0.1:9200',
    });
    process.env.HOSTPROV_TASK_QUEUE = 'from-env';
    const options = await optionsOf('worker', ['--config', file]);
    expect(options).toMatchObject({
      address: 'temporal.example:7233',
      namespace: 'hostprov',
      taskQueue: 'from-env',
      shutdownGrace: '20',
      maxHostEventWatches: '5000',
      maxCachedWorkflows: '300',
      metricsListen: '127.0.0.1:9200',
    });
    expect(await optionsOf('worker', [])).toMatchObject({ maxHostEventWatches: '1000' });
  });

  it('worker: address and namespace from the file beat TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, as flags do', async () => {
    const file = configFile('worker-temporal.json', { address: 'file.example:7233', namespace: 'from-file' });
    const saved = { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE };
    process.env.TEMPORAL_ADDRESS = 'env.example:7233';
    process.env.TEMPORAL_NAMESPACE = 'from-env';
    try {
      // An empty Temporal config file, so no profile of this machine's user takes part.
      const toml = configFile('temporal.toml', '[profile.default]\n');
      const config = temporalConfigFromFlags(await optionsOf('worker', ['--config', file, '--config-file', toml]));
      expect({ address: config.address, namespace: config.namespace }).toEqual({ address: 'file.example:7233', namespace: 'from-file' });
    } finally {
      for (const [key, value] of [
        ['TEMPORAL_ADDRESS', saved.address],
        ['TEMPORAL_NAMESPACE', saved.namespace],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});

describe('bad config files', () => {
  it.each([
    ['not JSON', '{ stateDir: ', /not JSON \([^)]*\)$/],
    [
      "Temporal's TOML client configuration",
      '[profile.default]\naddress = "localhost:7233"\n',
      /not JSON .*; it reads as TOML: Temporal's client configuration goes to --config-file$/,
    ],
    ['an unknown key', { stateDir: '/x', insecure: true }, /unknown key "insecure"/],
    ['a wrong type', { stateDir: 42 }, /key "stateDir": /],
    ['a bad number', { maxConnections: 'many' }, /key "maxConnections": must be a whole number/],
  ])('rejects %s, naming the file and the key', (_, content, message) => {
    const file = configFile('bad.json', content);
    expect(() => readConfigFile(file, AgentConfigFile)).toThrow(message);
  });

  it('agent: exit 2 and a message naming the key; nothing started (no state directory made)', async () => {
    const stateDir = join(dir, 'agent-state-never');
    const file = configFile('agent-bad.json', {
      stateDir,
      runtimeDir: join(dir, 'agent-run-never'),
      listen: '127.0.0.1:1',
      colour: 'blue',
    });
    const result = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'agent', '--insecure', '--config', file], {
      allowFailure: true,
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toMatch(/unknown key "colour"/);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('worker: exit 2 for a missing file and for a bad value, before connecting anywhere', async () => {
    const missing = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'worker', '--config', join(dir, 'nope.json')], {
      allowFailure: true,
      timeoutMs: 60_000,
    });
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/cannot read it \(ENOENT\)/);
    const file = configFile('worker-bad.json', { shutdownGrace: -3 });
    const bad = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'worker', '--config', file], { allowFailure: true, timeoutMs: 60_000 });
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/shutdownGrace/);
    const badFlag = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'worker', '--agent-connection-idle', '-1'], {
      allowFailure: true,
      timeoutMs: 60_000,
    });
    expect(badFlag.code, badFlag.stderr).toBe(2);
    expect(badFlag.stderr).toMatch(/--agent-connection-idle must be at least 0/);
    const noWatches = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'worker', '--max-host-event-watches', '0'], {
      allowFailure: true,
      timeoutMs: 60_000,
    });
    expect(noWatches.code, noWatches.stderr).toBe(2);
    expect(noWatches.stderr).toMatch(/--max-host-event-watches must be at least 1/);
    const noCache = await run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'worker', '--max-cached-workflows', '1'], {
      allowFailure: true,
      timeoutMs: 60_000,
    });
    expect(noCache.code, noCache.stderr).toBe(2);
    expect(noCache.stderr).toMatch(/--max-cached-workflows must be at least 2/);
  });
});
