/**
 * Which device, source and gateway the kernel would use to reach an address (`ip route get`), honouring
 * policy rules. VDSM keeps this only as an internal helper (docs/vdsm-verbs.md#getroute); the agent uses it to
 * tell which network carries its management connection. The lookup goes through the agent's long-lived `ip`
 * read sessions (KernelStateReader.routeGet in read.ts), which check link names for renames first.
 */
import { IpJsonShapeError, InvalidAddressError } from '../errors';
import { familyOfAddress } from './arguments';
import { IpRouteGetJson } from './ip-json';
import type { KernelStateReader } from './read';
import { z } from 'zod';

export type RouteLookup = { kind: 'route'; device: string; source?: string; gateway?: string } | { kind: 'unreachable'; reason: string };

export async function routeLookup(reader: Pick<KernelStateReader, 'routeGet'>, destination: string): Promise<RouteLookup> {
  // Also what makes `destination` safe to write into ip's batch input: a plain address, no spaces or newlines.
  const family = familyOfAddress(destination);
  if (family === null) throw new InvalidAddressError(destination);
  const answer = await reader.routeGet(destination, family);
  // The address is valid, so a refusal is the kernel's answer: no route, prohibit/unreachable rule, ...
  if (answer.kind === 'refused') return { kind: 'unreachable', reason: answer.stderr || 'ip route get failed' };
  return routeLookupFromJson(answer.line);
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
