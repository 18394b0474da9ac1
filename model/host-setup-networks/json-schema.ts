/** The hostSetupNetworks contract and the host network change Update as JSON Schema, for non-TypeScript callers. */
import { z } from 'zod';
import { HostNetworkChange } from '../host-networks/change';
import { HostSetupNetworksResult } from './contract';
import { HostSetupNetworksRequest } from './request';

export function hostSetupNetworksJsonSchemas(): Record<string, unknown> {
  return {
    'host-setup-networks-input.v1.json': {
      $id: 'https://hostprov.dev/schemas/host-setup-networks-input.v1.json',
      title: 'hostSetupNetworks input v1',
      ...z.toJSONSchema(HostSetupNetworksRequest, { io: 'input' }),
    },
    'host-setup-networks-result.v1.json': {
      $id: 'https://hostprov.dev/schemas/host-setup-networks-result.v1.json',
      title: 'hostSetupNetworks result v1',
      ...z.toJSONSchema(HostSetupNetworksResult),
    },
    'host-network-change.v1.json': {
      $id: 'https://hostprov.dev/schemas/host-network-change.v1.json',
      title: 'hostNetworkChange Update argument v1',
      ...z.toJSONSchema(HostNetworkChange, { io: 'input' }),
    },
  };
}
