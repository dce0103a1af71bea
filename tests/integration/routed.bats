#!/usr/bin/env bats
# The routed way (issue 20): the container's own LAN addresses, but only the host's MAC on the
# LAN. The lab's host has the plain uplink em1 (198.51.100.76/24, 2001:db8:1::76/64); the
# peer is 198.51.100.10 and 2001:db8:1::10, the outside host 203.0.113.1 (via the gateway).

load helpers

del_host_link() { on host ip link del "$1" 2>/dev/null || true; }

A4=198.51.100.117
A6=2001:db8:1::117

detach_later() { defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}$1"; }

em1_mac() { on host cat /sys/class/net/em1/address; }

# the MAC NODE's neighbour table holds for ADDR (on eth0, the lab's LAN link)
neigh_mac() { on "$1" ip -j neigh show "$2" dev eth0 | jq -r '.[0].lladdr // empty'; }

@test "routed: the peer reaches the container's LAN addresses through the host's MAC, the outside sees them, the host reaches it; detach restores everything" {
  add_container web
  take_snapshots web
  run lj attach routed "netns:${LAB_PREFIX}web" --parent em1 --ip $A4/24 --ip $A6/64
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later web
  [[ $output == *"$A4/32"*"$A6/128"* ]]

  # the peer: IPv4 and IPv6, and the only MAC it learnt for them is em1's
  run curl_from peer "http://$A4/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from peer "http://[$A6]/hello.html"
  [ "$output" = "Hello world" ]
  [ "$(neigh_mac peer $A4)" = "$(em1_mac)" ]
  [ "$(neigh_mac peer $A6)" = "$(em1_mac)" ]
  # the container's own MAC never reached the LAN
  local cmac
  cmac=$(on web cat /sys/class/net/eth1/address)
  run on lan bridge fdb show br lan0
  [[ $output != *"$cmac"* ]]

  # outbound: the outside host sees the container's own LAN address (no NAT)
  run curl_from web http://203.0.113.1/cgi-bin/ip
  [ "$output" = "$A4" ]
  # the host reaches it directly, no shim
  run on host curl -sS --fail --max-time 3 "http://$A4/hello.html"
  [ "$output" = "Hello world" ]
  run on host curl -sS --fail --max-time 3 "http://[$A6]/hello.html"
  [ "$output" = "Hello world" ]

  # the container's side: host addresses and link-local next hops
  run on web ip -j route show default
  [[ $output == *'"gateway":"169.254.0.1","dev":"eth1"'* ]]
  run on web ip -j -6 route show default
  [[ $output == *'"gateway":"fe80::1","dev":"eth1"'* ]]
  # the host: a proxy entry per address on em1, no blanket proxy_arp
  run on host ip neigh show proxy dev em1
  [[ $output == *"$A4"* && $output == *"$A6"* ]]
  [ "$(on host sysctl -n net.ipv4.conf.em1.proxy_arp)" = 0 ]
  [ "$(on host sysctl -n net.ipv6.conf.em1.proxy_ndp)" = 1 ]

  run lj list --json
  [ "$(jq -r '.[0].way' <<<"$output")" = routed ]
  [ "$(jq -r '.[0].info.parent' <<<"$output")" = em1 ]
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
  # a proxy entry deleted by hand is drifted, named; put back, ok again
  on host ip neigh del proxy $A4 dev em1
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"the proxy entry for $A4 on em1 is missing"* ]]
  on host ip neigh add proxy $A4 dev em1
  run lj status
  [ "$status" -eq 0 ]

  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_unchanged web
}

@test "routed: two containers on one uplink reach each other; the sysctls stay until the last goes" {
  add_container web
  add_container web2
  take_snapshots web web2
  run lj attach routed "netns:${LAB_PREFIX}web" --parent em1 --ip $A4/24 --ip $A6/64
  [ "$status" -eq 0 ]
  detach_later web
  run lj attach routed "netns:${LAB_PREFIX}web2" --parent em1 --ip 198.51.100.118/24 \
    --ip 2001:db8:1::118/64
  [ "$status" -eq 0 ]
  detach_later web2

  run curl_from web2 "http://$A4/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from web "http://[2001:db8:1::118]/hello.html"
  [ "$output" = "Hello world" ]

  # the first one goes: the second keeps working, forwarding and proxy_ndp stay on
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  [ "$(on host sysctl -n net.ipv4.ip_forward)" = 1 ]
  [ "$(on host sysctl -n net.ipv6.conf.all.forwarding)" = 1 ]
  [ "$(on host sysctl -n net.ipv6.conf.em1.proxy_ndp)" = 1 ]
  run curl_from peer "http://198.51.100.118/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from peer "http://[2001:db8:1::118]/hello.html"
  [ "$output" = "Hello world" ]
  run on host ip neigh show proxy
  [[ $output != *"$A4"* && $output == *198.51.100.118* ]]

  run lj detach "netns:${LAB_PREFIX}web2"
  [ "$status" -eq 0 ]
  assert_unchanged web web2
}

