#!/usr/bin/env bats
# The bridge way (issue 2): the seed's scenario end to end, exact detach, rollback at every
# step, and bad input refused without any change.

bats_require_minimum_version 1.5.0

load helpers

setup_file() { lab_setup_file --bridge-host; }

ATTACH=(--bridge br-em1 --ip 198.51.100.117/24 --gateway 198.51.100.254)



@test "bridge: the peer reaches the container at .117 and the outside sees .117" {
  add_container web
  take_snapshots web
  run lj attach bridge "netns:${LAB_PREFIX}web" "${ATTACH[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}web"

  [[ $output == *"198.51.100.117/24"* ]]
  run curl_from peer http://198.51.100.117/hello.html
  [ "$status" -eq 0 ]
  [ "$output" = "Hello world" ]
  run curl_from web http://203.0.113.1/cgi-bin/ip
  [ "$status" -eq 0 ]
  [ "$output" = "198.51.100.117" ]

  # the container's side is as asked: eth1, the address, the default route
  run on web ip -j addr show dev eth1
  [[ $output == *'"local":"198.51.100.117","prefixlen":24'* ]]
  run on web ip -j route show default
  [[ $output == *'"gateway":"198.51.100.254","dev":"eth1"'* ]]
  # the host side is a port of br-em1 with no IPv6 address of its own
  host_if=$(lj list --json | jq -r '.[0].host_ifname')
  [[ ${#host_if} -le 15 ]]
  [ "$(on host cat /sys/class/net/"$host_if"/master/uevent | sed -n 's/^INTERFACE=//p')" = br-em1 ]
  [ -z "$(on host ip -6 addr show dev "$host_if")" ]

  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_unchanged web
  ! curl_from peer http://198.51.100.117/hello.html || false
  # detach again: safe, nothing to do
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  [[ $output == *"not attached"* ]]
  assert_unchanged web
}

@test "bridge: targets by pid and by netns path; list shows them" {
  add_container a
  local pid_a=$CONTAINER_PID
  add_container b
  take_snapshots a
  snapshot b >"$BATS_TEST_TMPDIR/b.before"

  run lj attach bridge "pid:$pid_a" --bridge br-em1 --ip 198.51.100.121/24
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "pid:$pid_a"
  run lj attach bridge "/run/netns/${LAB_PREFIX}b" --bridge br-em1 --ip 198.51.100.122/24 --ifname lan0
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "/run/netns/${LAB_PREFIX}b"

  # two containers on the bridge reach each other and the peer
  run curl_from a http://198.51.100.122/hello.html
  [ "$output" = "Hello world" ]
  run curl_from peer http://198.51.100.121/hello.html
  [ "$output" = "Hello world" ]

  run lj list
  [ "$status" -eq 0 ]
  [[ $output == *"pid:$pid_a"*"eth1"*"bridge"*"198.51.100.121/24"* ]]
  [[ $output == *"/run/netns/${LAB_PREFIX}b"*"lan0"*"198.51.100.122/24"* ]]
  run lj list --json
  [ "$(jq length <<<"$output")" -eq 2 ]
  [ "$(jq -r '.[] | select(.ifname == "lan0") | .info.bridge' <<<"$output")" = br-em1 ]

  # the same namespace by another name is the same attachment; a dry run says so too
  run lj attach bridge "netns:${LAB_PREFIX}a" --bridge br-em1 --ip 198.51.100.123/24
  [ "$status" -eq 2 ]
  [[ $output == *"already attached"* ]]
  run lj attach bridge "netns:${LAB_PREFIX}a" --bridge br-em1 --ip 198.51.100.123/24 --dry-run
  [ "$status" -eq 2 ]
  [[ $output == *"already attached as 'eth1' (way bridge)"* ]]

  run lj detach "netns:${LAB_PREFIX}a"
  [ "$status" -eq 0 ]
  run lj detach "/run/netns/${LAB_PREFIX}b" --ifname lan0
  [ "$status" -eq 0 ]
  assert_unchanged a
  assert_same_state b "$BATS_TEST_TMPDIR/b.before"
}

@test "bridge: --mac, --mtu, --route and an IPv6 address are applied" {
  add_container c
  take_snapshots c
  run lj attach bridge "netns:${LAB_PREFIX}c" --bridge br-em1 --ip 198.51.100.130/24 \
    --ip 2001:db8:1::130/64 --gateway 198.51.100.254 --mac 02:00:c6:33:64:82 --mtu 1400 \
    --route 203.0.113.0/25@198.51.100.254 --ifname lan1
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}c"
  [ "$(on c cat /sys/class/net/lan1/address)" = 02:00:c6:33:64:82 ]
  [ "$(on c cat /sys/class/net/lan1/mtu)" = 1400 ]
  run on c ip -4 route show 203.0.113.0/25
  [[ $output == *"via 198.51.100.254 dev lan1"* ]]
  run on c ip -6 addr show dev lan1
  [[ $output == *"2001:db8:1::130/64"* ]]
  run lj detach "netns:${LAB_PREFIX}c"
  [ "$status" -eq 0 ]
  assert_unchanged c
}

@test "bridge: a failure at every step rolls back to the exact previous state" {
  add_container f
  take_snapshots f
  local n=1 steps=0
  while :; do
    run env LANJOIN_FAULT_STEP=$n ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
      "netns:${LAB_PREFIX}f" --bridge br-lj9 --create-bridge --ip 198.51.100.140/24 --ip 2001:db8:1::140/64 \
      --gateway 198.51.100.254 --route 203.0.113.0/25@198.51.100.254
    if [ "$status" -eq 0 ]; then
      break
    fi
    echo "step $n: $output"
    [ "$status" -eq 1 ]
    [[ $output == *"step $n of"* ]]
    [[ $output == *"nothing was left behind"* ]]
    assert_unchanged f
    steps=$n
    n=$((n + 1))
    [ "$n" -le 30 ]
  done
  # every step was covered: bridge, veth, accept_ra off, up, ARP probe, 2 addresses,
  # 2 announcements, default route, extra route
  [ "$steps" -eq 11 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}f"
  # the bridge lanjoin created goes away with its last port
  on host ip link show br-lj9
  run lj detach "netns:${LAB_PREFIX}f"
  [ "$status" -eq 0 ]
  ! on host ip link show br-lj9 || false
  assert_unchanged f
}

@test "bridge: a bridge lanjoin created is kept while another container uses it; a user's bridge is never removed" {
  add_container g1
  add_container g2
  take_snapshots g1
  lj attach bridge "netns:${LAB_PREFIX}g1" --bridge br-lj1 --create-bridge --ip 198.51.100.151/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}g1"
  lj attach bridge "netns:${LAB_PREFIX}g2" --bridge br-lj1 --create-bridge --ip 198.51.100.152/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}g2"
  run curl_from g1 http://198.51.100.152/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}g1"
  on host ip link show br-lj1          # g2 still uses it
  lj detach "netns:${LAB_PREFIX}g2"
  ! on host ip link show br-lj1 || false        # last port gone: removed

  on host ip link add br-user type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-user
  lj attach bridge "netns:${LAB_PREFIX}g1" --bridge br-user --ip 198.51.100.151/24
  lj detach "netns:${LAB_PREFIX}g1"
  on host ip link show br-user         # not lanjoin's: kept
}

