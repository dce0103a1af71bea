#!/usr/bin/env bash
# lab/lab.sh — the lanjoin lab: the reference LAN built from network namespaces.
#
#            LAN 198.51.100.0/24, 2001:db8:1::/64  (${P}lan: bridge lan0)
#   +--------------+----------------+
#   |              |                |
#  ${P}gw         ${P}peer         ${P}host (em1)        containers: ${P}NAME
#  eth0 .254/::fe  eth0 .10/::10    em1 .76/::76          (lanjoin attaches them from ${P}host)
#  eth1 203.0.113.254, 2001:db8:2::fe
#   |   dnsmasq: DHCPv4 .150-.199, DHCPv6 ::1000-::1fff (2 min), RA 2001:db8:1::/64
#  ${P}out  eth0 203.0.113.1, 2001:db8:2::1; httpd :80, /cgi-bin/ip prints the client's address
#
# Only namespace names carry the prefix; link names inside namespaces are fixed. Nothing is
# created in the root network namespace. Run `lab.sh help` for the commands.
set -euo pipefail

readonly NODES=(lan gw out peer host)
readonly LAB_RUN_ROOT=/run/lanjoin-lab
readonly OVS_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema

usage() {
  cat <<'EOF'
usage: lab.sh [-p PREFIX] COMMAND [ARGS]
  up [--bridge-host | --ovs-host]   build the lab; return when it is usable
        --bridge-host   also make bridge br-em1 in host holding em1, em1's addresses/routes moved
        --ovs-host      same with an OVS (netdev datapath) bridge br-em1; starts OVS
  down                              remove everything of this prefix (idempotent, never fails)
  exec NODE CMD...                  run CMD in namespace ${PREFIX}NODE, with LANJOIN_STATE_DIR
                                    and LANJOIN_SPEC_DIR set to the lab's own (see env)
  env                               print `export LANJOIN_STATE_DIR=... LANJOIN_SPEC_DIR=...`:
                                    lanjoin run by hand in the lab keeps its records and
                                    persistent specs there, not in /run/lanjoin and
                                    /var/lib/lanjoin/specs; down removes them with the lab
  container add NAME [--with-8080]  netns ${PREFIX}NAME (lo only) running busybox httpd on :80
                                    (and :8080) serving hello.html; prints the httpd PID
  container del NAME                stop it, delete the netns (idempotent)
  container pid NAME                print the :80 httpd PID
  container list                    print container names
  ovs start|stop|env|status         OVS daemons inside ${PREFIX}host with a private run dir;
                                    `eval "$(lab.sh ovs env)"` points ovs-vsctl/ovs-appctl at it;
                                    status says whether it runs, and where (exit 3 if not)
  dir                               print the lab's directory (its files, logs, state)
PREFIX: -p PREFIX or $LAB_PREFIX, default "lj-".
LANJOIN_STATE_DIR and LANJOIN_SPEC_DIR, if set already, are passed on unchanged by exec (the
tests set their own). The docker plugin's directories are options (--socket, --state-dir).
EOF
}

die() {
  echo "lab: $*" >&2
  exit 1
}

P=${LAB_PREFIX:-lj-}
while getopts ':p:h' opt; do
  case $opt in
  p) P=$OPTARG ;;
  h)
    usage
    exit 0
    ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
