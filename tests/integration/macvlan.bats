#!/usr/bin/env bats
# The macvlan way (issue 3): the seed's scenario, the host shim, modes, exact detach, rollback
# at every step, gc after the container died, and bad input refused without any change.
# The lab's host has the plain uplink em1 (198.51.100.76/24, default via .254).

load helpers

SHIM_IP=198.51.100.144



# the host's main-table routes of one family, sorted, as JSON
host_routes() { on host ip -j "$1" route show | jq -S -c 'sort_by(tostring)'; }

shim_name() { lj list --json | jq -r "[.[] | .info.host_shim // empty][0]"; }

# wait until a freshly attached container's IPv6 stopped changing: DAD is over (lanjoin turns
# router advertisements off on the interface unless --slaac, so nothing else comes later)
settle() { wait_ipv6_ready "$1"; }

forget_neighbour() { on "$1" ip neigh flush to "$2"; }

detach_later() { defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}$1"; }

@test "macvlan: the peer reaches the container at .117, the outside sees .117, the host cannot" {
  add_container web
  take_snapshots web
  run lj attach macvlan "netns:${LAB_PREFIX}web" --parent em1 --ip 198.51.100.117/24 \
    --gateway 198.51.100.254
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later web
  [[ $output == *"198.51.100.117/24"* ]]

  run curl_from peer http://198.51.100.117/hello.html
  [ "$status" -eq 0 ]
  [ "$output" = "Hello world" ]
  run curl_from web http://203.0.113.1/cgi-bin/ip
  [ "$status" -eq 0 ]
  [ "$output" = "198.51.100.117" ]
  # the kernel never passes frames between a macvlan parent and its children
  run on host curl -sS --fail --max-time 3 http://198.51.100.117/hello.html
  [ "$status" -ne 0 ]

  # the container's side: a macvlan child of em1 in bridge mode with the parent's MTU
  run on web ip -d -j link show dev eth1
  [ "$(jq -r '.[0].linkinfo.info_kind' <<<"$output")" = macvlan ]
  [ "$(jq -r '.[0].linkinfo.info_data.mode' <<<"$output")" = bridge ]
  [ "$(jq -r '.[0].mtu' <<<"$output")" = 1500 ]
  run on web ip -j route show default
  [[ $output == *'"gateway":"198.51.100.254","dev":"eth1"'* ]]
  # nothing new on the host: no host-side link, no route
  [ "$(on host ip -o link show | wc -l)" -eq 2 ]
  [ "$(lj list --json | jq -r '.[0].info.parent')" = em1 ]

  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_unchanged web
  ! curl_from peer http://198.51.100.117/hello.html || false
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  [[ $output == *"not attached"* ]]
}

