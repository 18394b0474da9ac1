/**
 * Can this kernel create a link type? Asked once per type by creating and deleting a probe link with a
 * unique name, in one `ip -force -batch` process (`-force` so the cleanup lines still run after a failed
 * add). Some kernels lack the bonding or 8021q modules; the agent turns `false` into a clear VDSM error
 * before planning instead of failing half-way through an apply.
 *
 * Caveat on real hosts: the first bond created loads the bonding module, which (with the default
 * `max_bonds=1`) also creates a `bond0` in the initial namespace.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../../lib/logger';
import { run } from '../../../lib/process';
import type { CreatableLinkType } from '../../../model/net-state';
import { ipArgv, type NetnsTarget } from '../target';
import { LinkTypeProbeError } from '../errors';

export interface LinkTypeSupport {
  supported: boolean;
  /** The kernel's refusal (e.g. "Error: Unknown device type."), when not supported. */
  reason: string | null;
}

/** Each failed line's messages, by 1-based line number, from `ip -force -batch` stderr. */
export function batchFailureMessages(stderr: string): Map<number, string> {
  const failures = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const match = /^Command failed -:(\d+)$/.exec(line.trim());
    if (match?.[1]) {
      failures.set(Number(match[1]), pending.join('\n').trim());
      pending = [];
    } else if (line.trim() !== '') {
      pending.push(line.trim());
    }
  }
  return failures;
}

/** The probe batch for `type`, and which of its lines is the one that tells. */
export function probeBatch(type: CreatableLinkType, token: string): { lines: string[]; probeLine: number } {
  const probe = `hpp${token}`;
  switch (type) {
    case 'bridge':
    case 'bond':
      return { lines: [`link add name ${probe} type ${type}`, `link del dev ${probe}`], probeLine: 1 };
    case 'vlan': {
      // A VLAN needs a lower device; a bridge is the one type every kernel we run on has.
      const base = `hpq${token}`;
      return {
        lines: [
          `link add name ${base} type bridge`,
          `link add link ${base} name ${probe} type vlan id 1`,
          `link del dev ${probe}`,
          `link del dev ${base}`,
        ],
        probeLine: 2,
      };
    }
  }
}

export class LinkTypeProbe {
  private readonly cache = new Map<CreatableLinkType, Promise<LinkTypeSupport>>();

  constructor(
    private readonly target: NetnsTarget,
    private readonly log: Logger,
  ) {}

  async supports(type: CreatableLinkType): Promise<boolean> {
    return (await this.support(type)).supported;
  }

  /** Why the kernel refuses `type`, or null when it is supported. */
  async unsupportedReason(type: CreatableLinkType): Promise<string | null> {
    return (await this.support(type)).reason;
  }

  support(type: CreatableLinkType): Promise<LinkTypeSupport> {
    let answer = this.cache.get(type);
    if (!answer) {
      answer = this.probe(type);
      this.cache.set(type, answer);
      // A probe that could not run (e.g. ip missing) is not an answer; ask again next time.
      answer.catch(() => this.cache.delete(type));
    }
    return answer;
  }

  private async probe(type: CreatableLinkType): Promise<LinkTypeSupport> {
    const { lines, probeLine } = probeBatch(type, randomBytes(3).toString('hex'));
    const result = await run(ipArgv(this.target, ['-force', '-batch', '-']), { input: `${lines.join('\n')}\n`, allowFailure: true });
    const failures = batchFailureMessages(result.stderr);
    // Failed without naming a line: ip itself could not run (e.g. the namespace is gone). Not an answer.
    if (result.code !== 0 && failures.size === 0)
      throw new LinkTypeProbeError(type, result.stderr.trim() || `ip exited with ${result.code}`);
    const reason = failures.get(probeLine);
    const support: LinkTypeSupport =
      reason === undefined ? { supported: true, reason: null } : { supported: false, reason: reason || 'refused by the kernel' };
    // Cleanup lines of a successful probe must not fail; if they did, a probe link may be left behind.
    for (const [line, message] of failures) {
      if (line !== probeLine && support.supported)
        this.log.warn({ type, line: lines[line - 1], message }, 'link type probe cleanup failed');
    }
    this.log.debug({ type, ...support }, 'link type probe');
    return support;
  }
}