done
shift $((OPTIND - 1))
[[ $P =~ ^[A-Za-z0-9][A-Za-z0-9_.]*-$ && ${#P} -le 32 ]] ||
  die "bad prefix '$P': letters, digits, '_' or '.', ending in a single '-' (so no prefix is a prefix of another)"
LAB_DIR=$LAB_RUN_ROOT/$P
OVS_DIR=$LAB_DIR/ovs
# lanjoin's state directory for what is attached in this lab (lanjoin creates it, mode 0700):
# records of the lab's attachments must not outlive the lab in the machine's /run/lanjoin.
LAB_STATE_DIR=$LAB_DIR/state
# and its spec directory (--persist): a persistent spec of the lab must not outlive it either
LAB_SPEC_DIR=$LAB_DIR/specs

ns() { printf '%s%s' "$P" "$1"; }
ns_exists() { [[ -e /run/netns/$1 ]]; }
# Run a command in a lab namespace. ip netns exec also gives it the namespace's /sys.
in_ns() {
  local n=$1
  shift
  ip netns exec "$(ns "$n")" "$@"
}
ipn() {
  local n=$1
  shift
  ip -n "$(ns "$n")" "$@"
}
# Write sysctls inside a lab namespace: in_sysctl NODE key=value...
in_sysctl() {
  local n=$1
  shift
  in_ns "$n" sysctl -qw "$@" >/dev/null
}

# Start "$@" in the background with no inherited fds beyond 0-2 (bats waits on fd 3; a daemon
# holding it would hang the test run). Output goes to $LOG. Prints the PID.
spawn() {
  local log=$1
  shift
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      if ((fd > 2)); then
        eval "exec $fd>&-" 2>/dev/null || true
      fi
    done
    exec "$@"
  ) </dev/null >>"$log" 2>&1 &
  echo $!
}

# wait_for DESCRIPTION SECONDS CMD...: poll CMD every 50 ms.
wait_for() {
  local what=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs * 20; i++)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.05
  done
  die "timed out after ${secs}s waiting for $what"
}

listening() { # NODE tcp|udp PORT
  local flag=-t
  [[ $2 == udp ]] && flag=-u
  [[ -n $(in_ns "$1" ss -Hln "$flag" "sport = :$3") ]]
}
no_tentative() { # NODE
  [[ -z $(ipn "$1" -6 addr show tentative) ]]
}
# True if process $1 exists and was started by this lab (its command line names the lab dir).
ours() {
  local -a args
  # mapfile, not tr: this runs for every process on the machine, and a process each is slow
  { mapfile -d '' args <"/proc/$1/cmdline"; } 2>/dev/null || return 1
  [[ ${args[*]} == *"$LAB_DIR/"* ]]
}

# True if $1 exists and is not a zombie (our daemons are reparented to PID 1, which may reap late).
running() {
  local stat
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# kill_pids PID...: TERM, wait up to 2 s, then KILL. Never fails.
kill_pids() {
  local pid i alive
  (($# > 0)) || return 0
  kill -TERM "$@" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    alive=()
    for pid in "$@"; do
      running "$pid" && alive+=("$pid")
    done
    ((${#alive[@]} > 0)) || return 0
    sleep 0.05
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    alive=()
    for pid in "$@"; do
      running "$pid" && alive+=("$pid")
    done
    ((${#alive[@]} > 0)) || return 0
    sleep 0.05
  done
  echo "lab: warning: could not kill ${alive[*]}" >&2
}

# Kill the processes recorded in pid files (if they are ours).
kill_pidfiles() {
  local f pid pids=()
  for f in "$@"; do
    pid=$(cat "$f" 2>/dev/null) || continue # gone meanwhile: its process exited
    [[ $pid =~ ^[0-9]+$ ]] && ours "$pid" && pids+=("$pid")
  done
  kill_pids "${pids[@]}"
}

# Delete a lab namespace and everything running in it. Never fails.
del_ns() {
  local name=$1 pids
  ns_exists "$name" || return 0
  pids=$(ip netns pids "$name" 2>/dev/null || true)
  # shellcheck disable=SC2086
  kill_pids $pids
  ip netns del "$name" 2>/dev/null || true
}

# The names in /run/netns, not `ip netns list`: that opens each entry, and an open of a FIFO
# someone left there waits for a writer forever (a lab teardown hung so once).
lab_namespaces() {
  local f
  for f in /run/netns/"$P"*; do
    [[ -e $f || -L $f ]] && echo "${f##*/}"
  done
  return 0
}

# --- OVS -------------------------------------------------------------------------------------

ovs_env() {
  echo "export OVS_RUNDIR='$OVS_DIR' OVS_DBDIR='$OVS_DIR' OVS_LOGDIR='$OVS_DIR' OVS_SYSCONFDIR='$OVS_DIR'"
  echo "export LAB_OVSDB='unix:$OVS_DIR/db.sock'"
}

ovs_running() {
  [[ -S $OVS_DIR/ovs-vswitchd.ctl ]] && ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" version >/dev/null 2>&1
}

# Say whether this lab's OVS runs, and where; exit 0 if it does, 3 if it does not.
ovs_status() {
  local pid
  if ovs_running; then
    pid=$(cat "$OVS_DIR/ovs-vswitchd.pid" 2>/dev/null || echo '?')
    echo "OVS of lab '$P': running in $(ns host) (ovs-vswitchd pid $pid), database unix:$OVS_DIR/db.sock"
    return 0
  fi
  echo "OVS of lab '$P': not running (start it with 'lab.sh ovs start' or 'lab.sh up --ovs-host')"
  return 3
}

vsctl() {
  OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR \
    ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=20 "$@"
}

# Veths hand the userspace datapath packets with partial checksums: TCP through OVS's netdev
# datapath fails unless TX checksum offload is off on both ends of every veth.
lab_veths_tx_off() {
  local spec n dev
  for spec in lan:p-gw lan:p-peer lan:p-host gw:eth0 gw:eth1 out:eth0 peer:eth0 host:em1; do
    n=${spec%%:*} dev=${spec#*:}
    in_ns "$n" ethtool -K "$dev" tx off >/dev/null 2>&1 || die "ethtool -K $dev tx off in $(ns "$n") failed"
  done
}

ovs_start() {
  ns_exists "$(ns host)" || die "lab '$P' is not up"
  if ovs_running; then
    return 0
  fi
  mkdir -p "$OVS_DIR"
  rm -f "$OVS_DIR/conf.db"
  ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA"
  local env=(env OVS_RUNDIR="$OVS_DIR" OVS_DBDIR="$OVS_DIR" OVS_LOGDIR="$OVS_DIR" OVS_SYSCONFDIR="$OVS_DIR")
  spawn "$OVS_DIR/start.log" ip netns exec "$(ns host)" "${env[@]}" ovsdb-server "$OVS_DIR/conf.db" \
    --remote="punix:$OVS_DIR/db.sock" --pidfile="$OVS_DIR/ovsdb-server.pid" \
    --unixctl="$OVS_DIR/ovsdb-server.ctl" --log-file="$OVS_DIR/ovsdb-server.log" \
    --detach --no-chdir >/dev/null
  wait_for "ovsdb-server" 10 test -S "$OVS_DIR/db.sock"
  vsctl --no-wait init
  spawn "$OVS_DIR/start.log" ip netns exec "$(ns host)" "${env[@]}" ovs-vswitchd "unix:$OVS_DIR/db.sock" \
    --pidfile="$OVS_DIR/ovs-vswitchd.pid" --unixctl="$OVS_DIR/ovs-vswitchd.ctl" \
    --log-file="$OVS_DIR/ovs-vswitchd.log" --detach --no-chdir >/dev/null
  wait_for "ovs-vswitchd" 20 ovs_running
  vsctl init # waits until ovs-vswitchd has read the database
  lab_veths_tx_off
}

ovs_stop() {
  [[ -d $OVS_DIR ]] || return 0
  local f pid pids=()
  # The PIDs first: a daemon removes its pid file while it exits, and rm -rf must not race
  # with a daemon still writing into the directory.
  for f in "$OVS_DIR/ovs-vswitchd.pid" "$OVS_DIR/ovsdb-server.pid"; do
    pid=$(cat "$f" 2>/dev/null) || continue
    if [[ $pid =~ ^[0-9]+$ ]] && ours "$pid"; then
      pids+=("$pid")
    fi
  done
  # --cleanup removes the datapath ports (the taps of the netdev datapath).
  if ovs_running; then
    timeout 10 ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" exit --cleanup >/dev/null 2>&1 || true
  fi
  if [[ -S $OVS_DIR/ovsdb-server.ctl ]]; then
    timeout 10 ovs-appctl -t "$OVS_DIR/ovsdb-server.ctl" exit >/dev/null 2>&1 || true
  fi
  kill_pids "${pids[@]}"
  rm -rf "$OVS_DIR" 2>/dev/null || {
    sleep 0.2
    rm -rf "$OVS_DIR"
  }
}

# --- up / down --------------------------------------------------------------------------------

write_cgi_ip() { # DOCROOT: /cgi-bin/ip prints the client's source address, one line
  mkdir -p "$1/cgi-bin"
  cat >"$1/cgi-bin/ip" <<'EOF'
#!/bin/busybox sh
# busybox httpd gives IPv6 clients as "[addr]" and IPv4 clients of its dual-stack socket as
# "::ffff:a.b.c.d"; print the plain address.
a=${REMOTE_ADDR#[}
a=${a%]}
a=${a#::ffff:}
printf 'Content-Type: text/plain\r\n\r\n%s\n' "$a"
EOF
  chmod 755 "$1/cgi-bin/ip"
}

# Move em1's global addresses and default routes onto $1 (which has em1's MAC).
move_uplink_to() {
  local br=$1
  in_sysctl host "net.ipv6.conf.$br.accept_dad=0" "net.ipv6.conf.$br.accept_ra=0"
  ipn host link set "$br" up
  ipn host route del default via 198.51.100.254 dev em1
  ipn host -6 route del default via 2001:db8:1::fe dev em1
  ipn host addr del 198.51.100.76/24 dev em1
  ipn host addr del 2001:db8:1::76/64 dev em1
  ipn host addr add 198.51.100.76/24 dev "$br"
  ipn host addr add 2001:db8:1::76/64 dev "$br" nodad
  ipn host route add default via 198.51.100.254 dev "$br"
  ipn host -6 route add default via 2001:db8:1::fe dev "$br"
}

lab_up() {
  local mode=
  while (($# > 0)); do
    case $1 in
    --bridge-host | --ovs-host)
      [[ -z $mode ]] || die "--bridge-host and --ovs-host exclude each other"
      mode=${1#--}
      ;;
    *) die "up: unknown argument '$1'" ;;
    esac
    shift
  done
  local n
  for n in "${NODES[@]}"; do
    ! ns_exists "$(ns "$n")" || die "lab '$P' is already up (namespace $(ns "$n") exists); run: lab.sh -p '$P' down"
  done
  [[ ! -e $LAB_DIR ]] || die "$LAB_DIR exists; run: lab.sh -p '$P' down"

  # From here on, a failure tears down whatever was built.
  # shellcheck disable=SC2154 # rc is assigned in the trap
  trap 'rc=$?; trap - EXIT; if ((rc != 0)); then echo "lab: up failed; removing the partial lab" >&2; lab_down; fi; exit $rc' EXIT
  mkdir -p "$LAB_DIR"
  echo "${mode:-plain}" >"$LAB_DIR/mode"

  for n in "${NODES[@]}"; do
    ip netns add "$(ns "$n")"
    ipn "$n" link set lo up
  done
  # Set before the links exist so they inherit it: the switch has no IPv6 at all, the other
  # lab nodes skip DAD (static addresses, usable at once) and ignore RAs. ${P}host is left at
  # kernel defaults except on em1 itself (lanjoin's own links there get the defaults).
  in_sysctl lan net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  for n in gw out peer; do
    in_sysctl "$n" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
  done
  in_sysctl gw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

  # The switch. Multicast snooping off: with no querier it only gets in the way of ND.
  ipn lan link add lan0 type bridge stp_state 0 mcast_snooping 0
  ipn lan link set lan0 up
  local port dev
  for n in gw peer host; do
    port=p-$n dev=eth0
    [[ $n == host ]] && dev=em1
    ipn lan link add "$port" type veth peer name "$dev" netns "$(ns "$n")"
    ipn lan link set "$port" master lan0 up
  done
  ipn gw link add eth1 type veth peer name eth0 netns "$(ns out)"
  in_sysctl host net.ipv6.conf.em1.accept_dad=0 net.ipv6.conf.em1.accept_ra=0

  ipn gw link set eth0 up
  ipn gw link set eth1 up
  ipn gw addr add 198.51.100.254/24 dev eth0
  ipn gw addr add 2001:db8:1::fe/64 dev eth0 nodad
  ipn gw addr add 203.0.113.254/24 dev eth1
  ipn gw addr add 2001:db8:2::fe/64 dev eth1 nodad

  ipn out link set eth0 up
  ipn out addr add 203.0.113.1/24 dev eth0
  ipn out addr add 2001:db8:2::1/64 dev eth0 nodad
  ipn out route add default via 203.0.113.254
  ipn out -6 route add default via 2001:db8:2::fe

  ipn peer link set eth0 up
  ipn peer addr add 198.51.100.10/24 dev eth0
  ipn peer addr add 2001:db8:1::10/64 dev eth0 nodad
  ipn peer route add default via 198.51.100.254
  ipn peer -6 route add default via 2001:db8:1::fe

  ipn host link set em1 up
  ipn host addr add 198.51.100.76/24 dev em1
  ipn host addr add 2001:db8:1::76/64 dev em1 nodad
  ipn host route add default via 198.51.100.254 dev em1
  ipn host -6 route add default via 2001:db8:1::fe dev em1

  # The outside host: tells each client its source address.
  write_cgi_ip "$LAB_DIR/out-www"
  echo "outside host $(ns out)" >"$LAB_DIR/out-www/index.html"
  spawn "$LAB_DIR/out-httpd.log" ip netns exec "$(ns out)" busybox httpd -f -p 80 \
    -h "$LAB_DIR/out-www" -c /dev/null >"$LAB_DIR/out-httpd.pid"

  # DHCPv4, DHCPv6 (stateful, 2001:db8:1::1000-1fff, with a DNS server) and RA on the LAN.
  # --no-ping: dnsmasq otherwise pings an address before offering it and clients wait ~3 s
  # for their lease.
  spawn "$LAB_DIR/dnsmasq.out" ip netns exec "$(ns gw)" dnsmasq --keep-in-foreground \
    --user=root --conf-file=/dev/null --no-resolv --no-hosts --port=0 \
    --pid-file="$LAB_DIR/dnsmasq.pid" \
    --interface=eth0 --bind-interfaces --dhcp-authoritative --no-ping \
    --dhcp-range=198.51.100.150,198.51.100.199,2m \
    --dhcp-option=option:router,198.51.100.254 \
    --enable-ra --dhcp-range=2001:db8:1::,ra-only,64 \
    --dhcp-range=2001:db8:1::1000,2001:db8:1::1fff,64,2m \
    --dhcp-option=option6:dns-server,[2001:db8:1::fe] \
    --dhcp-leasefile="$LAB_DIR/dnsmasq.leases" \
    --log-facility="$LAB_DIR/dnsmasq.log" --log-dhcp >/dev/null

  if [[ $mode == bridge-host ]]; then
    local mac
    mac=$(ipn host -j link show em1 | jq -r '.[0].address')
    ipn host link add br-em1 type bridge
    ipn host link set br-em1 address "$mac"
    ipn host link set em1 master br-em1
    move_uplink_to br-em1
  elif [[ $mode == ovs-host ]]; then
    ovs_start
    local mac
    mac=$(ipn host -j link show em1 | jq -r '.[0].address')
    vsctl -- add-br br-em1 -- set bridge br-em1 datapath_type=netdev "other-config:hwaddr=\"$mac\"" \
      -- add-port br-em1 em1
    wait_for "OVS bridge port br-em1" 10 ipn host link show br-em1
    move_uplink_to br-em1
    # The netdev datapath reads em1 with an AF_PACKET socket, so the kernel stack also gets
    # every frame em1 receives: with br-em1 carrying em1's MAC, the host answered pings and
    # SYNs twice (once on em1, once via OVS and the br-em1 tap). Make em1 a pure OVS port:
    # no IPv6 on it, IPv4 dropped by the reverse-path check (the way back is br-em1), no ARP.
    in_sysctl host net.ipv6.conf.em1.disable_ipv6=1 net.ipv4.conf.em1.rp_filter=1 \
      net.ipv4.conf.em1.arp_ignore=8
  fi

  wait_for "httpd on $(ns out):80" 10 listening out tcp 80
  wait_for "dnsmasq on $(ns gw):67" 10 listening gw udp 67
  for n in gw out peer host; do
    wait_for "IPv6 DAD in $(ns "$n")" 10 no_tentative "$n"
  done
  if [[ -n $mode ]]; then
    wait_for "$(ns host) to reach the gateway through br-em1" 10 \
      in_ns host busybox ping -c1 -W1 198.51.100.254
  fi
  trap - EXIT
}

lab_down() {
  local n
  set +e
  ovs_stop
  if [[ -d $LAB_DIR ]]; then
    kill_pidfiles "$LAB_DIR"/*.pid "$LAB_DIR"/c-*/*.pid
  fi
  while read -r n; do
    [[ -n $n ]] && del_ns "$n"
  done < <(lab_namespaces)
  # Anything of ours still alive (e.g. in a namespace already deleted by someone else).
  local pids=() p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    # Only processes inside some other network namespace: ours all run in lab namespaces.
    # (-ef: the same namespace inode, without a readlink process for each of them)
    [[ ! /proc/$p/ns/net -ef /proc/$$/ns/net ]] || continue
    ours "$p" && pids+=("$p")
  done
  kill_pids "${pids[@]}"
  rm -rf "$LAB_DIR"
  rmdir "$LAB_RUN_ROOT" 2>/dev/null
  set -e
  return 0
}

# --- containers ---------------------------------------------------------------------------------

check_container_name() {
  [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_.]{0,12}$ ]] ||
    die "bad container name '$1' (1-13 of letters, digits, '_', '.'; so p-NAME fits IFNAMSIZ)"
  local n
  for n in "${NODES[@]}"; do
    [[ $1 != "$n" ]] || die "container name '$1' is a lab node"
  done
}

container_add() {
  local name=${1:-} with8080=0
  [[ -n $name ]] || die "usage: container add NAME [--with-8080]"
  shift
  while (($# > 0)); do
    case $1 in
    --with-8080) with8080=1 ;;
    *) die "container add: unknown argument '$1'" ;;
    esac
    shift
  done
  check_container_name "$name"
  ns_exists "$(ns lan)" || die "lab '$P' is not up"
  local cns cdir
  cns=$(ns "$name") cdir=$LAB_DIR/c-$name
  ! ns_exists "$cns" || die "container '$name' exists (namespace $cns)"
  # shellcheck disable=SC2154 # rc is assigned in the trap
  trap 'rc=$?; trap - EXIT; if ((rc != 0)); then container_del "$name"; fi; exit $rc' EXIT
  mkdir -p "$cdir/www"
  printf 'Hello world\n' >"$cdir/www/hello.html"
  write_cgi_ip "$cdir/www"
  ip netns add "$cns"
  ip -n "$cns" link set lo up
  spawn "$cdir/httpd.log" ip netns exec "$cns" busybox httpd -f -p 80 -h "$cdir/www" -c /dev/null \
    >"$cdir/httpd.pid"
  wait_for "httpd in $cns:80" 10 listening "$name" tcp 80
  if ((with8080)); then
    spawn "$cdir/httpd-8080.log" ip netns exec "$cns" busybox httpd -f -p 8080 -h "$cdir/www" \
      -c /dev/null >"$cdir/httpd-8080.pid"
    wait_for "httpd in $cns:8080" 10 listening "$name" tcp 8080
  fi
  trap - EXIT
  cat "$cdir/httpd.pid"
}

container_del() {
  local name=${1:-}
  [[ -n $name ]] || die "usage: container del NAME"
  check_container_name "$name"
  set +e
  kill_pidfiles "$LAB_DIR/c-$name"/*.pid
  del_ns "$(ns "$name")"
  rm -rf "${LAB_DIR:?}/c-$name"
  set -e
  return 0
}

container_pid() {
  local name=${1:-}
  [[ -n $name ]] || die "usage: container pid NAME"
  check_container_name "$name"
  local f=$LAB_DIR/c-$name/httpd.pid
  [[ -f $f ]] || die "no container '$name' in lab '$P'"
  cat "$f"
}

container_list() {
  local d
  for d in "$LAB_DIR"/c-*; do
    [[ -d $d ]] && echo "${d##*/c-}"
  done
  return 0
}

# --- main ---------------------------------------------------------------------------------------

cmd=${1:-}
(($# > 0)) && shift
case $cmd in
up) lab_up "$@" ;;
down) lab_down ;;
exec)
  (($# >= 2)) || die "usage: exec NODE CMD..."
  node=$1
  shift
  ns_exists "$(ns "$node")" || die "no namespace $(ns "$node")"
  LANJOIN_STATE_DIR=${LANJOIN_STATE_DIR:-$LAB_STATE_DIR} LANJOIN_SPEC_DIR=${LANJOIN_SPEC_DIR:-$LAB_SPEC_DIR} \
    exec ip netns exec "$(ns "$node")" "$@"
  ;;
env) echo "export LANJOIN_STATE_DIR='$LAB_STATE_DIR' LANJOIN_SPEC_DIR='$LAB_SPEC_DIR'" ;;
container)
  sub=${1:-}
  (($# > 0)) && shift
  case $sub in
  add) container_add "$@" ;;
  del) container_del "$@" ;;
  pid) container_pid "$@" ;;
  list) container_list ;;
  *) die "usage: container add|del|pid|list ..." ;;
  esac
  ;;
ovs)
  case ${1:-} in
  start) ovs_start ;;
  stop) ovs_stop ;;
  env) ovs_env ;;
  status) ovs_status ;;
  *) die "usage: ovs start|stop|env|status" ;;
  esac
  ;;
dir) echo "$LAB_DIR" ;;
help | --help) usage ;;
*)
  usage >&2
  exit 2
  ;;
esac
