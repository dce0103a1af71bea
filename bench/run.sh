#!/usr/bin/env bash
# bench/run.sh — attach/detach latency of lanjoin against the floor (bench/floor.c: the fewest
# netlink requests, from a fresh process; for ovs and nat with one OVSDB or nftables
# transaction), the same work as plain `ip` commands, Debian's CNI reference plugins
# (containernetworking-plugins, static IPAM, invoked as runtimes do) and OVS's ovs-docker.
#
#   sudo bench/run.sh [--n 1,100,1000] [--ways LIST] [--methods LIST]
#                     [--rounds-1 R] [--out FILE] [--build-dir DIR]
#
#   --n LIST        containers per method and run (default 1,100,1000). N = 1 is repeated
#                   --rounds-1 times (default 30) so that it has percentiles too.
#   --ways LIST     bridge, macvlan, ovs, nat, routed (default: the ways this lanjoin
#                   implements; ovs only where Open vSwitch is installed)
#   --methods LIST  floor, floor-announce, lanjoin, lanjoin-default, lanjoin-tmpfs, ip, cni,
#                   lanjoin-cni,
#                   ovs-docker, lanjoin-bridge, floor-inproc, lanjoin-inproc, driver-inproc
#                   (default: all that are available; each way runs those that apply to
#                   it). lanjoin runs with --no-conflict-check,
#                   to do the same work as the others; lanjoin-default with lanjoin's defaults
#                   (an RFC 5227 ARP probe of the address first), for N <= 100 only (its extra
#                   cost does not depend on N); lanjoin-tmpfs is lanjoin with its state
#                   directory on tmpfs, only where /run is not tmpfs (the state files' cost).
#                   ip: the same work as `ip` commands (ovs: with `ovs-vsctl` and `ethtool`;
#                   nat: with one `nft`). ovs way only: ovs-docker (OVS's own script, with a
#                   stand-in `docker` that answers its `docker inspect`) and lanjoin-bridge
#                   (lanjoin's bridge attach, interleaved: the ovs target is <= 2x it).
#                   cni, lanjoin-cni, lanjoin-default: bridge and macvlan ways only.
#                   floor-announce (bridge and macvlan): the floor plus the one gratuitous
#                   ARP lanjoin has the kernel make (lj-bench-floor veth-announce,
#                   macvlan-announce), which the kernel copies to every port of the bridge or
#                   macvlan of the parent: what the announcement costs, beside the plain floor
#                   The -inproc methods (bridge and macvlan ways) run in one process
#                   (build/bench/lj-bench-inproc, bench/inproc.c), after the others, each call timed in that process
#                   against the in-process floor (floor-inproc: the floor's requests from a
#                   running process): lanjoin-inproc is lj_attach()/lj_detach() as `lanjoin
#                   watch` calls them, driver-inproc a running `lanjoin docker-plugin` over
#                   HTTP as dockerd calls it, plus dockerd's own share with the floor's
#                   requests; their report is a section of its own (the process's first
#                   attach apart, the plugin's share as join/leave)
#   --out FILE      the Markdown report (default bench/results-YYYY-MM-DD.md); the raw
#                   per-call results go beside it as .tsv
#   --build-dir DIR use this meson build directory (default: build, set up if missing)
#   --lanjoin PATH  the lanjoin binary to measure (default: the build's)
#   --readme        also put the summary into README.md (between its bench markers)
#
# Environment:
#   BENCH_ARGS      more options (e.g. for `sudo BENCH_ARGS="--n 1,100" ninja -C build bench`)
#   BENCH_PREFIX    the namespace prefix of the bench's lab (default "ljbench-"; letters,
#                   digits, '_', '.', ending in '-'); its files are in /run/lanjoin-bench/PREFIX.
#                   Use another one when a lab of that prefix exists (another bench runs)
#   BENCH_STATE_DIR lanjoin's state directory for the lanjoin methods (default
#                   /run/lanjoin-bench/PREFIX/state, removed at the end; one named here is kept)
#
# Everything runs in lab namespaces with the prefix $BENCH_PREFIX (default "ljbench-"):
# lab/lab.sh builds the lab, each method gets its own bridge (br-METHOD) and its own macvlan
# parent (mv-METHOD) in ${PREFIX}host, and N containers (plain namespaces ${PREFIX}METHOD-I)
# per method; for the ovs way an ovsdb-server and ovs-vswitchd in ${PREFIX}host (lab.sh ovs
# start: private sockets and files) with an OVS bridge os-METHOD per method; for the nat and
# routed ways an uplink up-METHOD per method (a veth, 198.18.x.1/20). One driver process (build/bench/lj-bench run) runs inside ${PREFIX}host and
# spawns every call, alternating the methods container by container (in a shuffled order),
# and times each from spawn to wait4() (wall time, ru_maxrss). Everything is removed
# at the end, also on failure or Ctrl-C. Timings are never asserted; the report shows ratios.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
P=${BENCH_PREFIX:-ljbench-}
RUN=/run/lanjoin-bench/$P
SHM_STATE=/dev/shm/lanjoin-bench-$P
CNI_DIR=/usr/lib/cni
T=$'\t'

usage() { sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; }
die() {
  echo "bench: $*" >&2
  exit 1
}

ns_list=(1 100 1000)
ways=
methods=
rounds1=30
out=
build=
lj_bin=
readme=0

# `ninja -C build bench` passes --build-dir only; more options can come from $BENCH_ARGS.
# shellcheck disable=SC2086 # split on purpose
set -- "$@" ${BENCH_ARGS:-}
while (($# > 0)); do
  case $1 in
  --n) IFS=, read -r -a ns_list <<<"$2" && shift ;;
  --ways) ways=${2//,/ } && shift ;;
  --methods) methods=${2//,/ } && shift ;;
  --rounds-1) rounds1=$2 && shift ;;
  --out) out=$2 && shift ;;
  --build-dir) build=$2 && shift ;;
  --lanjoin) lj_bin=$2 && shift ;;
  --readme) readme=1 ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
  shift
