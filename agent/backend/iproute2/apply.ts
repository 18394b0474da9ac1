/**
 * Executes a plan: each maximal run of consecutive ip ops is ONE `ip -batch -` process fed on stdin (a plan
 * for 100 networks costs a handful of processes, not hundreds), started ahead of time by the
 * {@link IpBatchLauncher}; DHCP ops go to the DHCP manager in between, and IPv6 switches are sysctl writes.
 * A run whose ops fall into independent device stacks may instead be two processes at once, each with whole
 * stacks in the plan's order (model/network/plan/concurrent-batches.ts; `concurrentBatches`).
 *
 * The whole plan is rendered before anything runs, so an op that cannot be rendered safely rejects the plan
 * untouched ({@link InvalidPlanOpError}). At run time `ip -batch` stops at the first failing line and says
 * "Command failed -:N"; we map N back to the op ({@link PlanApplyError}). Ops before it stay applied: undoing
 * them is the agent's rollback, which knows the state to return to.
 */
import type { Logger } from '../../../lib/logger';
import {
  isIpOp,
  PlanOpKind,
  type Family,
  type IpPlanOp,
  type Ipv6Forget,
  type Plan,
  type PlanOp,
  type PlanOpOf,
} from '../../../model/net-state';
import { balancedBatches, independentOpGroups } from '../../../model/network/plan/concurrent-batches';
import type { Ipv6Switches } from '../ipv6-sysctl';
import type { NetnsTarget } from '../target';
import { InvalidPlanOpError, PlanApplyError, UnsafeBatchArgumentError } from '../errors';
import { checkedIfname } from './arguments';
import { batchLineFromOp } from './batch';
import type { IpBatchLauncher } from './batch-launcher';

export type DhcpStartOp = Extract<PlanOp, { kind: 'dhcp-start' }>;

/** What apply needs from the DHCP manager. */
export interface DhcpOpRunner {
  start(op: DhcpStartOp): Promise<void>;
  stop(dev: string, family: Family): Promise<void>;
}

export type ApplyStep =
  | IpBatchStep
  | { kind: 'dhcp'; opIndex: number; op: Extract<PlanOp, { kind: 'dhcp-start' | 'dhcp-stop' }> }
  | { kind: 'ipv6'; opIndex: number; op: PlanOpOf<'link-ipv6'> };

export interface IpBatchStep {
  kind: 'ip-batch';
  /** Run as `ip -6 -batch` (see FamilyFlag in batch.ts). */
  inet6: boolean;
  opIndices: number[];
  lines: string[];
}

/**
 * Renders and groups a plan into processes to run, in order (pure). A run of ip ops is split only where the
 * `-6` flag must change: an IPv6 rule next to an IPv4 line.
 */
export function applyStepsFromPlan(plan: Plan): ApplyStep[] {
  const steps: ApplyStep[] = [];
  /** Whether the open batch has a line that fixes its flag (until then it could become either). */
  let flagFixed = false;
  plan.ops.forEach((op, opIndex) => {
    if (op.kind === PlanOpKind.LINK_IPV6) {
      steps.push({ kind: 'ipv6', opIndex, op });
      return;
    }
    if (!isIpOp(op)) {
      steps.push({ kind: 'dhcp', opIndex, op });
      return;
    }
    let line;
    try {
      line = batchLineFromOp(op);
    } catch (err) {
      if (err instanceof UnsafeBatchArgumentError) throw new InvalidPlanOpError(opIndex, op, err);
      throw err;
    }
    const wantsInet6 = line.familyFlag === 'either' ? null : line.familyFlag === '-6';
    const last = steps.at(-1);
    if (last?.kind === 'ip-batch' && (wantsInet6 === null || !flagFixed || last.inet6 === wantsInet6)) {
      if (wantsInet6 !== null && !flagFixed) {
        last.inet6 = wantsInet6;
        flagFixed = true;
      }
      last.opIndices.push(opIndex);
      last.lines.push(line.text);
    } else {
      steps.push({ kind: 'ip-batch', inet6: wantsInet6 ?? false, opIndices: [opIndex], lines: [line.text] });
      flagFixed = wantsInet6 !== null;
    }
  });
  return steps;
}

/** The 1-based batch line iproute2 reports as failed ("Command failed -:N"), or null if it did not say. */
export function failedBatchLine(stderr: string): number | null {
  const matches = [...stderr.matchAll(/Command failed -:(\d+)/g)];
  const last = matches.at(-1);
  return last?.[1] ? Number(last[1]) : null;
}

export interface ApplyDeps {
  target: NetnsTarget;
  log: Logger;
  dhcp: DhcpOpRunner;
  /** Starts the `ip -batch` processes (one per batch, fresh each time). */
  launcher: IpBatchLauncher;
  /** Turns IPv6 on or off on a link, and router advertisements with it (`link-ipv6` ops; ../ipv6-sysctl.ts). */
  setIpv6(dev: string, switches: Ipv6Switches): Promise<void>;
  /**
   * `ip -batch` processes one step may run at once, when its ops fall into independent stacks
   * ({@link concurrentBatchesOf}). @default 1
   */
  concurrentBatches?: number;
}

export interface ApplyOptions {
  /**
   * Test-only (agent/network/test-pause.ts): the plan's first `ip -batch` of two or more lines runs as two
   * processes, with this awaited between them, so that a kill lands in the middle of the batch. Never set in
   * production.
   */
  midBatch?: () => Promise<void>;
}