@test "macvlan: with --host-shim the host reaches the container; its own routes stay as they were" {
  # .117 had another MAC in the test before and lanjoin sends no gratuitous ARP (yet): the
  # peer would keep using the old MAC until its neighbour entry expires
  forget_neighbour peer 198.51.100.117
  add_container web
  take_snapshots web
  local r4 r6
  r4=$(host_routes -4)
  r6=$(host_routes -6)
  run lj attach macvlan "netns:${LAB_PREFIX}web" --parent em1 --ip 198.51.100.117/24 \
    --gateway 198.51.100.254 --host-shim "$SHIM_IP/24"
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later web
  local shim
  shim=$(shim_name)
  [[ $shim == ljs* && ${#shim} -le 15 ]]

  run curl_from host http://198.51.100.117/hello.html
  [ "$status" -eq 0 ]
  [ "$output" = "Hello world" ]
  # the container sees the host as the shim's address
  [ "$(on web ip neigh show "$SHIM_IP" | wc -l)" -eq 1 ]
  # the host still reaches the peer and the outside, from its own address
  ping_from host 198.51.100.10
  ping_from host 2001:db8:1::10
  run curl_from host http://203.0.113.1/cgi-bin/ip
  [ "$output" = "198.51.100.76" ]
  run curl_from peer http://198.51.100.117/hello.html
  [ "$output" = "Hello world" ]

  # routes: exactly one more, the /32 to the container through the shim
  run on host ip -j -4 route show dev "$shim"
  [ "$(jq -c '[.[] | {dst, scope}]' <<<"$output")" = '[{"dst":"198.51.100.117","scope":"link"}]' ]
  [ "$(on host ip -j -4 route show | jq -S -c "map(select(.dev != \"$shim\")) | sort_by(tostring)")" = "$r4" ]
  [ "$(host_routes -6)" = "$r6" ]
  # the shim: macvlan bridge on em1, the address as a /32 (no prefix route), no IPv6 at all
  run on host ip -d -j addr show dev "$shim"
  [ "$(jq -r '.[0].linkinfo.info_data.mode' <<<"$output")" = bridge ]
  [ "$(jq -c '[.[0].addr_info[] | "\(.local)/\(.prefixlen)"]' <<<"$output")" = "[\"$SHIM_IP/32\"]" ]
  [ "$(on host cat "/proc/sys/net/ipv6/conf/$shim/disable_ipv6")" = 1 ]
  [ "$(host_routes -4)" != "$r4" ]

  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  ! on host ip link show "$shim" || false
  assert_unchanged web
  [ "$(host_routes -4)" = "$r4" ]
}

@test "macvlan: two containers share one shim; it goes with the last; bridge mode connects them" {
  add_container a
  add_container b
  take_snapshots a b
  run lj attach macvlan "netns:${LAB_PREFIX}a" --parent em1 --ip 198.51.100.121/24 --host-shim "$SHIM_IP/24"
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later a
  local shim ifindex
  shim=$(shim_name)
  # the success line names the shim it set up
  [[ $output == *$'\n'"Created host shim $shim ($SHIM_IP) on em1: the host reaches the container through it" ]]
  ifindex=$(on host cat "/sys/class/net/$shim/ifindex")
  run lj attach macvlan "netns:${LAB_PREFIX}b" --parent em1 --ip 198.51.100.122/24 --host-shim "$SHIM_IP/24"
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later b
  [[ $output == *$'\n'"Reused host shim $shim ($SHIM_IP) on em1: the host reaches the container through it" ]]
  # reused, not recreated
  [ "$(on host cat "/sys/class/net/$shim/ifindex")" = "$ifindex" ]
  [ "$(on host ip -o link show | grep -c 'ljs')" -eq 1 ]

  run curl_from a http://198.51.100.122/hello.html
  [ "$output" = "Hello world" ]
  run curl_from b http://198.51.100.121/hello.html
  [ "$output" = "Hello world" ]
  run curl_from host http://198.51.100.121/hello.html
  [ "$output" = "Hello world" ]
  run curl_from host http://198.51.100.122/hello.html
  [ "$output" = "Hello world" ]

  lj detach "netns:${LAB_PREFIX}a"
  on host ip link show "$shim"            # b still routes through it
  run on host ip -j route show dev "$shim"
  [ "$(jq -r '[.[].dst] | join(",")' <<<"$output")" = 198.51.100.122 ]
  run curl_from host http://198.51.100.122/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}b"
  ! on host ip link show "$shim" || false          # the last one: gone
  assert_unchanged a b
}

@test "macvlan: private mode keeps containers on one parent apart; the LAN still reaches both" {
  add_container p1
  add_container p2
  take_snapshots p1 p2
  lj attach macvlan "netns:${LAB_PREFIX}p1" --parent em1 --mode private --ip 198.51.100.131/24
  detach_later p1
  lj attach macvlan "netns:${LAB_PREFIX}p2" --parent em1 --mode private --ip 198.51.100.132/24
  detach_later p2
  [ "$(on p1 ip -d -j link show dev eth1 | jq -r '.[0].linkinfo.info_data.mode')" = private ]
  run on p1 curl -sS --fail --max-time 3 http://198.51.100.132/hello.html
  [ "$status" -ne 0 ]
  run curl_from peer http://198.51.100.131/hello.html
  [ "$output" = "Hello world" ]
  run curl_from peer http://198.51.100.132/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}p1"
  lj detach "netns:${LAB_PREFIX}p2"
  assert_unchanged p1 p2
}

@test "macvlan: a failure at every step rolls back to the exact previous state" {
  add_container f
  take_snapshots f
  local n=1 steps=0
  while :; do
    run env LANJOIN_FAULT_STEP=$n ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach macvlan \
      "netns:${LAB_PREFIX}f" --parent em1 --ip 198.51.100.140/24 --ip 2001:db8:1::140/64 \
      --gateway 198.51.100.254 --host-shim "$SHIM_IP/24"
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
  # macvlan, accept_ra off, up, ARP probe, 2 addresses, 2 announcements, default route,
  # the shim address's probe, shim, host route
  [ "$steps" -eq 12 ]
  detach_later f
  run curl_from host http://198.51.100.140/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}f"
  assert_unchanged f
}

@test "macvlan: a failure while another container uses the shim leaves that shim and its route alone" {
  add_container u
  add_container f2
  lj attach macvlan "netns:${LAB_PREFIX}u" --parent em1 --ip 198.51.100.141/24 --host-shim "$SHIM_IP/24"
  detach_later u
  take_snapshots f2
  local n=1 steps=0
  while :; do
    run env LANJOIN_FAULT_STEP=$n ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach macvlan \
      "netns:${LAB_PREFIX}f2" --parent em1 --ip 198.51.100.142/24 --host-shim "$SHIM_IP/24"
    if [ "$status" -eq 0 ]; then
      break
    fi
    [ "$status" -eq 1 ]
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    assert_same_state f2 "$BATS_TEST_TMPDIR/f2.before"
    steps=$n
    n=$((n + 1))
    [ "$n" -le 30 ]
  done
  [ "$steps" -eq 8 ]   # macvlan, accept_ra off, up, ARP probe, address, GARP, shim, host route
  detach_later f2
  run curl_from host http://198.51.100.141/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}f2"
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "macvlan: detach after the container died, and gc, remove the shim routes and the shim" {
  take_snapshots
  lab container add z >/dev/null
  defer "$LAB" container del z
  lj attach macvlan "netns:${LAB_PREFIX}z" --parent em1 --ip 198.51.100.171/24 --host-shim "$SHIM_IP/24"
  local shim
  shim=$(shim_name)
  lab container del z
  on host ip link show "$shim"
  run lj detach "netns:${LAB_PREFIX}z"
  [ "$status" -eq 0 ]
  ! on host ip link show "$shim" || false
  assert_unchanged

  lab container add y >/dev/null
  defer "$LAB" container del y
  lab container add x >/dev/null
  defer "$LAB" container del x
  lj attach macvlan "netns:${LAB_PREFIX}y" --parent em1 --ip 198.51.100.172/24 --host-shim "$SHIM_IP/24"
  lj attach macvlan "netns:${LAB_PREFIX}x" --parent em1 --ip 198.51.100.173/24 --host-shim "$SHIM_IP/24"
  detach_later x
  lab container del y
  run lj gc
  [ "$status" -eq 0 ]
  [[ $output == *"Removed 1 stale attachment"* ]]
  # y's route is gone, x's stays, and so does the shim
  run on host ip -j route show dev "$shim"
  [ "$(jq -r '[.[].dst] | join(",")' <<<"$output")" = 198.51.100.173 ]
  lab container del x
  run lj gc
  [[ $output == *"Removed 1 stale attachment"* ]]
  ! on host ip link show "$shim" || false
  assert_unchanged
}

@test "macvlan: shim add before any container, kept until shim del" {
  add_container s
  take_snapshots s
  run lj shim add em1 --ip "$SHIM_IP/24"
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" shim del em1
  local shim
  shim=$(on host ip -o link show type macvlan | awk -F': ' '{print $2}' | cut -d@ -f1)
  [[ $shim == ljs* ]]
  run lj shim add em1 --ip "$SHIM_IP/24"        # again: fine, nothing to do
  [ "$status" -eq 0 ]
  [[ $output == *"nothing to do"* ]]
  snapshot host >"$BATS_TEST_TMPDIR/host.shim"

  lj attach macvlan "netns:${LAB_PREFIX}s" --parent em1 --ip 198.51.100.151/24 --host-shim "$SHIM_IP/24"
  detach_later s
  run curl_from host http://198.51.100.151/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}s"
  assert_same_state host "$BATS_TEST_TMPDIR/host.shim"   # the shim stays

  # shim del while a container uses it: it goes with that container
  lj attach macvlan "netns:${LAB_PREFIX}s" --parent em1 --ip 198.51.100.151/24 --host-shim "$SHIM_IP/24"
  run lj shim del em1
  [ "$status" -eq 0 ]
  [[ $output == *"goes away when the last"* ]]
  on host ip link show "$shim"
  run curl_from host http://198.51.100.151/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}s"
  ! on host ip link show "$shim" || false
  assert_unchanged s

  run lj shim add em1 --ip "$SHIM_IP/24"
  [ "$status" -eq 0 ]
  run lj shim del em1
  [ "$status" -eq 0 ]
  [[ $output == *"Removed host shim"* ]]
  run lj shim del em1
  [ "$status" -eq 0 ]
  [[ $output == *"nothing to do"* ]]
  assert_unchanged s

  # bad input for shim add: nothing created
  for args in "nosuch --ip $SHIM_IP/24" "em1 --ip 203.0.113.9/24" "em1 --ip 198.51.100.76/24" \
    "em1 --ip 198.51.100.300/24" "em1"; do
    # shellcheck disable=SC2086
    run lj shim add $args
    echo "shim add $args: $status $output"
    [ "$status" -eq 2 ]
  done
  assert_unchanged s
}

@test "macvlan: --dry-run prints ip commands and changes nothing; --mac and --mtu are applied" {
  add_container d
  take_snapshots d
  run lj attach macvlan "netns:${LAB_PREFIX}d" --parent em1 --ip 198.51.100.160/24 \
    --gateway 198.51.100.254 --host-shim "$SHIM_IP/24" --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"ip link add link em1 name eth1 netns ${LAB_PREFIX}d mtu 1500 type macvlan mode bridge"* ]]
  [[ $output == *"ip -n ${LAB_PREFIX}d addr add 198.51.100.160/24 brd + dev eth1"* ]]
  [[ $output == *"ip addr add $SHIM_IP/32 dev ljs"* ]]
  [[ $output == *"ip route add 198.51.100.160/32 dev ljs"* ]]
  assert_unchanged d

  lj attach macvlan "netns:${LAB_PREFIX}d" --parent em1 --mode vepa --ip 198.51.100.161/24 \
    --mac 02:00:c6:33:64:a1 --mtu 1400 --ifname lan1
  detach_later d
  [ "$(on d cat /sys/class/net/lan1/address)" = 02:00:c6:33:64:a1 ]
  [ "$(on d cat /sys/class/net/lan1/mtu)" = 1400 ]
  [ "$(on d ip -d -j link show dev lan1 | jq -r '.[0].linkinfo.info_data.mode')" = vepa ]
  lj detach "netns:${LAB_PREFIX}d"
  assert_unchanged d
}

@test "macvlan: an IPv6 host shim reaches an IPv6 container; the host's IPv6 routes stay" {
  add_container v6
  take_snapshots v6
  local r6
  r6=$(host_routes -6)
  run lj attach macvlan "netns:${LAB_PREFIX}v6" --parent em1 --ip 2001:db8:1::117/64 \
    --host-shim 2001:db8:1::144/64
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later v6
  local shim
  shim=$(shim_name)
  wait_ipv6_ready v6
  run curl_from host 'http://[2001:db8:1::117]/hello.html'
  [ "$output" = "Hello world" ]
  run on host ip -j -6 route show dev "$shim"
  # the route to the container and the shim's link-local prefix; none to the shim's /128
  [ "$(jq -r '[.[].dst] | sort | join(",")' <<<"$output")" = "2001:db8:1::117,fe80::/64" ]
  # apart from the shim's own link-local prefix, nothing else changed
  [ "$(on host ip -j -6 route show | jq -S -c "map(select(.dev != \"$shim\")) | sort_by(tostring)")" = "$r6" ]
  [ "$(on host cat "/proc/sys/net/ipv6/conf/$shim/accept_ra")" = 0 ]
  lj detach "netns:${LAB_PREFIX}v6"
  assert_unchanged v6
}

@test "macvlan: passthru gives one container the parent's MAC, alone; detach gives it back" {
  add_container pt
  add_container po
  on host ip link add ljpt0 type veth peer name ljpt1
  defer ip -n "${LAB_PREFIX}host" link del ljpt0
  on host ip link set ljpt0 up
  take_snapshots pt po
  local mac
  mac=$(on host cat /sys/class/net/ljpt0/address)
  run lj attach macvlan "netns:${LAB_PREFIX}pt" --parent ljpt0 --mode passthru --ip 198.18.0.2/24
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later pt
  [ "$(on pt cat /sys/class/net/eth1/address)" = "$mac" ]
  [ "$(on pt ip -d -j link show dev eth1 | jq -r '.[0].linkinfo.info_data.mode')" = passthru ]
  run lj attach macvlan "netns:${LAB_PREFIX}po" --parent ljpt0 --ip 198.18.0.3/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"passthru mode"* ]]
  lj detach "netns:${LAB_PREFIX}pt"
  assert_unchanged pt po
}

@test "macvlan: a --mac another container's macvlan, a shim or the parent has is refused, naming it" {
  add_container b
  add_container o
  lj attach macvlan "netns:${LAB_PREFIX}o" --parent em1 --ip 198.51.100.182/24 --host-shim "$SHIM_IP/24"
  detach_later o
  settle o
  take_snapshots b o
  local o_mac em1_mac shim shim_mac
  o_mac=$(on o cat /sys/class/net/eth1/address)
  em1_mac=$(on host cat /sys/class/net/em1/address)
  shim=$(shim_name)
  shim_mac=$(on host cat /sys/class/net/"$shim"/address)
  bad_mac() {
    run lj attach macvlan "netns:${LAB_PREFIX}b" --parent em1 --ip 198.51.100.183/24 --mac "$@"
    echo "--mac $*: $status $output"
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    assert_same_state b "$BATS_TEST_TMPDIR/b.before"
    assert_same_state o "$BATS_TEST_TMPDIR/o.before"
    [ "$(lj list --json | jq length)" -eq 1 ]
  }
  bad_mac "$o_mac"
  [[ $output == *"MAC $o_mac is already used on parent 'em1' by netns:${LAB_PREFIX}o ('eth1')"* ]]
  bad_mac "$em1_mac"
  [[ $output == *"MAC $em1_mac is the address of parent 'em1'"* ]]
  bad_mac "$shim_mac"
  [[ $output == *"MAC $shim_mac is the address of '$shim', a macvlan of 'em1'"* ]]
  # without the record checks the kernel refuses it: the message still says what collides
  run lj attach macvlan "netns:${LAB_PREFIX}b" --parent em1 --ip 198.51.100.183/24 --mac "$o_mac" \
    --no-conflict-check
  echo "$status $output"
  [ "$status" -eq 1 ]
  [[ $output == *"MAC $o_mac"*"is taken: another macvlan on the same parent has it"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  assert_same_state b "$BATS_TEST_TMPDIR/b.before"
}

@test "macvlan: without the ARP probe the kernel announces the address as the link comes up (arp_notify)" {
  add_container kgarp
  peer_takes_announcements
  run lj attach macvlan "netns:${LAB_PREFIX}kgarp" --parent em1 --ip 198.51.100.117/24 \
    --gateway 198.51.100.254 --no-conflict-check
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later kgarp
  [ "$(on kgarp sysctl -n net.ipv4.conf.eth1.arp_notify)" = 1 ]
  on kgarp ip route show default | grep -q "via 198.51.100.254 dev eth1"
  # no traffic from the peer: with arp_accept=1 only the announcement makes this entry
  peer_learned 198.51.100.117 "$(on kgarp cat /sys/class/net/eth1/address)"
}

@test "macvlan: bad input is refused with exit 2 and nothing changes" {
  add_container b
  add_container o
  # a bridge with a port, to offer as parents
  on host ip link add br-x type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-x
  on host ip link add vx type veth peer name vy
  defer ip -n "${LAB_PREFIX}host" link del vx
  on host ip link set vx master br-x
  # another container already on em1, with the shim
  lj attach macvlan "netns:${LAB_PREFIX}o" --parent em1 --ip 198.51.100.181/24 --host-shim "$SHIM_IP/24"
  detach_later o
  settle o
  take_snapshots b o
  local t="netns:${LAB_PREFIX}b"
  bad() {
    run lj attach macvlan "$t" "$@"
    echo "lanjoin attach macvlan $t $*: $status $output"
    [ "$status" -eq 2 ]
    [[ $output == lanjoin:* ]]
    [ "${#lines[@]}" -eq 1 ]
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    assert_same_state b "$BATS_TEST_TMPDIR/b.before"
    assert_same_state o "$BATS_TEST_TMPDIR/o.before"
  }
  bad --parent nosuch --ip 198.51.100.117/24
  [[ $output == *"does not exist"* ]]
  bad --parent br-x --ip 198.51.100.117/24
  [[ $output == *"Linux bridge"*"attach bridge"* ]]
  bad --parent vx --ip 198.51.100.117/24
  [[ $output == *"port of bridge 'br-x'"*"attach bridge TARGET --bridge br-x"* ]]
  bad --parent lo --ip 198.51.100.117/24
  bad --parent em1 --ip 198.51.100.117/24 --mode passthru
  [[ $output == *"carries the host's address"*"--force"* ]]
  bad --parent em1 --ip 198.51.100.117/24 --mode passthru --force
  [[ $output == *"passthru"*"alone"* ]]
  bad --parent em1 --ip 198.51.100.117/24 --mtu 1501
  [[ $output == *"above the MTU of parent 'em1', 1500"* ]]
  bad --parent em1 --ip 198.51.100.117/24 --host-shim 203.0.113.9/24
  [[ $output == *"not in the subnet"* ]]
  bad --parent em1 --ip 198.51.100.117/24 --host-shim 198.51.100.145/24
  [[ $output == *"already has a host shim"* ]]
  bad --parent em1 --ip 198.51.100.76/24
  [[ $output == *"host's own address"* ]]
  bad --parent em1 --ip "$SHIM_IP/24"
  [[ $output == *"host shim"* ]]
  bad --parent em1 --ip 198.51.100.181/24
  bad --parent em1 --ip 198.51.100.117/24 --host-shim 198.51.100.117/24
  bad --parent em1 --ip 2001:db8:1::117/64 --host-shim "$SHIM_IP/24"
  bad --parent em1 --ip 198.51.100.117/24 --mode bogus
  bad --parent em1 --ip 198.51.100.117/24 --bridge br-x
  bad --ip 198.51.100.117/24
  bad --parent em1 --ip 198.51.100.117/24 --mode passthru --mac 02:00:00:00:00:01

  # passthru needs the parent alone also when the other macvlan lives in a container
  lj detach "netns:${LAB_PREFIX}o"
  lj attach macvlan "netns:${LAB_PREFIX}o" --parent em1 --ip 198.51.100.181/24
  settle o
  take_snapshots b o
  bad --parent em1 --ip 198.51.100.117/24 --mode passthru
  [[ $output == *"carries the host's address"*"--force"* ]]
  bad --parent em1 --ip 198.51.100.117/24 --mode passthru --force
  [[ $output == *"passthru"*"alone"* ]]
}

@test "macvlan: a shim address someone on the LAN holds, or a subnet's broadcast, is refused" {
  add_container sh
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run lj shim add em1 --ip 198.51.100.10/24
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"$(on peer cat /sys/class/net/eth0/address)"* ]]
  run lj shim add em1 --ip 198.51.100.255/24
  [ "$status" -eq 2 ]
  run lj attach macvlan "netns:${LAB_PREFIX}sh" --parent em1 --ip 198.51.100.190/24 \
    --host-shim 198.51.100.254/24
  [ "$status" -eq 1 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "macvlan: a link-local host shim (fe80::/10) is refused, exit 2, for shim add and --host-shim, also with --dry-run" {
  add_container ll
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local why="a link-local address (fe80::/10): the kernel gives every interface its own"
  run lj shim add em1 --ip fe80::1/64
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Invalid --ip 'fe80::1/64': $why"* ]]
  for dry in "" --dry-run; do
    # shellcheck disable=SC2086 # an empty $dry is no argument
    run lj attach macvlan "netns:${LAB_PREFIX}ll" --parent em1 --ip 2001:db8:1::190/64 \
      --host-shim FE80::2/64 $dry
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"Invalid --host-shim 'FE80::2/64': $why"* ]]
  done
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  [ "$(lj list --json | jq length)" -eq 0 ]
}

# a namespace of the test's own ($LAB_PREFIX$1) with a process in it: prints the PID
ns_with_process() {
  ip netns add "$LAB_PREFIX$1"
  ip -n "$LAB_PREFIX$1" link set lo up
  ip netns exec "$LAB_PREFIX$1" sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
  echo $!
}
ns_del() { ! [[ -e /run/netns/$LAB_PREFIX$1 ]] || ip netns del "$LAB_PREFIX$1"; }
kill_quiet() { kill "$1" 2>/dev/null || true; }

@test "macvlan: pid:N whose process died while its namespace lives on: gc keeps it, detach undoes inside" {
  local pid
  pid=$(ns_with_process pd)
  defer ns_del pd
  defer kill_quiet "$pid"
  take_snapshots pd
  lj attach macvlan "pid:$pid" --parent em1 --ip 198.51.100.131/24
  on pd ip link show eth1
  kill "$pid"
  wait_until 5 bash -c "! kill -0 $pid 2>/dev/null"
  # /run/netns keeps the namespace: the attachment still works, gc leaves it alone
  run lj gc
  [ "$status" -eq 0 ]
  [[ $output == *"Removed 0 stale attachments"* ]]
  on pd ip link show eth1
  [ "$(lj list --json | jq length)" -eq 1 ]
  # detach finds the namespace by its identity and removes the container side too
  run lj detach "pid:$pid"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Detached pid:$pid (eth1)"* ]]
  ! on pd ip link show eth1 || false
  assert_unchanged
}

@test "macvlan: a record's pid reused in a namespace with the old one's inode number is never undone there" {
  local pa pb rec ino
  pa=$(ns_with_process pa)
  defer ns_del pa
  defer kill_quiet "$pa"
  lj attach macvlan "pid:$pa" --parent em1 --ip 198.51.100.132/24
  kill "$pa"
  ns_del pa # the namespace and the macvlan in it are gone
  pb=$(ns_with_process pb)
  defer ns_del pb
  defer kill_quiet "$pb"
  ip -n "${LAB_PREFIX}pb" link add eth1 type veth peer name x1
  # As if pb's process had got pa's PID, and pb pa's namespace inode number: the kernel hands
  # a freed namespace's number out again (often at once, but other namespaces made meanwhile
  # may take it first, so the test sets it in the record instead of waiting for it).
  ino=$(stat -L -c %i "/run/netns/${LAB_PREFIX}pb")
  rec=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
  jq ".target.pid = $pb | .target.spec = \"pid:$pb\" | .target.name = \"$pb\"
      | .target.netns_ino = $ino" "$rec" >"$rec.new"
  chmod 600 "$rec.new"
  mv "$rec.new" "$rec"
  run lj detach "pid:$pb"
  echo "$output"
  [ "$status" -eq 0 ]
  on pb ip link show eth1 # pb's own eth1 was not touched
  [ "$(lj list --json | jq length)" -eq 0 ]
}

@test "macvlan: a wireless parent is refused (exit 2) for attach and shim add, naming the routed and nat ways" {
  add_container wl
  take_snapshots wl
  run lj_wireless em1 attach macvlan "netns:${LAB_PREFIX}wl" --parent em1 --ip 198.51.100.161/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"'em1' is a wireless link"*"ways that work on it: routed"*"nat"* ]]
  run lj_wireless em1 shim add em1 --ip 198.51.100.162/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"wireless"*"nat"* ]]
  assert_unchanged wl
  # the same link, not wireless: accepted
  run lj attach macvlan "netns:${LAB_PREFIX}wl" --parent em1 --ip 198.51.100.161/24 --dry-run
  [ "$status" -eq 0 ]
}