done
for n in "${ns_list[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ && $n -le 4000 ]] || die "--n: '$n' is not a count from 1 to 4000"
done
[[ $rounds1 =~ ^[1-9][0-9]*$ ]] || die "--rounds-1: '$rounds1' is not a count"
((EUID == 0)) || die "run as root (it builds network namespaces)"

# --- build ---------------------------------------------------------------------------------

if [[ -z $build ]]; then
  build=$REPO/build
  [[ -f $build/build.ninja ]] || meson setup "$build" "$REPO" >/dev/null
  ninja -C "$build" lanjoin bench/lj-bench bench/lj-bench-floor bench/lj-bench-inproc >/dev/null
fi
build=$(cd "$build" && pwd)
LJ=${lj_bin:-$build/lanjoin}
[[ $LJ == /* ]] || LJ=$PWD/$LJ
DRIVER=$build/bench/lj-bench
FLOOR=$build/bench/lj-bench-floor
INPROC=$build/bench/lj-bench-inproc
IP=$(command -v ip)
for f in "$LJ" "$DRIVER" "$FLOOR" "$IP"; do
  [[ -x $f ]] || die "$f is missing: build first (meson setup build && ninja -C build)"
done

supports_way() { # can this lanjoin attach WAY? (--dry-run against a namespace that exists)
  local out args=(--bridge x --ip 198.18.0.2/24)
  case $1 in
  macvlan | routed) args=(--parent x --ip 198.18.0.2/24) ;;
  nat) args=(--uplink x --address 198.18.0.2/24) ;;
  esac
  out=$(LANJOIN_STATE_DIR=$RUN/probe "$LJ" attach "$1" /proc/self/ns/net --dry-run \
    "${args[@]}" 2>&1) || true
  [[ $out != *"not implemented"* && $out != *"unknown way"* ]]
}
have_ovs() { command -v ovsdb-server && command -v ovs-vswitchd && command -v ovs-vsctl; } >/dev/null

# --- the in-process methods (lj-bench-inproc) ------------------------------------------------
# floor-inproc, lanjoin-inproc and driver-inproc run in one process per way and N, after the
# process methods' phase, with their own bridges, parents and containers (codes fi, li, di).

INPROC_METHODS=()
declare -A INPROC_CODE=([floor-inproc]="fi" [lanjoin-inproc]=li [driver-inproc]=di)

inproc_driver_available() { # does this lanjoin serve as a Docker plugin?
  [[ -x $INPROC ]] && "$LJ" docker-plugin --help >/dev/null 2>&1
}

inproc_default() { # the in-process methods available, for the default list
  [[ -x $INPROC ]] || return 0
  echo "floor-inproc lanjoin-inproc"
  inproc_driver_available && echo driver-inproc
  return 0
}

inproc_split() { # move the in-process methods from ALL_METHODS into INPROC_METHODS
  local m rest=()
  for m in "${ALL_METHODS[@]}"; do
    if [[ -n ${INPROC_CODE[$m]:-} ]]; then
      INPROC_METHODS+=("$m")
    else
      rest+=("$m")
    fi
  done
  ALL_METHODS=("${rest[@]}")
}

inproc_lab() { # their bridges and macvlan parents in the host
  local m c
  for m in "${INPROC_METHODS[@]}"; do
    c=${INPROC_CODE[$m]}
    ip -n "$H" link add "br-$c" type bridge
    ip -n "$H" link set "br-$c" up
    if [[ $c == "fi" ]]; then
      # the floor's share of a Join (its links stay until the leaves): a bridge of its own,
      # since a bridge takes at most 1024 ports (at N = 1000, br-fi would need 2000)
      ip -n "$H" link add br-fj type bridge
      ip -n "$H" link set br-fj up
    fi
    ip -n "$H" link add "mv-$c" type veth peer name "mw-$c"
    ip -n "$H" link set "mv-$c" up
    ip -n "$H" link set "mw-$c" up
  done
}

inproc_containers() { # N: their containers (containers() removed the previous run's)
  local m i
  ((${#INPROC_METHODS[@]})) || return 0
  for m in "${INPROC_METHODS[@]}"; do
    for ((i = 0; i < $1; i++)); do
      echo "netns add $P${INPROC_CODE[$m]}-$i"
    done
  done | ip -batch -
}

inproc_plugin_stop() {
  [[ -n $plugin_pid ]] || return 0
  kill "$plugin_pid" 2>/dev/null
  wait "$plugin_pid" 2>/dev/null
  plugin_pid=
}

# inproc_plugin_start: a `lanjoin docker-plugin` of its own in the lab's host (its socket and
# directory under $RUN), for driver-inproc; PLUGIN_SOCKET once it listens.
inproc_plugin_start() {
  local k
  PLUGIN_SOCKET=$RUN/plugin.sock
  rm -rf "$RUN/plugin" "$PLUGIN_SOCKET"
  # ip netns exec and env exec: $! is the plugin's PID
  ip netns exec "$H" env "$STATE_ENV" "$LJ" docker-plugin --socket "$PLUGIN_SOCKET" \
    --state-dir "$RUN/plugin" 2>>"$RUN/plugin.log" &
  plugin_pid=$!
  for ((k = 0; k < 100; k++)); do
    [[ -S $PLUGIN_SOCKET ]] && return 0
    kill -0 "$plugin_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 5 "$RUN/plugin.log" >&2
  die "lanjoin docker-plugin did not start (its log's end is above)"
}

# inproc_phase WAY N: the in-process methods' calls, interleaved, in one lj-bench-inproc.
inproc_phase() {
  local way=$1 n=$2 rounds=1 list args=()
  ((${#INPROC_METHODS[@]})) || return 0
  [[ $way == bridge || $way == macvlan ]] || return 0
  ((n == 1)) && rounds=$rounds1
  list=$(IFS=,; echo "${INPROC_METHODS[*]}")
  echo "bench: $way, N = $n, in process: ${INPROC_METHODS[*]}" >&2
  quiesce
  if [[ " ${INPROC_METHODS[*]} " == *" driver-inproc "* ]]; then
    inproc_plugin_start
    args=(--plugin-socket "$PLUGIN_SOCKET" --plugin-pid "$plugin_pid")
  fi
  ip netns exec "$H" env "$STATE_ENV" "$INPROC" --way "$way" --n "$n" --rounds "$rounds" \
    --prefix "$P" --methods "$list" --log "$RUN/calls.log" "${args[@]}" >>"$raw" &
  driver_pid=$!
  wait "$driver_pid" || {
    driver_pid=
    tail -n 20 "$RUN/calls.log" >&2
    die "an in-process call failed ($way, N = $n); the log's end is above; results so far in $raw"
  }
  driver_pid=
  inproc_plugin_stop
  check_clean
}

# --- cleanup (also on failure and Ctrl-C) -----------------------------------------------------

driver_pid=
plugin_pid=
cleanup() {
  local rc=$? n
  trap - EXIT INT TERM
  set +e
  if [[ -n $driver_pid ]]; then
    kill "$driver_pid" 2>/dev/null
    wait "$driver_pid" 2>/dev/null
  fi
  sleepers_stop
  inproc_plugin_stop
  # Containers first, in one ip process (lab.sh down handles them one by one).
  ip netns list 2>/dev/null | awk -v p="$P" 'index($1, p) == 1 { print "netns del " $1 }' |
    ip -batch - 2>/dev/null
  LAB_PREFIX=$P "$REPO/lab/lab.sh" down
  rm -rf "$RUN" "$SHM_STATE"
  rmdir /run/lanjoin-bench 2>/dev/null
  for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $n == "$P"* ]] && echo "bench: warning: namespace $n is left over" >&2
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ ! -e $RUN ]] || die "$RUN exists: another bench with prefix '$P' is running (BENCH_PREFIX)"
mkdir -p "$RUN/state" "$RUN/probe" "$SHM_STATE"
chmod 700 "$RUN/state" "$RUN/probe" "$SHM_STATE"

if [[ -z $ways ]]; then
  for w in bridge macvlan ovs nat routed; do
    [[ $w == ovs ]] && ! have_ovs && continue
    supports_way "$w" && ways+="${ways:+ }$w"
  done
fi
[[ -n ${ways// /} ]] || die "this lanjoin implements none of the ways bridge, macvlan, ovs, nat, routed"
for w in $ways; do
  case $w in
  bridge | macvlan | nat | routed) ;;
  ovs) have_ovs || die "the ovs way needs Open vSwitch: apt-get install openvswitch-switch" ;;
  *) die "--ways: unknown way '$w'" ;;
  esac
  supports_way "$w" || die "this lanjoin does not implement the $w way yet"
done
way_in() { [[ " $ways " == *" $1 "* ]]; }

# lanjoin speaks CNI when CNI_COMMAND is set (the CNI issue). Once the binary answers
# CNI_COMMAND=VERSION, the method "lanjoin-cni" joins the default methods: it runs $LJ as the
# plugin with the reference plugin's configuration, "type": "lanjoin" and the way in "mode"
# (see cni_conf).
lanjoin_cni_available() {
  local out
  out=$(printf '{"cniVersion":"1.0.0"}' | env -i CNI_COMMAND=VERSION "$LJ" 2>/dev/null) || return 1
  [[ $out == *supportedVersions* ]]
}

if [[ -z $methods ]]; then
  methods="floor floor-announce lanjoin lanjoin-default ip"
  [[ $(stat -f -c %T /run) == tmpfs ]] ||
    methods="floor floor-announce lanjoin lanjoin-default lanjoin-tmpfs ip"
  [[ -x $CNI_DIR/bridge && -x $CNI_DIR/macvlan ]] && methods+=" cni"
  lanjoin_cni_available && methods+=" lanjoin-cni"
  way_in ovs && [[ -x /usr/bin/ovs-docker ]] && methods+=" ovs-docker"
  way_in ovs && supports_way bridge && methods+=" lanjoin-bridge"
  methods+=" $(inproc_default)"
fi
for m in $methods; do
  case $m in
  floor | floor-announce | lanjoin | lanjoin-default | lanjoin-tmpfs | ip) ;;
  ovs-docker)
    if [[ ! -x /usr/bin/ovs-docker ]] || ! command -v uuidgen >/dev/null; then
      die "ovs-docker needs openvswitch-common and uuidgen"
    fi
    ;;
  lanjoin-bridge) supports_way bridge || die "this lanjoin does not implement the bridge way" ;;
  floor-inproc | lanjoin-inproc) [[ -x $INPROC ]] || die "$INPROC is missing: build first" ;;
  driver-inproc) inproc_driver_available || die "this lanjoin has no docker-plugin" ;;
  cni) [[ -x $CNI_DIR/bridge && -x $CNI_DIR/macvlan ]] ||
    die "the CNI plugins are missing: apt-get install containernetworking-plugins" ;;
  lanjoin-cni) lanjoin_cni_available || die "this lanjoin does not speak CNI yet" ;;
  *) die "--methods: unknown method '$m'" ;;
  esac
done
read -r -a ALL_METHODS <<<"$methods"
inproc_split

# METHODS, M: the methods of a run with N containers (lanjoin-default up to N = 100) of WAY
# (none: of any of the run's ways, whose containers exist); each way runs only the methods
# that apply to it.
methods_for() {
  local m
  METHODS=()
  for m in "${ALL_METHODS[@]}"; do
    [[ $m == lanjoin-default ]] && (($1 > 100)) && continue
    method_applies "$m" "${2:-}" && METHODS+=("$m")
  done
  M=${#METHODS[@]}
}
method_applies() { # METHOD [WAY]: WAY none: to any of the run's ways
  local w
  if [[ -z ${2:-} ]]; then
    for w in $ways; do
      method_applies "$1" "$w" && return 0
    done
    return 1
  fi
  case $1/$2 in
  floor/* | lanjoin/* | lanjoin-tmpfs/* | ip/*) return 0 ;;
  lanjoin-default/* | cni/* | lanjoin-cni/* | floor-announce/*) [[ $2 == bridge || $2 == macvlan ]] ;;
  ovs-docker/ovs | lanjoin-bridge/ovs) return 0 ;;
  *) return 1 ;;
  esac
}
methods_for 1

# Short codes for names: containers ${P}CODE-I, host ends CODE-vI.
declare -A CODE=([floor]=fl [lanjoin]=lj [ip]=ip [cni]=cn [lanjoin-cni]=lc [lanjoin-tmpfs]=lt
  [lanjoin-default]=ld [ovs-docker]=od [lanjoin-bridge]=lb [floor-announce]=fa)
# Each method its own /20 of 198.18.0.0/16: 198.18.(16k).0/20, gateway .1 (the in-process
# methods: 198.18.128.0/18).
declare -A NET=([floor]=0 [lanjoin]=1 [ip]=2 [cni]=3 [lanjoin-cni]=4 [lanjoin-tmpfs]=5
  [lanjoin-default]=6 [ovs-docker]=7 [lanjoin-bridge]=8 [floor-announce]=12)

set_addr() { # METHOD I: sets CIDR and GW (no subshell: schedules have thousands of calls)
  local k=${NET[$1]} off=$(($2 + 2))
  CIDR="198.18.$((16 * k + off / 256)).$((off % 256))/20"
  GW="198.18.$((16 * k)).1"
}
declare -A GW_OF=() # each method's gateway (the nat and routed uplinks' own address)
for m in "${!NET[@]}"; do
  set_addr "$m" 0
  GW_OF[$m]=$GW
done

# --- the ovs, nat and routed ways ---------------------------------------------------------------

OVSDB=
OVS_ENV=
NFT=$(command -v nft || true)
ETHTOOL=$(command -v ethtool || true)
VSCTL=$(command -v ovs-vsctl || true)
SLEEP=$(command -v sleep)

# ways_lab_up: what the ovs, nat and routed ways need in ${P}host. ovs: the lab's own OVS
# (lab.sh ovs start: ovsdb-server and ovs-vswitchd inside ${P}host, private run directory;
# lab.sh down stops it), an OVS bridge os-CODE (netdev datapath, as the lab's) per method,
# and for ovs-docker a stand-in `docker`. nat, routed: an uplink up-CODE per method (a veth
# whose other end uq-CODE stays in the host) holding the gateway address of the method's /20,
# so that the containers' LAN addresses lie on its subnet; IPv4 forwarding on and proxy_delay
# 0 (lanjoin changes neither when so); for nat, the floor's and ip's own nftables tables
# with lanjoin's maps and base chains (lanjoin makes its own table at its first attach).
ways_lab_up() {
  local m c t
  if way_in ovs; then
    LAB_PREFIX=$P "$REPO/lab/lab.sh" ovs start
    eval "$(LAB_PREFIX=$P "$REPO/lab/lab.sh" ovs env)"
    OVSDB=$LAB_OVSDB
    OVS_ENV="OVS_RUNDIR=$OVS_RUNDIR${T}OVS_DBDIR=$OVS_DBDIR${T}OVS_LOGDIR=$OVS_LOGDIR${T}OVS_SYSCONFDIR=$OVS_SYSCONFDIR"
    [[ -n $ETHTOOL ]] || die "the ovs way's ip method needs ethtool"
    for m in "${ALL_METHODS[@]}"; do
      method_applies "$m" ovs || continue
      ip netns exec "$H" "$VSCTL" --db="$OVSDB" --timeout=20 -- add-br "os-${CODE[$m]}" \
        -- set bridge "os-${CODE[$m]}" datapath_type=netdev
    done
    mkdir -p "$RUN/bin" "$RUN/pids"
    # ovs-docker asks `docker inspect -f '{{.State.Pid}}' CONTAINER`; the bench's containers
    # are namespaces, each with a sleeping process whose PID is in $RUN/pids/CONTAINER.
    # shellcheck disable=SC2016 # the stand-in's own $1..$4
    printf '%s\n' '#!/bin/sh' \
      "# bench/run.sh's stand-in for the one docker command ovs-docker runs" \
      '[ "$1 $2 $3" = "inspect -f {{.State.Pid}}" ] && exec cat "'"$RUN/pids/"'$4"' \
      'echo "docker stand-in: unexpected: $*" >&2' 'exit 1' >"$RUN/bin/docker"
    chmod 755 "$RUN/bin/docker"
  fi
  if way_in nat || way_in routed; then
    ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1
    for m in "${ALL_METHODS[@]}"; do
      method_applies "$m" nat || method_applies "$m" routed || continue
      c=${CODE[$m]}
      ip -n "$H" link add "up-$c" type veth peer name "uq-$c"
      ip -n "$H" link set "up-$c" up
      ip -n "$H" link set "uq-$c" up
      ip -n "$H" addr add "${GW_OF[$m]}/20" brd + dev "up-$c"
      ip netns exec "$H" sysctl -qw "net.ipv4.neigh.up-$c.proxy_delay=0"
    done
  fi
  if way_in nat; then
    [[ -n $NFT ]] || die "the nat way's ip method needs nft"
    for t in ljb_fl ljb_ip; do
      ip netns exec "$H" "$NFT" -f - <<EOF
add table ip $t
add map ip $t inbound { type ipv4_addr : verdict; }
add map ip $t outbound { type ipv4_addr : verdict; }
add chain ip $t prerouting { type nat hook prerouting priority -110; policy accept; }
add chain ip $t output { type nat hook output priority -110; policy accept; }
add chain ip $t postrouting { type nat hook postrouting priority 90; policy accept; }
add rule ip $t prerouting ip daddr vmap @inbound
add rule ip $t output ip daddr vmap @inbound
add rule ip $t postrouting ip saddr vmap @outbound
EOF
    done
  fi
}

# sleepers_start N: for ovs-docker, one sleeping process in each of its N containers (the
# PID its stand-in docker reports); sleepers_stop ends them (by PID, only while still a sleep).
sleepers_start() {
  local i ns
  way_in ovs && [[ " ${ALL_METHODS[*]} " == *" ovs-docker "* ]] || return 0
  for ((i = 0; i < $1; i++)); do
    ns=${P}od-$i
    ip netns exec "$ns" "$SLEEP" 1000000 </dev/null >/dev/null 2>&1 &
    echo "$!" >"$RUN/pids/$ns"
  done
}
sleepers_stop() {
  local f pid
  [[ -d $RUN/pids ]] || return 0
  for f in "$RUN/pids"/*; do
    [[ -f $f ]] || continue
    pid=$(<"$f")
    if [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == sleep ]]; then
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null || true # 143: the TERM it was sent
    fi
    rm -f "$f"
    [[ $pid =~ ^[0-9]+$ ]] && rm -f "/run/netns/$pid" # ovs-docker's link, if it left one
  done
  return 0
}

# The ip methods' common lines (call_ways's locals): ip_veth PREFIX, the veth pair H/eth1 and
# H up without IPv6 addresses; ip_in_ns CIDR GW [onlink], eth1 up, CIDR, the default route.
ip_veth() {
  echo "$1--$T$IP${T}link${T}add$T$hv${T}type${T}veth${T}peer${T}name${T}eth1${T}netns$T$ns"
  echo "$C--$T$IP${T}link${T}set$T$hv${T}addrgenmode${T}none${T}up"
}
ip_in_ns() {
  echo "$C--$T$ipn${T}link${T}set${T}eth1${T}up"
  echo "$C--$T$ipn${T}addr${T}add$T$1${T}dev${T}eth1"
  echo "$C--$T$ipn${T}route${T}add${T}default${T}via$T$2${T}dev${T}eth1${3:+$T$3}"
}

# call_ways WAY N METHOD OP I: the schedule lines of one call of the ovs, nat or routed way
call_ways() {
  local way=$1 m=$3 op=$4 i=$5
  local c=${CODE[$3]} ns=$P${CODE[$3]}-$5 label="$1,$2,$3,$4,$5"
  local hv=$c-v$i cidr gw a se=$STATE_ENV k=${NET[$3]}
  set_addr "$m" "$i"
  cidr=$CIDR gw=$GW a=${CIDR%/*}
  # nat: the private /31 of container I, 198.19.(32k + 2I / 256).(2I % 256), the host end even
  local po=$((2 * i)) ph pp
  ph=198.19.$((32 * k + po / 256)).$((po % 256)) pp=198.19.$((32 * k + po / 256)).$((po % 256 + 1))
  local L="$label$T.$T-$T" C="$label$T+$T-$T"
  local ipn="$IP$T-n$T$ns" up=up-$c
  local dpath="PATH=$RUN/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  [[ $m == lanjoin-tmpfs ]] && m=lanjoin se=$TMPFS_ENV
  [[ $m == lanjoin-bridge && $op == detach ]] && m=lanjoin
  case $m/$way/$op in
  lanjoin/*/detach) echo "$L$se$T--$T$LJ${T}detach${T}netns:$ns" ;;
  lanjoin-bridge/ovs/attach)
    echo "$L$se$T--$T$LJ${T}attach${T}bridge${T}netns:$ns$T--bridge${T}br-$c$T--ip$T$cidr$T--gateway$T$gw$T--no-conflict-check" ;;
  floor/ovs/attach) echo "$L--$T$FLOOR${T}ovs$T$OVSDB$T/run/netns/$ns$T$hv${T}eth1${T}os-$c$T$cidr$T$gw" ;;
  floor/ovs/detach) echo "$L--$T$FLOOR${T}ovs-del$T$OVSDB$T$hv" ;;
  lanjoin/ovs/attach)
    echo "$L$se$T--$T$LJ${T}attach${T}ovs${T}netns:$ns$T--bridge${T}os-$c$T--ovsdb$T$OVSDB$T--ip$T$cidr$T--gateway$T$gw$T--no-conflict-check" ;;
  ip/ovs/attach)
    ip_veth "$L"
    echo "$C--$T$ETHTOOL$T-K$T$hv${T}tx${T}off"
    echo "$C--$T$IP${T}netns${T}exec$T$ns$T$ETHTOOL$T-K${T}eth1${T}tx${T}off"
    echo "$C--$T$VSCTL$T--db=$OVSDB$T--${T}add-port${T}os-$c$T$hv${T}external_ids:lanjoin-owner=bench${T}external_ids:lanjoin-target=netns:$ns${T}external_ids:lanjoin-ifname=eth1"
    ip_in_ns "$cidr" "$gw"
    ;;
  ip/ovs/detach)
    echo "$L--$T$VSCTL$T--db=$OVSDB${T}del-port${T}os-$c$T$hv"
    echo "$C--$T$IP${T}link${T}del$T$hv"
    ;;
  ovs-docker/ovs/attach)
    echo "$label$T.$T-$T$dpath$T$OVS_ENV$T--$T/usr/bin/ovs-docker${T}add-port${T}os-$c${T}eth1$T$ns$T--ipaddress=$cidr$T--gateway=$gw" ;;
  ovs-docker/ovs/detach)
    echo "$label$T.$T-$T$dpath$T$OVS_ENV$T--$T/usr/bin/ovs-docker${T}del-port${T}os-$c${T}eth1$T$ns" ;;
  floor/nat/attach) echo "$L--$T$FLOOR${T}nat$T/run/netns/$ns$T$up$T$cidr$T$hv${T}eth1$T$ph$T$pp${T}ljb_fl" ;;
  floor/nat/detach) echo "$L--$T$FLOOR${T}nat-del$T$up$T$cidr$T$hv$T$pp${T}ljb_fl" ;;
  lanjoin/nat/attach)
    echo "$L$se$T--$T$LJ${T}attach${T}nat${T}netns:$ns$T--uplink$T$up$T--address$T$cidr$T--private$T$ph/31$T--no-conflict-check" ;;
  ip/nat/attach)
    echo "$L--$T$IP${T}addr${T}add$T$cidr${T}brd${T}+${T}dev$T$up"
    ip_veth "$C"
    echo "$C--$T$IP${T}addr${T}add$T$ph/31${T}dev$T$hv"
    ip_in_ns "$pp/31" "$ph"
    echo "$C--$T$NFT${T}create chain ip ljb_ip ${hv}_dnat; add rule ip ljb_ip ${hv}_dnat dnat to $pp; create chain ip ljb_ip ${hv}_snat; add rule ip ljb_ip ${hv}_snat iifname \"$hv\" snat to $a; create element ip ljb_ip inbound { $a : jump ${hv}_dnat }; create element ip ljb_ip outbound { $pp : jump ${hv}_snat }"
    ;;
  ip/nat/detach)
    echo "$L--$T$NFT${T}delete element ip ljb_ip inbound { $a }; delete element ip ljb_ip outbound { $pp }; delete chain ip ljb_ip ${hv}_dnat; delete chain ip ljb_ip ${hv}_snat"
    echo "$C--$T$IP${T}link${T}del$T$hv"
    echo "$C--$T$IP${T}addr${T}del$T$cidr${T}dev$T$up"
    ;;
  floor/routed/attach) echo "$L--$T$FLOOR${T}routed$T/run/netns/$ns$T$up$T$hv${T}eth1$T$a" ;;
  floor/routed/detach) echo "$L--$T$FLOOR${T}routed-del$T$up$T$hv$T$a" ;;
  lanjoin/routed/attach)
    echo "$L$se$T--$T$LJ${T}attach${T}routed${T}netns:$ns$T--parent$T$up$T--ip$T$cidr$T--no-conflict-check" ;;
  ip/routed/attach)
    ip_veth "$L"
    echo "$C--$T$IP${T}addr${T}add${T}169.254.0.1/32${T}dev$T$hv"
    ip_in_ns "$a/32" 169.254.0.1 onlink
    echo "$C--$T$IP${T}route${T}add$T$a/32${T}dev$T$hv"
    echo "$C--$T$IP${T}neigh${T}add${T}proxy$T$a${T}dev$T$up"
    ;;
  ip/routed/detach)
    echo "$L--$T$IP${T}link${T}del$T$hv"
    echo "$C--$T$IP${T}neigh${T}del${T}proxy$T$a${T}dev$T$up"
    ;;
  *) die "no $op for $m/$way" ;;
  esac
}

