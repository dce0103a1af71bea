#!/usr/bin/env bats
# lanjoin uplink adopt / release: the host's uplink em1 moves into bridge br-em1 and back.
# The lab is plain (no --bridge-host): em1 holds 198.51.100.76/24, 2001:db8:1::76/64 and the
# default routes.

load helpers

setup_file() { lab_setup_file; }

BEFORE=

setup() {
  BEFORE=$BATS_TEST_TMPDIR/before
  snapshot host >"$BEFORE"
  # Whatever a test does, the uplink goes back (release is a no-op when nothing is adopted).
  defer lj uplink release br-em1 --force
}

# Addresses and routes of DEV, with DEV's name replaced by X, normalized for comparison.
net_of() {
  local dev=$1 fam
  on host ip -j addr show dev "$dev" | jq -S --arg d "$dev" '.[0].addr_info
    | map(del(.valid_life_time, .preferred_life_time)
      | if .label == $d then del(.label)
        elif ((.label // "") | startswith($d + ":")) then .label |= "X" + ltrimstr($d)
        else . end)
    | sort_by(tostring)'
  for fam in -4 -6; do
    on host ip -j "$fam" route show table all |
      jq -S --arg d "$dev" 'map(select(.dev == $d) | del(.dev, .expires)) | sort_by(tostring)'
  done
}

# True once br-em1 is fully up: carrier, no tentative address, its multicast route present
# (one ip and one jq: polls run it ten times a second; `link show` last, see ip6_settled).
br_settled() {
  ip -n "${LAB_PREFIX}host" -6 -j -batch - 2>/dev/null <<<"addr show dev br-em1
route show table local dev br-em1
link show dev br-em1" | jq -se '(.[2][0].operstate | IN("UP", "UNKNOWN"))
    and ([.[0][]?.addr_info[]? | select(.tentative)] | length == 0)
    and any(.[1][]?; .type == "multicast" and .dst == "ff00::/8")' >/dev/null
}

# Back to the lab's permanent addresses and routes on em1 (replace, not add: IPv6 switched
# back on a moment before may bring an address back while this runs).
restore_em1() {
  on host ip addr flush dev em1 scope global
  on host ip addr replace 198.51.100.76/24 dev em1
  on host ip route replace default via 198.51.100.254 dev em1
  on host ip -6 addr replace 2001:db8:1::76/64 dev em1 nodad
  on host ip -6 route replace default via 2001:db8:1::fe dev em1
}

# em1's IPv6 addresses are usable (helpers.bash)
em1_settled() { ip6_settled host em1; }

assert_host_back() {
  wait_until 5 em1_settled || true
  assert_same_state host "$1"
}

# release_fault_each ADOPTED MIN N...: a fault at release's undo step N, for each N (more than
# MIN of them), keeps the adoption whole: exit 1, and the host as snapshot ADOPTED has it. Then
# a release without a fault works.
release_fault_each() {
  local adopted=$1 min=$2 n
  shift 2
  [ "$#" -gt "$min" ]
  for n in "$@"; do
    run on host env LANJOIN_FAULT_UNDO="$n" "$LANJOIN" uplink release br-em1
    echo "undo $n: $output"
    [ "$status" -eq 1 ]
    [[ $output == *"nothing was released"* ]]
    wait_until 5 br_settled
    # a redone nft rule is the same rule under a new handle
    diff -u <(grep -v '"handle":' "$adopted") <(snapshot host | grep -v '"handle":')
  done
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
}

kill_if_alive() { kill "$1" 2>/dev/null || true; }
del_link() { on host ip link del "$1" 2>/dev/null || true; }

mac_of() { on host cat "/sys/class/net/$1/address"; }

reaches_all() {
  ping_from host 198.51.100.254
  ping_from host 2001:db8:1::fe
  ping_from host 198.51.100.10
  ping_from host 2001:db8:1::10
  ping_from peer 198.51.100.76
  ping_from peer 2001:db8:1::76
  run curl_from host http://203.0.113.1/cgi-bin/ip
  [ "$status" -eq 0 ]
  [ "$output" = "198.51.100.76" ]
  run curl_from host 'http://[2001:db8:2::1]/cgi-bin/ip'
  [ "$status" -eq 0 ]
  [ "$output" = "2001:db8:1::76" ]
}

@test "uplink: adopt moves every address and route of em1 onto br-em1; release puts them back" {
  local net_before mac
  net_before=$(net_of em1)
  mac=$(mac_of em1)
  run lj uplink adopt br-em1 em1 --json
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .probe)" = 198.51.100.254 ]
  # the kernel's IPv6 link-local address moved too: marked as such among the addresses
  local ll
  ll=$(echo "$output" | jq -r '.link_local[]')
  [[ $ll == fe80:*/64 ]]
  echo "$output" | jq -e --arg ll "$ll" '.addresses | index($ll) != null'
  # em1 is a port of br-em1 and has nothing left of its own
  [ "$(on host ip -j link show em1 | jq -r '.[0].master')" = br-em1 ]
  [ "$(on host ip -j addr show dev em1 | jq '.[0].addr_info | length')" -eq 0 ]
  [ "$(mac_of br-em1)" = "$mac" ]
  [ "$(on host cat /sys/class/net/br-em1/mtu)" = "$(on host cat /sys/class/net/em1/mtu)" ]
  wait_until 5 br_settled
  diff -u <(echo "$net_before") <(net_of br-em1)
  on host ip -6 addr show dev br-em1 scope link | grep -qF "inet6 $ll "
  reaches_all
  run lj uplink list
  echo "$output"
  [[ $output == *br-em1*em1*adopted*"198.51.100.76/24,2001:db8:1::76/64,$ll (link-local)" ]]
  lj uplink list --json | jq -e --arg ll "$ll" '.[0].link_local == [$ll]'

  # released by its uplink's name by mistake: refused, the bridge named (nothing changed)
  run lj uplink release em1
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"'em1' is the uplink lanjoin adopted into bridge 'br-em1'"*"lanjoin uplink release br-em1"* ]]
  [ "$(on host ip -j link show em1 | jq -r '.[0].master')" = br-em1 ]
  # a name no link has: nothing to do, said so
  run lj uplink release br-nosuch
  [ "$status" -eq 0 ]
  [[ $output == *"No such device 'br-nosuch'"*"nothing to do"* ]]
  run lj uplink release br-em1
  echo "$output"
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
  reaches_all
}

