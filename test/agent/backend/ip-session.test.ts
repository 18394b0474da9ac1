/**
 * The long-lived `ip` read sessions (agent/backend/iproute2/ip-session.ts, KernelStateReader in read.ts)
 * against the real kernel: reads reuse three processes, and every way a session can go stale or die is
 * caught — a failed command (ip exits), a killed process, a namespace deleted and created again under the
 * same name, and a renamed link (iproute2's index → name cache).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IpSessionError } from '../../../agent/backend/errors';
import { IpLinkWithAddrJson, parseIpJsonLine } from '../../../agent/backend/iproute2/ip-json';
import { IpJsonSession } from '../../../agent/backend/iproute2/ip-session';
import { ParsedJsonArray } from '../../../agent/backend/iproute2/json-array-splitter';
import { KernelStateReader, perLinkReadMax } from '../../../agent/backend/iproute2/read';
import { run } from '../../../lib/process';
import { Netns } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import { kernelSkipReason, testLog, uniqueNetnsName } from './kernel-helpers';

describe.skipIf(skipBecause(kernelSkipReason, 'ip read session tests'))('ip read sessions', () => {
  let host: Netns;
  let reader: KernelStateReader | undefined;
  let session: IpJsonSession | undefined;

  beforeEach(async () => {
    host = await Netns.create(uniqueNetnsName('hpis'));
    await host.ip(['-batch', '-'], {
      input: 'link add name br1 type bridge\nlink add name v1a type veth peer name v1b\nlink set dev v1a master br1\n',
    });
  });

  afterEach(async () => {
    reader?.close();
    session?.close();
    reader = undefined;
    session = undefined;
    await host.destroy();
  });

  it('answers many reads from the same three processes, with what a fresh ip sees', async () => {
    reader = new KernelStateReader({ netns: host.name }, testLog);
    for (let i = 0; i < 5; i++) {
      await host.ip(['link', 'set', 'dev', 'br1', 'mtu', String(1400 + i)]);
      const state = await reader.read();
      expect(state.links.find((l) => l.name === 'br1')?.mtu).toBe(1400 + i);
    }
    expect(reader.processStarts).toBe(3);
  });

  it('attributes a failed command to its read, then starts a new process for the next one', async () => {
    session = new IpJsonSession({ netns: host.name }, '-4', testLog);
    await expect(session.run(['link show dev nosuch0'])).rejects.toThrow(IpSessionError);
    await expect(session.run(['link show dev nosuch0'])).rejects.toThrow(/nosuch0/);
    const [line] = await session.run(['link show dev br1']);
    expect(JSON.parse(line ?? '')).toMatchObject([{ ifname: 'br1' }]);
    expect(session.starts).toBe(3);
  });

  it('reads again through a new process when the old one was killed', async () => {
    reader = new KernelStateReader({ netns: host.name }, testLog);
    await reader.read();
    const { stdout } = await run(['pgrep', '-f', `^ip -n ${host.name} -4 -j -d -batch -$`]);
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    const state = await reader.read();
    expect(state.links.map((l) => l.name)).toContain('br1');
    expect(reader.processStarts).toBeGreaterThan(3);
  });

  it('follows a namespace deleted and created again under the same name', async () => {
    reader = new KernelStateReader({ netns: host.name }, testLog);
    expect((await reader.read()).links.map((l) => l.name)).toContain('br1');
    await host.destroy();
    host = await Netns.create(host.name);
    const state = await reader.read();
    expect(state.links.map((l) => l.name)).not.toContain('br1');
  });

  it("shows a renamed bridge under its new name, also as its port's master (no stale name cache)", async () => {
    reader = new KernelStateReader({ netns: host.name }, testLog);
    expect((await reader.read()).links.find((l) => l.name === 'v1a')?.master).toBe('br1');
    await host.ip(['link', 'set', 'dev', 'br1', 'name', 'br9']);
    const state = await reader.read();
    expect(state.links.map((l) => l.name)).toContain('br9');
    expect(state.links.find((l) => l.name === 'v1a')?.master).toBe('br9');
  });

  it('reads a few links by name, with what the dump shows of them, and dumps every link for a link that is gone', async () => {
    reader = new KernelStateReader({ netns: host.name }, testLog);
    const full = await reader.read();
    const only = (names: string[]) => full.links.filter((l) => names.includes(l.name));
    // By name: the same links as the dump, filtered; no session restarted.
    expect((await reader.read({ links: new Set(['br1', 'v1a']) })).links).toEqual(only(['br1', 'v1a']));
    expect(reader.processStarts).toBe(3);
    // A link named as gone: one dump, no failed command, so still the same processes.
    expect((await reader.read({ links: new Set(['br1', 'gone0']), absentLinks: new Set(['gone0']) })).links).toEqual(only(['br1']));
    expect(reader.processStarts).toBe(3);
    // A link gone that the caller did not expect: ip refuses it and exits; the read dumps every link instead
    // and shows it missing, on a new link process.
    await host.ip(['link', 'del', 'dev', 'v1a']);
    const after = await reader.read({ links: new Set(['br1', 'v1a']) });
    expect(after.links.map((l) => l.name)).toEqual(['br1']);
    expect(reader.processStarts).toBe(4);
    // Deleted and created again under its name: ip's name cache holds the old index, and ip prints nothing for
    // it. The read still shows the new link (a verify that missed it would roll a good change back).
    await reader.read({ links: new Set(['br1']) });
    await host.ip(['link', 'del', 'dev', 'br1']);
    await host.ip(['link', 'add', 'name', 'br1', 'mtu', '1300', 'type', 'bridge']);
    const recreated = await reader.read({ links: new Set(['br1']) });
    expect(recreated.links.map((l) => [l.name, l.mtu])).toEqual([['br1', 1300]]);
    expect((await reader.read({ links: new Set(['br1']) })).links.map((l) => [l.name, l.mtu])).toEqual([['br1', 1300]]);
  });

  it('reads by name up to a third of a host with many links, and dumps them all beyond that', async () => {
    await host.ip(['-batch', '-'], {
      input: Array.from({ length: 80 }, (_, i) => `link add name m${i}a type veth peer name m${i}b\n`).join(''),
    });
    reader = new KernelStateReader({ netns: host.name }, testLog);
    const full = await reader.read();
    expect(full.links.length).toBe(164);
    expect(perLinkReadMax(full.links.length)).toBe(54);
    const names = (count: number) => Array.from({ length: count }, (_, i) => `m${i}a`);
    const only = (wanted: string[]) => full.links.filter((l) => wanted.includes(l.name));
    expect((await reader.read({ links: new Set(names(40)) })).links).toEqual(only(names(40)));
    expect(reader.processStarts).toBe(3);
    // Which way a read went shows when a named link is gone: asked by name, ip refuses it and exits, and the
    // read dumps on a new process; a dump just lacks it.
    await host.ip(['link', 'del', 'dev', 'm0a']);
    expect((await reader.read({ links: new Set(names(40)) })).links.map((l) => l.name)).toEqual(names(40).slice(1));
    expect(reader.processStarts).toBe(4);
    await host.ip(['link', 'del', 'dev', 'm1a']);
    expect((await reader.read({ links: new Set(names(60)) })).links.map((l) => l.name)).toEqual(names(60).slice(2));
    expect(reader.processStarts).toBe(4);
  });

  it("shows a link's addresses when read by name after a route lookup (ip's `link show` would have hidden them)", async () => {
    await host.ip(['-batch', '-'], { input: 'addr add 198.18.77.1/24 dev br1\nlink set dev br1 up\n' });
    reader = new KernelStateReader({ netns: host.name }, testLog);
    await reader.read();
    expect(await reader.routeGet('198.18.77.9', 4)).toMatchObject({ kind: 'json' });
    const state = await reader.read({ links: new Set(['br1']) });
    expect(state.addresses).toEqual([{ dev: 'br1', family: 4, address: '198.18.77.1', prefixLen: 24, dynamic: false }]);
    expect(reader.processStarts).toBe(3);
  });

  it('parses a dump larger than a pipe holds as ip prints it, to the same links as the whole line', async () => {
    session = new IpJsonSession({ netns: host.name }, null, testLog);
    // A short line costs more to split than to parse whole: it comes back as its text.
    const [short] = await session.runParsingArrays(['addr show'], '{"ifindex":');
    expect(typeof short).toBe('string');
    session.close();
    await host.ip(['-batch', '-'], {
      input: Array.from({ length: 80 }, (_, i) => `link add name w${i}a type veth peer name w${i}b\n`).join(''),
    });
    session = new IpJsonSession({ netns: host.name }, null, testLog);
    const [whole] = await session.run(['addr show']);
    // More than the 64 KiB a pipe holds: ip's output reaches us in several chunks, so the split must run.
    expect(Buffer.byteLength(whole ?? '')).toBeGreaterThan(64 * 1024);
    const [parsed] = await session.runParsingArrays(['addr show'], '{"ifindex":');
    expect(parsed).toBeInstanceOf(ParsedJsonArray);
    const names = (line: unknown) => (line as ParsedJsonArray).elements.map((l) => (l as { ifname: string }).ifname);
    expect(names(parsed)).toEqual((JSON.parse(whole ?? '') as Array<{ ifname: string }>).map((l) => l.ifname));
    expect(parseIpJsonLine('addr show', parsed, IpLinkWithAddrJson)).toEqual(parseIpJsonLine('addr show', whole, IpLinkWithAddrJson));
    expect(session.starts).toBe(1);
  });
});
