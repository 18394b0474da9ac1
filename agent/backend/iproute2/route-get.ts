/**
 * Which device, source and gateway the kernel would use to reach an address (`ip route get`), honouring
 * policy rules. VDSM keeps this only as an internal helper (docs/vdsm-verbs.md#getroute); the agent uses it to
 * tell which network carries its management connection.
 */
import { run } from '../../../lib/process';
import { ipArgv, type NetnsTarget } from '../target';
import { IpJsonShapeError, InvalidAddressError } from '../errors';
import { familyOfAddress } from './arguments';
import { IpRouteGetJson } from './ip-json';
import { z } from 'zod';

export type RouteLookup = { kind: 'route'; device: string; source?: string; gateway?: string } | { kind: 'unreachable'; reason: string };

export async function routeLookup(target: NetnsTarget, destination: string): Promise<RouteLookup> {
  if (familyOfAddress(destination) === null) throw new InvalidAddressError(destination);
  const result = await run(ipArgv(target, ['-j', 'route', 'get', destination]), { allowFailure: true });
  // The address is valid, so a refusal is the kernel's answer: no route, prohibit/unreachable rule, ...
  if (result.code !== 0) return { kind: 'unreachable', reason: result.stderr.trim() || `ip route get exited with ${result.code}` };
  return routeLookupFromJson(result.stdout);
}

export function routeLookupFromJson(stdout: string): RouteLookup {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch (err) {
    throw new IpJsonShapeError('route get', `not JSON: ${(err as Error).message}`);
  }
  const parsed = IpRouteGetJson.safeParse(raw);
  if (!parsed.success) throw new IpJsonShapeError('route get', z.prettifyError(parsed.error));
  const [route] = parsed.data;
  if (!route) throw new IpJsonShapeError('route get', 'empty answer');
  const lookup: RouteLookup = { kind: 'route', device: route.dev };
  if (route.prefsrc !== undefined) lookup.source = route.prefsrc.toLowerCase();
  if (route.gateway !== undefined) lookup.gateway = route.gateway.toLowerCase();
  return lookup;
}
