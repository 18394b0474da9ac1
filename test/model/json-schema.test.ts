import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InstallHostInput } from '../../model/install-host/contract';
import { changeProblems, HostNetworkChange } from '../../model/host-networks/change';
import { hostSetupNetworksJsonSchemas } from '../../model/host-setup-networks/json-schema';
import { installHostJsonSchemas } from '../../model/install-host/json-schema';

describe('published JSON Schemas', () => {
  it('are up to date with the zod contract (regenerate with `bin/hostprov schema --out schemas`)', () => {
    for (const [name, schema] of Object.entries({ ...installHostJsonSchemas(), ...hostSetupNetworksJsonSchemas() })) {
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

describe('hostSetupNetworks contract', () => {
  it('publishes input, result and the change Update argument', () => {
    expect(Object.keys(hostSetupNetworksJsonSchemas()).sort()).toEqual([
      'host-network-change.v1.json',
      'host-setup-networks-input.v1.json',
      'host-setup-networks-result.v1.json',
    ]);
  });

  it('a change of an unknown kind is refused with the field named', () => {
    const result = HostNetworkChange.safeParse({ kind: 'reboot', request: { version: 1, hostId: 'h1' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe('kind');
  });

  it('the entity workflow refuses a change for another host, and names every problem of a malformed one', () => {
    expect(changeProblems({ kind: 'setup-networks', request: { version: 1, hostId: 'h1' } }, 'h1')).toEqual([]);
    expect(changeProblems({ kind: 'setup-networks', request: { version: 1, hostId: 'h2' } }, 'h1')).toEqual([
      'change is for host h2, this workflow serializes host h1',
    ]);
    const problems = changeProblems(
      { kind: 'setup-networks', request: { version: 2, hostId: 'h1', removedAttachments: ['a', 'b'] } },
      'h1',
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'request.version',
      'request.removedAttachments.0',
      'request.removedAttachments.1',
    ]);
  });
});
