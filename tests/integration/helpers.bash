# tests/integration/helpers.bash — sourced by every .bats file (`load helpers`).
#
# Each .bats file gets its own lab (lab/lab.sh) with a unique namespace prefix,
# built once in setup_file and removed in teardown_file. Defaults are defined below; a file that
# needs a different lab overrides them, e.g.
#     setup_file() { lab_setup_file --bridge-host; }
# and a file that defines its own teardown() must call lab_teardown in it.
#
# Environment exported by lab_setup_file (visible in every test):
#   LAB_PREFIX         namespace prefix of this file's lab, e.g. "ljlab4242-"
#   LAB                path of lab/lab.sh (it reads LAB_PREFIX)
#   LAB_DIR            the lab's state directory (/run/lanjoin-lab/$LAB_PREFIX)
#   LANJOIN            the binary under test (default $REPO/build/lanjoin; set LANJOIN to override)
#   LANJOIN_STATE_DIR  a fresh, empty state directory for lanjoin, removed in teardown_file
#
# Any namespace a test makes itself must be named "$LAB_PREFIX..." (or "${LAB_PREFIX%-}x-..." for a
# second lab): test.sh's leak check looks for leftovers by these prefixes.
#
# Functions:
#   lab ARGS...               lab/lab.sh ARGS... for this file's lab
#   on NODE CMD...            run CMD in the lab node NODE (gw, out, peer, host, lan or a container)
#   lj ARGS...                run lanjoin in the host node: `run lj attach bridge ...`
#   curl_from NODE URL [ARGS] curl -s --max-time 5 from NODE (fails on HTTP errors too)
#   ping_from NODE ADDR       one ping (busybox; there is no iputils here), 2 s timeout
#   add_container NAME [--with-8080]   lab container NAME (httpd on :80 serving hello.html,
#                             "Hello world"), deleted at the end of the test; sets CONTAINER_PID
#   defer CMD...              register a cleanup command, run by teardown (lab_teardown) after
#                             the test, last registered first (like Go's defer). Register it right
#                             after each create. Deferred commands must be idempotent; a failing
#                             one is reported and fails the test, the others still run.
#   wait_until SECONDS CMD... poll CMD every 0.1 s until it succeeds; fail after SECONDS
#   wait_until_every INTERVAL SECONDS CMD...  the same, polling every INTERVAL (whole) seconds:
#                             for a wait of a minute (each poll costs processes, i.e. CPU)
#   netns_view NODE...        a mount namespace of the test's whose /run/netns holds only the lab
#                             nodes NODE...; in_view CMD... runs CMD there: for a test that puts
#                             what is not a namespace in /run/netns (never the shared one)
#   skip_if_sanitized         skip (a valgrind test) when LANJOIN is an ASan build
#   wait_ipv6_ready NODE      wait until NODE has no tentative (DAD-pending) IPv6 address
#   ip6_settled NODE DEV      DEV's IPv6 addresses in NODE are usable: none tentative, each with
#                             its local route (one ip and one jq: for polls)
#   state_records             the attachment records (lanjoin's private state format, with their
#                             undo plans: not --json output, see doc/json.md) as one JSON array
#   take_snapshots [NODE...] / assert_unchanged   snapshot host + nodes, then assert they are
#                             exactly as then and that lanjoin left no file or DHCP process
#   snapshot NODE             print NODE's state as normalized, comparable text (see below)
#   assert_same_state NODE BEFORE_FILE   fail, showing the diff, if NODE's state differs from
#                             BEFORE_FILE (a snapshot taken earlier)
#
# snapshot covers: links (ip -d), addresses, IPv4 and IPv6 routes of all tables, policy rules,
# the nftables ruleset, iptables/ip6tables (nft backend), proxy neighbour entries, forwarding and
# per-interface sysctls,
# and, for the host while the lab's OVS runs, the OVS database (bridges, ports, interfaces).
# Dropped as noise: statistics, bridge timers, address lifetimes, route expiry, nft counter
# values and element expiry, iptables counters and comments. Address and route lists are sorted,
# so only their content is compared, not the kernel's list order.

