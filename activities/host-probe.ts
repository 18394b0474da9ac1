/**
 * What provisioning keeps of a `Host.getCapabilities` answer: real VDSM reports far more, and all of it
 * would land in workflow history.
 */
import { Capabilities } from '../model/vdsm/capabilities';
import type { HostProbe } from './types';

/** Checks a raw `Host.getCapabilities` answer and trims it to what provisioning needs. */
export function hostProbeOf(raw: unknown): HostProbe {
  const caps = Capabilities.parse(raw);
  return {
    capabilities: {
      nics: caps.nics,
      bondings: caps.bondings,
      vlans: caps.vlans,
      bridges: caps.bridges,
      networks: caps.networks,
      nameservers: caps.nameservers,
      supportsIPv6: caps.supportsIPv6,
      netConfigDirty: caps.netConfigDirty,
      lastClientIface: caps.lastClientIface,
      clusterLevels: caps.clusterLevels,
      ...(caps.software_version ? { software_version: caps.software_version } : {}),
    },
  };
}
