#!/bin/bash
# PID 1 of a full-kernel testbed guest (User-Mode Linux), for a host or for the top-of-rack router.
#
# The guest's root is this machine's file system (hostfs), so everything below runs the machine's own
# programs. It mounts what a booted Linux has (proc, sys, a fresh /run), loads the network modules, wires
# the NICs, applies the factory network configuration and starts the boot command (the agent), then reaps
# children forever. The kernel passes HOSTPROV_GUEST_CONF (from its command line) in the environment: a
# file of bash variables written by testbed/uml/guest-config.ts.
#
# NICs: the UML network driver cannot raise a device's MTU after boot (its maximum is its boot MTU, and
# it has no MTU-change operation). So each NIC of a host is the guest end of a veth pair whose other end
# is bridged, in a hidden "hw" namespace, to the tap device (vecN, booted at the testbed's jumbo MTU): the
# host's NICs change MTU freely, and frames up to the jumbo size really cross the wire.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "hostprov-guest: $*"; }

conf=${HOSTPROV_GUEST_CONF:-}
if [[ -z $conf || ! -r $conf ]]; then
  say "no guest configuration (HOSTPROV_GUEST_CONF=${conf:-unset})"
  exec sleep infinity
fi
# shellcheck source=/dev/null
source "$conf"

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# A fresh /run: the guest's own netns names, pid files and sockets, never the machine's.
mount -t tmpfs -o mode=0755 run /run
mkdir -p /run/lock
# The testbed has no DNS; programs in the guest must never touch the machine's resolv.conf.
printf '# hostprov testbed guest %s: the testbed has no DNS\noptions timeout:1 attempts:1\n' "$GUEST_NAME" >/run/resolv.conf
mount --bind /run/resolv.conf /etc/resolv.conf
hostname "$GUEST_NAME"

# modprobe looks for modules under DIR/lib/modules/<release>; the UML kernel's live in /usr/lib/uml.
mkdir -p "/run/modules/lib/modules"
ln -s "$MODULES_DIR" "/run/modules/lib/modules/$(uname -r)"
modprobe -d /run/modules ipv6
modprobe -d /run/modules bridge
modprobe -d /run/modules veth
modprobe -d /run/modules 8021q
# max_bonds=0: no stray bond0 when the module loads.
modprobe -d /run/modules bonding max_bonds=0
# Host QoS (hostQos): HFSC classes with fq_codel leaves, VLANs told apart by a `basic` filter's meta match.
for module in sch_hfsc sch_fq_codel cls_basic em_meta; do modprobe -d /run/modules "$module"; done
sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip link set lo up

wire_host_nics() {
  local j
  ip netns add hw
  ip -n hw link set lo up
  for j in "${!NICS[@]}"; do
    ip link set "vec$j" netns hw
    ip link add "${NICS[$j]}" address "${NIC_MACS[$j]}" mtu "$FACTORY_MTU" type veth peer name "p$j" netns hw
    ip -n hw link set "p$j" mtu "$WIRE_MTU"
    ip -n hw link add "b$j" type bridge stp_state 0 forward_delay 0
    ip -n hw link set "vec$j" master "b$j" up
    ip -n hw link set "p$j" master "b$j" up
    ip -n hw link set "b$j" up
  done
}

dhcp_on() {
  local dev=$1
  dhclient -4 -cf "$DHCLIENT_CONF" -sf "$DHCLIENT_SCRIPT" -pf "$RUNTIME_DIR/dhclient.$dev.pid" \
    -lf "$RUNTIME_DIR/dhclient.$dev.leases" "$dev" </dev/null >>"$RUNTIME_DIR/dhclient.log" 2>&1
}

factory_network() {
  local nic dev
  for nic in "${NICS[@]}"; do ip link set dev "$nic" up; done
  dev=${FACTORY_NICS[0]}
  if [[ -n $FACTORY_BOND ]]; then
    ip link add "$FACTORY_BOND" type bond "${FACTORY_BOND_OPTIONS[@]}"
    # A NIC must be down to be enslaved; the bond brings it up.
    for nic in "${FACTORY_NICS[@]}"; do
      ip link set dev "$nic" down
      ip link set dev "$nic" master "$FACTORY_BOND"
    done
    ip link set dev "$FACTORY_BOND" up
    dev=$FACTORY_BOND
  fi
  if [[ -n $FACTORY_VLAN ]]; then
    ip link add link "$dev" name "$dev.$FACTORY_VLAN" type vlan id "$FACTORY_VLAN"
    dev=$dev.$FACTORY_VLAN
    ip link set dev "$dev" up
  fi
  case $FACTORY_BOOT in
    static)
      ip addr add "$FACTORY_ADDRESS" dev "$dev"
      if [[ -n $FACTORY_GATEWAY ]]; then ip route add default via "$FACTORY_GATEWAY" dev "$dev"; fi
      ;;
    dhcp) dhcp_on "$dev" ;;
  esac
  say "factory network on $dev ($FACTORY_BOOT)"
}

router_network() {
  ip link set vec0 name eth0
  ip link set eth0 up
  ip addr add "$ROUTER_ADDRESS" dev eth0
  ip route add default via "$ROUTER_GATEWAY" dev eth0
  ip link add link eth0 name "eth0.$ROUTER_VLAN" mtu "$WIRE_MTU" type vlan id "$ROUTER_VLAN"
  ip link set "eth0.$ROUTER_VLAN" up
  ip addr add "$ROUTER_VLAN_ADDRESS" dev "eth0.$ROUTER_VLAN"
  sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  "${DNSMASQ_ARGV[@]}" </dev/null &
  say "router up: VLAN $ROUTER_VLAN on eth0, DHCP served"
}

# Started again when it fails, as the agent's systemd unit does (Restart=on-failure, RestartSec=2s): a
# killed agent then finds the same boot's runtime directory and finishes what it left pending. A clean exit
# ends it.
start_boot_command() {
  cd "$BOOT_CWD" 2>/dev/null || cd /
  (
    while :; do
      env -i "${BOOT_ENV[@]}" "${BOOT_ARGV[@]}" </dev/null
      status=$?
      ((status == 0)) && exit 0
      say "boot command failed (status $status): starting it again in 2 s"
      sleep 2
    done
  ) &
  say "boot command started under its supervisor: pid $!"
}

case $ROLE in
  host)
    # What a packaged host gets (packaging/sysctl.d, as VDSM sets it): ARP answered only on the NIC holding
    # the address. All the guest's NICs are on one switch; otherwise any of them, a bond's slave or a free NIC,
    # may answer for the factory address, and the manager loses the agent when that NIC goes away.
    sysctl -q -w "${SYSCTLS[@]}"
    # A fresh runtime directory at every boot, like /run on a real host.
    mkdir -p "$RUNTIME_DIR" && mount -t tmpfs -o mode=0700 runtime "$RUNTIME_DIR"
    wire_host_nics
    factory_network
    start_boot_command
    ;;
  router) router_network ;;
  *) say "unknown role $ROLE" ;;
esac

# PID 1 reaps orphans until the power goes.
while :; do wait -n 2>/dev/null || sleep 5; done