@test "bridge: --dry-run prints ip commands and changes nothing" {
  add_container d
  take_snapshots d
  run lj attach bridge "netns:${LAB_PREFIX}d" --bridge br-new --create-bridge --ip 198.51.100.160/24 \
    --gateway 198.51.100.254 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"ip link add br-new address "*" type bridge"* ]]
  [[ $output == *"type veth peer name eth1 netns ${LAB_PREFIX}d"* ]]
  [[ $output == *"ip -n ${LAB_PREFIX}d addr add 198.51.100.160/24 brd + dev eth1"* ]]
  [[ $output == *"ip -n ${LAB_PREFIX}d route add default via 198.51.100.254 dev eth1"* ]]
  assert_unchanged d
}

@test "bridge: detach after the container's namespace is gone; gc forgets dead attachments" {
  lab container add z >/dev/null
  defer "$LAB" container del z
  lj attach bridge "netns:${LAB_PREFIX}z" --bridge br-em1 --ip 198.51.100.170/24
  host_if=$(lj list --json | jq -r '.[0].host_ifname')
  lab container del z
  # the kernel removes both veth ends with the namespace; the record remains until detach/gc
  [ "$(lj list --json | jq length)" -eq 1 ]
  run lj detach "netns:${LAB_PREFIX}z"
  [ "$status" -eq 0 ]
  [ "$(lj list --json | jq length)" -eq 0 ]
  ! on host ip link show "$host_if" || false

  lab container add y >/dev/null
  defer "$LAB" container del y
  lj attach bridge "netns:${LAB_PREFIX}y" --bridge br-em1 --ip 198.51.100.171/24
  lab container del y
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "Removed attachment netns:${LAB_PREFIX}y eth1 (bridge way): its namespace (or container) is gone" ]
  [ "${lines[1]}" = "Removed 1 stale attachment" ]
  [ "$(lj list --json | jq length)" -eq 0 ]
}

