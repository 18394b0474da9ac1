/**
 * agent/fencing/repeated-fences.ts on its own, with a stand-in power action counting its runs and a clock the
 * test moves, and the file that keeps them across restarts; test/agent/fence-node.test.ts shows the same
 * against a real BMC (one reboot for a repeated id, also asked of a restarted agent), and
 * test/agent/fence-agent-outlives-agent.test.ts with an agent process killed while its fence agent runs.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FENCE_REMEMBERED_MS, fenceFingerprint, RepeatedFences, type FenceActing } from '../../../agent/fencing/repeated-fences';
import type { FenceNodeResult } from '../../../agent/fencing/fence-result';
import { JsonRpcCode, VdsmError } from '../../../model/vdsm/error-codes';

const INITIATED: FenceNodeResult = { power: 'unknown', operationStatus: 'initiated' };

/**
 * `earlier`: what the run an earlier process started left (`null`: nothing), or its failure; `started` holds
 * the start times asked about.
 */
function harness(earlier: FenceNodeResult | null | Error = null) {
  let now = 1_000_000;
  const fences = new RepeatedFences({ now: () => now });
  let runs = 0;
  const started: number[] = [];
  const act = (outcome: 'ok' | 'fail' = 'ok', onStart: () => void = () => undefined): FenceActing => ({
    start: async () => {
      onStart();
      runs += 1;
      await new Promise((r) => setTimeout(r, 5));
      if (outcome === 'fail') throw new VdsmError(1, 'BMC did not answer');
      return INITIATED;
    },
    startedBefore: async (at) => {
      started.push(at);
      await new Promise((r) => setTimeout(r, 5));
      if (earlier instanceof Error) throw earlier;
      return earlier;
    },
  });
  return { fences, act, runs: () => runs, started, advance: (ms: number) => (now += ms) };
}