@test "routed: an empty routed-sysctl file (an older lanjoin killed while writing it) owns nothing: attach keeps the old value, detach restores it" {
  add_container web
  take_snapshots web
  local own=$LANJOIN_STATE_DIR/routed-sysctl-net.ipv6.conf.em1.proxy_ndp
  [ "$(on host sysctl -n net.ipv6.conf.em1.proxy_ndp)" = 0 ]
  : >"$own"
  defer rm -f "$own"
  run lj attach routed "netns:${LAB_PREFIX}web" --parent em1 --ip $A6/64
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later web
  [ "$(cat "$own")" = 0 ]
  [ "$(on host sysctl -n net.ipv6.conf.em1.proxy_ndp)" = 1 ]
  run curl_from peer "http://[$A6]/hello.html"
  [ "$output" = "Hello world" ]
  run lj detach "netns:${LAB_PREFIX}web"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(on host sysctl -n net.ipv6.conf.em1.proxy_ndp)" = 0 ]
  [ ! -e "$own" ]
  assert_unchanged web
}

@test "routed: a target whose new links start with IPv6 off (Docker's default network) gets IPv6 on its link" {
  add_container v6off
  on v6off sysctl -qw net.ipv6.conf.default.disable_ipv6=1
  run lj attach routed "netns:${LAB_PREFIX}v6off" --parent em1 --ip $A4/24 --ip $A6/64
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later v6off
  [ "$(on v6off sysctl -n net.ipv6.conf.eth1.disable_ipv6)" = 0 ]
  wait_until 10 curl_from peer "http://[$A6]/hello.html"
  run curl_from peer "http://[$A6]/hello.html"
  [ "$output" = "Hello world" ]
}

@test "routed: behind Docker's firewall (FORWARD policy DROP, IPv4 and IPv6) exactly the container's traffic is accepted, removed on detach" {
  add_container web
  on host iptables -P FORWARD DROP
  defer ip netns exec "${LAB_PREFIX}host" iptables -P FORWARD ACCEPT
  on host ip6tables -P FORWARD DROP
  defer ip netns exec "${LAB_PREFIX}host" ip6tables -P FORWARD ACCEPT
  take_snapshots web
  run lj attach routed "netns:${LAB_PREFIX}web" --parent em1 --ip $A4/24 --ip $A6/64
  [ "$status" -eq 0 ]
  detach_later web
  run curl_from peer "http://$A4/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from peer "http://[$A6]/hello.html"
  [ "$output" = "Hello world" ]
  run on host iptables -S FORWARD
  [[ $output == *"-s $A4/32"*"ACCEPT"* ]]
  run on host ip6tables -S FORWARD
  [[ $output == *"-s $A6/128"*"ACCEPT"* ]]
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_unchanged web
}

@test "routed: an address in use on the LAN is refused by the probe (IPv4 and IPv6), nothing left" {
  add_container web
  take_snapshots web
  run lj attach routed "netns:${LAB_PREFIX}web" --parent em1 --ip 198.51.100.10/24
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"198.51.100.10 is already in use on the LAN"* ]]
  assert_unchanged web
  run lj attach routed "netns:${LAB_PREFIX}web" --parent em1 --ip $A4/24 --ip 2001:db8:1::10/64
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"2001:db8:1::10 is already in use on the LAN"* ]]
  assert_unchanged web
}

