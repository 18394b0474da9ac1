/**
 * BMC passwords live apart from testbed.json, in one file readable by root only, so the description can
 * be printed and logged freely.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { FenceRequest } from '../agent/fencing/fence-request';
import type { FenceAction } from '../model/vdsm/fence-node';
import type { TestbedDescription, TestbedHost } from './description';

export const BmcCredentialsSchema = z.object({
  address: z.ipv4(),
  port: z.number().int().min(1).max(65535),
  username: z.string(),
  password: z.string(),
});
export type BmcCredentials = z.infer<typeof BmcCredentialsSchema>;

export const BmcCredentialsFileSchema = z.object({ hosts: z.record(z.string(), BmcCredentialsSchema) });
export type BmcCredentialsFile = z.infer<typeof BmcCredentialsFileSchema>;

export class MissingBmcCredentialsError extends Error {
  override readonly name = 'MissingBmcCredentialsError';
  constructor(
    readonly host: string,
    readonly file: string,
  ) {
    super(`no BMC credentials for host ${host} in ${file}`);
  }
}

export async function writeBmcCredentials(path: string, content: BmcCredentialsFile): Promise<void> {
  await writeFile(path, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function readBmcCredentialsFile(path: string): Promise<BmcCredentialsFile> {
  return BmcCredentialsFileSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}

/** Endpoint and credentials of `host`'s BMC. */
export async function readBmcCredentials(description: TestbedDescription, host: TestbedHost): Promise<BmcCredentials> {
  const file = await readBmcCredentialsFile(description.credentialsFile);
  const credentials = file.hosts[host.name];
  if (!credentials) throw new MissingBmcCredentialsError(host.name, description.credentialsFile);
  return credentials;
}

/**
 * `Host.fenceNode` params that power-manage `host` through its BMC. The IPMI port is passed as the
 * agent option `ipport=`: VDSM's `port` parameter is the fence agent's *plug*, not the BMC's UDP port.
 */
/** What a fence agent is asked to do against this BMC (plain IPMI `lan`; the UDP port as `ipport=`). */
export function fenceRequestFor(credentials: BmcCredentials, action: FenceAction): FenceRequest {
  return {
    addr: credentials.address,
    port: '',
    agent: 'ipmilan',
    username: credentials.username,
    password: credentials.password,
    action,
    secure: false,
    options: `ipport=${credentials.port}`,
  };
}

/** The same as `Host.fenceNode` params (VDSM's order and names). */
export function fenceNodeParamsFor(credentials: BmcCredentials, action: FenceAction): Record<string, unknown> {
  return { ...fenceRequestFor(credentials, action), policy: null };
}
