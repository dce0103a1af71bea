#!/usr/bin/env bash
# bench/run.sh — attach/detach latency of lanjoin against the floor (bench/floor.c: the fewest
# netlink requests, from a fresh process), the same work as plain `ip` commands, and Debian's
# CNI reference plugins (containernetworking-plugins, static IPAM, invoked as runtimes do).
#
#   sudo bench/run.sh [--n 1,100,1000] [--ways bridge,macvlan] [--methods LIST]
#                     [--rounds-1 R] [--out FILE] [--build-dir DIR]
#
#   --n LIST        containers per method and run (default 1,100,1000). N = 1 is repeated
#                   --rounds-1 times (default 30) so that it has percentiles too.
#   --ways LIST     bridge, macvlan (default: the ways this lanjoin implements)
#   --methods LIST  floor, lanjoin, lanjoin-default, lanjoin-tmpfs, ip, cni, lanjoin-cni,
#                   floor-inproc, lanjoin-inproc, driver-inproc (default: all that are
#                   available). lanjoin runs with --no-conflict-check,
#                   to do the same work as the others; lanjoin-default with lanjoin's defaults
#                   (an RFC 5227 ARP probe of the address first), for N <= 100 only (its extra
#                   cost does not depend on N); lanjoin-tmpfs is lanjoin with its state
#                   directory on tmpfs, only where /run is not tmpfs (the state files' cost).
#                   The -inproc methods run in one process (build/bench/lj-bench-inproc,
#                   bench/inproc.c), after the others, each call timed in that process
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
# per method. One driver process (build/bench/lj-bench run) runs inside ${PREFIX}host and
# spawns every call, alternating the methods container by container (in a shuffled order),
# and times each from spawn to wait4() (wall time, ru_maxrss). Everything is removed
# at the end, also on failure or Ctrl-C. Timings are never asserted; the report shows ratios.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
P=${BENCH_PREFIX:-ljbench-}
RUN=/run/lanjoin-bench/$P
SHM_STATE=/dev/shm/lanjoin-bench-$P
CNI_DIR=/usr/lib/cni

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
  local out
  local dev=--bridge
  [[ $1 == macvlan ]] && dev=--parent
  out=$(LANJOIN_STATE_DIR=$RUN/probe "$LJ" attach "$1" /proc/self/ns/net --dry-run \
    "$dev" x --ip 198.18.0.2/24 2>&1) || true
  [[ $out != *"not implemented"* ]]
}

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
  for w in bridge macvlan; do
    supports_way "$w" && ways+="${ways:+ }$w"
  done
fi
[[ -n ${ways// /} ]] || die "this lanjoin implements none of the ways bridge, macvlan"
for w in $ways; do
  [[ $w == bridge || $w == macvlan ]] || die "--ways: unknown way '$w'"
  supports_way "$w" || die "this lanjoin does not implement the $w way yet"
done

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
  methods="floor lanjoin lanjoin-default ip"
  [[ $(stat -f -c %T /run) == tmpfs ]] || methods="floor lanjoin lanjoin-default lanjoin-tmpfs ip"
  [[ -x $CNI_DIR/bridge && -x $CNI_DIR/macvlan ]] && methods+=" cni"
  lanjoin_cni_available && methods+=" lanjoin-cni"
  methods+=" $(inproc_default)"
fi
for m in $methods; do
  case $m in
  floor | lanjoin | lanjoin-default | lanjoin-tmpfs | ip) ;;
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

# METHODS, M: the methods of a run with N containers (lanjoin-default up to N = 100).
methods_for() {
  local m
  METHODS=()
  for m in "${ALL_METHODS[@]}"; do
    [[ $m == lanjoin-default ]] && (($1 > 100)) && continue
    METHODS+=("$m")
  done
  M=${#METHODS[@]}
}
methods_for 1

# Short codes for names: containers ${P}CODE-I, host ends CODE-vI.
declare -A CODE=([floor]=fl [lanjoin]=lj [ip]=ip [cni]=cn [lanjoin-cni]=lc [lanjoin-tmpfs]=lt
  [lanjoin-default]=ld)
# Each method its own /20 of 198.18.0.0/17: 198.18.(16k).0/20, gateway .1.
declare -A NET=([floor]=0 [lanjoin]=1 [ip]=2 [cni]=3 [lanjoin-cni]=4 [lanjoin-tmpfs]=5
  [lanjoin-default]=6)

set_addr() { # METHOD I: sets CIDR and GW (no subshell: schedules have thousands of calls)
  local k=${NET[$1]} off=$(($2 + 2))
  CIDR="198.18.$((16 * k + off / 256)).$((off % 256))/20"
  GW="198.18.$((16 * k)).1"
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
inproc_lab

# containers N: exactly M × N container namespaces, one ip process for all. Only the current
# run's containers exist: `ip -n` (the ip method) copies the mount table, with every
# /run/netns mount, on each call, so extra namespaces would make it slower than it is.
containers() {
  local want=$1 m i
  ip netns list | awk -v p="$P" 'index($1, p) == 1 && $1 ~ /-[0-9]+$/ { print "netns del " $1 }' |
    ip -batch - 2>/dev/null || true
  for m in "${METHODS[@]}"; do
    for ((i = 0; i < want; i++)); do
      echo "netns add $P${CODE[$m]}-$i"
    done
  done | ip -batch -
  inproc_containers "$want"
}

# --- schedules ----------------------------------------------------------------------------------

T=$'\t'
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
  if [[ $m == lanjoin-tmpfs ]]; then
    m=lanjoin se=$TMPFS_ENV
  elif [[ $m == lanjoin-default ]]; then
    m=lanjoin nc=
  fi
  case $m/$way/$op in
  floor/bridge/attach) echo "$L--$T$FLOOR${T}veth$T/run/netns/$ns$T$hv${T}eth1${T}br-$c$T$cidr$T$gw" ;;
  floor/bridge/detach) echo "$L--$T$FLOOR${T}del$T$hv" ;;
  floor/macvlan/attach) echo "$L--$T$FLOOR${T}macvlan$T/run/netns/$ns${T}mv-$c${T}eth1$T$cidr$T$gw" ;;
  floor/macvlan/detach) echo "$L--$T$FLOOR${T}del-in$T/run/netns/$ns${T}eth1" ;;
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
    grep -Ev '^(lo|em1|br-..|mv-..|mw-..)$' || true)
  [[ -z $extra ]] || die "links left in $H after a run: $(echo "$extra" | tr "\n" " " | head -c 300); results so far in $raw"
  [[ -z $(find "$RUN/state/attachments" "$SHM_STATE/attachments" -type f 2>/dev/null) ]] ||
    die "lanjoin state records left after a run"
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