@test "routed: an --ip off the parent's LAN, its network or broadcast address, or a lanjoin macvlan's, is refused with exit 2 (also --dry-run)" {
  add_container web
  take_snapshots web
  local t="netns:${LAB_PREFIX}web" ip dry
  for ip in 203.0.113.1/24 2001:db8:9::5/64; do
    for dry in "" --dry-run; do
      run lj attach routed "$t" --parent em1 --ip $A4/24 --ip "$ip" $dry
      echo "$ip $dry -> $status: $output"
      [ "$status" -eq 2 ]
      [ "${#lines[@]}" -eq 1 ]
      [[ $output == *"not on the LAN of parent 'em1'"* ]]
      [[ $output == *"198.51.100.0/24"* || $output == *"2001:db8:1::/64"* ]]
    done
  done
  # the LAN's network and broadcast addresses are nobody's to take
  for ip in 198.51.100.255/24 198.51.100.0/24; do
    for dry in "" --dry-run; do
      run lj attach routed "$t" --parent em1 --ip "$ip" $dry
      echo "$ip $dry -> $status: $output"
      [ "$status" -eq 2 ]
      [[ $output == *"address of the LAN 198.51.100.0/24 on 'em1'"* ]]
    done
  done
  # a parent without an address of the family (its IPv6 link-local one does not count)
  on host ip link add ljt-noaddr type veth peer name ljt-noaddr-p
  defer del_host_link ljt-noaddr
  on host ip link set ljt-noaddr up
  run lj attach routed "$t" --parent ljt-noaddr --ip 2001:db8:1::117/64
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"'ljt-noaddr' has no IPv6 address"* ]]
  on host ip link del ljt-noaddr
  assert_unchanged web
  # an address one of lanjoin's macvlan containers on the parent holds: em1 cannot probe
  # its own macvlan children, so the records are asked (nat's --address alike)
  add_container mv
  run lj attach macvlan "netns:${LAB_PREFIX}mv" --parent em1 --ip 198.51.100.201/24
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}mv"
  run lj attach routed "$t" --parent em1 --ip 198.51.100.201/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"198.51.100.201 is the address of netns:${LAB_PREFIX}mv ('eth1'), a macvlan of 'em1'"* ]]
  run lj attach nat "$t" --uplink em1 --address 198.51.100.201/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"is the address of netns:${LAB_PREFIX}mv"* ]]
}

@test "routed: bad input is refused with exit 2 and changes nothing" {
  add_container web
  # a link without ARP (a tunnel): no LAN neighbours to answer for the container
  on host ip tuntap add dev ljtun0 mode tun
  defer ip -n "${LAB_PREFIX}host" link del ljtun0
  on host ip link set ljtun0 up
  take_snapshots web
  run lj attach routed "netns:${LAB_PREFIX}web" --parent ljtun0 --ip "$A4/24"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"'ljtun0' has no ARP (kind 'tun')"*"use the nat way"* ]]
  local t="netns:${LAB_PREFIX}web"
  local -a bad=(
    "--ip $A4/24"
    "--parent em1"
    "--parent nosuch0 --ip $A4/24"
    "--parent lo --ip $A4/24"
    "--parent em1 --ip 169.254.3.4/16"
    "--parent em1 --ip fe80::5/64"
    "--parent em1 --ip 224.0.0.5/4"
    "--parent em1 --ip 198.51.100.76/24"
    "--parent em1 --ip $A4/24 --ip $A4/32"
    "--parent em1 --ip $A4/24 --gateway 198.51.100.254"
    "--parent em1 --dhcp"
    "--parent em1 --ip $A4/24 --mtu 9000"
    "--parent em1 --ip $A4/24 --bridge br0"
    "--parent em1 --ip $A4/24 --route 2001:db8:9::/64"
  )
  local args
  for args in "${bad[@]}"; do
    # shellcheck disable=SC2086 # split on purpose
    run lj attach routed "$t" $args
    echo "$args -> $status: $output"
    [ "$status" -eq 2 ]
  done
  assert_unchanged web
}

