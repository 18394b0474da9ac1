import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InstallHostInput } from '../../model/install-host/contract';
import { installHostJsonSchemas } from '../../model/install-host/json-schema';

describe('published JSON Schemas', () => {
  it('are up to date with the zod contract (regenerate with `bin/hostprov schema --out schemas`)', () => {
    for (const [name, schema] of Object.entries(installHostJsonSchemas())) {
      const published = JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8')) as unknown;
      expect(published, name).toEqual(JSON.parse(JSON.stringify(schema)));
    }
  });

  it('the contract rejects secrets in place of references, with the field named', () => {
    const result = InstallHostInput.safeParse({
      version: 1,
      host: { id: 'h1', name: 'h1', address: '198.18.1.10', clusterId: 'c1' },
      agent: { tls: { certRef: '-----BEGIN CERTIFICATE-----', keyRef: 'file:/k', caRef: 'file:/c' } },
      managerAddress: '198.19.1.1',
      clusterLevel: '4.8',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe('agent.tls.certRef');
    expect(result.error?.issues[0]?.message).toMatch(/never the secret itself/);
  });

  it('fills the documented defaults', () => {
    const input = InstallHostInput.parse({
      version: 1,
      host: { id: 'h1', name: 'h1', address: '198.18.1.10', clusterId: 'c1' },
      agent: { tls: { insecure: true } },
      managerAddress: '198.19.1.1',
      clusterLevel: '4.8',
    });
    expect(input.managementNetwork).toEqual({ name: 'ovirtmgmt', vlan: null, mtu: 1500, vmNetwork: true, stp: false, defaultRoute: true });
    expect(input.policy).toEqual({ connectivityTimeoutSeconds: 120, reboot: true, commitMode: 'auto', agentWaitSeconds: 300 });
    expect(input.agent.port).toBe(54321);
  });
});
