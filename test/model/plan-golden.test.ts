/**
 * Golden plans. Every directory under test/fixtures/plans/ is one plan case:
 *   current.json  the planner's view of the host: { kernel: KernelState, runningDhcp: DhcpClientSpec[] }
 *   desired.json  the DesiredState
 *   plan.json     the Plan's ops the planner must make from them (its `ties`, which only say which ops may
 *                 run at once, are derived from the inputs and the ops: concurrent-batches.test.ts)
 * The inputs come from the builders in plan-cases.ts (the agent's own model functions on a simulated host),
 * so a change to the desired-state renderer shows up here too. Any difference fails, printing expected and
 * got one op per line.
 *
 * After a deliberate change to the planner or the desired state, regenerate every fixture and review the diff:
 *   UPDATE_GOLDEN=1 npx vitest run test/model/plan-golden.test.ts
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../model/net-state';
import { planChanges } from '../../model/network/plan';
import { verifyState } from '../../model/network/verify';
import { simulatePlan } from '../helpers/kernel-simulator';
import { dhcpAfter, type PlanInputs } from '../helpers/plan-steps';
import { PLAN_CASES } from './plan-cases';

const FIXTURES = join(import.meta.dirname, '../fixtures/plans');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** JSON with keys sorted, so files compare by content whatever wrote them. */
function canonicalJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, sortKeys(x)]),
          )
        : v;
  return JSON.stringify(sortKeys(JSON.parse(JSON.stringify(value))));
}

/** A fixture as text: objects opened up, every array element (a link, a route, an op) on a line of its own. */
function fixtureText(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return canonicalJson(value);
    return `[\n${value.map((v) => `${inner}${canonicalJson(v)}`).join(',\n')}\n${indent}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(JSON.parse(JSON.stringify(value)) as object).sort(([a], [b]) => a.localeCompare(b));
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${fixtureText(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

const planText = (plan: Plan): string => `${fixtureText({ ops: plan.ops })}\n`;

function readJson(dir: string, file: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURES, dir, file), 'utf8'));
}

function storedInputs(dir: string): PlanInputs {
  const { kernel, runningDhcp } = readJson(dir, 'current.json') as {
    kernel: PlanInputs['current'];
    runningDhcp: PlanInputs['runningDhcp'];
  };
  return { current: kernel, runningDhcp, desired: readJson(dir, 'desired.json') as PlanInputs['desired'] };
}

function writeCase(dir: string, inputs: PlanInputs): void {
  mkdirSync(join(FIXTURES, dir), { recursive: true });
  writeFileSync(join(FIXTURES, dir, 'current.json'), `${fixtureText({ kernel: inputs.current, runningDhcp: inputs.runningDhcp })}\n`);
  writeFileSync(join(FIXTURES, dir, 'desired.json'), `${fixtureText(inputs.desired)}\n`);
  writeFileSync(join(FIXTURES, dir, 'plan.json'), planText(planChanges(inputs.current, inputs.desired, inputs.runningDhcp)));
}

if (UPDATE) {
  for (const c of PLAN_CASES) writeCase(c.name, c.inputs());
  process.stdout.write(`[hostprov] UPDATE_GOLDEN=1: wrote ${PLAN_CASES.length} plan fixtures under test/fixtures/plans; review the diff\n`);
}

const caseDirs = existsSync(FIXTURES)
  ? readdirSync(FIXTURES, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()
  : [];

describe('golden plans', () => {
  it('has one fixture directory per case in plan-cases.ts, and no other', () => {
    expect(caseDirs).toEqual(PLAN_CASES.map((c) => c.name).sort());
  });

  it.each(caseDirs)('%s: plan.json is what the planner makes', (dir) => {
    const inputs = storedInputs(dir);
    const expected = planText(JSON.parse(readFileSync(join(FIXTURES, dir, 'plan.json'), 'utf8')) as Plan);
    const got = planText(planChanges(inputs.current, inputs.desired, inputs.runningDhcp));
    const about = PLAN_CASES.find((c) => c.name === dir)?.about ?? '';
    expect(got, `${dir} (${about}): the plan changed\n--- expected (plan.json)\n${expected}--- got\n${got}`).toBe(expected);
  });

  it.each(caseDirs)('%s: current.json and desired.json are what the case builds', (dir) => {
    const planCase = PLAN_CASES.find((c) => c.name === dir);
    if (!planCase) throw new Error(`${dir} has no builder in plan-cases.ts`);
    const built = planCase.inputs();
    const stored = storedInputs(dir);
    expect(fixtureText({ kernel: stored.current, runningDhcp: stored.runningDhcp }), `${dir}: current.json`).toBe(
      fixtureText({ kernel: built.current, runningDhcp: built.runningDhcp }),
    );
    expect(fixtureText(stored.desired), `${dir}: desired.json`).toBe(fixtureText(built.desired));
  });

  // The simulator double stands in for the kernel here (bonds and VLANs too); planned-changes.test.ts
  // checks the same on the real kernel for what it can build.
  it.each(caseDirs)('%s: the plan converges (verified, and nothing left to plan)', (dir) => {
    const { current, runningDhcp, desired } = storedInputs(dir);
    const plan = planChanges(current, desired, runningDhcp);
    const after = simulatePlan(current, plan.ops);
    expect(verifyState(after, desired)).toEqual([]);
    expect(planChanges(after, desired, dhcpAfter(runningDhcp, plan)).ops).toEqual([]);
  });
});