@test "uplink: br-em1 set down and up loses its IPv6 address and default routes: status and list say drifted, naming each with the command that puts it back" {
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  wait_until 5 br_settled
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
  on host ip link set br-em1 down
  on host ip link set br-em1 up
  ! on host ip -6 addr show dev br-em1 | grep -q 2001:db8:1::76 || false
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *br-em1*uplink*drifted* ]]
  run lj status --json
  what=$(jq -r '.attachments[] | select(.way == "uplink") | .what' <<<"$output")
  echo "$what"
  [[ $what == *"address 2001:db8:1::76/64 is missing on br-em1 (put back by: ip addr add 2001:db8:1::76/64 dev br-em1 nodad)"* ]]
  [[ $what == *"route default via 198.51.100.254 is missing on br-em1 (put back by: ip route add default via 198.51.100.254 dev br-em1)"* ]]
  [[ $what == *"route default via 2001:db8:1::fe is missing on br-em1 (put back by: ip -6 route add default via 2001:db8:1::fe dev br-em1 metric 1024)"* ]]
  # the IPv4 address stays across down and up: not named
  [[ $what != *198.51.100.76* ]]
  run lj uplink list
  echo "$output"
  [[ ${lines[1]} == *br-em1*em1*drifted* ]]
  [ "$(lj uplink list --json | jq -r '.[0].status')" = drifted ]
  # the commands it names put it back: ok again
  grep -o 'put back by: [^)]*' <<<"$what" | sed 's/^put back by: //' | while read -r cmd; do
    # shellcheck disable=SC2086 # the command's words
    on host $cmd
  done
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(lj uplink list --json | jq -r '.[0].status')" = adopted ]
  reaches_all
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

