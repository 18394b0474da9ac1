#!/usr/bin/env bash
# dhclient's -sf script for a testbed host's factory DHCP: what the host OS's DHCP client would do on
# its first NIC, and nothing more. It sets the leased address (with the lease's lifetime) and the
# default route; it never touches resolv.conf (DNS is not part of the testbed).
# dhclient runs it inside the host's namespace with the lease in environment variables ($reason,
# $interface, $new_ip_address, $new_subnet_mask, $new_routers, $new_dhcp_lease_time, $old_*).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

remove_old_address() {
  if [[ -n ${old_ip_address:-} ]]; then
    ip -4 addr del "$old_ip_address/${old_subnet_mask:-32}" dev "$interface" 2>/dev/null
  fi
}

case ${reason:-} in
  PREINIT)
    ip link set dev "$interface" up
    ;;
  BOUND | RENEW | REBIND | REBOOT)
    if [[ -n ${old_ip_address:-} && $old_ip_address != "$new_ip_address" ]]; then remove_old_address; fi
    lifetime=${new_dhcp_lease_time:-forever}
    ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" valid_lft "$lifetime" preferred_lft "$lifetime"
    if [[ -n ${new_routers:-} ]]; then
      ip -4 route replace default via "${new_routers%% *}" dev "$interface"
    fi
    ;;
  EXPIRE | FAIL | RELEASE | STOP)
    remove_old_address
    ;;
  TIMEOUT)
    # No server answered; we do not reuse an old lease without a way to test it.
    exit 1
    ;;
esac
exit 0