@test "bridge: detach and gc of a dead attachment leave alone a link that has its host name now" {
  local host_if other
  for other in goned goneg; do
    lab container add "$other" >/dev/null
    defer "$LAB" container del "$other"
  done
  lj attach bridge "netns:${LAB_PREFIX}goned" --bridge br-em1 --ip 198.51.100.172/24
  lj attach bridge "netns:${LAB_PREFIX}goneg" --bridge br-em1 --ip 198.51.100.173/24
  for other in goned goneg; do
    host_if=$(lj list --json | jq -r '.[] | select(.target.spec == "netns:'"${LAB_PREFIX}$other"'") | .host_ifname')
    lab container del "$other"
    # the kernel dismantles a deleted namespace (and the veth) from a work queue, a moment
    # later; then someone else's link gets the name the record holds
    wait_until 10 bash -c "! ip -n '${LAB_PREFIX}host' link show '$host_if'"
    on host ip link add "$host_if" type veth peer name "ljx$other"
    defer ip -n "${LAB_PREFIX}host" link del "$host_if"
  done
  run lj detach "netns:${LAB_PREFIX}goned"
  [ "$status" -eq 0 ]
  run lj gc
  [ "$status" -eq 0 ]
  [ "$(lj list --json | jq length)" -eq 0 ]
  on host ip link show ljxgoned
  on host ip link show ljxgoneg
}

@test "bridge: a --mac another attachment, the bridge or one of its ports has is refused, naming it" {
  add_container m1
  add_container m2
  lj attach bridge "netns:${LAB_PREFIX}m1" --bridge br-em1 --ip 198.51.100.174/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}m1"
  take_snapshots m1 m2
  local m1_mac br_mac em1_mac port port_mac
  m1_mac=$(on m1 cat /sys/class/net/eth1/address)
  br_mac=$(on host cat /sys/class/net/br-em1/address)
  em1_mac=$(on host cat /sys/class/net/em1/address)
  port=$(lj list --json | jq -r '.[0].host_ifname')
  port_mac=$(on host cat /sys/class/net/"$port"/address)
  bad_mac() {
    run lj attach bridge "netns:${LAB_PREFIX}m2" --bridge br-em1 --ip 198.51.100.175/24 --mac "$1"
    echo "--mac $1: $status $output"
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == *"MAC $1"*"$2"* ]]
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    assert_same_state m1 "$BATS_TEST_TMPDIR/m1.before"
    assert_same_state m2 "$BATS_TEST_TMPDIR/m2.before"
    [ "$(lj list --json | jq length)" -eq 1 ]
  }
  bad_mac "$m1_mac" "netns:${LAB_PREFIX}m1 ('eth1')"
  bad_mac "$br_mac" "bridge 'br-em1'"
  bad_mac "$em1_mac" "'br-em1'"  # the uplink: a port, and the bridge has its MAC
  bad_mac "$port_mac" "'$port', a port of bridge 'br-em1'"
  [ "$(lj list --json | jq length)" -eq 1 ]
}