# check_clean_ways: nothing of a run of these ways is left (ports on the OVS bridges, proxy
# entries, addresses besides the gateway's on the uplinks, nat chains).
check_clean_ways() {
  local m c left
  for m in "${ALL_METHODS[@]}"; do
    c=${CODE[$m]}
    if way_in ovs && method_applies "$m" ovs; then
      left=$(ip netns exec "$H" "$VSCTL" --db="$OVSDB" list-ports "os-$c")
      [[ -z $left ]] || die "ports left on OVS bridge os-$c: $left"
    fi
    if (way_in nat || way_in routed) && [[ -e /run/netns/$H ]] &&
      ip -n "$H" link show "up-$c" >/dev/null 2>&1; then
      left=$(ip -n "$H" -4 -o addr show dev "up-$c" | awk '{print $4}' |
        grep -vx "${GW_OF[$m]}/20" || true)
      [[ -z $left ]] || die "addresses left on up-$c: $left"
    fi
  done
  left=$(ip -n "$H" neigh show proxy)
  [[ -z $left ]] || die "proxy entries left in $H: $left"
  if way_in nat; then
    left=$(ip netns exec "$H" "$NFT" list ruleset | grep -c '_[ds]nat {' || true)
    ((left == 0)) || die "$left nat chains left in $H"
  fi
}