@test "macvlan: options are checked before the look at a live attachment; a gateway that is its subnet's broadcast is refused up front (exit 2)" {
  add_container v
  local t="netns:${LAB_PREFIX}v"
  run lj attach macvlan "$t" --parent em1 --ip 198.51.100.183/24 --gateway 198.51.100.255
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Gateway 198.51.100.255 is the broadcast address of its subnet (--ip 198.51.100.183/24)"* ]]
  run lj attach macvlan "$t" --parent em1 --ip 198.51.100.183/24
  [ "$status" -eq 0 ]
  detach_later v
  take_snapshots v
  bad() { # EXPECTED ARGS...
    local want=$1
    shift
    run lj attach macvlan "$t" "$@"
    echo "lanjoin attach macvlan $t $*: $status $output"
    [ "$status" -eq 2 ]
    [[ $output == *"$want"* ]]
    [[ $output != *"use --replace"* ]]
  }
  bad "--ip 127.0.0.5/8 is a loopback address" --parent em1 --ip 127.0.0.5/8
  bad "Gateway 224.0.0.1 is a multicast address" --parent em1 --ip 198.51.100.183/24 --gateway 224.0.0.1
  bad "Gateway 198.51.100.255 is the broadcast address of its subnet" --parent em1 --ip 198.51.100.183/24 --gateway 198.51.100.255
  bad "'lo' is not an Ethernet link" --parent lo --ip 198.51.100.183/24
  # as before (the other attachments' records stay)
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  assert_same_state v "$BATS_TEST_TMPDIR/v.before"
}

@test "macvlan: an --ip on none of the parent's subnets is attached with a warning; a --gateway outside the --ip's subnet is refused (exit 2)" {
  add_container off
  take_snapshots off
  run lj attach macvlan "netns:${LAB_PREFIX}off" --parent em1 --ip 198.51.100.117/28 \
    --gateway 198.51.100.254
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Gateway 198.51.100.254 is outside the subnet of --ip 198.51.100.117/28"* ]]
  assert_unchanged off
  run lj attach macvlan "netns:${LAB_PREFIX}off" --parent em1 --ip 198.18.50.6/24
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later off
  [[ $output == *"warning: --ip 198.18.50.6/24 is on none of the subnets of parent 'em1' (198.51.100.0/24"* ]]
  # on the LAN's subnet: no warning
  run lj attach macvlan "netns:${LAB_PREFIX}off" --parent em1 --ip 198.51.100.117/24 --ifname eth2
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *warning* ]]
}
