/**
 * `hostprov bench sync-report`: what the out-of-sync report costs over a fleet, pure model code only (no
 * namespaces, no store, no Temporal). The fleet (bench/sync-fleet.ts) is N hosts × K attachments, 14 %
 * of hosts drifting.
 *
 * Each repetition is one pass over the whole fleet; the first is discarded as warm-up. Two passes are
 * timed:
 * - `report`: `hostSyncReport` of every host from its stored report, what a status query or the
 *   `NetworkSync` search attribute computes;
 * - `parseAndReport`: parse the raw capabilities (zod), derive the report, then `hostSyncReport`, what a
 *   refresh computes for the report.
 * Times are wall-clock with `performance.now()` around a whole pass; per-host and per-attachment figures
 * are a pass divided by N and by N × K.
 */
import { hostSyncReport, HostSyncState, type HostSyncReport } from '../model/network-sync/host-report';
import { reportedInterfacesFromCapabilities } from '../model/host-networking/reported-interfaces';
import { NetworkCapabilities } from '../model/vdsm/capabilities';
import { machineInfo, machineLine, markdownTable, say, writeReport, type MachineInfo } from './report';
import { afterWarmup, round, roundSummary, summarize, type Summary } from './stats';
import { buildFleet, type Fleet } from './sync-fleet';

export interface SyncReportBenchOptions {
  outDir: string;
  /** @default 1000 */
  hosts: number;
  /** Attachments per host. @default 10 */
  attachments: number;
  /** Passes over the fleet, the first discarded as warm-up. @default 21 */
  repetitions: number;
  /** A sentence about the conditions of the run (e.g. other work on the machine), written into the results. */
  note?: string;
  /** Checked between passes. */
  signal?: AbortSignal;
}

type Figure<U extends string> = Summary & { unit: U };

export interface SyncReportBenchResult {
  benchmark: 'sync-report';
  machine: MachineInfo;
  note: string | null;
  parameters: { hosts: number; attachmentsPerHost: number; repetitions: number; warmup: 1 };
  fleet: {
    outOfSyncHosts: number;
    inSyncHosts: number;
    outOfSyncAttachments: number;
    unmanagedNetworksPerHost: number;
    reportJsonBytesPerHost: Figure<'bytes'>;
  };
  report: PassFigures;
  parseAndReport: PassFigures;
}

interface PassFigures {
  /** One pass over the whole fleet. */
  pass: Figure<'ms'>;
  perHost: Figure<'µs'>;
  perAttachment: Figure<'µs'>;
  /** Every measured pass, ms. */
  samples: number[];
}

function figures(samples: number[], hosts: number, attachments: number): PassFigures {
  const measured = afterWarmup(samples, 1);
  const scaled = (factor: number) => roundSummary(summarize(measured.map((ms) => (ms * 1000) / factor)), 3);
  return {
    pass: { unit: 'ms', ...roundSummary(summarize(measured), 3) },
    perHost: { unit: 'µs', ...scaled(hosts) },
    perAttachment: { unit: 'µs', ...scaled(hosts * attachments) },
    samples: measured.map((ms) => round(ms, 3)),
  };
}

function reportPass(fleet: Fleet): HostSyncReport[] {
  return fleet.hosts.map((host) =>
    hostSyncReport({
      networks: fleet.networks,
      clusterNetworks: fleet.clusterNetworks,
      attachments: host.attachments,
      reported: host.reported,
    }),
  );
}

function parseAndReportPass(fleet: Fleet): HostSyncReport[] {
  return fleet.hosts.map((host) =>
    hostSyncReport({
      networks: fleet.networks,
      clusterNetworks: fleet.clusterNetworks,
      attachments: host.attachments,
      reported: reportedInterfacesFromCapabilities(NetworkCapabilities.parse(host.capabilities)),
    }),
  );
}

function timed(pass: () => HostSyncReport[]): { ms: number; reports: HostSyncReport[] } {
  const start = performance.now();
  const reports = pass();
  return { ms: performance.now() - start, reports };
}

export async function runSyncReportBench(options: SyncReportBenchOptions): Promise<SyncReportBenchResult> {
  const machine = await machineInfo();
  say(`bench sync-report: ${options.hosts} hosts × ${options.attachments} attachments, ${options.repetitions} passes (1 warm-up)`);
  const fleet = buildFleet(options.hosts, options.attachments);
  const samples = { report: [] as number[], parseAndReport: [] as number[] };
  let last: HostSyncReport[] = [];
  for (let i = 0; i < options.repetitions; i++) {
    options.signal?.throwIfAborted();
    const report = timed(() => reportPass(fleet));
    const parsed = timed(() => parseAndReportPass(fleet));
    samples.report.push(report.ms);
    samples.parseAndReport.push(parsed.ms);
    last = report.reports;
    say(`  pass ${i + 1}/${options.repetitions}: report ${report.ms.toFixed(1)} ms, parse + report ${parsed.ms.toFixed(1)} ms`);
  }
  const outOfSync = last.filter((r) => r.state === HostSyncState.OUT_OF_SYNC);
  const result: SyncReportBenchResult = {
    benchmark: 'sync-report',
    machine,
    note: options.note ?? null,
    parameters: { hosts: options.hosts, attachmentsPerHost: options.attachments, repetitions: options.repetitions, warmup: 1 },
    fleet: {
      outOfSyncHosts: outOfSync.length,
      inSyncHosts: last.length - outOfSync.length,
      outOfSyncAttachments: last.reduce((n, r) => n + r.counts['out-of-sync'], 0),
      unmanagedNetworksPerHost: last[0]?.unmanagedNetworks.length ?? 0,
      reportJsonBytesPerHost: { unit: 'bytes', ...roundSummary(summarize(last.map((r) => JSON.stringify(r).length)), 0) },
    },
    report: figures(samples.report, options.hosts, options.attachments),
    parseAndReport: figures(samples.parseAndReport, options.hosts, options.attachments),
  };
  const paths = writeReport(options.outDir, 'sync-report', result, markdown(result));
  say(`wrote ${paths.json} and ${paths.md}`);
  return result;
}

function markdown(r: SyncReportBenchResult): string {
  const { hosts, attachmentsPerHost, repetitions } = r.parameters;
  const row = (name: string, f: PassFigures) => [name, f.pass.median, f.pass.p95, f.perHost.median, f.perAttachment.median];
  return [
    '# bench sync-report',
    '',
    `Machine: ${machineLine(r.machine)}.`,
    ...(r.note ? ['', `Note: ${r.note}`] : []),
    '',
    `Out-of-sync report over ${hosts} hosts × ${attachmentsPerHost} attachments, pure model code, one process; ${repetitions - 1} measured passes over the whole fleet (1 warm-up discarded).`,
    '',
    markdownTable(
      ['pass', 'fleet median (ms)', 'fleet p95 (ms)', 'per host, median (µs)', 'per attachment, median (µs)'],
      [row('report from the stored report', r.report), row('parse capabilities + report', r.parseAndReport)],
    ),
    '',
    `The fleet: ${r.fleet.outOfSyncHosts} hosts out of sync (${r.fleet.outOfSyncAttachments} attachments), ${r.fleet.inSyncHosts} in sync, ${r.fleet.unmanagedNetworksPerHost} unmanaged network per host; one host's report is ${r.fleet.reportJsonBytesPerHost.median} bytes of JSON (median).`,
    '',
  ].join('\n');
}
