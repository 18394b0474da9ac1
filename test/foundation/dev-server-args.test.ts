import { describe, expect, it } from 'vitest';
import { devServerArgs } from '../../lib/temporal/dev-server';

describe('devServerArgs', () => {
  it('persists to SQLite in WAL mode and registers the operator search attributes', () => {
    const args = devServerArgs({ dataDir: '/var/lib/hostprov', port: 7300, uiPort: 8300 });
    expect(args.join(' ')).toContain('--db-filename /var/lib/hostprov/temporal.sqlite --sqlite-pragma journal_mode=WAL');
    expect(args.join(' ')).toContain('--ui-port 8300');
    for (const sa of ['HostName=Keyword', 'ClusterId=Keyword', 'InstallPhase=Keyword']) expect(args).toContain(sa);
  });

  it('runs headless and in memory when asked', () => {
    const args = devServerArgs({ dataDir: null, uiPort: null });
    expect(args).toContain('--headless');
    expect(args).not.toContain('--db-filename');
  });
});
