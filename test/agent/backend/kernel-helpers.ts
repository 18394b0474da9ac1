/**
 * Shared bits of the backend's kernel tests: a reason to skip (not root), unique names, and canonical
 * ordering of a KernelState so two reads compare with toEqual.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { getLogger } from '../../../lib/logger';
import type { KernelState, LinkState } from '../../../model/net-state';
import { netnsUnavailableReason, uniqueToken, type Netns } from '../../../testbed/netns';

export const kernelSkipReason = await netnsUnavailableReason();

export const testLog = getLogger('backend-test');

/**
 * The options of a bridge made without any, as read back: among them the kernel's long-standing defaults
 * (net/bridge/br_device.c, br_multicast.c), in hundredths of a second for the times.
 */
export const FRESH_BRIDGE_OPTIONS = expect.objectContaining({
  ageing_time: '30000',
  forward_delay: '1500',
  hello_time: '200',
  max_age: '2000',
  multicast_snooping: '1',
  priority: '32768',
}) as Record<string, string>;

/** A namespace name unique to this run and file (`prefix` ≤ 6 characters keeps derived names short). */
export function uniqueNetnsName(prefix: string): string {
  return `${prefix}-${process.pid}-${uniqueToken()}`;
}

const byJson = (a: unknown, b: unknown): number => JSON.stringify(a).localeCompare(JSON.stringify(b));

/** Same content, canonical order: links by name, the rest by value. */
export function sortedState(state: KernelState): KernelState {
  return {
    links: [...state.links].sort((a, b) => a.name.localeCompare(b.name)),
    addresses: [...state.addresses].sort(byJson),
    routes: [...state.routes].sort(byJson),
    rules: [...state.rules].sort(byJson),
  };
}

/** Carrier follows the peer and STP timers, never planned: leave it out of comparisons with desired state. */
export function withoutOperState(state: KernelState): KernelState {
  return { ...state, links: state.links.map(({ operUp: _operUp, ...link }): LinkState => link) };
}

export async function withTempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `hostprov-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Waits until `dev` in `ns` reports carrier (operstate UP). The kernel sets it asynchronously after
 * `link set up`, so a read taken right after setup could see it either way.
 */
export async function waitForCarrier(ns: Netns, dev: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [link] = await ns.ipJson<Array<{ operstate?: string }>>(['link', 'show', 'dev', dev]);
    if (link?.operstate === 'UP') return;
    if (Date.now() > deadline) throw new Error(`${dev} in ${ns.name} has no carrier after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
