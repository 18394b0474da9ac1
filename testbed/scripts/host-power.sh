#!/usr/bin/env bash
# The power supply of one hostprov testbed host: a network namespace, or a full-kernel (User-Mode Linux)
# guest whose process runs in its own namespace (HOST_KIND=uml).
#
#   host-power.sh CONF DEVICE get power        prints power:1 while the host's boot command runs, else power:0
#   host-power.sh CONF DEVICE set power 1      boot: factory network, fresh runtime dir, start the boot command
#   host-power.sh CONF DEVICE set power 0      power off: NICs down, every process in the namespace stopped
#   host-power.sh CONF DEVICE set reset 1      off then on (only when on, like a reset button)
#   host-power.sh CONF DEVICE set boot X       accepted and ignored (boot device)
#
# CONF is the host's generated power.conf (bash variables, see testbed/power-config.ts). DEVICE is the
# BMC's IPMB address that ipmi_sim passes to its chassis_control program (unused: one BMC per host).
#
# ipmi_sim runs this through popen() and waits for it, and fence_ipmilan/ipmitool retransmit after ~1 s,
# so it must be quick; and nothing it starts may keep ipmi_sim's pipe (stdout) open. ipmi_sim reads
# errors from stdout, so failures are reported there; diagnostics go to the host's power.log.
#
# A fence runs it five times (status, off, status, on, status), twenty fences at once in `bench install-host`:
# what it does in bash itself (timestamps, parsing `ip` output, pid lists, waiting) costs no process, and
# only `ip`, the file commands and the boot command are started (docs/performance.md#what-a-reboot-costs).
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

conf=${1:-}
if [[ -z $conf || ! -r $conf ]]; then
  echo "host-power.sh: power config ${conf:-(none)} is missing"
  exit 1
fi
# shellcheck source=/dev/null
source "$conf"
shift 2 || { echo "usage: host-power.sh CONF DEVICE get|set ..."; exit 1; }
op=${1:-}
shift || true

# Close whatever the caller leaked to us (ipmi_sim's sockets): the boot command must not inherit them.
for fd_path in /proc/$$/fd/*; do
  fd=${fd_path##*/}
  # 255 is bash's own handle on this script.
  if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2 && fd < 255)); then eval "exec ${fd}>&-" 2>/dev/null; fi
done
exec 2>>"$HOST_DIR/power.log"

# UTC, milliseconds, as `date -u +%FT%T.%3NZ` printed it.
now_utc() {
  local now=$EPOCHREALTIME
  TZ=UTC printf -v REPLY '%(%FT%T)T.%sZ' "${now%[.,]*}" "${now#*[.,]}"
  REPLY=${REPLY:0:23}Z
}
note() { now_utc; printf '%s %s\n' "$REPLY" "$*" >>"$HOST_DIR/power.log"; }
console() { now_utc; printf '%s --- %s ---\n' "$REPLY" "$*" >>"$CONSOLE_LOG"; }