@test "uplink: release moves back what br-em1 holds now: addresses and routes added after adoption, a re-added default route; not what was removed" {
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  wait_until 5 br_settled
  # after adoption: another address, a route through it, the default route as a DHCP client
  # would put it back (another metric), IPv6 too; the recorded IPv4 default route removed
  on host ip addr add 198.51.100.77/24 dev br-em1
  on host ip addr add 198.18.6.76/24 dev br-em1
  on host ip route add 198.18.5.0/24 via 198.51.100.254 dev br-em1
  on host ip route add 198.18.7.0/24 dev br-em1 metric 7
  on host ip route del default via 198.51.100.254 dev br-em1
  on host ip route add default via 198.51.100.254 dev br-em1 proto dhcp metric 100
  on host ip -6 addr add 2001:db8:1::77/64 dev br-em1 nodad
  on host ip -6 route add 2001:db8:5::/64 via 2001:db8:1::fe dev br-em1
  local br_net
  br_net=$(net_of br-em1)

  run lj uplink release br-em1 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"ip addr add 198.51.100.77/24"*"dev em1"* ]]
  [[ $output == *"ip route replace 198.18.5.0/24 via 198.51.100.254 dev em1"* ]]

  run lj uplink release br-em1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *198.51.100.77/24* ]]
  [[ $output == *"198.18.5.0/24 via 198.51.100.254"* ]]
  # the removed default route is named as not put back
  [[ $output == *"not put back"*"default via 198.51.100.254"* ]]
  run on host ip link show br-em1
  [ "$status" -ne 0 ]
  wait_until 5 em1_settled
  # em1 holds exactly what br-em1 held
  diff -u <(echo "$br_net") <(net_of em1)
  [ "$(on host ip -j route show default | jq -r '.[] | "\(.dev) \(.metric // 0) \(.protocol)"')" = "em1 100 dhcp" ]
  ping_from peer 198.51.100.77
  ping_from peer 2001:db8:1::77
  on host ip -j route get 198.18.5.1 | jq -e '.[0].dev == "em1"'
  restore_em1_extras() {
    on host ip addr del 198.51.100.77/24 dev em1
    on host ip addr del 198.18.6.76/24 dev em1
    on host ip -6 addr del 2001:db8:1::77/64 dev em1
    on host ip route del 198.18.5.0/24
    on host ip route del 198.18.7.0/24
    on host ip -6 route del 2001:db8:5::/64
    on host ip route del default
    on host ip route add default via 198.51.100.254 dev em1
  }
  restore_em1_extras
  assert_host_back "$BEFORE"
}

@test "uplink: release refuses (exit 2, nothing changed) a route added on br-em1 that it cannot move back" {
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  wait_until 5 br_settled
  on host ip route add 198.18.9.0/24 nexthop via 198.51.100.254 dev br-em1 nexthop via 198.51.100.10 dev br-em1
  local adopted=$BATS_TEST_TMPDIR/adopted
  snapshot host >"$adopted"
  run lj uplink release br-em1
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Cannot move route '198.18.9.0/24"*"multipath"* ]]
  assert_same_state host "$adopted"
  on host ip route del 198.18.9.0/24
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

@test "uplink: a fault at release steps that move back what was added after adoption keeps the adoption whole" {
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  wait_until 5 br_settled
  on host ip addr add 198.18.6.76/24 dev br-em1
  on host ip route add 198.18.5.0/24 via 198.18.6.1 dev br-em1
  wait_until 5 br_settled
  local adopted=$BATS_TEST_TMPDIR/adopted steps
  snapshot host >"$adopted"
  # Release's plan: the record's, with the three steps it adds for what br-em1 holds now:
  # an addr-copy before enslave, a route-move after link-up, an addr-move after the routes.
  # Fault at each step that has an undo.
  steps=$(jq -r '.undo | map({t: .type, s: (.skip_undo // false)})
    | (map(.t) | index("enslave")) as $e
    | (.[:$e] + [{t: "addr-copy"}] + .[$e:]) as $p
    | ($p | map(.t) | index("link-up")) as $l
    | ($p[:$l + 1] + [{t: "route-move"}] + $p[$l + 1:]) as $p
    | ($p | map(.t) | rindex("route-move")) as $r
    | ($p[:$r + 1] + [{t: "addr-move"}] + $p[$r + 1:])
    | to_entries[]
    | select((.value.t | IN("sysctl-copy", "probe", "test-crash") | not) and (.value.s | not))
    | .key + 1' "$LANJOIN_STATE_DIR"/uplinks/*.json)
  # shellcheck disable=SC2086 # one step number a word
  release_fault_each "$adopted" 8 $steps
  on host ip -j route get 198.18.5.1 | jq -e '.[0].dev == "em1"'
  on host ip route del 198.18.5.0/24
  on host ip addr del 198.18.6.76/24 dev em1
  assert_host_back "$BEFORE"
}

@test "uplink: secondary and labelled addresses, lifetimes, flags, other tables and metrics move exactly" {
  on host ip addr add 198.51.100.77/24 dev em1 label em1:two
  defer on host ip addr del 198.51.100.77/24 dev em1
  on host ip addr add 198.18.5.1/24 brd 198.18.5.255 dev em1 label em1:x
  defer on host ip addr del 198.18.5.1/24 dev em1
  on host ip -6 addr add 2001:db8:9::1/64 dev em1 valid_lft 3000 preferred_lft 2000 noprefixroute nodad
  defer on host ip -6 addr del 2001:db8:9::1/64 dev em1
  on host ip route add 198.18.7.0/24 via 198.51.100.254 dev em1 table 100 metric 50 src 198.51.100.76
  defer on host ip route del 198.18.7.0/24 table 100
  on host ip route add 198.18.8.0/24 dev em1 scope link proto static mtu 1400 advmss 1360
  defer on host ip route del 198.18.8.0/24
  on host ip -6 route add 2001:db8:7::/48 via 2001:db8:1::fe dev em1 metric 77 pref high
  defer on host ip -6 route del 2001:db8:7::/48 metric 77
  on host ip -6 route add 2001:db8:8::/48 via fe80::1 dev em1 table 200 hoplimit 9
  defer on host ip -6 route del 2001:db8:8::/48 table 200
  snapshot host >"$BEFORE"
  local net_before
  net_before=$(net_of em1)
  run lj uplink adopt br-em1 em1
  echo "$output"
  [ "$status" -eq 0 ]
  wait_until 5 br_settled
  diff -u <(echo "$net_before") <(net_of br-em1)
  # the lifetime moved along (it did not become "forever")
  [ "$(on host ip -j -6 addr show dev br-em1 | jq '.[0].addr_info[] | select(.local == "2001:db8:9::1") | .valid_life_time')" -le 3000 ]
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

@test "uplink: br-em1 keeps em1's MAC when a container with a lower MAC joins; release waits for it" {
  local mac
  mac=$(mac_of em1)
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  add_container c1
  defer lj detach "pid:$CONTAINER_PID"
  peer_forgets_117
  run lj attach bridge "pid:$CONTAINER_PID" --bridge br-em1 --ip 198.51.100.117/24 \
    --gateway 198.51.100.254 --mac 02:00:00:00:00:01
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(mac_of br-em1)" = "$mac" ]
  run curl_from peer http://198.51.100.117/hello.html
  [ "$output" = "Hello world" ]
  run curl_from c1 http://203.0.113.1/cgi-bin/ip
  [ "$output" = "198.51.100.117" ]
  ping_from host 198.51.100.254
  # a container is still attached: release refuses and changes nothing
  local adopted=$BATS_TEST_TMPDIR/adopted
  snapshot host >"$adopted"
  run lj uplink release br-em1
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"detach them first"* ]]
  # the port is named with its attachment (target and ifname), not only by its host name
  local port
  port=$(lj list --json | jq -r '.[0].host_ifname')
  [[ $output == *"'br-em1' still has 1 other port ($port of pid:$CONTAINER_PID as eth1)"* ]]
  assert_same_state host "$adopted"
  run lj detach "pid:$CONTAINER_PID"
  [ "$status" -eq 0 ]
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

@test "uplink: a TCP connection opened by the peer before adoption carries data after it and after release" {
  tcp_survives
}

# tcp_survives [ADOPT-OPTIONS...]
tcp_survives() {
  local got=$BATS_TEST_TMPDIR/got fifo=$BATS_TEST_TMPDIR/fifo quiet=$BATS_TEST_TMPDIR/quiet
  mkfifo "$fifo" "$quiet"
  # the listener's stdin stays open (nc hangs up at its end of input)
  exec 9<>"$quiet"
  on host busybox nc -l -p 7777 <"$quiet" >"$got" 2>/dev/null 3>&- 8>&- &
  defer kill_if_alive $!
  wait_until 5 on host sh -c 'ss -Hlnt "sport = :7777" | grep -q .'
  on peer busybox nc 198.51.100.76 7777 <"$fifo" >/dev/null 2>&1 3>&- 9>&- &
  defer kill_if_alive $!
  exec 8>"$fifo"
  echo before >&8
  wait_until 5 grep -q before "$got"
  run lj uplink adopt br-em1 em1 "$@"
  [ "$status" -eq 0 ]
  echo after-adopt >&8
  wait_until 10 grep -q after-adopt "$got"
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  echo after-release >&8
  wait_until 10 grep -q after-release "$got"
  exec 8>&- 9>&-
  # one connection all along
  [ "$(cat "$got")" = "$(printf 'before\nafter-adopt\nafter-release')" ]
}

@test "uplink: a probe nobody answers rolls everything back within the timeout (exit 1)" {
  local t0 t1
  t0=$(date +%s%N)
  run lj uplink adopt br-em1 em1 --probe 198.51.100.99 --timeout 2
  t1=$(date +%s%N)
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"did not answer"* ]]
  [[ $output == *"nothing was left behind"* ]]
  (((t1 - t0) / 1000000 < 4000))
  assert_host_back "$BEFORE"
  [ -z "$(ls "$LANJOIN_STATE_DIR/uplinks")" ]
  # off-link probe addresses answer by ICMP echo: the outside host does
  run lj uplink adopt br-em1 em1 --probe 203.0.113.1 --timeout 3
  [ "$status" -eq 0 ]
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

# the probe of a running adopt asks for 198.51.100.99 on br-em1 (nobody answers it)
in_nanosleep() { grep -q nanosleep "/proc/$1/wchan"; }
probing_99() { [ -n "$(on host ip neigh show 198.51.100.99 dev br-em1 2>/dev/null)" ]; }

@test "uplink: SIGINT, SIGTERM or SIGHUP during adopt's probe rolls everything back (exit 1, as attach)" {
  local sig rc pid out=$BATS_TEST_TMPDIR/adopt.out
  for sig in INT TERM HUP; do
    # not ignored (a non-interactive shell's background job ignores SIGINT); env and
    # ip netns exec exec lanjoin: $! is its PID
    env --default-signal="$sig" ip netns exec "${LAB_PREFIX}host" "$LANJOIN" uplink adopt \
      br-em1 em1 --probe 198.51.100.99 --timeout 60 >"$out" 2>&1 3>&- &
    pid=$!
    defer kill_if_alive "$pid"
    wait_until 20 probing_99
    kill -"$sig" "$pid"
    rc=0
    wait "$pid" || rc=$?
    cat "$out"
    [ "$rc" -eq 1 ]
    grep -q "Interrupted (SIG$sig) while adopting 'em1' into 'br-em1', at step [0-9]* of [0-9]*, probe 198.51.100.99 through 'br-em1'; nothing was left behind" "$out"
    # em1 has its addresses and routes back, br-em1 is gone, nothing is recorded
    ! on host ip link show br-em1 2>/dev/null || false
    assert_host_back "$BEFORE"
    [ -z "$(ls "$LANJOIN_STATE_DIR/uplinks")" ]
    run lj uplink list --json
    [ "$status" -eq 0 ]
    [ "$output" = "[]" ]
  done
}

@test "uplink: a signal during release stops it and keeps the adoption whole (exit 1)" {
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  wait_until 5 br_settled
  local adopted=$BATS_TEST_TMPDIR/adopted rc pid out=$BATS_TEST_TMPDIR/release.out
  snapshot host >"$adopted"
  # each undo waits 300 ms (LANJOIN_STEP_DELAY_MS): the signal lands between two of them
  env --default-signal=TERM LANJOIN_STEP_DELAY_MS=300 ip netns exec "${LAB_PREFIX}host" \
    "$LANJOIN" uplink release br-em1 >"$out" 2>&1 3>&- &
  pid=$!
  defer kill_if_alive "$pid"
  # in that delay (nanosleep), i.e. past the checks and the lock: the undo has begun
  wait_until 20 in_nanosleep "$pid"
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  cat "$out"
  [ "$rc" -eq 1 ]
  grep -q "Interrupted (SIGTERM) while releasing 'br-em1', before undoing step [0-9]* (.*)\. The adoption is whole again (nothing was released)" "$out"
  wait_until 5 br_settled
  diff -u <(grep -v '"handle":' "$adopted") <(snapshot host | grep -v '"handle":')
  [ "$(lj uplink list --json | jq -r '.[0].status')" = adopted ]
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

@test "uplink: bad input is refused with exit 2 and nothing changes" {
  run lj uplink adopt br-em1 nosuch0
  [ "$status" -eq 2 ]
  [[ $output == *"does not exist"* ]]
  run lj uplink adopt br-em1 lo
  [ "$status" -eq 2 ]
  run lj uplink adopt em1 em1
  [ "$status" -eq 2 ]
  run lj uplink adopt 'bad/name' em1
  [ "$status" -eq 2 ]
  run lj uplink adopt br-em1 em1 --timeout 0
  [ "$status" -eq 2 ]
  run lj uplink adopt br-em1 em1 --probe 203.0.113.300
  [ "$status" -eq 2 ]
  # the probe must be reached through the uplink
  run lj uplink adopt br-em1 em1 --probe 127.0.0.1
  [ "$status" -eq 2 ]
  [[ $output == *"not reached through"* ]]
  # BR exists: empty, or with ports
  on host ip link add br-x type bridge
  defer del_link br-x
  on host ip link add dm-x type veth peer name dm-y
  defer del_link dm-x
  run lj uplink adopt br-x em1
  [ "$status" -eq 2 ]
  on host ip link set dm-x master br-x
  run lj uplink adopt br-x em1
  [ "$status" -eq 2 ]
  [[ $output == *"not empty"* ]]
  # DEV is a bridge itself, or already a port of one
  run lj uplink adopt br-y br-x
  [ "$status" -eq 2 ]
  [[ $output == *"itself a bridge"* ]]
  run lj uplink adopt br-y dm-x
  [ "$status" -eq 2 ]
  [[ $output == *"already a port"* ]]
  on host ip link del dm-x
  on host ip link del br-x
  # a route whose twin (same destination and metric) goes through another link
  on host ip link add vt0 type veth peer name vt1
  defer del_link vt0
  on host ip link set vt0 up
  on host ip addr add 198.18.3.1/24 dev vt0
  on host ip route append 198.18.9.0/24 via 198.51.100.254 dev em1
  on host ip route append 198.18.9.0/24 via 198.18.3.2 dev vt0 onlink
  run lj uplink adopt br-em1 em1
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Cannot move route"*"vt0"* ]]
  on host ip route del 198.18.9.0/24 dev em1
  on host ip link del vt0
  assert_host_back "$BEFORE"
  # --dry-run prints the plan and changes nothing
  run lj uplink adopt br-em1 em1 --dry-run
  [ "$status" -eq 0 ]
  [[ $output == *"ip link set em1 master br-em1"* ]]
  assert_host_back "$BEFORE"
}

@test "uplink: adopting twice is a no-op, releasing twice too" {
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  wait_until 5 br_settled
  local adopted=$BATS_TEST_TMPDIR/adopted
  snapshot host >"$adopted"
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  [[ $output == *"nothing to do"* ]]
  assert_same_state host "$adopted"
  run lj uplink adopt br-other em1
  [ "$status" -eq 2 ]
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  [[ $output == *"nothing to do"* ]]
  assert_host_back "$BEFORE"
}

@test "uplink: a dynamic (DHCP) address is reported, keeps its lifetime, and comes back" {
  defer restore_em1
  on host ip addr flush dev em1 scope global
  on host ip addr add 198.51.100.76/24 dev em1 valid_lft 600 preferred_lft 600
  on host ip route replace default via 198.51.100.254 dev em1
  on host ip -6 addr add 2001:db8:1::76/64 dev em1 nodad
  on host ip -6 route replace default via 2001:db8:1::fe dev em1
  snapshot host >"$BEFORE"
  run lj uplink adopt br-em1 em1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"warning: 198.51.100.76/24 on 'em1' is dynamic"* ]]
  [[ $output == *"DHCP client on 'br-em1'"* ]]
  local lft
  lft=$(on host ip -j -4 addr show dev br-em1 | jq '.[0].addr_info[0].valid_life_time')
  ((lft > 0 && lft <= 600))
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
  lft=$(on host ip -j -4 addr show dev em1 | jq '.[0].addr_info[0].valid_life_time')
  ((lft > 0 && lft <= 600))
}

# With br_netfilter and FORWARD DROP the plans also hold the firewall steps: test those too.
forward_drop_if_possible() {
  on host test -e /proc/sys/net/bridge/bridge-nf-call-iptables || return 0
  [ "$(on host cat /proc/sys/net/bridge/bridge-nf-call-iptables)" = 1 ] || return 0
  on host iptables -P FORWARD DROP
  defer on host iptables -P FORWARD ACCEPT
  snapshot host >"$BEFORE"
}

@test "uplink: a fault at every step of adopt rolls back to the exact state (exit 1)" {
  local n=1 out
  forward_drop_if_possible
  while :; do
    run on host env LANJOIN_FAULT_STEP=$n "$LANJOIN" uplink adopt br-em1 em1
    if [ "$status" -eq 0 ]; then
      break
    fi
    echo "step $n: $output"
    [ "$status" -eq 1 ]
    [[ $output == *"step $n of"* ]]
    assert_host_back "$BEFORE"
    [ -z "$(ls "$LANJOIN_STATE_DIR/uplinks")" ]
    n=$((n + 1))
    ((n < 40))
  done
  echo "adopt has $((n - 1)) steps"
  ((n > 8))
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

@test "uplink: a fault at every step of release keeps the adoption whole (exit 1); then release works" {
  forward_drop_if_possible
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  wait_until 5 br_settled
  local adopted=$BATS_TEST_TMPDIR/adopted steps
  snapshot host >"$adopted"
  # the steps that have an undo (1-based)
  steps=$(jq -r '.undo | to_entries[]
    | select((.value.type | IN("sysctl-copy", "probe", "test-crash") | not) and (.value.skip_undo | not))
    | .key + 1' "$LANJOIN_STATE_DIR"/uplinks/*.json)
  # shellcheck disable=SC2086 # one step number a word
  release_fault_each "$adopted" 6 $steps
  assert_host_back "$BEFORE"
}

@test "uplink: an adopt killed at any step is rolled back by release or gc, or redone by a re-run" {
  local n=1 steps
  steps=$(lj uplink adopt br-em1 em1 --dry-run | grep -c . || true)
  for ((n = 1; ; n++)); do
    run on host env LANJOIN_FAULT_CRASH=$n "$LANJOIN" uplink adopt br-em1 em1
    if [ "$status" -eq 0 ]; then
      break # past the last step
    fi
    [ "$status" -eq 137 ] # SIGKILL
    [ "$(jq -r .status "$LANJOIN_STATE_DIR"/uplinks/*.json)" = adopting ]
    if ((n % 3 == 0)); then
      run lj gc
      echo "crash $n, gc: $output"
      [ "$status" -eq 0 ]
      [ -z "$(ls "$LANJOIN_STATE_DIR/uplinks")" ]
      assert_host_back "$BEFORE"
    elif ((n % 3 == 1)); then
      run lj uplink release br-em1
      echo "crash $n, release: $output"
      [ "$status" -eq 0 ]
      assert_host_back "$BEFORE"
    else
      run lj uplink adopt br-em1 em1
      echo "crash $n, re-run: $output"
      [ "$status" -eq 0 ]
      [[ $output == *"rolled back first"* ]]
      run lj uplink release br-em1
      [ "$status" -eq 0 ]
      assert_host_back "$BEFORE"
    fi
    ((n < 40))
  done
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

# br_netfilter is built into some kernels and a module in others; without it bridged frames never
# see iptables and there is nothing to test.
need_br_netfilter() {
  on host test -e /proc/sys/net/bridge/bridge-nf-call-iptables ||
    skip "br_netfilter is not available (not built in, and the module cannot be loaded here)"
  local v4 v6
  v4=$(on host cat /proc/sys/net/bridge/bridge-nf-call-iptables)
  v6=$(on host cat /proc/sys/net/bridge/bridge-nf-call-ip6tables)
  defer on host sysctl -qw "net.bridge.bridge-nf-call-iptables=$v4" "net.bridge.bridge-nf-call-ip6tables=$v6"
  on host sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
}

# The peer forgets .117: an earlier test's container had another MAC address there.
peer_forgets_117() {
  on peer ip neigh flush to 198.51.100.117 2>/dev/null || true
  on peer ip -6 neigh flush to 2001:db8:1::117 2>/dev/null || true
}

# Attach container c1 to br-em1 as .117 / ::117.
attach_c1() {
  peer_forgets_117
  add_container c1
  defer lj detach "pid:$CONTAINER_PID"
  run lj attach bridge "pid:$CONTAINER_PID" --bridge br-em1 --ip 198.51.100.117/24 \
    --ip 2001:db8:1::117/64 --gateway 198.51.100.254
  echo "$output"
  [ "$status" -eq 0 ]
  wait_until 5 on c1 sh -c '[ -z "$(ip -6 addr show tentative)" ]'
}

c1_answers() {
  [ "$(curl_from peer http://198.51.100.117/hello.html)" = "Hello world" ] &&
    [ "$(curl_from peer 'http://[2001:db8:1::117]/hello.html')" = "Hello world" ]
}

@test "uplink: with br_netfilter on and FORWARD policy DROP, a container on br-em1 still answers the peer" {
  need_br_netfilter
  on host iptables -P FORWARD DROP
  defer on host iptables -P FORWARD ACCEPT
  on host ip6tables -P FORWARD DROP
  defer on host ip6tables -P FORWARD ACCEPT
  snapshot host >"$BEFORE"
  run lj uplink adopt br-em1 em1
  echo "$output"
  [ "$status" -eq 0 ]
  on host iptables-save | grep -- '-A FORWARD -i br-em1 -o br-em1 -m comment --comment "lanjoin: bridged on br-em1" -j ACCEPT'
  on host ip6tables-save | grep -- '-A FORWARD -i br-em1 -o br-em1 -m comment --comment "lanjoin: bridged on br-em1" -j ACCEPT'
  attach_c1
  c1_answers
  # the adoption's rule covers the bridge: the attach adds none of its own
  [ "$(on host iptables-save | grep -c lanjoin)" -eq 1 ]
  # the rule is what lets it through: without it the peer gets nothing
  local h
  h=$(on host nft -j -a list chain ip filter FORWARD | jq '.nftables[].rule | select(.comment? == "lanjoin: bridged on br-em1") | .handle')
  on host nft delete rule ip filter FORWARD handle "$h"
  run curl_from peer http://198.51.100.117/hello.html --max-time 2
  [ "$status" -ne 0 ]
  # status names it; reconcile puts it back (a firewall reload dropped it)
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"accept rule for bridge br-em1"*"is missing"* ]]
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"accept rule for bridge br-em1"*"put back"* ]]
  # the adoption is the host's, named as status names it (not by a /proc path)
  [[ $output == "host br-em1: repair: "* ]]
  c1_answers
  [ "$(on host iptables-save | grep -c lanjoin)" -eq 1 ]
  run lj reconcile
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run lj detach "pid:$CONTAINER_PID"
  [ "$status" -eq 0 ]
  # release's dry run names the rules by their handles now: its nft lines paste (both families)
  run lj uplink release br-em1 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(grep -c '^nft delete rule ip6\? filter FORWARD handle [0-9][0-9]*$' <<<"$output")" -eq 2 ]
  while read -r -a cmd; do
    on host "${cmd[@]}"
  done < <(grep '^nft delete rule' <<<"$output")
  [ "$(on host iptables-save | grep -c lanjoin)" -eq 0 ]
  [ "$(on host ip6tables-save | grep -c lanjoin)" -eq 0 ]
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

@test "uplink: the accept rule goes into DOCKER-USER when it exists, ahead of its RETURN" {
  need_br_netfilter
  on host iptables -N DOCKER-USER
  on host iptables -A DOCKER-USER -j RETURN
  on host iptables -I FORWARD -j DOCKER-USER
  on host iptables -A FORWARD -i br-em1 -j DROP
  on host iptables -P FORWARD DROP
  defer on host iptables -X DOCKER-USER
  defer on host iptables -F
  defer on host iptables -P FORWARD ACCEPT
  snapshot host >"$BEFORE"
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  [ "$(on host iptables -S DOCKER-USER | sed -n 2p)" = '-A DOCKER-USER -i br-em1 -o br-em1 -m comment --comment "lanjoin: bridged on br-em1" -j ACCEPT' ]
  ! on host iptables -S FORWARD | grep -q lanjoin || false
  add_container c1
  defer lj detach "pid:$CONTAINER_PID"
  peer_forgets_117
  run lj attach bridge "pid:$CONTAINER_PID" --bridge br-em1 --ip 198.51.100.117/24 --gateway 198.51.100.254
  [ "$status" -eq 0 ]
  run curl_from peer http://198.51.100.117/hello.html
  [ "$output" = "Hello world" ]
  run lj detach "pid:$CONTAINER_PID"
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

@test "uplink: attach bridge --uplink em1 on a missing bridge adopts em1 first; detach keeps the adoption" {
  add_container c1
  defer lj detach "pid:$CONTAINER_PID"
  peer_forgets_117
  run lj attach bridge "pid:$CONTAINER_PID" --bridge br-em1 --uplink em1 --ip 198.51.100.117/24 \
    --gateway 198.51.100.254 --json
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .adopted_uplink)" = em1 ]
  [ "$(on host ip -j link show em1 | jq -r '.[0].master')" = br-em1 ]
  run curl_from peer http://198.51.100.117/hello.html
  [ "$output" = "Hello world" ]
  ping_from host 198.51.100.254
  # the bridge exists now: a second container just joins it
  run lj detach "pid:$CONTAINER_PID"
  [ "$status" -eq 0 ]
  [ "$(on host ip -j link show em1 | jq -r '.[0].master')" = br-em1 ]
  ping_from host 198.51.100.254
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

@test "uplink: attach bridge --uplink that fails after adopting gives the uplink back" {
  add_container c1
  defer lj detach "pid:$CONTAINER_PID"
  # bad input found only once the bridge exists: the interface name is taken in the container
  run lj attach bridge "pid:$CONTAINER_PID" --bridge br-em1 --uplink em1 --ip 198.51.100.117/24 --ifname lo
  echo "$output"
  [ "$status" -eq 2 ]
  assert_host_back "$BEFORE"
  # a fault in any step of the adoption it starts with
  local n
  for ((n = 1; n <= 14; n++)); do
    run on host env LANJOIN_FAULT_STEP=$n "$LANJOIN" attach bridge "pid:$CONTAINER_PID" \
      --bridge br-em1 --uplink em1 --ip 198.51.100.117/24
    [ "$status" -eq 1 ]
    assert_host_back "$BEFORE"
  done
  # --dry-run shows the adoption, then the attach, and changes nothing
  run lj attach bridge "pid:$CONTAINER_PID" --bridge br-em1 --uplink em1 --ip 198.51.100.117/24 --dry-run
  [ "$status" -eq 0 ]
  [[ $output == *"ip link set em1 master br-em1"*"master br-em1 addrgenmode none up"* ]]
  assert_host_back "$BEFORE"
}

# start_b_paused PID: `attach bridge pid:PID --bridge br-em1 --uplink em1` with an IPv6 address
# (whose duplicate address detection is waited for without the state lock), stopped there by
# the hidden LANJOIN_PAUSE_SETTLE hook once it has adopted em1 and attached; B_PID, B_HOLDER
in_settle_pause() { [ "$(readlink "/proc/$B_HOLDER/fd/1")" = "$BATS_TEST_TMPDIR/pause" ]; }
start_b_paused() {
  rm -f "$BATS_TEST_TMPDIR/pause"
  mkfifo -m 0600 "$BATS_TEST_TMPDIR/pause"
  LANJOIN_PAUSE_SETTLE=1 LANJOIN_PAUSE_FIFO=$BATS_TEST_TMPDIR/pause \
    ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge "pid:$1" --bridge br-em1 \
    --uplink em1 --ip 2001:db8:1::118/64 >"$BATS_TEST_TMPDIR/b.out" 2>&1 3>&- &
  B_PID=$!
  defer kill_if_alive "$B_PID"
  # the holder's open of the FIFO for writing returns once lanjoin opened it for reading
  sleep infinity >"$BATS_TEST_TMPDIR/pause" &
  B_HOLDER=$!
  defer kill_if_alive "$B_HOLDER"
  wait_until 60 in_settle_pause
  [ "$(on host ip -j link show em1 | jq -r '.[0].master')" = br-em1 ]
}
# stop B (SIGTERM: it rolls back as a failed attach, then gives back what it adopted, or not)
fail_b() {
  kill -TERM "$B_PID"
  kill "$B_HOLDER"
  local rc=0
  wait "$B_PID" || rc=$?
  cat "$BATS_TEST_TMPDIR/b.out"
  [ "$rc" -eq 1 ]
  grep -q "Interrupted (SIGTERM)" "$BATS_TEST_TMPDIR/b.out"
}
still_adopted() {
  [ "$(lj uplink list --json | jq -r '.[] | select(.bridge == "br-em1") | .status')" = adopted ]
  [ "$(on host ip -j link show em1 | jq -r '.[0].master')" = br-em1 ]
  ping_from host 198.51.100.254
}

@test "uplink: a failed attach --uplink gives back its adoption only if nobody else relies on it: another attach, an explicit adopt" {
  add_container a
  local a=$CONTAINER_PID
  add_container b
  local b=$CONTAINER_PID
  defer lj detach "pid:$a"
  peer_forgets_117

  # 1. B adopted em1 and waits; A attaches with --uplink em1 too: it finds the adoption there
  start_b_paused "$b"
  run lj attach bridge "pid:$a" --bridge br-em1 --uplink em1 --ip 198.51.100.117/24 --json
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.adopted_uplink // "none"')" = none ]
  # B fails: the uplink stays adopted, A reaches the LAN
  fail_b
  still_adopted
  grep -q "the uplink adopted for it was not given back: 'br-em1' stays adopted" "$BATS_TEST_TMPDIR/b.out"
  run curl_from peer http://198.51.100.117/hello.html
  [ "$output" = "Hello world" ]
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
  lj detach "pid:$a"
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"

  # 2. the same with an explicit adopt meanwhile: it says there is nothing to do, and is kept
  start_b_paused "$b"
  run lj uplink adopt br-em1 em1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already holds 'em1'"* ]]
  fail_b
  still_adopted
  grep -q "'lanjoin uplink adopt br-em1 em1' asked for it meanwhile" "$BATS_TEST_TMPDIR/b.out"
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"

  # 3. alone, B gives back what it adopted: nothing is left
  start_b_paused "$b"
  fail_b
  grep -q "nothing was left behind" "$BATS_TEST_TMPDIR/b.out"
  [ "$(lj uplink list --json)" = "[]" ]
  assert_host_back "$BEFORE"
}

# --- Open vSwitch (the lab's OVS: userspace datapath, in the host node) -----------------------

ovs_up() {
  lab ovs start
  eval "$(lab ovs env)"
  snapshot host >"$BEFORE"
}

@test "uplink --ovs: adopt into an OVS bridge: same addresses and routes, MAC kept, containers join, release waits for them" {
  ovs_up
  local net_before mac
  net_before=$(net_of em1)
  mac=$(mac_of em1)
  run lj uplink adopt br-em1 em1 --ovs --json
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .kind)" = openvswitch ]
  on host ovs-vsctl --db="$LAB_OVSDB" list-ports br-em1 | grep -qx em1
  [ "$(mac_of br-em1)" = "$mac" ]
  wait_until 5 br_settled
  diff -u <(echo "$net_before") <(net_of br-em1)
  reaches_all
  add_container c1
  defer lj detach "pid:$CONTAINER_PID"
  peer_forgets_117
  run lj attach ovs "pid:$CONTAINER_PID" --bridge br-em1 --ip 198.51.100.117/24 \
    --gateway 198.51.100.254 --mac 02:00:00:00:00:01
  [ "$status" -eq 0 ]
  [ "$(mac_of br-em1)" = "$mac" ]
  run curl_from peer http://198.51.100.117/hello.html
  [ "$output" = "Hello world" ]
  run lj uplink release br-em1
  [ "$status" -eq 2 ]
  [[ $output == *"detach them first"* ]]
  run lj detach "pid:$CONTAINER_PID"
  [ "$status" -eq 0 ]
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  wait_ipv6_ready host
  assert_host_back "$BEFORE"
  reaches_all
}

@test "uplink --ovs: a TCP connection opened before adoption carries data after it and after release" {
  ovs_up
  tcp_survives --ovs
}

@test "uplink --ovs: a fault at every step of adopt and of release leaves the state exact" {
  ovs_up
  local n out
  for ((n = 1; ; n++)); do
    run on host env LANJOIN_FAULT_STEP=$n "$LANJOIN" uplink adopt br-em1 em1 --ovs
    if [ "$status" -eq 0 ]; then
      break
    fi
    echo "step $n: $output"
    [ "$status" -eq 1 ]
    wait_ipv6_ready host
    assert_host_back "$BEFORE"
    ((n < 40))
  done
  wait_until 5 br_settled
  local adopted=$BATS_TEST_TMPDIR/adopted steps
  snapshot host >"$adopted"
  steps=$(jq -r '.undo | to_entries[]
    | select((.value.type | IN("sysctl-copy", "probe", "test-crash") | not) and (.value.skip_undo | not))
    | .key + 1' "$LANJOIN_STATE_DIR"/uplinks/*.json)
  for n in $steps; do
    run on host env LANJOIN_FAULT_UNDO="$n" "$LANJOIN" uplink release br-em1
    echo "undo $n: $output"
    [ "$status" -eq 1 ]
    wait_until 5 br_settled
    # OVS rows made again get new UUIDs (and so another order in 'ovs-vsctl show'), nft rules
    # new handles; the content is the same
    diff -u <(grep -v '"handle":' "$adopted" | sort) <(snapshot host | grep -v '"handle":' | sort)
  done
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  wait_ipv6_ready host
  assert_host_back "$BEFORE"
}

@test "uplink --ovs: without a running Open vSwitch, adopt is refused (exit 2) and nothing changes" {
  run lj uplink adopt br-em1 em1 --ovs --ovsdb unix:/nonexistent/db.sock
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"not running"* ]]
  assert_host_back "$BEFORE"
}

