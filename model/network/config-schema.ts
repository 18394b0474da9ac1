/** zod schemas of the canonical config, for the agent's own files (running and safe config) read back from disk. */
import { z } from 'zod';
import { BootProto } from './config';

/** A network's outbound QoS (model/network/host-qos.ts `HostQos`). */
const HostQosSchema = z.object({ ls: z.number().int(), ul: z.number().int().optional(), rt: z.number().int().optional() }).strict();

/** A device's QoS tree (`DeviceQos`): in a pending transaction, what its rollback builds again. */
export const DeviceQosSchema = z
  .object({ classes: z.array(HostQosSchema.extend({ minor: z.number().int() })), vlans: z.array(z.number().int()) })
  .strict();

export const NetworkConfigSchema = z
  .object({
    nic: z.string().optional(),
    bonding: z.string().optional(),
    vlan: z.number().int().optional(),
    mtu: z.number().int(),
    bridged: z.boolean(),
    stp: z.boolean(),
    bootproto: z.enum(BootProto),
    ipaddr: z.string().optional(),
    prefix: z.number().int().optional(),
    gateway: z.string().optional(),
    ipv6addr: z.string().optional(),
    ipv6gateway: z.string().optional(),
    dhcpv6: z.boolean(),
    ipv6autoconf: z.boolean(),
    defaultRoute: z.boolean(),
    nameservers: z.array(z.string()),
    custom: z.record(z.string(), z.string()).optional(),
    hostQos: HostQosSchema.optional(),
  })
  .strict();

export const BondConfigSchema = z.object({ nics: z.array(z.string()), options: z.string(), hwaddr: z.string().optional() }).strict();

/** `RunningConfig.releasedDevices`: NICs a network left, IPv6 kept off. */
export const ReleasedDevicesSchema = z.array(z.string().min(1));

export const RunningConfigSchema = z.object({
  networks: z.record(z.string(), NetworkConfigSchema),
  bonds: z.record(z.string(), BondConfigSchema),
  releasedDevices: ReleasedDevicesSchema.optional(),
});

/** A DHCP client the agent runs (`DhcpClientSpec`): kept in the DHCP registry and in a pending transaction. */
export const DhcpClientSpecSchema = z
  .object({
    dev: z.string(),
    family: z.union([z.literal(4), z.literal(6)]),
    table: z.number().int(),
    defaultRoute: z.boolean(),
    sourceRouting: z.boolean(),
  })
  .strict();
