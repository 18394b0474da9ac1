import { describe, expect, it } from 'vitest';
import { devServerArgs, hostPort } from '../../lib/temporal/dev-server';

describe('devServerArgs', () => {
  it('persists to SQLite in WAL mode and registers the operator search attributes', () => {
    const args = devServerArgs({ dataDir: '/var/lib/hostprov', port: 7300, uiPort: 8300 });
    expect(args.join(' ')).toContain('--db-filename /var/lib/hostprov/temporal.sqlite --sqlite-pragma journal_mode=WAL');
    expect(args.join(' ')).toContain('--ui-port 8300');
    for (const sa of [
      'HostName=Keyword',
      'ClusterId=Keyword',
      'InstallPhase=Keyword',
      'NetworkSync=Keyword',
      'HostNetworkStatus=Keyword',
      'HostId=Keyword',
    ])
      expect(args).toContain(sa);
    expect(args.join(' ')).toContain('--dynamic-config-value system.enableActivityEagerExecution=true');
  });

  it('runs headless and in memory when asked', () => {
    const args = devServerArgs({ dataDir: null, uiPort: null, uiCodecEndpoint: 'http://127.0.0.1:8234' });
    expect(args).toContain('--headless');
    expect(args).not.toContain('--db-filename');
    // No Web UI, nothing to point at the codec server.
    expect(args).not.toContain('--ui-codec-endpoint');
  });

  it('points the Web UI at the codec server', () => {
    const args = devServerArgs({ dataDir: null, uiPort: 8300, uiCodecEndpoint: 'http://127.0.0.1:8301' });
    expect(args.join(' ')).toContain('--ui-codec-endpoint http://127.0.0.1:8301');
  });

  it('brackets an IPv6 literal in the addresses it hands out', () => {
    expect(hostPort('::1', 7233)).toBe('[::1]:7233');
    expect(hostPort('127.0.0.1', 7233)).toBe('127.0.0.1:7233');
    expect(hostPort('temporal.example', 7233)).toBe('temporal.example:7233');
  });
});
