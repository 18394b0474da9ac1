/**
 * Plan ops → `ip -batch` lines (pure). One op is one line; `apply.ts` feeds consecutive lines to one `ip`
 * process (IPv6 rules to an `ip -6` one, see {@link FamilyFlag}). Every token comes from a checker in
 * `arguments.ts`, so a line can never carry a second command, and every keyword is written out in full
 * (`name`, `dev`): iproute2 matches abbreviations, so a bare `ip link add d ...` would read `d` as `dynamic`.
 *
 * Line forms (the golden table in test/agent/backend/batch.test.ts has one case per kind):
 *   link add name ovirtmgmt address aa:bb:cc:dd:ee:ff mtu 1500 type bridge stp_state 0
 *   link add name bond0 type bond mode 802.3ad miimon 100          (options sorted by name)
 *   link add link bond0 name bond0.100 type vlan id 100
 *   link del dev ovirtmgmt
 *   link set dev eth0 address .. mtu 9000 master ovirtmgmt          (`nomaster` for master: null)
 *   link set dev ovirtmgmt type bridge stp_state 1 mcast_snooping 0 (`stp`, then bridge options by name; always last)
 *   link set dev eth0 up                                            (`link-up`; `link-down` writes `down`)
 *   addr add|del 198.18.1.5/24 dev ovirtmgmt
 *   route add|del default via 198.18.1.1 dev ovirtmgmt table 254 proto static [src ..] [metric ..]
 *   rule add|del from 198.18.1.0/24 [to ..] table 1234 priority 3200
 *
 * Ordering facts the planner must honour (verified on kernel 6.18 / iproute2 6.1):
 * - Within one `link set` line the kernel applies address, then mtu, then master, then up/down
 *   (rtnetlink enslaves before bringing up, as bonds need). The plan keeps admin state in its own
 *   `link-up`/`link-down` lines anyway, after every enslaving line.
 * - Enslaving a port resets the bridge's MTU to the smallest MTU of its ports, forgetting an MTU given at
 *   `link add` or set earlier. Set the ports' MTU before or with the enslaving `link set`, and set the
 *   bridge's own MTU (if it must differ) only after its last port was added.
 * - Deleting the last IPv4 address of a device flushes every IPv4 route through it (in every table), and
 *   `link del` removes the link's addresses and routes: a later `route del` of such a route fails ("No such
 *   process"), so delete routes before addresses before links, or leave the implied deletes out; a route the
 *   plan keeps on such a device must be added again. Rules are not tied to links and always need their own
 *   `rule del`.
 * - A route via a gateway needs the gateway reachable at that moment: add the address (and bring the link
 *   up) first. A route on a link that is down is refused ("Device for nexthop is not up").
 * - Bonds: a mode change needs the bond down and without slaves; enslave a port while it is down (some
 *   kernels refuse an up port), i.e. `link set dev eth0 down`, `link set dev eth0 master bond0`, then `up`.
 * - VLANs: a VLAN's MTU cannot exceed its base's: raise the base first. Lowering the base lowers every VLAN
 *   above the new value with it (linux net/8021q/vlan.c vlan_device_event, NETDEV_CHANGEMTU), so setting
 *   MTUs bottom-up is right in both directions. A VLAN comes up only while its base is up (ENETDOWN,
 *   vlan_dev.c vlan_dev_open), and then takes the base's MAC if it was created with the base's: bring
 *   links up bottom-up, after every enslaving (a bond has its first port's MAC by then).
 */
import type { IpPlanOp, PlanOp } from '../../../model/net-state';
import { UnsafeBatchArgumentError } from '../errors';
import {
  checkedAddress,
  checkedBondMode,
  checkedBondOption,
  checkedBridgeOptions,
  checkedCidr,
  checkedIfname,
  checkedInteger,
  checkedMac,
  checkedProtocol,
  checkedTable,
  checkedU32,
} from './arguments';

export type { IpPlanOp } from '../../../model/net-state';

