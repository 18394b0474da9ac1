/**
 * Reading values out of reported capabilities. Apart from the schemas in capabilities.ts, because the
 * install-host workflow needs only these: every workflow run evaluates its imports again
 * (docs/performance.md#loading-only-the-workflow-that-runs), and the capability schemas would be built for
 * nothing.
 */
import type { NetworkCapabilities } from './capabilities';

/** Reported MTU as a number (VDSM reports strings). */
export function mtuOf(device: { mtu: string | number }): number {
  return typeof device.mtu === 'number' ? device.mtu : Number.parseInt(device.mtu, 10) || 0;
}

/** VDSM's "True"/"False" strings as a boolean. */
export function isDirty(caps: Pick<NetworkCapabilities, 'netConfigDirty'>): boolean {
  return caps.netConfigDirty === 'True';
}