@test "routed: an --ip the host already routes as a host route, or that em1 already answers for by proxy, is refused with exit 2 and changes nothing" {
  add_container web
  local t="netns:${LAB_PREFIX}web"
  # each made by hand, checked alone: a host route in the main table (IPv4 and IPv6, also
  # one the kernel's lookup refuses to use), a proxy entry on the parent
  local -a made=(
    "route add $A4/32 dev em1"
    "route add blackhole $A4/32"
    "-6 route add $A6/128 dev em1"
    "neigh add proxy $A4 dev em1"
    "-6 neigh add proxy $A6 dev em1"
  )
  local -a want=(
    "the host already routes it to 'em1'"
    "the host already routes it to"
    "the host already routes it to 'em1'"
    "'em1' already answers for it by proxy"
    "'em1' already answers for it by proxy"
  )
  local i ip
  for i in "${!made[@]}"; do
    # shellcheck disable=SC2086 # split on purpose
    on host ip ${made[i]}
    take_snapshots web
    ip=$A4/24
    [[ ${made[i]} == -6* ]] && ip=$A6/64
    run lj attach routed "$t" --parent em1 --ip "$ip"
    echo "${made[i]} -> $status: $output"
    [ "$status" -eq 2 ]
    [[ $output == *"${want[i]}"* ]]
    assert_unchanged web
    # shellcheck disable=SC2086
    on host ip ${made[i]/ add / del }
  done
  # a proxy entry for the address on another link is not em1's
  on host ip link add ljpx0 type veth peer name ljpx1
  defer ip -n "${LAB_PREFIX}host" link del ljpx0
  on host ip neigh add proxy $A4 dev ljpx0
  run lj attach routed "$t" --parent em1 --ip "$A4/24" --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "routed: --dry-run changes nothing and prints ip/sysctl commands" {
  add_container web
  take_snapshots web
  run lj attach routed "netns:${LAB_PREFIX}web" --parent em1 --ip $A4/24 --ip $A6/64 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"ip neigh add proxy $A4 dev em1"* ]]
  [[ $output == *"ip -6 neigh add proxy $A6 dev em1"* ]]
  [[ $output == *"sysctl -qw net.ipv6.conf.em1.proxy_ndp=1"* ]]
  [[ $output == *"route add default via 169.254.0.1 dev eth1 onlink"* ]]
  assert_unchanged web
}

@test "routed: gc after the container is gone removes the proxy entries and restores the sysctls" {
  add_container gone
  take_snapshots
  run lj attach routed "netns:${LAB_PREFIX}gone" --parent em1 --ip $A4/24 --ip $A6/64
  [ "$status" -eq 0 ]
  lab container del gone
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  assert_unchanged
}

# CNI: "mode": "routed" with host-local IPAM; ADD, the peer reaches it, CHECK, DEL.
@test "routed: CNI mode routed takes the IPAM addresses; CHECK passes; DEL restores the host" {
  add_container cr
  take_snapshots
  local conf=$BATS_TEST_TMPDIR/conf.json
  jq -n --arg dir "$BATS_TEST_TMPDIR/ipam" '{cniVersion: "1.0.0", name: "routednet",
    type: "lanjoin", mode: "routed", master: "em1",
    ipam: {type: "host-local", dataDir: $dir,
           ranges: [[{subnet: "198.51.100.0/24", rangeStart: "198.51.100.150",
                      rangeEnd: "198.51.100.150", gateway: "198.51.100.254"}]],
           routes: [{dst: "0.0.0.0/0"}]}}' >"$conf"
  cni() {
    ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$1" CNI_CONTAINERID=cid-cr \
      CNI_NETNS="/run/netns/${LAB_PREFIX}cr" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
      "$LANJOIN" <"$2"
  }
  run cni ADD "$conf"
  echo "$output"
  [ "$status" -eq 0 ]
  defer cni DEL "$conf"
  [ "$(jq -r '.ips[0].address' <<<"$output")" = 198.51.100.150/32 ]
  [ "$(jq -r '.ips[0].gateway' <<<"$output")" = 169.254.0.1 ]
  jq --argjson p "$output" '. + {prevResult: $p}' "$conf" >"$BATS_TEST_TMPDIR/prev.json"
  run curl_from peer http://198.51.100.150/hello.html
  [ "$output" = "Hello world" ]
  run cni CHECK "$BATS_TEST_TMPDIR/prev.json"
  echo "$output"
  [ "$status" -eq 0 ]
  run cni DEL "$conf"
  [ "$status" -eq 0 ]
  assert_unchanged
}

# A container "eng" with an engine's network of its own: eng0 198.18.5.2/24 with the default
# route via 198.18.5.1 (as Docker's bridge gives), snapshotted for assert_unchanged.
eng_standin() {
  add_container eng
  on eng ip link add eng0 type veth peer name eng1
  on eng ip link set eng0 up
  on eng ip link set eng1 up
  on eng ip addr add 198.18.5.2/24 dev eng0
  on eng ip route add default via 198.18.5.1 dev eng0
  take_snapshots eng
}

