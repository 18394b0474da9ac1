/**
 * What every benchmark report carries (the machine it ran on, the commit it measured) and how it is written:
 * `<name>.json` with every figure and its unit, `<name>.md` with a short table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';
import { run } from '../lib/process';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  /** `uname -r` */
  kernel: string;
  node: string;
  /** `ip -V` */
  iproute2: string;
  /** The commit measured, with `+dirty` when the work tree had changes. */
  commit: string;
  date: string;
  /** 1/5/15-minute load averages when the benchmark started (others' work on the machine skews timings). */
  loadAverageAtStart: number[];
}

export async function machineInfo(): Promise<MachineInfo> {
  const text = async (argv: string[], options: { cwd?: string } = {}): Promise<string> =>
    (await run(argv, { allowFailure: true, ...options }).catch(() => ({ stdout: '' }))).stdout.trim();
  const cpu = cpus();
  const commit = await text(['git', 'rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT });
  const dirty = await text(['git', 'status', '--porcelain', '--untracked-files=no'], { cwd: PROJECT_ROOT });
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: await text(['uname', '-r']),
    node: process.version,
    iproute2: (await text(['ip', '-V'])).replace(/^ip utility, /, ''),
    commit: commit ? `${commit}${dirty ? '+dirty' : ''}` : 'unknown',
    date: new Date().toISOString(),
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function machineLine(m: MachineInfo): string {
  return `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, ${m.iproute2}; commit ${m.commit}; ${m.date}; load average at start ${m.loadAverageAtStart.join(' / ')}`;
}

/** A Markdown table; cells are written as given. */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** Writes `<dir>/<name>.json` and `<dir>/<name>.md`; returns their paths. */
export function writeReport(dir: string, name: string, json: unknown, markdown: string): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const paths = { json: join(dir, `${name}.json`), md: join(dir, `${name}.md`) };
  writeFileSync(paths.json, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(paths.md, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return paths;
}

/** Progress for a long run: one line on stdout (logs go to stderr). */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