@test "bridge: bad input is refused with exit 2 and nothing changes" {
  add_container b
  take_snapshots b
  local t="netns:${LAB_PREFIX}b"
  bad() {
    run lj attach bridge "$@"
    echo "lanjoin attach bridge $*: $status $output"
    [ "$status" -eq 2 ]
    [[ $output == lanjoin:* ]]
    [ "${#lines[@]}" -eq 1 ]
    assert_unchanged b
  }
  bad "$t" --bridge br-em1 --ip 198.51.100.300/24
  bad "$t" --bridge br-em1 --ip 198.51.100.117
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --mac 01:00:5e:00:00:01
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --mac 02:00:00:00:00
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --ifname abcdefghijklmnop
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --ifname a/b
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --ifname "a b"
  bad "netns:${LAB_PREFIX}nosuch" --bridge br-em1 --ip 198.51.100.117/24
  bad pid:999999999 --bridge br-em1 --ip 198.51.100.117/24
  bad /etc/hostname --bridge br-em1 --ip 198.51.100.117/24
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --ifname lo
  bad "$t" --bridge em1 --ip 198.51.100.117/24
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --mtu 9000
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --mtu 10
  bad "$t" --bridge br-em1 --gateway 198.51.100.254
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --route 203.0.113.5/24
  bad "$t" --ip 198.51.100.117/24
  bad "$t" --bridge br-em1 --parent em1
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --bogus
  bad "$t" --bridge br-em1 --ip 198.51.100.255/24
  bad "$t" --bridge br-em1 --ip 198.51.100.0/24
  bad "$t" --bridge br-em1 --ip 224.0.0.1/24
  bad "$t" --bridge br-em1 --ip ff02::1/64
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --gateway 0.0.0.0
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --gateway 198.51.100.117
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --ifname all
  bad "$t" --bridge br-em1 --ip 2001:db8:1::117/64 --mtu 1000
  # the host's own LAN addresses (on br-em1): refused before the ARP probe or DAD finds them
  bad "$t" --bridge br-em1 --ip 198.51.100.76/24 --gateway 198.51.100.254
  [[ $output == *"198.51.100.76 is the host's own address on 'br-em1'"* ]]
  bad "$t" --bridge br-em1 --ip 198.51.100.117/24 --ip 2001:db8:1::76/64
  [[ $output == *"2001:db8:1::76 is the host's own address on 'br-em1'"* ]]

  # a second attach of the same target and ifname
  lj attach bridge "$t" --bridge br-em1 --ip 198.51.100.117/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "$t"
  snapshot host >"$BATS_TEST_TMPDIR/host.attached"
  run lj attach bridge "$t" --bridge br-em1 --ip 198.51.100.118/24
  [ "$status" -eq 2 ]
  [[ $output == *"already attached"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.attached"
}

@test "bridge: attach nat refuses an uplink that is a port of the bridge, naming the bridge" {
  add_container n
  take_snapshots n
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}n" # were it accepted
  run lj attach nat "netns:${LAB_PREFIX}n" --uplink em1 --address 198.51.100.131/24
  echo "$output"
  [ "$status" -eq 2 ]
  [ "$output" = "lanjoin: 'em1' is a port of bridge 'br-em1'; use --uplink br-em1" ]
  assert_unchanged
  # and the bridge itself is a fine uplink (a dry run shows the address going there)
  run lj attach nat "netns:${LAB_PREFIX}n" --uplink br-em1 --address 198.51.100.131/24 --dry-run
  [ "$status" -eq 0 ]
  [[ $output == *"ip addr add 198.51.100.131/24 brd + dev br-em1"* ]]
}

@test "bridge: an MTU below IPv6's minimum works for an IPv4-only container" {
  add_container m
  take_snapshots m
  run lj attach bridge "netns:${LAB_PREFIX}m" --bridge br-em1 --ip 198.51.100.182/24 --mtu 576
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}m"
  [ "$(on m cat /sys/class/net/eth1/mtu)" = 576 ]
  ping_from m 198.51.100.10
  lj detach "netns:${LAB_PREFIX}m"
  assert_unchanged m
}