# shellcheck disable=SC2034,SC2119,SC2120 # used by the .bats files; args are optional
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB=$REPO/lab/lab.sh

_LJ_DEFERRED=()

lab_setup_file() {
  local base
  base=$(basename "${BATS_TEST_FILENAME:-test}" .bats)
  base=${base//[^A-Za-z0-9]/}
  export LAB="$LAB"
  export LAB_PREFIX="lj${base:0:8}$$-"
  export LAB_DIR=/run/lanjoin-lab/$LAB_PREFIX
  export LANJOIN=${LANJOIN:-$REPO/build/lanjoin}
  LANJOIN_STATE_DIR=$(mktemp -d /tmp/lanjoin-state.XXXXXX)
  export LANJOIN_STATE_DIR
  if [[ -n ${LJ_TEST_RECORD:-} ]]; then # test.sh's leak check
    printf 'prefix %s\nstatedir %s\n' "$LAB_PREFIX" "$LANJOIN_STATE_DIR" >>"$LJ_TEST_RECORD"
  fi
  "$LAB" down
  "$LAB" up "$@"
}

lab_teardown_file() {
  "$LAB" down
  if [[ -n ${LANJOIN_STATE_DIR:-} && $LANJOIN_STATE_DIR == /tmp/lanjoin-state.* ]]; then
    rm -rf "$LANJOIN_STATE_DIR"
  fi
}

# Run the deferred cleanups of the current test, last first.
lab_teardown() {
  local i rc=0
  for ((i = ${#_LJ_DEFERRED[@]} - 1; i >= 0; i--)); do
    if ! eval "${_LJ_DEFERRED[i]}"; then
      echo "# deferred cleanup failed: ${_LJ_DEFERRED[i]}" >&2
      rc=1
    fi
  done
  _LJ_DEFERRED=()
  return "$rc"
}

setup_file() { lab_setup_file; }
teardown_file() { lab_teardown_file; }
teardown() { lab_teardown; }

defer() {
  (($# > 0)) || {
    echo "defer: no command" >&2
    return 2
  }
  local q
  printf -v q '%q ' "$@"
  _LJ_DEFERRED+=("$q")
}

lab() { "$LAB" "$@"; }

# docker0_standin CONTAINER LINK NET: a stand-in for Docker's bridge: CONTAINER's eth0 on a host
# link LINK (removed by the test's deferred cleanup), NET.1 the host's end and the container's
# default route, NET.2 the container's address (NET: the first three octets, e.g. 198.18.200)
docker0_standin() {
  defer on host ip link del "$2"
  on host ip link add "$2" type veth peer name eth0 netns "${LAB_PREFIX}$1"
  on host ip addr add "$3.1/24" dev "$2"
  on host ip link set "$2" up
  on "$1" ip addr add "$3.2/24" dev eth0
  on "$1" ip link set eth0 up
  on "$1" ip route add default via "$3.1"
}

# kill_quietly PID...: SIGTERM to each, whether or not it still runs (for defer)
kill_quietly() { kill "$@" 2>/dev/null || true; }

# Skip a valgrind test when the binary under test is an ASan build (./test.sh --sanitize):
# ASan and valgrind cannot run together; valgrind runs in the plain pass.
skip_if_sanitized() {
  if grep -q __asan_init "$LANJOIN" 2>/dev/null; then
    skip "valgrind cannot run an ASan build (it runs in the plain pass)"
  fi
}

on() {
  local node=$1
  shift
  ip netns exec "$LAB_PREFIX$node" "$@"
}

lj() {
  if [[ ! -x $LANJOIN ]]; then
    echo "lanjoin binary '$LANJOIN' not found or not executable (build it, or set LANJOIN)" >&2
    return 127
  fi
  ip netns exec "${LAB_PREFIX}host" "$LANJOIN" "$@"
}

curl_from() {
  local node=$1 url=$2
  shift 2
  on "$node" curl -sS --fail --max-time 5 "$@" "$url"
}

ping_from() {
  on "$1" busybox ping -c 1 -W 2 "$2"
}

add_container() {
  CONTAINER_PID=$("$LAB" container add "$@") || return
  defer "$LAB" container del "$1"
}

# peer_takes_announcements: the lab's peer learns neighbours from gratuitous ARPs alone
# (arp_accept=1) and forgets those it has; both undone when the test ends.
peer_takes_announcements() {
  defer on peer sysctl -qw net.ipv4.conf.eth0.arp_accept=0
  on peer sysctl -qw net.ipv4.conf.eth0.arp_accept=1
  on peer ip neigh flush dev eth0
  defer ip -n "${LAB_PREFIX}peer" neigh flush dev eth0
}

# peer_learned IP MAC: the lab's peer has (or gets within 3 s) a neighbour entry for IP with MAC.
_peer_has() { ip -n "${LAB_PREFIX}peer" neigh show "$1" dev eth0 | grep -q "lladdr $2 "; }
peer_learned() {
  if ! wait_until 3 _peer_has "$1" "$2"; then
    ip -n "${LAB_PREFIX}peer" neigh show dev eth0
    return 1
  fi
}

# pid_gone PID: no such process, or one that has exited and waits for its parent (a zombie:
# kill -0 still finds it, its exit seen by pidfd already)
pid_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:[[:space:]]*Z' /proc/"$1"/status 2>/dev/null; }
wait_until() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "timed out after ${secs}s waiting for: $*" >&2
  return 1
}

wait_until_every() {
  local every=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs / every; i++)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep "$every"
  done
  echo "timed out after ${secs}s waiting for: $*" >&2
  return 1
}

# A mount namespace of the test's: own_mntns PID (PID has a mount namespace other than ours),
# in_view CMD... (run CMD in the view; VIEW is the PID of the process that holds it).
own_mntns() { [ "$(readlink "/proc/$1/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]; }
in_view() { nsenter -t "$VIEW" -m -- "$@"; }
_stop_view() {
  kill -KILL "$1" 2>/dev/null || return 0
  wait "$1" 2>/dev/null || true # (no "Killed" notice)
}

# netns_view NODE...: a view (VIEW, in_view) whose /run/netns is a tmpfs of its own holding
# bind mounts of just the lab nodes NODE...; it ends with the test. What a test puts in that
# /run/netns (a FIFO, a file: not a namespace) no one else sees: the machine's /run/netns is
# shared with the other test files and whatever else runs, and `ip netns list` opens every
# entry there (a FIFO blocks it). The view is a slave of the host's mounts and drops its copy
# of the host's /run/netns, so it keeps no one else's namespace alive.
netns_view() {
  local t n
  t=$(mktemp -d "$BATS_TEST_TMPDIR/netns-view.XXXXXX")
  unshare -m --propagation slave sleep 600 3>&- &
  VIEW=$!
  defer _stop_view "$VIEW"
  wait_until 5 own_mntns "$VIEW"
  for n in "$@"; do
    [[ -e /run/netns/$LAB_PREFIX$n ]] || {
      echo "netns_view: no lab node '$n'" >&2
      return 1
    }
  done
  # shellcheck disable=SC2016 # the script's own variables
  in_view sh -euc 't=$1 p=$2
    shift 2
    mount -t tmpfs -o mode=0755,size=64k lj-netns "$t"
    for n in "$@"; do
      : >"$t/$p$n"
      mount --bind "/run/netns/$p$n" "$t/$p$n"
    done
    if mountpoint -q /run/netns; then umount -R -l /run/netns; fi
    mount --move "$t" /run/netns' sh "$t" "$LAB_PREFIX" "$@"
  [ "$(in_view findmnt -n -o FSTYPE /run/netns)" = tmpfs ]
}

state_records() { jq -s 'sort_by(.created)' "$LANJOIN_STATE_DIR"/attachments/*.json; }

# A spec directory of the file's own for --persist (LANJOIN_SPEC_DIR): spec_dir_setup in
# setup_file, spec_dir_teardown in teardown_file, spec_dir_clear after each test.
spec_dir_setup() {
  LANJOIN_SPEC_DIR=$(mktemp -d /tmp/lanjoin-specs.XXXXXX)
  export LANJOIN_SPEC_DIR
}
spec_dir_teardown() {
  if [[ ${LANJOIN_SPEC_DIR:-} == /tmp/lanjoin-specs.* ]]; then rm -rf "$LANJOIN_SPEC_DIR"; fi
}
spec_dir_clear() { rm -f "$LANJOIN_SPEC_DIR"/*.json; }

# ip6_settled NODE DEV: DEV's IPv6 addresses are usable: not tentative, and each has its local
# route. The kernel finishes an IPv6 address (even a nodad one) in a work item, a moment after
# it was added. One ip and one jq (polls run it ten times a second): in an `ip -batch`, `link
# show` must not come before `addr show` (the addresses are missing then).
ip6_settled() {
  ip -n "$LAB_PREFIX$1" -6 -j -batch - 2>/dev/null <<<"addr show dev $2
route show table local" | jq -se --arg d "$2" '[.[0][]?.addr_info[]?] as $a
    | ($a | all(.tentative != true))
      and ($a | length) == ([.[1][]? | select(.dev == $d and .type == "local")] | length)' >/dev/null
}
_no_tentative() { [[ -z $(ip -n "$LAB_PREFIX$1" -6 addr show tentative) ]]; }
wait_ipv6_ready() { wait_until 10 _no_tentative "$1"; }

# jq programs that drop what changes on its own (a bridge's timers, and its STP topology change
# flags, which its timer clears some seconds after STP was on: addressing.bats' STP test).
_JQ_LINK='map(del(.stats, .stats64)
  | (.. | objects) |= with_entries(select(.key | endswith("_timer") or startswith("topology_change") | not)))'
_JQ_ADDR='map({ifname, addr_info: (.addr_info | map(del(.valid_life_time, .preferred_life_time))
  | sort_by(tostring))})'
_JQ_ROUTE='map(del(.expires)) | sort_by(tostring)'
_JQ_NFT='(.. | objects | select(has("counter")) | .counter | objects) |= (.packets = 0 | .bytes = 0)
  | (.. | objects | select(has("packets") and has("bytes"))) |= (.packets = 0 | .bytes = 0)
  | del(.. | objects | .expires?)'

snapshot() {
  local node=$1 ns=$LAB_PREFIX$1 ovsdb=''
  [[ -e /run/netns/$ns ]] || {
    echo "snapshot: no lab node '$node' ($ns)" >&2
    return 1
  }
  local d=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:?snapshot runs in a bats test}}/.snap
  # As few processes as can be (snapshots run thousands of times; each process costs ~5-15 ms
  # of CPU, a fork of the test's shell as much, jq ~25): one shell in the namespace (nsenter,
  # not `ip -n`, which also makes a mount namespace each time) that writes the dumps to files
  # named by the caller's PID (snapshots may run side by side): one `ip -d -batch` for the
  # links, the addresses, the routes of both families (a dump without a family has both), the
  # IPv4 rules and the proxy neighbours (of each address, only the address: its link's details
  # are the links'); the IPv6 rules; nft; iptables, ip6tables and the sysctls as text;
  # the four OVS views (one ovs-vsctl); then one jq that prints it all, normalized.
  # First, a link created just before (by the test, or a daemon like dockerd) may still be
  # doing IPv6 DAD: up to 3 s for it to finish, so that "tentative" is not taken for a change.
  [[ -d $d ]] || mkdir -p "$d" || return
  d+=/$BASHPID
  [[ $node == host && -S $LAB_DIR/ovs/db.sock ]] && ovsdb=unix:$LAB_DIR/ovs/db.sock
  nsenter "--net=/run/netns/$ns" -- sh -c 'd=$1 ovsdb=$2
    i=0
    while [ "$i" -lt 30 ] && [ -n "$(ip -6 addr show tentative)" ]; do
      sleep 0.1
      i=$((i + 1))
    done
    ip -j -d -batch - >"$d.ip" <<END
link show
addr show
route show table all
rule show
neigh show proxy
END
    ip -j -d -6 rule show >"$d.rule6"
    nft -j list ruleset >"$d.nft"
    { echo "## iptables"; iptables-save; echo "## ip6tables"; ip6tables-save; } >"$d.text"
    cd /proc/sys/net && grep -H . ipv4/ip_forward \
      ipv4/conf/*/forwarding ipv4/conf/*/proxy_arp ipv4/conf/*/rp_filter \
      ipv4/conf/*/route_localnet ipv4/conf/*/arp_ignore \
      ipv6/conf/*/forwarding ipv6/conf/*/disable_ipv6 ipv6/conf/*/accept_ra \
      ipv6/conf/*/proxy_ndp ipv4/neigh/*/proxy_delay ipv6/neigh/*/proxy_delay >"$d.sysctl"
    if [ -n "$ovsdb" ]; then
      ovs-vsctl "--db=$ovsdb" --timeout=10 -f csv -- show \
        -- --columns=name,datapath_type,fail_mode,external_ids,other_config list Bridge \
        -- --columns=name,tag,trunks,vlan_mode,external_ids,other_config list Port \
        -- --columns=name,type,options,external_ids,mac list Interface >"$d.ovs"
    else
      : >"$d.ovs"
    fi' sh "$d" "$ovsdb" || return
  # iptables-save's comments (#, one #) carry the time: dropped, as are the counters. OVS:
  # `show` as it is; each table's CSV (from its header line, "name,...", on) sorted.
  # shellcheck disable=SC2016 # jq variables
  jq -n -r -S --slurpfile ip "$d.ip" --slurpfile rule6 "$d.rule6" \
    --slurpfile nft "$d.nft" --rawfile text "$d.text" --rawfile sysctl "$d.sysctl" \
    --rawfile ovs "$d.ovs" '
    def lines: rtrimstr("\n") | if . == "" then [] else split("\n") end;'"
    \"## links\", (\$ip[0] // [] | $_JQ_LINK),
    \"## addresses\", (\$ip[1] // [] | $_JQ_ADDR),
    \"## routes (IPv4 and IPv6, all tables)\", (\$ip[2] // [] | $_JQ_ROUTE),
    \"## rules\", (\$ip[3] // []), (\$rule6[0] // []),
    \"## nftables\", (\$nft[0] // {} | $_JQ_NFT),"'
    ($text | lines[] | select(test("^#([^#]|$)") | not) | gsub("\\[[0-9]*:[0-9]*\\]"; "[]")),
    "## proxy neighbours", ($ip[4] // [] | sort_by(tostring)),
    "## sysctl", ($sysctl | lines | sort[]),
    ($ovs | lines | if length == 0 then empty else
      (map(startswith("name,")) | index(true) // length) as $t
      | "## ovs", .[:$t][],
        (.[$t:] | reduce .[] as $l ([]; if ($l | startswith("name,")) then . + [[$l]]
          else .[:-1] + [.[-1] + [$l]] end) | .[] | .[0], (.[1:] | sort[])) end)'
}

assert_same_state() {
  local node=$1 before=$2 now
  now=$(snapshot "$node") || return
  if ! diff -u --label "$node before" --label "$node now" "$before" <(printf '%s\n' "$now") >&2; then
    echo "# state of lab node '$node' changed (diff above)" >&2
    return 1
  fi
}

# take_snapshots [NODE...]: snapshot the host and the given nodes (containers) for
# assert_unchanged.
take_snapshots() {
  SNAP_NODES=("$@")
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local c
  for c in "$@"; do
    snapshot "$c" >"$BATS_TEST_TMPDIR/$c.before"
  done
}

# assert_unchanged: the host and the nodes of take_snapshots are exactly as then, lanjoin's
# state directory holds nothing but its lock and the CNI index's marker (no record, no index
# link, no DHCP file), and no DHCP supervisor of this state directory runs. UNCHANGED_CHECK
# (optional) names one more check.
assert_unchanged() {
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  local c left
  for c in "${SNAP_NODES[@]}"; do
    assert_same_state "$c" "$BATS_TEST_TMPDIR/$c.before"
  done
  left=$(find "$LANJOIN_STATE_DIR" -mindepth 1 ! -type d ! -path "$LANJOIN_STATE_DIR/lock" \
    ! -path "$LANJOIN_STATE_DIR/cni/.ready")
  if [[ -n $left ]]; then
    echo "# left in the state directory: $left" >&2
    return 1
  fi
  # a supervisor runs as "lanjoin dhcp-supervise ... STATE_DIR ...": one grep over the command
  # lines for the word (pgrep -f reads each process's stat and status too), then its arguments
  local f
  local -a args
  for f in $(grep -lzxsF dhcp-supervise /proc/[0-9]*/cmdline); do
    mapfile -d '' args <"$f" 2>/dev/null || continue
    if [[ ${args[*]} == *"dhcp-supervise "*"$LANJOIN_STATE_DIR"* ]]; then
      echo "# a DHCP supervisor is still running: ${f//[^0-9]/} ${args[*]}" >&2
      return 1
    fi
  done
  if [[ -n ${UNCHANGED_CHECK:-} ]]; then
    "$UNCHANGED_CHECK"
  fi
}

# lj_wireless DEV ARGS... — lanjoin in the host node with DEV looking like a Wi-Fi link to it:
# in the private mount namespace of `ip netns exec` (gone with the process), a directory with
# DEV's ifindex and a wireless/ entry is bind-mounted over DEV's /sys directory.
lj_wireless() {
  local dev=$1 fake
  shift
  fake=$(mktemp -d "$BATS_TEST_TMPDIR/wifi.XXXXXX")
  mkdir "$fake/wireless"
  on host cat "/sys/class/net/$dev/ifindex" >"$fake/ifindex"
  ip netns exec "${LAB_PREFIX}host" sh -c \
    'mount --bind "$1" "$(readlink -f "/sys/class/net/$2")" && shift 2 && exec "$@"' \
    sh "$fake" "$dev" "$LANJOIN" "$@"
}

# vg_quiet LOG: drop from a valgrind log the warnings that are not errors. valgrind 3.19 does
# not know the nsfs ioctl NS_GET_NSTYPE (0xb703), nor the pidfd system calls 434 and 424
# (lanjoin falls back to PIDs) or fsopen, 430 (lanjoin reads /proc/sys through /proc then).
vg_quiet() {
  sed -i -e '/unhandled ioctl 0xb703/,+2d' -e '/unhandled amd64-linux syscall: 4[23]4$/,+4d' \
    -e '/unhandled amd64-linux syscall: 430$/,+4d' "$1"
}

# engine_net NODE HOSTIF: give container NODE a network of its own, as an engine's default
# network leaves it: eth0 198.18.9.2/24 with the default route via 198.18.9.1, the other end
# HOSTIF in the lab's host (so routes copied from it are real); HOSTIF goes at the test's end.
engine_net() {
  on host ip link add "$2" type veth peer name eth0 netns "${LAB_PREFIX}$1"
  defer sh -c "ip -n '${LAB_PREFIX}host' link del '$2' 2>/dev/null || true"
  on host ip addr add 198.18.9.1/24 dev "$2"
  on host ip link set "$2" up
  on "$1" ip addr add 198.18.9.2/24 dev eth0
  on "$1" ip link set eth0 up
  on "$1" ip route add default via 198.18.9.1 dev eth0
}