@test "uplink --ovs: after a reboot (records gone, OVS rows kept) gc takes the uplink out of OVS" {
  ovs_up
  run lj uplink adopt br-em1 em1 --ovs
  [ "$status" -eq 0 ]
  # a reboot empties /run/lanjoin; ovs-vswitchd would put em1 back into br-em1
  rm -f "$LANJOIN_STATE_DIR"/uplinks/*.json
  defer restore_em1
  defer on host sysctl -qw net.ipv6.conf.em1.disable_ipv6=0 net.ipv4.conf.em1.rp_filter=0 \
    net.ipv4.conf.em1.arp_ignore=0
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  ! on host ovs-vsctl --db="$LAB_OVSDB" list-ports br-em1 || false
  ! on host ovs-vsctl --db="$LAB_OVSDB" port-to-br em1 || false
  run on host ip link show br-em1
  [ "$status" -ne 0 ]
}

@test "uplink: attach bridge on any bridge accepts its bridged traffic under br_netfilter and FORWARD DROP" {
  need_br_netfilter
  on host iptables -P FORWARD DROP
  defer on host iptables -P FORWARD ACCEPT
  on host ip link add br-t type bridge
  defer del_link br-t
  on host ip link set br-t up
  snapshot host >"$BEFORE"
  add_container c1
  local p1=$CONTAINER_PID
  defer lj detach "pid:$p1"
  add_container c2
  local p2=$CONTAINER_PID
  defer lj detach "pid:$p2"
  # a fault at any step, the firewall step included, leaves no rule behind
  local n fw_before=$BATS_TEST_TMPDIR/fw
  sed -n '/^## nftables/,/^## sysctl/p' "$BEFORE" >"$fw_before"
  for ((n = 1; ; n++)); do
    run on host env LANJOIN_FAULT_STEP=$n "$LANJOIN" attach bridge "pid:$p1" --bridge br-t --ip 198.18.10.1/24
    [ "$status" -eq 0 ] && break
    [ "$status" -eq 1 ]
    diff -u "$fw_before" <(snapshot host | sed -n '/^## nftables/,/^## sysctl/p')
    ((n < 20))
  done
  ((n > 3))
  run lj attach bridge "pid:$p2" --bridge br-t --ip 198.18.10.2/24
  [ "$status" -eq 0 ]
  [ "$(on host iptables-save | grep -c -- '-A FORWARD -i br-t -o br-t -m comment --comment "lanjoin: bridged on br-t for ljv')" -eq 2 ]
  run curl_from c2 http://198.18.10.1/hello.html
  [ "$output" = "Hello world" ]
  # one detach takes its own rule only
  run lj detach "pid:$p1"
  [ "$status" -eq 0 ]
  [ "$(on host iptables-save | grep -c lanjoin)" -eq 1 ]
  run lj detach "pid:$p2"
  [ "$status" -eq 0 ]
  # the firewall is as before (br-t itself changed its MAC and TSO limit as ports came and went)
  diff -u <(sed -n '/^## nftables/,/^## sysctl/p' "$BEFORE") \
    <(snapshot host | sed -n '/^## nftables/,/^## sysctl/p')
}

ns_del() { ! [[ -e /run/netns/$LAB_PREFIX$1 ]] || ip netns del "$LAB_PREFIX$1"; }

@test "uplink: records of a host namespace that no longer exists are stale; gc from another drops them" {
  local h2="${LAB_PREFIX}h2"
  # a throwaway "host" with its own uplink; lanjoin runs there with the same state directory
  ip netns add "$h2"
  defer ns_del h2
  ip -n "$h2" link add em9 type veth peer name em9p
  ip -n "$h2" addr add 198.18.20.1/24 dev em9
  ip -n "$h2" link set em9 up
  ip -n "$h2" link set lo up
  add_container c9
  ip netns exec "$h2" "$LANJOIN" uplink adopt br9 em9 --no-probe
  ip netns exec "$h2" "$LANJOIN" attach bridge "netns:${LAB_PREFIX}c9" --bridge br9 --ip 198.18.20.5/24
  [ "$(ip netns exec "$h2" "$LANJOIN" uplink list --json | jq -r '.[0].status')" = adopted ]
  # while h2 lives, lanjoin elsewhere leaves its records alone
  run lj gc
  [ "$status" -eq 0 ]
  [[ $output == *"Removed 0"* ]]
  [ "$(lj uplink list --json | jq -r '.[0].status')" = adopted ]
  # h2 goes, and all its links with it
  ip netns del "$h2"
  [ "$(lj uplink list --json | jq -r '.[0].status')" = stale ]
  run lj uplink list
  [[ $output == *br9*em9*stale* ]]
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  # one line per thing removed, each named; an adoption is not called an attachment
  [[ $output == *"Removed uplink adoption br9 em9: dropped its record"* ]]
  [[ $output == *"Removed attachment netns:${LAB_PREFIX}c9 eth1 (bridge way): dropped its record"* ]]
  [ "${lines[-1]}" = "Removed 1 stale attachment, 1 uplink adoption" ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/uplinks")" ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
  [ "$(lj uplink list --json | jq length)" -eq 0 ]
  ! on c9 ip link show eth1 || false
}

@test "uplink: adopt refuses up front an uplink that macvlan children hold, here or moved into a container" {
  take_snapshots
  on host ip link add mvx0 link em1 type macvlan mode bridge
  defer del_link mvx0
  run lj uplink adopt br-em1 em1
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"'em1' cannot become a bridge port"*"macvlan mvx0"* ]]
  # as Docker's macvlan network does: the child lives in the container's namespace
  add_container mvc
  on host ip link set mvx0 netns "${LAB_PREFIX}mvc"
  run lj uplink adopt br-em1 em1
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"macvlan mvx0 (in "* ]]
  # attach bridge --uplink adopts through the same checks
  run lj attach bridge "netns:${LAB_PREFIX}mvc" --bridge br-em1 --uplink em1 --ip 198.51.100.117/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"macvlan mvx0"* ]]
  on mvc ip link del mvx0
  assert_unchanged
}

@test "uplink: attach --uplink says it adopted the uplink; detaching the bridge's last attachment says it still holds it" {
  add_container c1
  local p1=$CONTAINER_PID
  defer lj detach "pid:$p1"
  add_container c2
  local p2=$CONTAINER_PID
  defer lj detach "pid:$p2"
  run lj attach bridge "pid:$p1" --bridge br-em1 --uplink em1 --ip 198.51.100.117/24
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Adopted em1 into br-em1 first: em1's addresses and routes moved onto br-em1; give them back with 'lanjoin uplink release br-em1'"* ]]
  # --uplink only says how a missing bridge is made: the same attach without it is as asked
  run lj attach bridge "pid:$p1" --bridge br-em1 --ip 198.51.100.117/24
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* ]]
  # the bridge is there now: nothing adopted, nothing said
  run lj attach bridge "pid:$p2" --bridge br-em1 --uplink em1 --ip 198.51.100.118/24
  [ "$status" -eq 0 ]
  [[ $output != *"Adopted"* ]]
  run lj detach "pid:$p1"
  [ "$status" -eq 0 ]
  [[ $output != *"uplink release"* ]]   # c2 is still on br-em1
  run lj detach "pid:$p2"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"No attachment is left on br-em1, which still holds the uplink em1"*"'lanjoin uplink release br-em1'"* ]]
  [ "$(on host ip -j link show em1 | jq -r '.[0].master')" = br-em1 ]
  # detach --all says it too, once for the bridge however many went from it
  run lj attach bridge "pid:$p1" --bridge br-em1 --ip 198.51.100.117/24
  [ "$status" -eq 0 ]
  run lj attach bridge "pid:$p2" --bridge br-em1 --ip 198.51.100.118/24
  [ "$status" -eq 0 ]
  run lj detach --all
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == "Detached 2 attachments"*"No attachment is left on br-em1, which still holds the uplink em1"* ]]
  [ "$(grep -c "No attachment is left" <<<"$output")" -eq 1 ]
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  assert_host_back "$BEFORE"
}

@test "uplink: a wireless uplink is refused (exit 2) by adopt, adopt --ovs and attach bridge --uplink, naming the routed and nat ways" {
  add_container wb
  run lj_wireless em1 uplink adopt br-w em1
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"'em1' is a wireless link"*"ways that work on it: routed"*"nat"* ]]
  [[ $output != *macvlan* ]]
  run lj_wireless em1 uplink adopt br-w em1 --ovs
  [ "$status" -eq 2 ]
  [[ $output == *wireless* ]]
  run lj_wireless em1 attach bridge "netns:${LAB_PREFIX}wb" --bridge br-w --uplink em1 \
    --ip 198.51.100.163/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *wireless*nat* ]]
  assert_same_state host "$BEFORE"
}