/**
 * Which `ip` process can run a line. iproute2 takes a rule's family only from `-4`/`-6`, never from its
 * addresses (`rule add from 2001:db8::/64 ...` without `-6` fails with "Invalid source address"), and `-6`
 * cannot be given per batch line: IPv6 rules must run in an `ip -6 -batch`. IPv4 address, route and rule
 * lines must not (iproute2 would reject their addresses), while link lines and IPv6 address and route lines
 * (whose addresses tell the family) run in either.
 */
export type FamilyFlag = '-6' | 'none' | 'either';

export interface BatchLine {
  /** One line of `ip -batch` input, without the newline. */
  text: string;
  familyFlag: FamilyFlag;
}

/** Route protocol written when a route-add does not name one: hostprov's routes are static configuration. */
export const DEFAULT_ROUTE_PROTOCOL = 'static';

const MTU_MIN = 68;
const MTU_MAX = 65535;

export function batchLineFromOp(op: IpPlanOp): BatchLine {
  return { text: tokensFromOp(op).join(' '), familyFlag: familyFlagOf(op) };
}

function familyFlagOf(op: IpPlanOp): FamilyFlag {
  switch (op.kind) {
    case 'rule-add':
    case 'rule-del':
      return op.rule.family === 6 ? '-6' : 'none';
    case 'route-add':
    case 'route-del':
      return op.route.family === 6 ? 'either' : 'none';
    case 'addr-add':
    case 'addr-del':
      return op.address.family === 6 ? 'either' : 'none';
    default:
      return 'either';
  }
}

export function batchLinesFromOps(ops: readonly IpPlanOp[]): BatchLine[] {
  return ops.map(batchLineFromOp);
}

function tokensFromOp(op: IpPlanOp): string[] {
  switch (op.kind) {
    case 'link-add':
      return linkAddTokens(op);
    case 'link-del':
      return ['link', 'del', 'dev', checkedIfname('name', op.name)];
    case 'link-set':
      return linkSetTokens(op);
    case 'link-up':
    case 'link-down':
      return ['link', 'set', 'dev', checkedIfname('name', op.name), op.kind === 'link-up' ? 'up' : 'down'];
    case 'addr-add':
    case 'addr-del': {
      const { address } = op;
      const max = address.family === 4 ? 32 : 128;
      return [
        'addr',
        op.kind === 'addr-add' ? 'add' : 'del',
        `${checkedAddress('address.address', address.address, checkedFamily('address.family', address.family))}/${checkedInteger('address.prefixLen', address.prefixLen, 0, max)}`,
        'dev',
        checkedIfname('address.dev', address.dev),
      ];
    }
    case 'route-add':
    case 'route-del':
      return routeTokens(op);
    case 'rule-add':
    case 'rule-del': {
      const { rule } = op;
      const family = checkedFamily('rule.family', rule.family);
      const tokens = ['rule', op.kind === 'rule-add' ? 'add' : 'del'];
      if (rule.from !== undefined) tokens.push('from', checkedCidr('rule.from', rule.from, family));
      if (rule.to !== undefined) tokens.push('to', checkedCidr('rule.to', rule.to, family));
      tokens.push('table', checkedTable('rule.table', rule.table), 'priority', checkedU32('rule.priority', rule.priority));
      return tokens;
    }
    default: {
      const unknown: never = op;
      throw new UnsafeBatchArgumentError('kind', (unknown as { kind?: unknown }).kind, 'not an ip op');
    }
  }
}