@test "bridge: a bridge whose MTU is below IPv6's minimum gives it to the container's link, which works without IPv6" {
  # the link then has no IPv6 (no net/ipv6/conf/eth1): accept_ra, written without a read
  # first, has nothing to turn off. (The bridge's own MAC and carrier change as its port comes
  # and goes: the host is compared through what lanjoin made, its links and records.)
  on host ip link add br-small address 02:00:00:00:0b:02 mtu 576 type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-small
  on host ip link set br-small up
  add_container s
  snapshot s >"$BATS_TEST_TMPDIR/s.before"
  run lj attach bridge "netns:${LAB_PREFIX}s" --bridge br-small --ip 198.51.100.183/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}s"
  [ "$(on s cat /sys/class/net/eth1/mtu)" = 576 ]
  ! on s test -e /proc/sys/net/ipv6/conf/eth1 || false
  run on s ip -j addr show dev eth1
  [[ $output == *'"local":"198.51.100.183","prefixlen":24'* ]]
  lj detach "netns:${LAB_PREFIX}s"
  assert_same_state s "$BATS_TEST_TMPDIR/s.before"
  [ -z "$(on host ip -o link show | grep ' ljv' || true)" ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null)" ]
}

@test "bridge: records belong to the namespace lanjoin ran in: gc and detach from another leave them alone" {
  add_container h
  lj attach bridge "netns:${LAB_PREFIX}h" --bridge br-em1 --ip 198.51.100.180/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}h"
  # lanjoin run in another namespace with the same state directory (e.g. a lab rebuilt
  # around an old /run/lanjoin) must not undo, there, what was done here
  run ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" gc
  [ "$status" -eq 0 ]
  [[ $output == *"Removed 0"* ]]
  # one rule: the records are this namespace's; detach and list elsewhere say where it lives
  run ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" detach "netns:${LAB_PREFIX}h"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"netns:${LAB_PREFIX}h is attached as 'eth1' (bridge way) from network namespace /run/netns/${LAB_PREFIX}host, not this one: run detach there"* ]]
  [ "$(ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" list --json 2>/dev/null | jq length)" -eq 0 ]
  run ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" list
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"1 attachment lanjoin made from other network namespaces"* ]]
  [[ $output == *"netns:${LAB_PREFIX}h eth1 (bridge way), from /run/netns/${LAB_PREFIX}host"* ]]
  # status there says the same, and does not claim all is ok (exit 1: nothing checked)
  run ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"1 attachment lanjoin made from other network namespaces (run 'lanjoin status' there):"* ]]
  [[ $output == *"netns:${LAB_PREFIX}h eth1 (bridge way), from /run/netns/${LAB_PREFIX}host"* ]]
  run --separate-stderr ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" status --json
  [ "$status" -eq 1 ]
  [ "$(jq -r .ok <<<"$output")" = false ]
  [[ $stderr == *"1 attachment lanjoin made from other network namespaces"* ]]
  # and here, nothing of the sort
  run lj list
  [[ $output != *"other network namespaces"* ]]
  run lj status
  [ "$status" -eq 0 ]
  [[ $output != *"other network namespaces"* ]]
  run ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" attach bridge "netns:${LAB_PREFIX}h" --bridge brx --ip 198.51.100.181/24
  [ "$status" -eq 2 ]
  [[ $output == *"another network namespace"* ]]
  [ "$(lj list --json | jq length)" -eq 1 ]
  run curl_from peer http://198.51.100.180/hello.html
  [ "$output" = "Hello world" ]
}

@test "bridge: a missing bridge is refused (a misspelt name would reach no LAN) unless --create-bridge" {
  add_container ms
  take_snapshots ms
  run lj attach bridge "netns:${LAB_PREFIX}ms" --bridge br-eml --ip 198.51.100.183/24
  echo "$output"
  [ "$status" -eq 2 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *"Bridge 'br-eml' does not exist (Linux bridges here: br-em1)"* ]]
  [[ $output == *"--uplink DEV"*"uplink adopt br-eml DEV"*"--create-bridge"* ]]
  ! on host ip link show br-eml || false
  # a dry run says the same
  run lj attach bridge "netns:${LAB_PREFIX}ms" --bridge br-eml --ip 198.51.100.183/24 --dry-run
  [ "$status" -eq 2 ]
  [[ $output == *"'br-eml' does not exist"* ]]
  assert_unchanged ms
  # asked for explicitly, the new bridge is made (and removed with its last port)
  run lj attach bridge "netns:${LAB_PREFIX}ms" --bridge br-eml --create-bridge --ip 198.51.100.183/24
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}ms"
  on host ip link show br-eml
  lj detach "netns:${LAB_PREFIX}ms"
  assert_unchanged ms
}