# --- the lab ------------------------------------------------------------------------------------

echo "bench: building the lab (prefix $P)" >&2
LAB_PREFIX=$P "$REPO/lab/lab.sh" up
H=${P}host
for m in "${ALL_METHODS[@]}"; do
  c=${CODE[$m]}
  ip -n "$H" link add "br-$c" type bridge
  ip -n "$H" link set "br-$c" up
  # A macvlan parent of its own per method: a veth whose other end stays in the host.
  ip -n "$H" link add "mv-$c" type veth peer name "mw-$c"
  ip -n "$H" link set "mv-$c" up
  ip -n "$H" link set "mw-$c" up
done
ways_lab_up
inproc_lab

# containers N: exactly M × N container namespaces, one ip process for all. Only the current
# run's containers exist: `ip -n` (the ip method) copies the mount table, with every
# /run/netns mount, on each call, so extra namespaces would make it slower than it is.
containers() {
  local want=$1 m i
  sleepers_stop
  ip netns list | awk -v p="$P" 'index($1, p) == 1 && $1 ~ /-[0-9]+$/ { print "netns del " $1 }' |
    ip -batch - 2>/dev/null || true
  for m in "${METHODS[@]}"; do
    for ((i = 0; i < want; i++)); do
      echo "netns add $P${CODE[$m]}-$i"
    done
  done | ip -batch -
  sleepers_start "$want"
  inproc_containers "$want"
}