function linkAddTokens(op: Extract<PlanOp, { kind: 'link-add' }>): string[] {
  const tokens = ['link', 'add'];
  if (op.type === 'vlan') tokens.push('link', checkedIfname('vlanBase', op.vlanBase));
  else if (op.vlanBase !== undefined || op.vlanId !== undefined)
    throw new UnsafeBatchArgumentError('vlanBase', op.vlanBase ?? op.vlanId, 'only for type vlan');
  tokens.push('name', checkedIfname('name', op.name));
  if (op.mac !== undefined) tokens.push('address', checkedMac('mac', op.mac));
  if (op.mtu !== undefined) tokens.push('mtu', checkedInteger('mtu', op.mtu, MTU_MIN, MTU_MAX));
  if (op.type !== 'bridge' && op.stp !== undefined) throw new UnsafeBatchArgumentError('stp', op.stp, 'only for type bridge');
  if (op.type !== 'bridge' && op.bridgeOptions !== undefined)
    throw new UnsafeBatchArgumentError('bridgeOptions', op.bridgeOptions, 'only for type bridge');
  if (op.type !== 'bond' && (op.bondMode !== undefined || op.bondOptions !== undefined)) {
    throw new UnsafeBatchArgumentError('bondMode', op.bondMode ?? op.bondOptions, 'only for type bond');
  }
  switch (op.type) {
    case 'bridge':
      tokens.push('type', 'bridge');
      if (op.stp !== undefined) tokens.push('stp_state', op.stp ? '1' : '0');
      if (op.bridgeOptions !== undefined) tokens.push(...checkedBridgeOptions(op.bridgeOptions));
      break;
    case 'bond':
      tokens.push('type', 'bond');
      if (op.bondMode !== undefined) tokens.push('mode', checkedBondMode('bondMode', op.bondMode));
      for (const key of Object.keys(op.bondOptions ?? {}).sort()) tokens.push(...checkedBondOption(key, op.bondOptions?.[key]));
      break;
    case 'vlan':
      tokens.push('type', 'vlan', 'id', checkedInteger('vlanId', op.vlanId, 0, 4094));
      break;
    default:
      throw new UnsafeBatchArgumentError('type', (op as { type: unknown }).type, 'expected bridge, bond or vlan');
  }
  return tokens;
}

function linkSetTokens(op: Extract<PlanOp, { kind: 'link-set' }>): string[] {
  const tokens = ['link', 'set', 'dev', checkedIfname('name', op.name)];
  if (op.mac !== undefined) tokens.push('address', checkedMac('mac', op.mac));
  if (op.mtu !== undefined) tokens.push('mtu', checkedInteger('mtu', op.mtu, MTU_MIN, MTU_MAX));
  if (op.master === null) tokens.push('nomaster');
  else if (op.master !== undefined) tokens.push('master', checkedIfname('master', op.master));
  // `type ...` must come last: iproute2 hands everything after it to the link type's own parser.
  if (op.stp !== undefined || op.bridgeOptions !== undefined) tokens.push('type', 'bridge');
  if (op.stp !== undefined) tokens.push('stp_state', op.stp ? '1' : '0');
  if (op.bridgeOptions !== undefined) tokens.push(...checkedBridgeOptions(op.bridgeOptions));
  if (tokens.length === 4) throw new UnsafeBatchArgumentError('link-set', op, 'changes nothing');
  return tokens;
}

function routeTokens(op: Extract<PlanOp, { kind: 'route-add' | 'route-del' }>): string[] {
  const { route } = op;
  const family = checkedFamily('route.family', route.family);
  // A bare `default` is read by iproute2 as IPv4 unless a gateway says otherwise; `::/0` is unambiguous.
  const dst = route.dst === 'default' ? (family === 4 ? 'default' : '::/0') : checkedCidr('route.dst', route.dst, family);
  const tokens = ['route', op.kind === 'route-add' ? 'add' : 'del', dst];
  if (route.gateway !== undefined) tokens.push('via', checkedAddress('route.gateway', route.gateway, family));
  if (route.dev !== undefined) tokens.push('dev', checkedIfname('route.dev', route.dev));
  tokens.push('table', checkedTable('route.table', route.table));
  // Deleting without a protocol matches any; adding without one would read back as `boot`.
  const protocol = route.protocol ?? (op.kind === 'route-add' ? DEFAULT_ROUTE_PROTOCOL : undefined);
  if (protocol !== undefined) tokens.push('proto', checkedProtocol('route.protocol', protocol));
  if (route.src !== undefined) tokens.push('src', checkedAddress('route.src', route.src, family));
  if (route.metric !== undefined) tokens.push('metric', checkedU32('route.metric', route.metric));
  return tokens;
}

function checkedFamily(field: string, value: unknown): 4 | 6 {
  if (value === 4 || value === 6) return value;
  throw new UnsafeBatchArgumentError(field, value, 'expected 4 or 6');
}
