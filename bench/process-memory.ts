/**
 * How much memory a running process holds, read from /proc (Linux): `status` for the resident set now
 * (VmRSS) and at its peak (VmHWM), `smaps_rollup` for the proportional set (Pss: shared pages such as the
 * node binary's text divided among the processes mapping them, so Pss of many agents adds up to what they
 * really cost together, where their RSS counts the shared pages once per process).
 */
import { readFile } from 'node:fs/promises';

/** Kibibytes, as /proc reports them. */
export interface ProcessMemory {
  pid: number;
  /** VmRSS: resident now. */
  rssKiB: number;
  /** VmHWM: the resident set's peak over the process's life. */
  peakRssKiB: number;
  /** Pss from smaps_rollup; `null` when it cannot be read (a kernel without it, or no permission). */
  pssKiB: number | null;
}

export class ProcMemoryFormatError extends Error {
  override readonly name = 'ProcMemoryFormatError';
  constructor(
    readonly file: string,
    readonly field: string,
  ) {
    super(`${file} has no ${field} line in kB`);
  }
}

/** The value of a `Name:   1234 kB` line of /proc/<pid>/status or smaps_rollup, or `null` when absent. */
export function procKiB(text: string, field: string): number | null {
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_()]+):\s+(\d+)\s+kB\s*$/.exec(line);
    if (match && match[1] === field) return Number(match[2]);
  }
  return null;
}

/** VmRSS and VmHWM of a /proc/<pid>/status text (a kernel thread or zombie has neither: an error). */
export function parseProcStatus(text: string): { rssKiB: number; peakRssKiB: number } {
  const rssKiB = procKiB(text, 'VmRSS');
  if (rssKiB === null) throw new ProcMemoryFormatError('status', 'VmRSS');
  const peakRssKiB = procKiB(text, 'VmHWM');
  if (peakRssKiB === null) throw new ProcMemoryFormatError('status', 'VmHWM');
  return { rssKiB, peakRssKiB };
}

/** Pss of a /proc/<pid>/smaps_rollup text. */
export function parseSmapsRollupPss(text: string): number {
  const pss = procKiB(text, 'Pss');
  if (pss === null) throw new ProcMemoryFormatError('smaps_rollup', 'Pss');
  return pss;
}

/** The memory of `pid` now; rejects when the process is gone. */
export async function processMemory(pid: number): Promise<ProcessMemory> {
  const { rssKiB, peakRssKiB } = parseProcStatus(await readFile(`/proc/${pid}/status`, 'utf8'));
  let pssKiB: number | null = null;
  try {
    pssKiB = parseSmapsRollupPss(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'));
  } catch {
    /* Pss is a refinement; RSS is the figure */
  }
  return { pid, rssKiB, peakRssKiB, pssKiB };
}

/** `/proc/<pid>/cmdline` as argv (empty when the process is gone). */
export async function processArgv(pid: number): Promise<string[]> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  } catch {
    return [];
  }
}
