/** What the two-gateways lab needs on this machine; the reason it cannot be built, for a printed test skip. */
import { netnsUnavailableReason } from '../netns';
import { onPath } from '../requirements';

/** Packages: iproute2, dnsmasq-base, isc-dhcp-client, nftables, iputils-ping, procps (sysctl). */
export const GATEWAY_LAB_PROGRAMS = ['dnsmasq', 'dhclient', 'nft', 'ping', 'ss', 'sysctl'] as const;

/** `null` when the lab can be built here; otherwise why not (`./run setup` installs what is missing). */
export async function gatewayLabUnavailableReason(): Promise<string | null> {
  const netns = await netnsUnavailableReason();
  if (netns) return netns;
  const missing: string[] = [];
  for (const program of GATEWAY_LAB_PROGRAMS) if (!(await onPath(program))) missing.push(program);
  return missing.length ? `gateway lab programs missing: ${missing.join(', ')}; run ./run setup` : null;
}