# --- schedules ----------------------------------------------------------------------------------

STATE_ENV="LANJOIN_STATE_DIR=${BENCH_STATE_DIR:-$RUN/state}"
TMPFS_ENV="LANJOIN_STATE_DIR=$SHM_STATE"

# lanjoin's CNI configuration names the way in "mode" (and the macvlan mode in "macvlanMode");
# the reference plugins' "mode" is the macvlan mode.
cni_conf() { # WAY METHOD (after set_addr): sets CONF
  local dev a b br=br-${CODE[$2]} mv=mv-${CODE[$2]}
  if [[ $2 == lanjoin-cni && $1 == bridge ]]; then
    dev="\"type\":\"lanjoin\",\"mode\":\"bridge\",\"bridge\":\"$br\",\"isGateway\":false,\"ipMasq\":false"
  elif [[ $2 == lanjoin-cni ]]; then
    dev="\"type\":\"lanjoin\",\"mode\":\"macvlan\",\"master\":\"$mv\",\"macvlanMode\":\"bridge\""
  elif [[ $1 == bridge ]]; then
    dev="\"type\":\"bridge\",\"bridge\":\"$br\",\"isGateway\":false,\"ipMasq\":false"
  else
    dev="\"type\":\"macvlan\",\"master\":\"$mv\",\"mode\":\"bridge\""
  fi
  printf -v a '{"cniVersion":"1.0.0","name":"bench",%s,"ipam":{"type":"static",' "$dev"
  printf -v b '"addresses":[{"address":"%s","gateway":"%s"}],"routes":[{"dst":"0.0.0.0/0"}]}}' \
    "$CIDR" "$GW"
  CONF=$a$b
}

