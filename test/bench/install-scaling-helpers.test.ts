import { describe, expect, it } from 'vitest';
import { countList } from '../../bench/count-list';
import { inotifyShortfall } from '../../bench/inotify-budget';
import { labSizes } from '../../bench/lab-split';
import { parseProcStatus, parseSmapsRollupPss, procKiB, ProcMemoryFormatError } from '../../bench/process-memory';

describe('countList (bench flags such as --hosts 10,50,100)', () => {
  const hosts = countList('--hosts', 1, 100);

  it('parses counts in the order given, spaces allowed', () => {
    expect(hosts.parse('10,50,100')).toEqual([10, 50, 100]);
    expect(hosts.parse(' 50 , 10')).toEqual([50, 10]);
    expect(hosts.parse('1')).toEqual([1]);
  });

  it.each([
    ['', 'whole numbers'],
    ['10,,50', 'whole numbers'],
    ['1.5', 'whole numbers'],
    ['-1', 'whole numbers'],
    ['ten', 'whole numbers'],
    ['0', 'at least 1'],
    ['101', 'at most 100'],
    ['10,50,10', 'twice'],
  ])('rejects %j with a message naming the flag', (text, message) => {
    const parsed = hosts.safeParse(text);
    expect(parsed.success).toBe(false);
    const messages = parsed.error?.issues.map((i) => i.message) ?? [];
    expect(
      messages.some((m) => m.startsWith('--hosts') && m.includes(message)),
      messages.join('; '),
    ).toBe(true);
  });

  it('rejects a value that is not a string', () => {
    expect(hosts.safeParse(10).success).toBe(false);
  });
});

describe('memory figures from /proc', () => {
  const status = [
    'Name:\tnode',
    'State:\tS (sleeping)',
    'VmPeak:\t 1203444 kB',
    'VmHWM:\t   81236 kB',
    'VmRSS:\t   74112 kB',
    'RssAnon:\t   40000 kB',
    'Threads:\t11',
  ].join('\n');

  it('reads VmRSS and VmHWM of a status file', () => {
    expect(parseProcStatus(status)).toEqual({ rssKiB: 74112, peakRssKiB: 81236 });
  });

  it('refuses a status without them (a zombie or kernel thread)', () => {
    expect(() => parseProcStatus('Name:\tkworker/0:1\nState:\tI (idle)\n')).toThrow(ProcMemoryFormatError);
  });

  it('reads Pss of smaps_rollup, not Pss_Anon or Rss', () => {
    const rollup = [
      '56466ab37000-7fffed60f000 ---p 00000000 00:00 0                          [rollup]',
      'Rss:               74112 kB',
      'Pss:               52001 kB',
      'Pss_Dirty:         40000 kB',
      'Pss_Anon:          39000 kB',
    ].join('\n');
    expect(parseSmapsRollupPss(rollup)).toBe(52001);
    expect(() => parseSmapsRollupPss('Rss: 1 kB\n')).toThrow(ProcMemoryFormatError);
  });

  it('matches a field by its whole name and only with a kB value', () => {
    expect(procKiB('VmRSSX:\t 5 kB\nVmRSS:\t 7 kB', 'VmRSS')).toBe(7);
    expect(procKiB('Threads:\t11', 'Threads')).toBeNull();
  });
});

describe('labSizes (hosts split over testbeds of at most MAX_HOSTS)', () => {
  it('uses the fewest labs, as even as possible', () => {
    expect(labSizes(10, 40)).toEqual([10]);
    expect(labSizes(40, 40)).toEqual([40]);
    expect(labSizes(41, 40)).toEqual([21, 20]);
    expect(labSizes(100, 40)).toEqual([34, 33, 33]);
    expect(labSizes(100, 39)).toEqual([34, 33, 33]);
    expect(labSizes(50, 39)).toEqual([25, 25]);
  });

  it('never exceeds the cap and loses no host', () => {
    for (let total = 1; total <= 200; total++) {
      const sizes = labSizes(total, 39);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(39);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('rejects empty splits', () => {
    expect(() => labSizes(0, 40)).toThrow(RangeError);
    expect(() => labSizes(10, 0)).toThrow(RangeError);
  });
});

describe('inotifyShortfall (one inotify instance per agent, capped per user)', () => {
  it('is null while the instances left cover the agents', () => {
    expect(inotifyShortfall({ needed: 66, limit: 128, inUse: 62 })).toBeNull();
    expect(inotifyShortfall({ needed: 0, limit: 128, inUse: 128 })).toBeNull();
  });

  it('says how many are short', () => {
    expect(inotifyShortfall({ needed: 106, limit: 128, inUse: 62 })).toBe(40);
    expect(inotifyShortfall({ needed: 1, limit: 128, inUse: 130 })).toBe(3);
  });
});