describe('power actions repeated under one request id', () => {
  const print = fenceFingerprint({ addr: 'bmc', action: 'reboot', password: 'pw' });

  it('runs once: a repeat while it runs waits for it, one after it gets its answer, until it is forgotten', async () => {
    const h = harness();
    const [a, b] = await Promise.all([h.fences.run('id-1', 'reboot', print, h.act()), h.fences.run('id-1', 'reboot', print, h.act())]);
    expect([a, b]).toEqual([
      { result: INITIATED, repeated: false },
      { result: INITIATED, repeated: true },
    ]);
    h.advance(FENCE_REMEMBERED_MS - 1);
    expect(await h.fences.run('id-1', 'reboot', print, h.act())).toEqual({ result: INITIATED, repeated: true });
    expect(h.runs()).toBe(1);
    h.advance(2);
    expect(await h.fences.run('id-1', 'reboot', print, h.act())).toEqual({ result: INITIATED, repeated: false });
    expect(h.runs()).toBe(2);
  });

  it('runs a repeat of a failed one again; the repeat that joined the failing run gets its failure', async () => {
    const h = harness();
    const both = await Promise.allSettled([h.fences.run(7, 'off', print, h.act('fail')), h.fences.run(7, 'off', print, h.act())]);
    expect(both.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(await h.fences.run(7, 'off', print, h.act())).toEqual({ result: INITIATED, repeated: false });
    expect(h.runs()).toBe(2);
  });

  it('refuses the id with other parameters, and never joins status, other ids or requests without an id', async () => {
    const h = harness();
    await h.fences.run('id-2', 'reboot', print, h.act());
    const other = fenceFingerprint({ addr: 'bmc', action: 'reboot', password: 'other' });
    const refused = await h.fences.run('id-2', 'reboot', other, h.act()).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(VdsmError);
    expect((refused as VdsmError).code).toBe(JsonRpcCode.INVALID_PARAMS);
    await h.fences.run('id-2', 'status', print, h.act());
    await h.fences.run('id-3', 'reboot', print, h.act());
    await h.fences.run(null, 'reboot', print, h.act());
    await h.fences.run(null, 'reboot', print, h.act());
    expect(h.runs()).toBe(5);
  });

  it('tells requests apart by every parameter, whatever order the keys came in', () => {
    expect(fenceFingerprint({ a: 1, b: 'x' })).toBe(fenceFingerprint({ b: 'x', a: 1 }));
    expect(fenceFingerprint({ a: 1, b: 'x' })).not.toBe(fenceFingerprint({ a: 1, b: 'y' }));
  });
});

describe('power actions remembered in a file, across agent restarts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-fence-repeats-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const print = fenceFingerprint({ addr: 'bmc', action: 'off', password: 'pw' });

  it('answers the repeats of successful ones from the file, privately kept, and no longer once expired', async () => {
    const file = join(dir, 'kept.json');
    const h = harness();
    const kept = new RepeatedFences({ file, now: () => 5_000_000 });
    await kept.run('id-a', 'off', print, h.act());
    await kept.run('id-b', 'off', print, h.act('fail')).catch(() => undefined);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const restarted = new RepeatedFences({ file, now: () => 5_000_000 + 1_000 });
    expect(await restarted.run('id-a', 'off', print, h.act())).toEqual({ result: INITIATED, repeated: true });
    expect(await restarted.run('id-b', 'off', print, h.act())).toEqual({ result: INITIATED, repeated: false });
    const muchLater = new RepeatedFences({ file, now: () => 5_000_000 + FENCE_REMEMBERED_MS + 1 });
    expect(await muchLater.run('id-a', 'off', print, h.act())).toEqual({ result: INITIATED, repeated: false });
    expect(h.runs()).toBe(4);
  });

  it('says why it does not take a file that is not its own, starts empty, and writes its own over it', async () => {
    for (const [name, text] of [
      ['garbage.json', 'not json'],
      ['shape.json', JSON.stringify({ '"id-z"': { fingerprint: 'x', result: { power: 'on' }, at: 1 } })],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const troubles: string[] = [];
      const fences = new RepeatedFences({ file, onFileTrouble: (why) => troubles.push(why) });
      expect(troubles, name).toHaveLength(1);
      expect(await fences.run('id-z', 'off', print, harness().act())).toEqual({ result: INITIATED, repeated: false });
      expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)).toEqual(['"id-z"']);
    }
  });

  describe('an action the previous agent process started and did not see end', () => {
    const file = join(dir, 'started.json');
    const STARTED_AT = 7_000_000;
    /** The file a process left that died while its `off` under id-s ran. */
    const leftBehind = () =>
      writeFileSync(file, JSON.stringify({ '"id-s"': { fingerprint: print, started: true, at: STARTED_AT } }), { mode: 0o600 });
    const restartedAgent = (earlier: FenceNodeResult | null | Error) => {
      const h = harness(earlier);
      return { h, fences: new RepeatedFences({ file, now: () => STARTED_AT + 30_000 }) };
    };

    it('is on record before its fence agent starts, and off it once it failed', async () => {
      const h = harness();
      const fences = new RepeatedFences({ file, now: () => STARTED_AT });
      let onRecord: unknown;
      const readRecord = () => (onRecord = JSON.parse(readFileSync(file, 'utf8')));
      await fences.run('id-r', 'reboot', print, h.act('fail', readRecord)).catch(() => undefined);
      expect(onRecord).toEqual({ '"id-r"': { fingerprint: print, started: true, at: STARTED_AT } });
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({});
    });

    it('answers its repeats with the outcome the run left, once, never running it again; concurrent repeats join', async () => {
      leftBehind();
      const { h, fences } = restartedAgent(INITIATED);
      const [a, b] = await Promise.all([fences.run('id-s', 'off', print, h.act()), fences.run('id-s', 'off', print, h.act())]);
      expect([a, b]).toEqual([
        { result: INITIATED, repeated: true },
        { result: INITIATED, repeated: true },
      ]);
      expect(h.started).toEqual([STARTED_AT]);
      expect(await fences.run('id-s', 'off', print, h.act())).toEqual({ result: INITIATED, repeated: true });
      expect(h.runs()).toBe(0);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
        '"id-s"': { fingerprint: print, result: INITIATED, at: STARTED_AT + 30_000 },
      });
    });

    it('runs it again when the run left no outcome, and refuses the id with other parameters meanwhile', async () => {
      leftBehind();
      const { h, fences } = restartedAgent(null);
      const other = fenceFingerprint({ addr: 'bmc', action: 'off', password: 'other' });
      const refused = await fences.run('id-s', 'off', other, h.act()).catch((err: unknown) => err);
      expect((refused as VdsmError).code).toBe(JsonRpcCode.INVALID_PARAMS);
      expect(await fences.run('id-s', 'off', print, h.act())).toEqual({ result: INITIATED, repeated: false });
      expect(h.runs()).toBe(1);
    });

    it("gives the run's failure to the repeat, and a repeat after that runs it again", async () => {
      leftBehind();
      const { h, fences } = restartedAgent(new VdsmError(1, 'fence_ipmilan off exited with 1'));
      await expect(fences.run('id-s', 'off', print, h.act())).rejects.toThrow(/exited with 1/);
      expect(await fences.run('id-s', 'off', print, h.act())).toEqual({ result: INITIATED, repeated: false });
      expect([h.started, h.runs()]).toEqual([[STARTED_AT], 1]);
    });

    it('is forgotten with the rest once expired', async () => {
      leftBehind();
      const h = harness(INITIATED);
      const fences = new RepeatedFences({ file, now: () => STARTED_AT + FENCE_REMEMBERED_MS + 1 });
      expect(await fences.run('id-s', 'off', print, h.act())).toEqual({ result: INITIATED, repeated: false });
      expect(h.started).toEqual([]);
    });
  });
});