# call WAY N METHOD OP I: the schedule lines of one call
call() {
  local way=$1 n=$2 m=$3 op=$4 i=$5
  local c=${CODE[$m]} ns=$P${CODE[$3]}-$5 label="$1,$2,$3,$4,$5"
  local hv=$c-v$i cidr gw
  set_addr "$m" "$i"
  cidr=$CIDR gw=$GW
  local L="$label$T.$T-$T" se=$STATE_ENV nc=$T--no-conflict-check
  case $way in
  ovs | nat | routed)
    call_ways "$@"
    return
    ;;
  esac
  if [[ $m == lanjoin-tmpfs ]]; then
    m=lanjoin se=$TMPFS_ENV
  elif [[ $m == lanjoin-default ]]; then
    m=lanjoin nc=
  fi
  case $m/$way/$op in
  floor/bridge/attach) echo "$L--$T$FLOOR${T}veth$T/run/netns/$ns$T$hv${T}eth1${T}br-$c$T$cidr$T$gw" ;;
  floor/bridge/detach) echo "$L--$T$FLOOR${T}del$T$hv" ;;
  floor/macvlan/attach) echo "$L--$T$FLOOR${T}macvlan$T/run/netns/$ns${T}mv-$c${T}eth1$T$cidr$T$gw" ;;
  floor/macvlan/detach | floor-announce/macvlan/detach)
    echo "$L--$T$FLOOR${T}del-in$T/run/netns/$ns${T}eth1" ;;
  floor-announce/bridge/attach)
    echo "$L--$T$FLOOR${T}veth-announce$T/run/netns/$ns$T$hv${T}eth1${T}br-$c$T$cidr$T$gw" ;;
  floor-announce/bridge/detach) echo "$L--$T$FLOOR${T}del$T$hv" ;;
  floor-announce/macvlan/attach)
    echo "$L--$T$FLOOR${T}macvlan-announce$T/run/netns/$ns${T}mv-$c${T}eth1$T$cidr$T$gw" ;;
  lanjoin/bridge/attach)
    echo "$L$se$T--$T$LJ${T}attach${T}bridge${T}netns:$ns$T--bridge${T}br-$c$T--ip$T$cidr$T--gateway$T$gw$nc" ;;
  lanjoin/macvlan/attach)
    echo "$L$se$T--$T$LJ${T}attach${T}macvlan${T}netns:$ns$T--parent${T}mv-$c$T--ip$T$cidr$T--gateway$T$gw$nc" ;;
  lanjoin/*/detach) echo "$L$se$T--$T$LJ${T}detach${T}netns:$ns" ;;
  ip/*/attach)
    if [[ $way == bridge ]]; then
      # Linux 6.18 refuses addrgenmode in the creating request: a second one, as lanjoin does.
      echo "$L--$T$IP${T}link${T}add$T$hv${T}type${T}veth${T}peer${T}name${T}eth1${T}netns$T$ns"
      echo "$label$T+$T-$T--$T$IP${T}link${T}set$T$hv${T}addrgenmode${T}none${T}master${T}br-$c${T}up"
    else
      echo "$L--$T$IP${T}link${T}add${T}eth1${T}link${T}mv-$c${T}netns$T$ns${T}type${T}macvlan${T}mode${T}bridge"
    fi
    echo "$label$T+$T-$T--$T$IP$T-n$T$ns${T}link${T}set${T}eth1${T}up"
    echo "$label$T+$T-$T--$T$IP$T-n$T$ns${T}addr${T}add$T$cidr${T}dev${T}eth1"
    echo "$label$T+$T-$T--$T$IP$T-n$T$ns${T}route${T}add${T}default${T}via$T$gw${T}dev${T}eth1"
    ;;
  ip/bridge/detach) echo "$L--$T$IP${T}link${T}del$T$hv" ;;
  ip/macvlan/detach) echo "$L--$T$IP$T-n$T$ns${T}link${T}del${T}eth1" ;;
  cni/*/* | lanjoin-cni/*/*)
    local cmd=ADD plugin=$CNI_DIR/$way path=$CNI_DIR
    [[ $op == detach ]] && cmd=DEL
    if [[ $m == lanjoin-cni ]]; then
      # static IPAM is delegated to the reference "static" plugin, found in CNI_PATH
      plugin=$LJ path=$(dirname "$LJ"):$CNI_DIR
    fi
    cni_conf "$way" "$m"
    echo "$label$T.$T$CONF$T$STATE_ENV${T}CNI_COMMAND=$cmd${T}CNI_CONTAINERID=$ns${T}CNI_NETNS=/run/netns/$ns${T}CNI_IFNAME=eth1${T}CNI_PATH=$path$T--$T$plugin"
    ;;
  *) die "no $op for $m/$way" ;;
  esac
}