# Start time (clock ticks after boot) of a live process, in REPLY; fails for gone or zombie processes.
# Comparing it with the recorded one protects against pid reuse.
proc_start() {
  local stat rest fields
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  rest=${stat##*) }
  read -r -a fields <<<"$rest"
  [[ ${fields[0]} != Z && ${fields[0]} != X ]] || return 1
  REPLY=${fields[19]}
}

# The boot command's pid, in REPLY, when it is still running.
boot_pid() {
  local pid start
  [[ -s $HOST_DIR/boot.pid ]] || return 1
  read -r pid start <"$HOST_DIR/boot.pid" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  proc_start "$pid" || return 1
  [[ $REPLY == "$start" ]] || return 1
  REPLY=$pid
}

# The namespace's link names ("eth0" of "2: eth0@if7: <...>"), one a line.
links() {
  local _ name _rest
  while read -r _ name _rest; do
    name=${name%:}
    printf '%s\n' "${name%%@*}"
  done < <(ip -n "$NS" -o link show 2>/dev/null)
}

# A sleep without a `sleep` process: a read that times out on a pipe nobody writes to (opened at the first
# nap; nap_end closes it, so that nothing started later inherits it).
nap_fd=''
nap() {
  [[ -n $nap_fd ]] || exec {nap_fd}<> <(:)
  read -r -t "$1" -u "$nap_fd" _
}
nap_end() {
  if [[ -n $nap_fd ]]; then exec {nap_fd}>&-; fi
  nap_fd=''
}

is_nic() {
  local nic
  for nic in "${NICS[@]}"; do [[ $1 == "$nic" ]] && return 0; done
  return 1
}

# The namespace's processes, space-separated, or nothing (never ourselves, should someone run this script
# from inside the host).
ns_pids() {
  local pid pids=''
  while read -r pid; do
    [[ $pid == "$$" || $pid == "$BASHPID" ]] || pids+="$pid "
  done < <(ip netns pids "$NS" 2>/dev/null)
  printf '%s' "$pids"
}

# Every process in the namespace is part of the host: the boot command, its children, the factory
# dhclient. SIGTERM first (the boot command's whole process group), SIGKILL after the grace period.
stop_processes() {
  signal_processes
  nap_end
}
signal_processes() {
  local pid pids i
  if boot_pid; then
    pid=$REPLY
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  fi
  pids=$(ns_pids)
  # shellcheck disable=SC2086 # a list of pids
  [[ -n $pids ]] && kill -TERM $pids 2>/dev/null
  for ((i = 0; i < OFF_GRACE_TICKS; i++)); do
    [[ -z $(ns_pids) ]] && return 0
    nap 0.05
  done
  pids=$(ns_pids)
  note "SIGKILL after grace period: $pids"
  # shellcheck disable=SC2086
  [[ -n $pids ]] && kill -KILL $pids 2>/dev/null
  for ((i = 0; i < 40; i++)); do
    [[ -z $(ns_pids) ]] && return 0
    nap 0.05
  done
  note "processes still alive after SIGKILL: $(ns_pids)"
}

# (one `ip -batch` for all of them)
links_down() {
  local link commands=''
  for link in $(links); do
    [[ $link == lo ]] || commands+="link set dev $link down"$'\n'
  done
  [[ -z $commands ]] || ip -n "$NS" -force -batch - <<<"$commands" >/dev/null 2>&1
}

# A guest loses power at once: every process of its kernel (all in its namespace) gets SIGKILL together.
# Its taps stay, without a reader, so their carrier is off until the next boot opens them.
kill_guest() {
  kill_guest_processes
  nap_end
}
kill_guest_processes() {
  local pids i
  pids=$(ns_pids)
  # shellcheck disable=SC2086
  [[ -n $pids ]] && kill -KILL $pids 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    [[ -z $(ns_pids) ]] && return 0
    nap 0.05
  done
  note "guest processes still alive after SIGKILL: $(ns_pids)"
}

power_off() {
  if [[ ${HOST_KIND:-netns} == uml ]]; then
    kill_guest
  else
    # Links first: a host that lost power answers nothing, not even while its processes shut down.
    links_down
    stop_processes
  fi
  rm -f "$HOST_DIR/boot.pid"
}

# Re-creates a NIC that is gone (e.g. deleted by the software on the host), like re-plugging the cable.
replug_nic() {
  local i=$1
  note "re-creating missing NIC ${NICS[$i]}"
  ip link add "${NICS[$i]}" address "${NIC_MACS[$i]}" netns "$NS" type veth peer name "${NIC_PORTS[$i]}" netns "$SWITCH_NS" &&
    ip -n "$SWITCH_NS" link set dev "${NIC_PORTS[$i]}" master "$SWITCH_BRIDGE" up
}

# The routing tables the namespace's routes of family $1 (-4, -6) name, once each.
routing_tables() {
  local line
  local -A seen=()
  while read -r line; do
    [[ $line =~ (^|\ )table\ ([^ ]+) ]] && seen[${BASH_REMATCH[2]}]=1
  done < <(ip -n "$NS" "$1" -o route show table all 2>/dev/null)
  ((${#seen[@]} == 0)) || printf '%s\n' "${!seen[@]}"
}

# The commands on stdin, as one `ip -batch` in the host's namespace (one process instead of one per
# command: a boot ran ~30 `ip`s). -force: go on after a failing line, as the one-by-one version did; the
# failures go to power.log. Options such as -4 apply to the whole batch, hence one batch per family.
ip_batch() { ip -n "$NS" "$@" -force -batch - >/dev/null; }

# The factory state: only lo and the NICs, no addresses, routes, rules or neighbours we did not start with.
reset_network() {
  local link i table family present
  local -a present_links
  mapfile -t present_links < <(links)
  present=" ${present_links[*]} "
  for i in "${!NICS[@]}"; do
    [[ $present == *" ${NICS[$i]} "* ]] || replug_nic "$i"
  done
  {
    for link in $present; do
      [[ $link == lo ]] || is_nic "$link" || echo "link del dev $link"
    done
    for i in "${!NICS[@]}"; do
      echo "link set dev ${NICS[$i]} down nomaster"
      echo "addr flush dev ${NICS[$i]}"
      echo "link set dev ${NICS[$i]} mtu $FACTORY_MTU address ${NIC_MACS[$i]}"
    done
    echo "neigh flush all"
    echo "link set dev lo up"
  } | ip_batch
  reset_nic_ipv6
  for family in -4 -6; do
    {
      echo "route flush table main"
      for table in $(routing_tables "$family"); do
        [[ $table == local || $table == main ]] || echo "route flush table $table"
      done
      # flush keeps only priority 0 (lookup local); put back the other factory rules.
      echo "rule flush"
      echo "rule add priority 32766 table main"
      [[ $family == -4 ]] && echo "rule add priority 32767 table default"
    } | ip_batch "$family"
  done
}

# A booted kernel's NICs have IPv6 as net.ipv6.conf.default says (what an agent turned off, for a bridge
# port, is on again). One process in the namespace: /proc/sys/net is the namespace of its reader.
reset_nic_ipv6() {
  # shellcheck disable=SC2016
  ip netns exec "$NS" sh -c '
    for nic do
      for switch in accept_ra_defrtr autoconf accept_ra accept_redirects disable_ipv6; do
        [ -e "/proc/sys/net/ipv6/conf/$nic/$switch" ] && cat "/proc/sys/net/ipv6/conf/default/$switch" >"/proc/sys/net/ipv6/conf/$nic/$switch"
      done
    done
    true' sh "${NICS[@]}" 2>/dev/null || note "could not reset the NICs' IPv6 switches"
}

apply_factory_config() {
  local nic
  {
    for nic in "${NICS[@]}"; do echo "link set dev $nic up"; done
    if [[ $FACTORY_BOOT == static ]]; then
      echo "addr add $FACTORY_ADDRESS dev ${NICS[0]}"
      if [[ -n $FACTORY_GATEWAY ]]; then echo "route add default via $FACTORY_GATEWAY dev ${NICS[0]}"; fi
    fi
  } | ip_batch
  if [[ $FACTORY_BOOT == dhcp ]]; then
    # Blocks until bound (fast: the server is on the same switch), at most `timeout` from DHCLIENT_CONF;
    # then it keeps trying in the background like a real host's client.
    ip netns exec "$NS" dhclient -4 -cf "$DHCLIENT_CONF" -sf "$DHCLIENT_SCRIPT" \
      -pf "$RUNTIME_DIR/dhclient.${NICS[0]}.pid" -lf "$RUNTIME_DIR/dhclient.${NICS[0]}.leases" "${NICS[0]}" \
      </dev/null >>"$HOST_DIR/dhclient.log" 2>&1 9>&-
  fi
}

start_boot_command() {
  local pid start
  cd "$BOOT_CWD" 2>/dev/null || cd /
  # Own session (setsid does not fork here: a background job of a non-interactive shell is no group
  # leader), so $! is the boot command's pid and its process group can be signalled as a whole.
  setsid ip netns exec "$NS" env -i "${BOOT_ENV[@]}" "${BOOT_ARGV[@]}" </dev/null >>"$CONSOLE_LOG" 2>&1 9>&- &
  pid=$!
  if proc_start "$pid"; then start=$REPLY; else start=gone; fi
  printf '%s %s\n' "$pid" "$start" >"$HOST_DIR/boot.pid.tmp" && mv -f "$HOST_DIR/boot.pid.tmp" "$HOST_DIR/boot.pid"
  note "booted: pid $pid"
}

# A full-kernel host boots its own kernel: the guest wires its NICs, applies the factory network and
# starts the boot command itself (testbed/scripts/uml-guest-init.sh); its runtime dir is a fresh tmpfs.
power_on_uml() {
  local pid start
  kill_guest
  rm -rf -- "$HOST_DIR/uml"
  cd / || return 1
  setsid ip netns exec "$NS" env -i PATH="$PATH" TMPDIR=/dev/shm LD_PRELOAD="$UML_PRELOAD" "${UML_ARGV[@]}" \
    </dev/null >>"$CONSOLE_LOG" 2>&1 9>&- &
  pid=$!
  if proc_start "$pid"; then start=$REPLY; else start=gone; fi
  printf '%s %s\n' "$pid" "$start" >"$HOST_DIR/boot.pid.tmp" && mv -f "$HOST_DIR/boot.pid.tmp" "$HOST_DIR/boot.pid"
  note "booted guest kernel: pid $pid"
}

power_on() {
  boot_pid >/dev/null && return 0
  console "power on"
  if [[ ${HOST_KIND:-netns} == uml ]]; then
    power_on_uml
    return
  fi
  # Whatever survived a crashed boot command (e.g. the factory dhclient) dies with the old "boot".
  links_down
  stop_processes
  case $RUNTIME_DIR in
    /?*/*) rm -rf -- "$RUNTIME_DIR" && mkdir -p -- "$RUNTIME_DIR" ;;
    *) echo "refusing to wipe runtime dir '$RUNTIME_DIR'"; return 1 ;;
  esac
  reset_network
  apply_factory_config
  start_boot_command
}

lock() {
  exec 9>>"$HOST_DIR/power.lock"
  flock -w 30 9 || { echo "power control of $HOST is busy"; exit 1; }
}

case $op in
  get)
    for param in "$@"; do
      case $param in
        power) if boot_pid >/dev/null; then echo "power:1"; else echo "power:0"; fi ;;
        boot) echo "boot:default" ;;
        *) echo "Invalid parameter: $param"; exit 1 ;;
      esac
    done
    ;;
  set)
    lock
    while (($# > 0)); do
      param=$1
      value=${2:-}
      shift 2 || { echo "No value present for parameter $param"; exit 1; }
      case $param in
        power)
          case $value in
            1) power_on || exit 1 ;;
            0) if boot_pid >/dev/null; then console "power off"; fi; power_off ;;
            *) echo "Invalid power value: $value"; exit 1 ;;
          esac
          ;;
        reset)
          if [[ $value == 1 ]] && boot_pid >/dev/null; then
            console "reset"
            power_off
            power_on || exit 1
          fi
          ;;
        boot) ;;
        identify) shift || true ;; # identify takes interval and force
        *) echo "Invalid parameter: $param"; exit 1 ;;
      esac
    done
    ;;
  *)
    echo "Unknown operation: $op"
    exit 1
    ;;
esac
exit 0