@test "bridge: without root lanjoin says in one line that it needs root, exit 2, and changes nothing" {
  add_container nr
  take_snapshots nr
  nobody() { ip netns exec "${LAB_PREFIX}host" setpriv --reuid=65534 --regid=65534 --clear-groups "$LANJOIN" "$@"; }
  local cmd
  for cmd in "attach bridge netns:${LAB_PREFIX}nr --bridge br-em1 --ip 198.51.100.184/24" \
    "detach netns:${LAB_PREFIX}nr" list gc "uplink list" "uplink release br-em1"; do
    # shellcheck disable=SC2086 # split the command
    run nobody $cmd
    echo "$cmd: $status $output"
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == "lanjoin: 'lanjoin "*"' needs root (CAP_NET_ADMIN"*"run it as root"* ]]
  done
  # help needs nothing
  run nobody attach bridge --help
  [ "$status" -eq 0 ]
  [[ $output == "Usage: lanjoin attach bridge"* ]]
  assert_unchanged nr
}

@test "bridge: options are checked before the look at a live attachment; a routed attachment's address is refused (exit 2)" {
  add_container v
  add_container rt
  local t="netns:${LAB_PREFIX}v"
  run lj attach bridge "$t" --bridge br-em1 --ip 198.51.100.184/24 --gateway 198.51.100.255
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Gateway 198.51.100.255 is the broadcast address of its subnet (--ip 198.51.100.184/24)"* ]]
  run lj attach bridge "$t" --bridge br-em1 --ip 198.51.100.184/24
  [ "$status" -eq 0 ]
  defer lj detach "$t"
  run lj attach routed "netns:${LAB_PREFIX}rt" --parent br-em1 --ip 198.51.100.207/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}rt"
  add_container w
  take_snapshots v w
  bad() { # EXPECTED ARGS...
    local want=$1
    shift
    run lj attach bridge "$t" --bridge br-em1 "$@"
    echo "lanjoin attach bridge $t $*: $status $output"
    [ "$status" -eq 2 ]
    [[ $output == *"$want"* ]]
    [[ $output != *"use --replace"* ]]
  }
  bad "--ip 127.0.0.5/8 is a loopback address" --ip 127.0.0.5/8
  bad "Gateway 224.0.0.1 is a multicast address" --ip 198.51.100.184/24 --gateway 224.0.0.1
  bad "Gateway 198.51.100.255 is the broadcast address of its subnet" --ip 198.51.100.184/24 --gateway 198.51.100.255
  # the routed attachment's address, for another container (also without the probe)
  # (without the probe the records are not read: the host's route to it says so)
  for nc in "" --no-conflict-check; do
    run lj attach bridge "netns:${LAB_PREFIX}w" --bridge br-em1 --ip 198.51.100.207/24 $nc
    echo "$output"
    [ "$status" -eq 2 ]
    if [ -z "$nc" ]; then
      [[ $output == *"198.51.100.207 is the address of netns:${LAB_PREFIX}rt ('eth1'), attached the routed way on 'br-em1'"* ]]
    else
      [[ $output == *"198.51.100.207 is routed by the host to 'ljr"*"' (a host route of its own: a routed attachment's)"* ]]
    fi
  done
  # and the other way round: the bridge attachment's, to the routed way
  run lj attach routed "netns:${LAB_PREFIX}w" --parent br-em1 --ip 198.51.100.184/24
  echo "$output"
  [ "$status" -eq 2 ]
  # as before (the other attachments' records stay)
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  assert_same_state v "$BATS_TEST_TMPDIR/v.before"
  assert_same_state w "$BATS_TEST_TMPDIR/w.before"
}