# order: METHODS shuffled into ORDER (Fisher-Yates; $RANDOM is seeded, so runs repeat). A
# rotation would always put the same method after the same other one, and a call pays for
# the deferred work of the call before it (the CNI plugin's IPv6 DAD and MLD on its new
# links, say): shuffling spreads that evenly.
order() {
  local k j t
  ORDER=("${METHODS[@]}")
  for ((k = M - 1; k > 0; k--)); do
    j=$((RANDOM % (k + 1)))
    t=${ORDER[k]} ORDER[k]=${ORDER[j]} ORDER[j]=$t
  done
}

# schedule WAY N: attach N containers per method, the methods in a fresh random order for
# each container, then detach them the same way. N = 1: repeated --rounds-1 times.
schedule() {
  local way=$1 n=$2 rounds=1 r i m op
  ((n == 1)) && rounds=$rounds1
  RANDOM=11
  for ((r = 0; r < rounds; r++)); do
    for op in attach detach; do
      for ((i = 0; i < n; i++)); do
        order
        for m in "${ORDER[@]}"; do
          call "$way" "$n" "$m" "$op" "$i"
        done
      done
    done
  done
}

# bulk WAY N: attach N containers again with lanjoin and the floor (op "fill", not reported),
# then remove all of them in one call each: `lanjoin detach --all` and the floor's del-group
# (one RTM_DELLINK for a link group). Bridge way only: macvlan children live in N namespaces,
# which one request cannot span.
bulk() {
  local way=$1 n=$2 i m names=() bm=()
  [[ $way == bridge ]] && ((n > 1)) || return 0
  for m in floor lanjoin; do
    [[ " ${METHODS[*]} " == *" $m "* ]] || continue
    # an older lanjoin (--lanjoin PATH) may lack `detach --all`
    [[ $m == lanjoin && $("$LJ" detach --help 2>&1) != *--all* ]] && continue
    bm+=("$m")
  done
  ((${#bm[@]})) || return 0
  for ((i = 0; i < n; i++)); do
    for m in "${bm[@]}"; do
      call "$way" "$n" "$m" attach "$i" | sed "s/^$way,$n,$m,attach,/$way,$n,$m,fill,/"
    done
    names+=("fl-v$i")
  done
  for m in "${bm[@]}"; do
    if [[ $m == floor ]]; then
      local IFS=$T
      echo "$way,$n,floor,bulk,0$T.$T-$T--$T$FLOOR${T}del-group$T${names[*]}"
      unset IFS
    else
      echo "$way,$n,lanjoin,bulk,0$T.$T-$T$STATE_ENV$T--$T$LJ${T}detach$T--all"
    fi
  done
}

# Nothing of a run may be left in the host or the containers (else later runs measure junk).
check_clean() {
  local extra
  extra=$(ip -n "$H" -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
    grep -Ev '^(lo|em1|br-..|mv-..|mw-..|up-..|uq-..|os-..|ovs-netdev)$' || true)
  [[ -z $extra ]] || die "links left in $H after a run: $(echo "$extra" | tr "\n" " " | head -c 300); results so far in $raw"
  [[ -z $(find "$RUN/state/attachments" "$SHM_STATE/attachments" -type f 2>/dev/null) ]] ||
    die "lanjoin state records left after a run"
  check_clean_ways
}

# quiesce: wait (at most 120 s) until the machine has been idle (≥ 90 % of CPU time) for two
# seconds in a row. Deleting thousands of namespaces, links and records leaves the kernel
# work for a while (namespace teardown, RCU callbacks, ext4's recently deleted inodes); a
# phase must not pay for the one before it.
cpu_sample() { # sets TOT and IDLE from the first line of /proc/stat
  local _c u n s i w q sq st
  read -r _c u n s i w q sq st _ </proc/stat
  TOT=$((u + n + s + i + w + q + sq + st)) IDLE=$((i + w))
}
quiesce() {
  local t0 i0 calm=0 k
  for ((k = 0; k < 120 && calm < 2; k++)); do
    cpu_sample
    t0=$TOT i0=$IDLE
    sleep 1
    cpu_sample
    if ((TOT > t0 && (IDLE - i0) * 100 >= 90 * (TOT - t0))); then
      calm=$((calm + 1))
    else
      calm=0
    fi
  done
  ((calm >= 2)) || echo "bench: the machine did not become idle within 120 s" >&2
}

date=$(date +%F)
[[ -n $out ]] || out=$REPO/bench/results-$date.md
raw=${out%.md}.tsv # kept (partial) when a run fails
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$raw"
for n in "${ns_list[@]}"; do
  methods_for "$n"
  containers "$n"
  for way in $ways; do
    methods_for "$n" "$way"
    if ((M > 0)); then
      echo "bench: $way, N = $n, methods: ${METHODS[*]} ($((M * n)) containers)" >&2
      quiesce
      { schedule "$way" "$n" && bulk "$way" "$n"; } >"$RUN/schedule.tsv"
      ip netns exec "$H" "$DRIVER" run --log "$RUN/calls.log" <"$RUN/schedule.tsv" >>"$raw" &
      driver_pid=$!
      wait "$driver_pid" || {
        driver_pid=
        tail -n 20 "$RUN/calls.log" >&2
        die "a call failed ($way, N = $n); the log's end is above; results so far in $raw"
      }
      driver_pid=
      check_clean
    fi
    inproc_phase "$way" "$n"
  done
done

# --- report ---------------------------------------------------------------------------------

cpus=$(nproc)
mem=$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
cni_ver=$(dpkg-query -W -f='${Version}' containernetworking-plugins 2>/dev/null || echo unknown)
lj_ver=$(git -C "$REPO" describe --always --dirty 2>/dev/null || "$LJ" version)
rep=
[[ " ${ns_list[*]} " == *" 1 "* ]] && rep=" (N = 1: $rounds1 rounds)"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "# lanjoin benchmark, $date"
  echo
  echo "Machine: $cpus cores ($cpu), $mem GiB, Linux $(uname -r). lanjoin $lj_ver;"
  echo "containernetworking-plugins $cni_ver; $($IP -V | sed 's/, libbpf.*//')."
  echo "Command: \`bench/run.sh --n $(IFS=,; echo "${ns_list[*]}") --ways ${ways// /,}" \
    "--methods $(echo "${ALL_METHODS[*]} ${INPROC_METHODS[*]}" | xargs | tr ' ' ,)\`$rep."
  echo "Load average (1, 5, 15 min) at the start: $load_start; at the end: $load_end."
  echo
  "$DRIVER" report --summary <"$raw"
  echo
  "$DRIVER" report <"$raw"
} >"$out.tmp"
mv "$out.tmp" "$out"
cat "$out"

if ((readme)); then
  # The block between the markers: the report's first lines, the summary and bulk tables.
  block=$RUN/readme-block.md
  {
    echo "From \`${out#"$REPO"/}\` (all tables, the fill and the targets there):"
    echo
    sed -n '3,6p' "$out"
    echo
    "$DRIVER" report --readme <"$raw"
  } >"$block"
  awk -v block="$block" '
    /<!-- bench:begin -->/ { print; while ((getline l < block) > 0) print l; skip = 1; next }
    /<!-- bench:end -->/ { skip = 0 }
    !skip { print }' "$REPO/README.md" >"$RUN/README.md"
  if grep -q '<!-- bench:end -->' "$RUN/README.md"; then
    cat "$RUN/README.md" >"$REPO/README.md"
    echo "bench: README.md updated" >&2
  else
    echo "bench: README.md has no <!-- bench:begin/end --> markers; not updated" >&2
  fi
fi
echo >&2
echo "bench: report in $out, per-call results in $raw" >&2
