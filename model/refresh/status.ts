/**
 * A host's network status as `hostprov host-networks status` shows it: the out-of-sync report of every
 * attachment against what the host last reported, the unmanaged networks on their own, and network
 * compliance (docs/engine-host-networking.md#out-of-sync). Pure: the CLI loads the state from the store
 * and a refresh keeps that state current.
 */
import type { ClusterNetwork } from '../host-networking/cluster';
import type { Host } from '../host-networking/host';
import type { Network } from '../host-networking/network';
import type { NetworkAttachment } from '../host-networking/network-attachment';
import { hostSyncReport, type HostSyncReport } from '../network-sync/host-report';
import { describeComparison } from '../network-sync/sync-property';
import { networkCompliance, type NetworkCompliance } from './compliance';

export interface HostNetworksStatus {
  hostId: string;
  hostName: string;
  clusterId: string | null;
  /** When the host last reported its interfaces (`null`: never refreshed, nothing to compare). */
  reportedAt: string | null;
  sync: HostSyncReport | null;
  compliance: NetworkCompliance | null;
}

export interface HostNetworksStatusInput {
  host: Host;
  clusterNetworks: readonly ClusterNetwork[];
  networks: readonly Network[];
  attachments: readonly NetworkAttachment[];
}

export function hostNetworksStatus({ host, clusterNetworks, networks, attachments }: HostNetworksStatusInput): HostNetworksStatus {
  const reported = host.reportedInterfaces;
  return {
    hostId: host.id,
    hostName: host.name,
    clusterId: host.clusterId,
    reportedAt: host.interfacesReportedAt,
    sync: reported ? hostSyncReport({ networks, clusterNetworks, attachments, reported }) : null,
    compliance: reported ? networkCompliance({ clusterNetworks, networks, reported }) : null,
  };
}

/** The status as text for a terminal: a summary, each attachment with its differing properties (desired, host), the unmanaged networks. */
export function formatHostNetworksStatus(status: HostNetworksStatus): string {
  const lines = [`host ${status.hostName} (${status.hostId}), cluster ${status.clusterId ?? 'none'}`];
  if (!status.sync || !status.compliance) {
    lines.push('never refreshed: no report from the host yet (hostprov host-networks refresh HOST)');
    return lines.join('\n');
  }
  const { sync, compliance } = status;
  lines.push(`reported at ${status.reportedAt ?? '?'}`);
  lines.push(
    `network sync: ${sync.state} (${sync.counts['in-sync']} in sync, ${sync.counts['out-of-sync']} out of sync, ${sync.counts['not-reported']} not reported)`,
  );
  lines.push(`compliance: ${compliance.status}${compliance.reason ? ` (${compliance.reason})` : ''}`);
  for (const p of compliance.problems) lines.push(`  - ${p.message}`);
  lines.push('attachments:');
  if (!sync.attachments.length) lines.push('  (none)');
  for (const a of sync.attachments) {
    const where = a.nicName ?? 'no NIC';
    const moved = a.reportedBaseInterface && a.reportedBaseInterface !== a.nicName ? `, host has it on ${a.reportedBaseInterface}` : '';
    lines.push(`  ${a.networkName} on ${where}: ${a.state}${moved}`);
    for (const d of a.differences) lines.push(`    ${describeComparison(d)}`);
  }
  lines.push('unmanaged networks (on the host, not in its cluster):');
  if (!sync.unmanagedNetworks.length) lines.push('  (none)');
  for (const n of sync.unmanagedNetworks) {
    lines.push(
      `  ${n.name} on ${n.baseInterface ?? 'no interface'}${n.vlanId !== null ? `, VLAN ${n.vlanId}` : ''}${n.bridged ? ', bridged' : ''}`,
    );
  }
  return lines.join('\n');
}
