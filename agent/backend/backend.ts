/**
 * What the agent's network verbs need from the host: read the kernel state, apply a plan, and a few
 * questions (link types, routes, DNS, DHCP leases). The pipeline canonicalize → validate → plan → apply →
 * verify lives in the agent and the model; a backend only reads and executes.
 *
 * The one implementation is `createLinuxBackend` in linux-backend.ts (iproute2 + ISC dhclient), which imports
 * this interface; this file imports nothing back, so the two never form a cycle.
 */
import type { CreatableLinkType, Family, KernelState, Plan } from '../../model/net-state';
import type { DeviceQosState, QosAction } from '../../model/network/host-qos';
import type { ForeignDhcpClient } from './dhcp/foreign';
import type { ApplyOptions } from './iproute2/apply';
import type { ResolvConfFile } from './resolv-conf';
import type { DhcpLease } from './dhcp/lease';
import type { DhcpLeaseChange, LeaseWatchState } from './dhcp/manager';
import type { RouteLookup } from './iproute2/route-get';

export type { DhcpLease } from './dhcp/lease';
export type { DhcpLeaseChange } from './dhcp/manager';
export type { ForeignDhcpClient } from './dhcp/foreign';
export type { RouteLookup } from './iproute2/route-get';
export type { ApplyOptions } from './iproute2/apply';

/** What a read returns beyond the default (see {@link NetworkBackend.read}). */
export interface ReadScope {
  /** Only these links and their addresses. @default every link */
  links?: ReadonlySet<string>;
  /**
   * Those of `links` the caller expects to be gone. A read of a few links asks for each by name, which fails
   * for a link that does not exist; naming these makes it dump every link instead. @default none
   */
  absentLinks?: ReadonlySet<string>;
  /** Only the routes and rules of these families (an empty set: none). @default both */
  routeFamilies?: ReadonlySet<Family>;
  /**
   * NIC speeds from sysfs (production mode only): one file per NIC, read by the driver. Only the
   * capabilities report shows them, so the reads of a network change skip them.
   * @default false
   */
  speeds?: boolean;
}

export interface NetworkBackend {
  /**
   * Links, scope-global addresses, non-kernel routes of every table, and non-default rules. With `scope.links`,
   * only those links and their addresses; with `scope.routeFamilies`, only the routes and rules of those
   * families (each family left out is a dump not made): for the verify step, which looks at nothing else
   * (`linksVerified` and `routeFamiliesVerified` in model/network/verify.ts). Link speeds only with
   * `scope.speeds`.
   */
  read(scope?: ReadScope): Promise<KernelState>;
  /**
   * Executes `plan` in order. Throws `InvalidPlanOpError` before running anything if an op cannot be
   * rendered safely, and `PlanApplyError` naming the failed op otherwise (earlier ops stay applied).
   * `options` is for tests only (a pause in the middle of a batch).
   */
  apply(plan: Plan, options?: ApplyOptions): Promise<void>;
  /**
   * Whether reads show, and applies set, IPv6 on or off per device, whether it takes router advertisements and
   * whether it makes default routes of advertised routers (`LinkState.ipv6`, `ipv6Autoconf` and
   * `ipv6DefaultRouter`, `link-ipv6` ops): only where the backend acts on its own namespace (ipv6-sysctl.ts).
   */
  readonly controlsIpv6: boolean;
  /**
   * Gets the next apply ready (starts its `ip -batch` process ahead, batch-launcher.ts). Call it when the
   * agent is otherwise idle: starting a process blocks the event loop for the fork.
   */
  prepareApply(): void;
  /** The queueing of each device (`absent` for one that does not exist): for devices with a hostQos only. */
  readQos(devices: readonly string[]): Promise<Record<string, DeviceQosState>>;
  /** Changes devices' queueing (model/network/host-qos.ts), in one `tc -batch`; throws TcApplyError. */
  applyQos(actions: readonly QosAction[]): Promise<void>;
  /** Whether the kernel can create links of `type` (probed once, then cached). */
  supportsLinkType(type: CreatableLinkType): Promise<boolean>;
  /** The kernel's refusal for `type` (e.g. "Error: Unknown device type."), or null when supported. */
  unsupportedReason(type: CreatableLinkType): Promise<string | null>;
  /** `ip route get <destination>`: the device, source and gateway the kernel would use. */
  routeTo(destination: string): Promise<RouteLookup>;
  /** resolv.conf's nameservers, then those of the default-route network's DHCP lease. */
  nameservers(): Promise<string[]>;
  /** The resolv.conf the agent writes (the target namespace's own in `netns` mode), as it is now. */
  resolvConf(): ResolvConfFile;
  /** Puts that resolv.conf's text in place whole, or removes the file for `null` (undoing one the agent created). */
  setResolvConf(text: string | null): void;
  /** Leases our DHCP clients hold now. */
  dhcpLeases(): Promise<DhcpLease[]>;
  /** Devices and families with one of our DHCP clients running (capabilities' dhcpv4/dhcpv6). */
  dhcpClients(): Promise<Array<{ dev: string; family: Family }>>;
  /** DHCP clients the OS runs in this namespace (not ours), per device and family. */
  foreignDhcpClients(): Promise<ForeignDhcpClient[]>;
  /** Stops a foreign DHCP client (SIGTERM, no release: its address stays until the plan removes it). */
  stopForeignDhcpClient(client: ForeignDhcpClient): Promise<void>;
  /** Resolves with the lease on `dev` once there is one (VDSM's blocking DHCP); rejects with `DhcpLeaseTimeoutError`. */
  waitForDhcpLease(dev: string, family: Family, timeoutMs: number): Promise<DhcpLease>;
  /** Called when a DHCP client binds a new address or loses its lease (for the `|net|host_conn|no_id` event); returns unsubscribe. */
  onDhcpLeaseChange(listener: (change: DhcpLeaseChange) => void): () => void;
  /** Whether lease changes are watched (at once) or, the watch refused, polled for; for health and metrics. */
  dhcpLeaseWatch(): LeaseWatchState;
  /** Stops watching lease files. DHCP clients keep running: they outlive the agent process. */
  close(): void;
}