export async function applyPlan(plan: Plan, deps: ApplyDeps, options: ApplyOptions = {}): Promise<void> {
  const { dhcp } = deps;
  const steps = applyStepsFromPlan(plan);
  let midBatch = options.midBatch;
  for (const step of steps) {
    if (step.kind === 'dhcp') {
      await runDhcpStep(step, dhcp);
    } else if (step.kind === 'ipv6') {
      await runIpv6Step(step, deps);
    } else if (midBatch && step.lines.length > 1) {
      const half = Math.ceil(step.lines.length / 2);
      await runIpBatches([{ ...step, opIndices: step.opIndices.slice(0, half), lines: step.lines.slice(0, half) }], plan, deps);
      await midBatch();
      midBatch = undefined;
      await runIpBatches([{ ...step, opIndices: step.opIndices.slice(half), lines: step.lines.slice(half) }], plan, deps);
    } else {
      await runIpBatches(concurrentBatchesOf(step, plan, deps.concurrentBatches ?? 1), plan, deps);
    }
  }
}

/**
 * `step` as up to `count` batches to run at once, each a set of whole independent stacks in the plan's order
 * (model/network/plan/concurrent-batches.ts); the step itself when its ops are one stack, or the plan does not
 * say which links the kernel ties together ({@link Plan.ties}).
 */
export function concurrentBatchesOf(step: IpBatchStep, plan: Plan, count: number): IpBatchStep[] {
  if (count < 2 || !plan.ties) return [step];
  const groups = independentOpGroups(
    step.opIndices.map((i) => plan.ops[i] as IpPlanOp),
    plan.ties,
  );
  if (groups.length < 2) return [step];
  return balancedBatches(groups, count).map((batch) => ({
    ...step,
    opIndices: batch.map((i) => step.opIndices[i] as number),
    lines: batch.map((i) => step.lines[i] as string),
  }));
}

/**
 * Runs the batches at once and waits for all of them: a batch that fails stops at its failing line, the
 * others run to their end (they touch nothing of it), and the failure of the earliest op in the plan is
 * thrown. Undoing what ran is the agent's rollback, as for one batch.
 */
async function runIpBatches(batches: readonly IpBatchStep[], plan: Plan, deps: ApplyDeps): Promise<void> {
  const failures = await Promise.all(batches.map((batch) => runIpBatch(batch, plan, deps)));
  const first = failures.reduce<PlanApplyError | null>((a, b) => (b && (!a || b.opIndex < a.opIndex) ? b : a), null);
  if (first) throw first;
}

async function runIpBatch(step: IpBatchStep, plan: Plan, { target, log, launcher }: ApplyDeps): Promise<PlanApplyError | null> {
  log.debug({ netns: target.netns, inet6: step.inet6, lines: step.lines }, 'ip -batch');
  const result = await launcher.run(step.inet6 ? 'inet6' : 'any', `${step.lines.join('\n')}\n`);
  if (result.code === 0) return null;
  const line = failedBatchLine(result.stderr);
  // No line number: ip could not start (e.g. the namespace is gone), or aborted on an argument it could not
  // parse, which it does without naming the line (our validation exists to prevent that; earlier lines of
  // the batch may then have run). Either way the first op of the batch is the best we can name.
  const opIndex = (line !== null ? step.opIndices[line - 1] : undefined) ?? step.opIndices[0] ?? 0;
  const op = plan.ops[opIndex];
  if (!op) throw new Error(`internal: batch op index ${opIndex} outside the plan`);
  return new PlanApplyError(opIndex, op, result.stderr || `ip exited with ${result.code}`);
}

/**
 * What a `link-ipv6` op's `forget` removes: everything the link learned from router advertisements, the
 * addresses the kernel made (SLAAC, flagged `mngtmpaddr`, and the privacy addresses made from them,
 * `temporary`) and the routes (`proto ra`); or only its learned default route. Nothing else has those flags or
 * that protocol, and a flush that finds nothing succeeds.
 */
export function forgetRouterAdvertisementsLines(link: string, forget: Ipv6Forget): string[] {
  const dev = checkedIfname('name', link);
  if (forget === 'default-route') return [`route flush dev ${dev} proto ra exact ::/0`];
  return [`route flush dev ${dev} proto ra`, `addr flush dev ${dev} mngtmpaddr`, `addr flush dev ${dev} temporary`];
}

async function runIpv6Step(step: Extract<ApplyStep, { kind: 'ipv6' }>, deps: ApplyDeps): Promise<void> {
  const { op } = step;
  try {
    // Checked before anything is written.
    const forget = op.forget ? forgetRouterAdvertisementsLines(op.name, op.forget) : [];
    await deps.setIpv6(op.name, { enabled: op.enabled, autoconf: op.autoconf, defaultRouter: op.defaultRouter });
    if (!forget.length) return;
    const result = await deps.launcher.run('inet6', `${forget.join('\n')}\n`);
    if (result.code !== 0) throw new Error(result.stderr || `ip exited with ${result.code}`);
  } catch (err) {
    throw new PlanApplyError(step.opIndex, op, err instanceof Error ? err.message : String(err));
  }
}

async function runDhcpStep(step: Extract<ApplyStep, { kind: 'dhcp' }>, dhcp: DhcpOpRunner): Promise<void> {
  try {
    if (step.op.kind === 'dhcp-start') await dhcp.start(step.op);
    else await dhcp.stop(step.op.dev, step.op.family);
  } catch (err) {
    throw new PlanApplyError(step.opIndex, step.op, err instanceof Error ? err.message : String(err));
  }
}