@test "routed: a target with a default route of its own (an engine's) gets it back on detach; replies from its engine address keep their link" {
  eng_standin
  run lj attach routed "netns:${LAB_PREFIX}eng" --parent em1 --ip $A4/24
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later eng
  [[ $output == *"Replaced the default route via 198.18.5.1 dev eng0"* ]]
  run on eng ip -j route show default
  [[ $output == *'"gateway":"169.254.0.1","dev":"eth1"'* ]]
  run on eng ip rule show
  [[ $output == *"from 198.18.5.2 lookup"* ]]
  run curl_from peer "http://$A4/hello.html"
  [ "$output" = "Hello world" ]
  run lj detach "netns:${LAB_PREFIX}eng"
  [ "$status" -eq 0 ]
  assert_unchanged eng
}

@test "routed: --route 0.0.0.0/0 is refused up front (exit 2): beside the way's own default route, or with --no-default-route beside the target's" {
  eng_standin
  local t="netns:${LAB_PREFIX}eng"
  run lj attach routed "$t" --parent em1 --ip $A4/24 --route 0.0.0.0/0
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"--route 0.0.0.0/0: this attach sets the target's IPv4 default route already"* ]]
  run lj attach routed "$t" --parent em1 --ip $A4/24 --no-default-route --route 0.0.0.0/0
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"--route 0.0.0.0/0 and --no-default-route exclude each other here: the target's IPv4 default route (via 198.18.5.1 dev eng0) stays"* ]]
  # IPv6: the target has no default route of its own, --no-default-route --route ::/0 works
  run lj attach routed "$t" --parent em1 --ip $A6/64 --no-default-route --route ::/0
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later eng
  [ "$(on eng ip -j -6 route show default | jq -r '.[0].gateway')" = fe80::1 ]
  [ "$(on eng ip -j route show default | jq -r '.[0].gateway')" = 198.18.5.1 ]
  run lj detach "$t"
  [ "$status" -eq 0 ]
  assert_unchanged eng
}

@test "routed: its addresses are refused to the other ways (macvlan, nat), also without the probe, exit 2" {
  add_container rt
  add_container mv
  run lj attach routed "netns:${LAB_PREFIX}rt" --parent em1 --ip 198.51.100.202/24
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}rt"
  take_snapshots mv
  # the parent's probe gets no answer for it (proxy ARP does not answer RFC 5227 probes):
  # the records say it
  # (without the probe the records are not read: the host's route to it says so)
  for nc in "" --no-conflict-check; do
    run lj attach macvlan "netns:${LAB_PREFIX}mv" --parent em1 --ip 198.51.100.202/24 $nc
    echo "$output"
    [ "$status" -eq 2 ]
    if [ -z "$nc" ]; then
      [[ $output == *"198.51.100.202 is the address of netns:${LAB_PREFIX}rt ('eth1'), attached the routed way on 'em1'"* ]]
    else
      [[ $output == *"198.51.100.202 is routed by the host to 'ljr"*"' (a host route of its own"* ]]
    fi
    run lj attach nat "netns:${LAB_PREFIX}mv" --uplink em1 --address 198.51.100.202/24 $nc
    echo "$output"
    [ "$status" -eq 2 ]
    if [ -z "$nc" ]; then
      [[ $output == *"--address 198.51.100.202 is the address of netns:${LAB_PREFIX}rt ('eth1'), attached the routed way on 'em1'"* ]]
    else
      [[ $output == *"--address 198.51.100.202/24 is routed by the host to 'ljr"* ]]
    fi
  done
  run lj attach macvlan "netns:${LAB_PREFIX}mv" --parent em1 --ip 198.51.100.202/24 --dry-run
  [ "$status" -eq 2 ]
  [[ $output == *"198.51.100.202 is the address of netns:${LAB_PREFIX}rt"* ]]
  # as before (the other attachments' records stay)
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  assert_same_state mv "$BATS_TEST_TMPDIR/mv.before"
  [ "$(lj status --json | jq -r .ok)" = true ]
  # the routed attachment again with --replace keeps its own address
  run lj attach routed "netns:${LAB_PREFIX}rt" --parent em1 --ip 198.51.100.202/24 --mtu 1400 --replace
  echo "$output"
  [ "$status" -eq 0 ]
}
