/**
 * `hostprov demo --scenario two-gateways` as a person runs it: it shows which gateway carried each reply,
 * the wrong one before source routing and each client's own one after the agent set the networks up and
 * after a DHCP renumbering, exits 0, and leaves none of its namespaces behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../lib/process';
import { gatewayLabUnavailableReason } from '../../testbed/gateway-lab/requirements';
import { CliRun } from '../helpers/cli-run';
import { skipBecause } from '../helpers/skip';

const unavailable = await gatewayLabUnavailableReason();

async function namespaceNames(): Promise<string[]> {
  const { stdout } = await run(['ip', '-j', 'netns', 'list']);
  return ((stdout.trim() ? JSON.parse(stdout) : []) as Array<{ name: string }>).map((n) => n.name);
}

describe.skipIf(skipBecause(unavailable, 'two-gateways demo test'))('hostprov demo --scenario two-gateways', () => {
  let dir = '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the replies leaving through the wrong gateway before, through each own gateway after, and cleans up', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-demo-gateways-'));
    const demo = new CliRun(['demo', '--scenario', 'two-gateways', '--data-dir', dir]);
    const exit = await demo.closed;
    const out = demo.output();
    expect(exit, out).toEqual({ code: 0, signal: null });
    const lines = out.split('\n');
    const line = (prefix: string, after: string): string => {
      const start = lines.findIndex((l) => l.startsWith(after));
      return lines.slice(start).find((l) => l.trim().startsWith(prefix)) ?? '';
    };
    expect(line('client-b →', 'before:')).toMatch(/ping 0\/3, TCP failed; replies left through gateway-a \(3 ICMP, \d+ TCP\): WRONG PATH$/);
    for (const id of ['a', 'b', 'c'])
      expect(line(`client-${id} →`, 'after:')).toMatch(
        new RegExp(`ping 3/3, TCP echoed; replies left through gateway-${id} \\(3 ICMP, \\d+ TCP\\): right gateway$`),
      );
    expect(line('main table:', 'after:')).toContain('default via 198.18.1.1 dev neta');
    expect(line('client-c →', 'lease change:')).toMatch(/→ 198\.18\.4\.\d+: .*gateway-c .*right gateway$/);
    expect(line('netc leased', 'lease change:')).toMatch(/sent \|net\|host_conn\|no_id [1-9]\d* time/);
    expect(out).toContain('every client was answered through its own gateway');

    const host = /"host":"(hpgw-[0-9a-f]+)-host"/.exec(out)?.[1];
    expect(host, 'the lab logs its namespaces').toBeDefined();
    expect((await namespaceNames()).filter((n) => n.startsWith(`${host ?? 'none'}-`))).toEqual([]);
  });
});
