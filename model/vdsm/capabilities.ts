/**
 * VDSM's network capabilities on the wire (docs/vdsm-verbs.md#capabilities): what `Host.getCapabilities` and
 * `Host.getNetworkCapabilities` return. Real VDSM adds many more keys, so every object passes unknown keys
 * through; `mtu` is a string on VDSM (a number is tolerated), `netConfigDirty` is the string "True"/"False".
 *
 * Example (abridged):
 * ```json
 * { "nics": { "eth0": { "hwaddr": "52:54:00:12:34:56", "mtu": "1500", "addr": "198.18.1.10", "netmask": "255.255.255.0",
 *                       "ipv4addrs": ["198.18.1.10/24"], "gateway": "198.18.1.1", "dhcpv4": false, ... } },
 *   "bondings": {}, "vlans": {}, "bridges": {}, "networks": {}, "nameservers": ["198.18.1.1"],
 *   "supportsIPv6": true, "netConfigDirty": "False", "lastClientIface": "eth0", "clusterLevels": ["4.2", ..., "4.8"] }
 * ```
 */
import { z } from 'zod';

const mtu = z.union([z.string(), z.number()]);

/** Fields every reported device carries (`_devinfo`). */
export const DeviceInfo = z
  .object({
    addr: z.string().default(''),
    netmask: z.string().default(''),
    ipv4addrs: z.array(z.string()).default([]),
    ipv6addrs: z.array(z.string()).default([]),
    gateway: z.string().default(''),
    ipv6gateway: z.string().default('::'),
    ipv4defaultroute: z.boolean().default(false),
    ipv6autoconf: z.boolean().default(false),
    mtu: mtu.default('1500'),
    dhcpv4: z.boolean().default(false),
    dhcpv6: z.boolean().default(false),
  })
  .passthrough();
export type DeviceInfo = z.infer<typeof DeviceInfo>;

export const NicInfo = DeviceInfo.extend({
  hwaddr: z.string().default(''),
  speed: z.number().default(0),
  permhwaddr: z.string().optional(),
  ad_aggregator_id: z.string().optional(),
});
export type NicInfo = z.infer<typeof NicInfo>;

export const BondInfo = DeviceInfo.extend({
  hwaddr: z.string().default(''),
  slaves: z.array(z.string()).default([]),
  active_slave: z.string().default(''),
  opts: z.record(z.string(), z.string()).default({}),
  switch: z.string().default('legacy'),
  speed: z.number().optional(),
});
export type BondInfo = z.infer<typeof BondInfo>;

export const VlanInfo = DeviceInfo.extend({
  iface: z.string(),
  vlanid: z.number(),
});
export type VlanInfo = z.infer<typeof VlanInfo>;

export const BridgeInfo = DeviceInfo.extend({
  ports: z.array(z.string()).default([]),
  stp: z.string().default('off'),
  opts: z.record(z.string(), z.string()).default({}),
});
export type BridgeInfo = z.infer<typeof BridgeInfo>;

/** One QoS curve: `m2` is the average rate (bits/s; for link share, the share). */
const QosCurve = z.object({ m2: z.number().int().min(0).optional() }).passthrough();

/** A network's outbound QoS as VDSM reports it (`{out: {ls, ul, rt}}`, the shape hostSetupNetworks sends). */
export const HostQosInfo = z
  .object({ out: z.object({ ls: QosCurve.optional(), ul: QosCurve.optional(), rt: QosCurve.optional() }).passthrough().optional() })
  .passthrough();
export type HostQosInfo = z.infer<typeof HostQosInfo>;

export const NetworkInfo = DeviceInfo.extend({
  iface: z.string(),
  bridged: z.boolean(),
  switch: z.string().default('legacy'),
  southbound: z.string().optional(),
  vlanid: z.number().optional(),
  ports: z.array(z.string()).optional(),
  stp: z.string().optional(),
  interface: z.string().optional(),
  hostQos: HostQosInfo.optional(),
});
export type NetworkInfo = z.infer<typeof NetworkInfo>;

export const NetworkCapabilities = z
  .object({
    nics: z.record(z.string(), NicInfo).default({}),
    bondings: z.record(z.string(), BondInfo).default({}),
    vlans: z.record(z.string(), VlanInfo).default({}),
    bridges: z.record(z.string(), BridgeInfo).default({}),
    networks: z.record(z.string(), NetworkInfo).default({}),
    nameservers: z.array(z.string()).default([]),
    supportsIPv6: z.boolean().default(true),
    netConfigDirty: z.union([z.literal('True'), z.literal('False')]).default('False'),
  })
  .passthrough();
export type NetworkCapabilities = z.infer<typeof NetworkCapabilities>;

export const Capabilities = NetworkCapabilities.extend({
  /** Device owning the host-side address of the connection that asked (docs/vdsm-verbs.md#lastclientiface); `''` when unknown. */
  lastClientIface: z.string().default(''),
  software_version: z.string().optional(),
  software_revision: z.string().optional(),
  version_name: z.string().optional(),
  clusterLevels: z.array(z.string()).default([]),
  supportedENGINEs: z.array(z.string()).optional(),
});
export type Capabilities = z.infer<typeof Capabilities>;
