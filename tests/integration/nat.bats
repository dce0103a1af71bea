#!/usr/bin/env bats
# The nat way (issue 4): lanjoin claims a LAN address on the host's uplink em1 and translates
# it to the container's private address with nftables, ahead of any iptables-nft MASQUERADE,
# and opens Docker-style firewalls (FORWARD policy DROP, DOCKER-USER) for exactly that flow.

load helpers

del_host_link() { on host ip link del "$1" 2>/dev/null || true; }

LAN_ADDR=198.51.100.117

# nat_attach NAME [ARGS...]: attach lab container NAME with the nat way. Run it with `run`
# after `detach_later NAME` (a deferral made inside `run` would be lost with its subshell).
nat_attach() {
  local name=$1
  shift
  lj attach nat "netns:$LAB_PREFIX$name" --uplink em1 "$@"
}
detach_later() { defer lj detach "netns:$LAB_PREFIX$1"; }
stop_pid() { kill "$1" 2>/dev/null || true; }

# The private network lanjoin picked for container NAME.
private_of() {
  lj list --json | jq -r --arg s "netns:$LAB_PREFIX$1" '.[] | select(.target.spec == $s) | .info.private'
}

# Undo the iptables-nft tables a test made in the host (iptables leaves empty tables behind).
fw_reset() {
  on host nft delete table ip filter 2>/dev/null || true
  on host nft delete table ip nat 2>/dev/null || true
}

# Docker's firewall as far as it matters: FORWARD policy DROP, an empty DOCKER-USER jumped from
# FORWARD (iptables-nft, table ip filter).
docker_firewall() {
  defer fw_reset
  on host iptables -N DOCKER-USER
  on host iptables -A FORWARD -j DOCKER-USER
  on host iptables -P FORWARD DROP
}

assert_hello() { # NODE URL
  run curl_from "$1" "$2"
  echo "$1 $2 -> status $status: $output"
  [ "$status" -eq 0 ]
  [ "$output" = "Hello world" ]
}

assert_outside_sees() { # NODE ADDRESS
  run curl_from "$1" http://203.0.113.1/cgi-bin/ip
  echo "$1 seen by the outside host as: $output"
  [ "$status" -eq 0 ]
  [ "$output" = "$2" ]
}

@test "nat: the peer and the host reach the container at the LAN address; the outside sees it" {
  add_container web
  snapshot host >"$BATS_TEST_TMPDIR/host"
  snapshot web >"$BATS_TEST_TMPDIR/web"
  detach_later web
  run nat_attach web --address $LAN_ADDR/24
  echo "$output"
  echo "$output"
  [ "$status" -eq 0 ]
  # the address is on em1, and the container got a private /31 from 198.18.0.0/15
  on host ip -o addr show dev em1 | grep -q "inet $LAN_ADDR/24"
  [[ $(private_of web) =~ ^198\.1[89]\.[0-9]+\.[0-9]+/31$ ]]
  assert_hello peer http://$LAN_ADDR/hello.html
  assert_hello host http://$LAN_ADDR/hello.html
  assert_outside_sees web $LAN_ADDR
  [ "$(on host cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
  # our own table: base chains ahead of iptables' NAT, and per attachment two chains named by
  # its record id, reached through one element of each verdict map
  local id t
  id=$(state_records | jq -r '.[0].id')
  t=$(on host nft -j list table ip lanjoin)
  jq -e '[.nftables[] | .chain? // empty | select(.hook == "prerouting" and .prio == -110)] | length == 1' <<<"$t"
  jq -e '[.nftables[] | .chain? // empty | select(.hook == "postrouting" and .prio == 90)] | length == 1' <<<"$t"
  jq -e --arg c "lj${id}_dnat" '[.nftables[] | .chain? // empty | select(.name == $c)] | length == 1' <<<"$t"
  jq -e --arg c "lj${id}_snat" '[.nftables[] | .map? // empty | select(.name == "outbound") | .elem[][1].jump.target] == [$c]' <<<"$t"

  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
  assert_same_state web "$BATS_TEST_TMPDIR/web"
  run curl_from peer http://$LAN_ADDR/hello.html
  [ "$status" -ne 0 ]
  # detach again: nothing to do, still success
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
}

@test "nat: an empty nat-ip_forward (an older lanjoin killed while writing it) owns nothing: attach and detach work" {
  add_container web
  [ "$(on host cat /proc/sys/net/ipv4/ip_forward)" = 0 ]
  : >"$LANJOIN_STATE_DIR/nat-ip_forward"
  defer rm -f "$LANJOIN_STATE_DIR/nat-ip_forward"
  run nat_attach web --address $LAN_ADDR/24
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat "$LANJOIN_STATE_DIR/nat-ip_forward")" = 0 ]
  [ "$(on host cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
  assert_hello peer http://$LAN_ADDR/hello.html
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  [ "$(on host cat /proc/sys/net/ipv4/ip_forward)" = 0 ]
  [ ! -e "$LANJOIN_STATE_DIR/nat-ip_forward" ]
}

@test "nat: SNAT wins over an iptables-nft MASQUERADE for the private subnet, before or after" {
  add_container web
  defer fw_reset
  # inserted before the attach, for the whole pool
  on host iptables -t nat -I POSTROUTING -s 198.18.0.0/15 ! -d 198.18.0.0/15 -j MASQUERADE
  snapshot host >"$BATS_TEST_TMPDIR/host"
  detach_later web
  run nat_attach web --address $LAN_ADDR/24
  echo "$output"
  [ "$status" -eq 0 ]
  local net
  net=$(private_of web)
  assert_outside_sees web $LAN_ADDR
  # inserted after the attach at the top, for exactly the private subnet, and re-inserted
  on host iptables -t nat -I POSTROUTING -s "$net" ! -d "$net" -j MASQUERADE
  assert_outside_sees web $LAN_ADDR
  on host iptables -t nat -D POSTROUTING -s "$net" ! -d "$net" -j MASQUERADE
  on host iptables -t nat -I POSTROUTING 1 -s "$net" ! -d "$net" -j MASQUERADE
  [[ $(on host iptables -t nat -S POSTROUTING | sed -n 2p) == *"-s $net"*MASQUERADE* ]]
  assert_outside_sees web $LAN_ADDR
  assert_hello peer http://$LAN_ADDR/hello.html
  on host iptables -t nat -D POSTROUTING -s "$net" ! -d "$net" -j MASQUERADE
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
}

@test "nat: Docker's FORWARD DROP and DOCKER-USER: accept rules for exactly this flow, removed on detach" {
  add_container web
  docker_firewall
  on host iptables -t nat -I POSTROUTING -s 198.18.0.0/15 ! -d 198.18.0.0/15 -j MASQUERADE
  snapshot host >"$BATS_TEST_TMPDIR/host"
  detach_later web
  run nat_attach web --address $LAN_ADDR/24
  echo "$output"
  echo "$output"
  [ "$status" -eq 0 ]
  assert_hello peer http://$LAN_ADDR/hello.html
  assert_outside_sees web $LAN_ADDR
  # two rules at the top of DOCKER-USER, naming the container's address and link
  local c rules
  c=$(lj list --json | jq -r '.[0].info.container_address')
  rules=$(on host iptables -S DOCKER-USER)
  echo "$rules"
  [ "$(grep -c "lanjoin:" <<<"$rules")" -eq 3 ]
  grep -q -- "-s $c/32 -i ljn.* -j ACCEPT" <<<"$rules"
  grep -q -- "-d $c/32 -o ljn.* -m conntrack --ctstate DNAT -m comment .* -j ACCEPT" <<<"$rules"
  grep -q -- "-d $c/32 -o ljn.* -m conntrack --ctstate RELATED,ESTABLISHED -m comment .* -j ACCEPT" <<<"$rules"
  [ -z "$(grep -- "-d $c/32" <<<"$rules" | grep -v -- --ctstate)" ]
  [ -z "$(on host iptables -S FORWARD | grep lanjoin)" ]
  # iptables-nft can still work on the chain (as Docker does)
  on host iptables -I DOCKER-USER -s 203.0.113.99 -j ACCEPT
  on host iptables -D DOCKER-USER -s 203.0.113.99 -j ACCEPT
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
}

@test "nat: FORWARD policy DROP without a used DOCKER-USER: the accept rules go to FORWARD" {
  add_container web
  defer fw_reset
  on host iptables -P FORWARD DROP
  on host iptables -N DOCKER-USER # exists, but nothing jumps to it
  snapshot host >"$BATS_TEST_TMPDIR/host"
  detach_later web
  run nat_attach web --address $LAN_ADDR/24
  echo "$output"
  [ "$status" -eq 0 ]
  assert_hello peer http://$LAN_ADDR/hello.html
  assert_outside_sees web $LAN_ADDR
  [ "$(on host iptables -S FORWARD | grep -c lanjoin:)" -eq 3 ]
  [ "$(on host iptables -S DOCKER-USER | grep -c lanjoin:)" -eq 0 ]
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
  run curl_from peer http://$LAN_ADDR/hello.html
  [ "$status" -ne 0 ]
}

@test "nat: --publish 80 forwards port 80 only" {
  add_container web --with-8080
  assert_hello web http://127.0.0.1:8080/hello.html
  detach_later web
  run nat_attach web --address $LAN_ADDR/24 --publish 80
  echo "$output"
  [ "$status" -eq 0 ]
  assert_hello peer http://$LAN_ADDR/hello.html
  assert_hello host http://$LAN_ADDR/hello.html
  run curl_from peer http://$LAN_ADDR:8080/hello.html
  [ "$status" -ne 0 ]
  # the container still goes out as the LAN address
  assert_outside_sees web $LAN_ADDR
}

# The fresh-user trial's hole: Docker's FORWARD DROP opened for the container's address let a LAN
# host that routes to the private range reach every port, --publish or not.
@test "nat: Docker's firewall: a LAN host routing to the private address reaches only what --publish lets in" {
  add_container web --with-8080
  docker_firewall
  local gw
  gw=$(on host ip -4 -o addr show dev em1 | awk '{ sub("/.*", "", $4); print $4; exit }')
  detach_later web
  run nat_attach web --address $LAN_ADDR/24 --publish 80
  echo "$output"
  [ "$status" -eq 0 ]
  local c
  c=$(lj list --json | jq -r '.[0].info.container_address')
  defer on peer ip route del 198.18.0.0/15 via "$gw"
  on peer ip route add 198.18.0.0/15 via "$gw"
  assert_hello peer http://$LAN_ADDR/hello.html
  assert_outside_sees web $LAN_ADDR
  run curl_from peer "http://$c:8080/hello.html"
  echo "unpublished port at the private address: status $status: $output"
  [ "$status" -ne 0 ]
  run curl_from peer "http://$c/hello.html"
  echo "published port at the private address: status $status: $output"
  [ "$status" -ne 0 ]
}

@test "nat: --publish tcp/8080:80 translates the port; udp rules are made too" {
  add_container web
  detach_later web
  run nat_attach web --address $LAN_ADDR/24 --publish tcp/8080:80 --publish udp/5353:53
  echo "$output"
  [ "$status" -eq 0 ]
  assert_hello peer http://$LAN_ADDR:8080/hello.html
  assert_hello host http://$LAN_ADDR:8080/hello.html
  run curl_from peer http://$LAN_ADDR/hello.html
  [ "$status" -ne 0 ]
  on host nft list table ip lanjoin | grep -q "udp dport 5353 dnat to 198.1[89].*:53"
}

@test "nat: two containers, two LAN addresses; detaching one leaves the other working" {
  add_container c1
  add_container c2
  snapshot host >"$BATS_TEST_TMPDIR/host"
  detach_later c1
  run nat_attach c1 --address 198.51.100.117/24
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later c2
  run nat_attach c2 --address 198.51.100.118/24
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(private_of c1)" != "$(private_of c2)" ]
  assert_hello peer http://198.51.100.117/hello.html
  assert_hello peer http://198.51.100.118/hello.html
  assert_outside_sees c1 198.51.100.117
  assert_outside_sees c2 198.51.100.118
  run lj detach "netns:${LAB_PREFIX}c1"
  [ "$status" -eq 0 ]
  run curl_from peer http://198.51.100.117/hello.html
  [ "$status" -ne 0 ]
  assert_hello peer http://198.51.100.118/hello.html
  assert_outside_sees c2 198.51.100.118
  # forwarding stays on while an attachment needs it
  [ "$(on host cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
  run lj detach "netns:${LAB_PREFIX}c2"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
}

@test "nat: a container sending with another one's private source does not leave as its LAN address" {
  add_container c1
  add_container c2
  add_container dk
  # dk as on a "docker0": its eth0 on a host link, reached with --to
  docker0_standin dk dk0 198.18.200
  detach_later c1
  run nat_attach c1 --address 198.51.100.117/24
  [ "$status" -eq 0 ]
  detach_later c2
  run nat_attach c2 --address 198.51.100.118/24
  [ "$status" -eq 0 ]
  detach_later dk
  run nat_attach dk --address 198.51.100.119/24 --to 198.18.200.2
  [ "$status" -eq 0 ]
  assert_outside_sees c1 198.51.100.117
  assert_outside_sees dk 198.51.100.119
  local c1_priv c2_if
  c1_priv=$(lj list --json | jq -r --arg s "netns:${LAB_PREFIX}c1" '.[] | select(.target.spec == $s) | .info.container_address')
  c2_if=$(lj list --json | jq -r --arg s "netns:${LAB_PREFIX}c2" '.[] | select(.target.spec == $s) | .ifname')
  # The outside host writes down the source of each datagram it gets, until dk's own one.
  local seen=$BATS_TEST_TMPDIR/seen pid
  on out python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("203.0.113.1", 9999))
print("ready", flush=True)
s.settimeout(60)
while True:
    d, a = s.recvfrom(100)
    print(a[0], d.decode(), flush=True)
    if d == b"own-dk":
        break
' >"$seen" &
  pid=$!
  defer stop_pid "$pid"
  wait_until 10 grep -q ready "$seen"
  send() { # NODE SOURCE TEXT
    on "$1" python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(sys.argv[2].encode(), ("203.0.113.1", 9999))' "$2" "$3"
  }
  # What a raw socket achieves (Docker's default CAP_NET_RAW): c2 sends with c1's private
  # source address, then with dk's; then each owner sends its own.
  on c2 ip addr add "$c1_priv/32" dev "$c2_if"
  on c2 ip addr add 198.18.200.2/32 dev "$c2_if"
  send c2 "$c1_priv" spoof-c1
  send c2 198.18.200.2 spoof-dk
  send c1 "$c1_priv" own-c1
  send dk 198.18.200.2 own-dk
  wait "$pid"
  cat "$seen"
  grep -qx "198.51.100.117 own-c1" "$seen"
  grep -qx "198.51.100.119 own-dk" "$seen"
  [ "$(grep -c "^198.51.100.11[79] spoof" "$seen")" -eq 0 ]
  # the owners still leave as their LAN addresses
  assert_outside_sees c1 198.51.100.117
  assert_outside_sees dk 198.51.100.119
  assert_outside_sees c2 198.51.100.118
}

@test "nat: the LAN address of a nat attachment is refused to another attachment, naming it (also --no-conflict-check)" {
  add_container c1
  add_container c2
  detach_later c1
  run nat_attach c1 --address 198.51.100.117/24
  echo "$output"
  [ "$status" -eq 0 ]
  snapshot host >"$BATS_TEST_TMPDIR/host"
  local held="198.51.100.117 is the address of netns:${LAB_PREFIX}c1 ('eth1'), attached the nat way on 'em1'"
  local opt
  for opt in "" --no-conflict-check; do
    run lj attach macvlan "netns:${LAB_PREFIX}c2" --parent em1 --ip 198.51.100.117/24 $opt
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"$held"* ]]
    [[ $output != *"host's own"* ]]
    run lj attach routed "netns:${LAB_PREFIX}c2" --parent em1 --ip 198.51.100.117/24 $opt
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"$held"* ]]
    run nat_attach c2 --address 198.51.100.117/24 $opt
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"--address $held"* ]]
  done
  assert_same_state host "$BATS_TEST_TMPDIR/host"
  # the host's own address is still called that
  run lj attach macvlan "netns:${LAB_PREFIX}c2" --parent em1 --ip 198.51.100.76/24
  [ "$status" -eq 2 ]
  [[ $output == *"198.51.100.76 is the host's own address on 'em1'"* ]]
}

@test "nat: concurrent attaches get distinct private links" {
  local i pids=()
  for i in 1 2 3 4; do
    add_container "p$i"
  done
  snapshot host >"$BATS_TEST_TMPDIR/host"
  for i in 1 2 3 4; do
    defer lj detach "netns:${LAB_PREFIX}p$i"
    lj attach nat "netns:${LAB_PREFIX}p$i" --uplink em1 --address "198.51.100.12$i/24" \
      >"$BATS_TEST_TMPDIR/out$i" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2 3; do
    wait "${pids[i]}" || {
      cat "$BATS_TEST_TMPDIR/out$((i + 1))"
      false
    }
  done
  [ "$(lj list --json | jq -r '.[].info.private' | sort -u | wc -l)" -eq 4 ]
  for i in 1 2 3 4; do
    assert_hello peer "http://198.51.100.12$i/hello.html"
  done
  for i in 1 2 3 4; do
    lj detach "netns:${LAB_PREFIX}p$i"
  done
  assert_same_state host "$BATS_TEST_TMPDIR/host"
}

@test "nat: --private that overlaps an attachment whose links are gone is refused (its record holds it)" {
  add_container c1
  add_container c2
  detach_later c1
  detach_later c2
  run nat_attach c1 --address 198.51.100.121/24 --private 198.18.60.0/30
  echo "$output"
  [ "$status" -eq 0 ]
  # c1's host end goes (and with it the route to its private network): only the record knows
  local host_if
  host_if=$(lj list --json | jq -r --arg s "netns:${LAB_PREFIX}c1" '.[] | select(.target.spec == $s) | .host_ifname')
  on host ip link del "$host_if"
  local p
  for p in 198.18.60.2/31 198.18.60.0/30 198.18.60.0/24 198.18.0.0/16; do
    run nat_attach c2 --address 198.51.100.122/24 --private "$p" --dry-run
    echo "--private $p -> $status: $output"
    [ "$status" -eq 2 ]
    [[ $output == *"overlaps the attachment of netns:${LAB_PREFIX}c1"* ]]
  done
  run nat_attach c2 --address 198.51.100.122/24 --private 198.18.60.4/31 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "nat: --to forwards to an address the container already has (Docker-bridge style)" {
  add_container dk
  # a "docker0": the container's eth0 on a host link, default route, and Docker's MASQUERADE
  docker0_standin dk dk0 198.18.200
  defer fw_reset
  on host iptables -t nat -A POSTROUTING -s 198.18.200.0/24 ! -o dk0 -j MASQUERADE
  wait_ipv6_ready host
  wait_ipv6_ready dk
  snapshot host >"$BATS_TEST_TMPDIR/host"
  snapshot dk >"$BATS_TEST_TMPDIR/dk"
  # without --to the container's own default route would bypass the NAT: refused
  detach_later dk
  run nat_attach dk --address 198.51.100.119/24
  echo "$output"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"default route"* ]]
  detach_later dk
  run nat_attach dk --address 198.51.100.119/24 --to 198.18.200.2
  echo "$output"
  echo "$output"
  [ "$status" -eq 0 ]
  assert_hello peer http://198.51.100.119/hello.html
  assert_outside_sees dk 198.51.100.119
  run lj detach "netns:${LAB_PREFIX}dk"
  echo "$output"
  [ "$status" -eq 0 ]
  # no eth1 was made: it says what it detached
  [[ $output == "Detached netns:${LAB_PREFIX}dk (nat to 198.18.200.2)"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
  assert_same_state dk "$BATS_TEST_TMPDIR/dk"
}

@test "nat: a gratuitous ARP announces the LAN address" {
  add_container web
  defer on peer sysctl -qw net.ipv4.conf.eth0.arp_accept=0
  on peer sysctl -qw net.ipv4.conf.eth0.arp_accept=1
  on peer ip neigh flush dev eth0
  detach_later web
  run nat_attach web --address $LAN_ADDR/24
  echo "$output"
  [ "$status" -eq 0 ]
  local mac
  mac=$(on host ip -j link show em1 | jq -r '.[0].address')
  wait_until 3 eval "on peer ip neigh show $LAN_ADDR dev eth0 | grep -q '$mac'"
}

@test "nat: an uplink without ARP (a tunnel) takes the LAN address without ARP probe or announcement" {
  add_container web
  on host ip tuntap add dev ljtun0 mode tun
  defer ip -n "${LAB_PREFIX}host" link del ljtun0
  on host ip addr add 198.18.30.1/24 dev ljtun0
  on host ip link set ljtun0 up
  take_snapshots web
  run lj attach nat "netns:${LAB_PREFIX}web" --uplink ljtun0 --address 198.18.30.8/24 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *arping* ]]
  detach_later web
  run lj attach nat "netns:${LAB_PREFIX}web" --uplink ljtun0 --address 198.18.30.8/24
  echo "$output"
  [ "$status" -eq 0 ]
  on host ip -4 addr show dev ljtun0 | grep -q "inet 198.18.30.8/24"
  on host nft list map ip lanjoin inbound | grep -q "198.18.30.8 : jump"
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_unchanged web
}

@test "nat: an --address off the uplink's LAN, or one adding a connected route, is refused (also --dry-run)" {
  add_container web
  take_snapshots web
  # an uplink with no IPv4 address at all
  on host ip link add ljt-noaddr type veth peer name ljt-noaddr-p
  defer del_host_link ljt-noaddr
  local args
  for args in "203.0.113.5/24" "203.0.113.5/32" "198.51.100.117/16" "198.51.100.117/25"; do
    for dry in "" --dry-run; do
      run nat_attach web --address "$args" $dry
      echo "$args $dry -> $status: $output"
      [ "$status" -eq 2 ]
      [ "${#lines[@]}" -eq 1 ]
      [[ $output == *"198.51.100.0/24"* ]]
    done
  done
  run lj attach nat "netns:${LAB_PREFIX}web" --uplink ljt-noaddr --address 198.51.100.117/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"'ljt-noaddr' has no IPv4 address"* ]]
  on host ip link del ljt-noaddr
  assert_unchanged web
  # the LAN's own prefix length, or a host prefix, is taken
  for args in "$LAN_ADDR/24" "$LAN_ADDR/32"; do
    run nat_attach web --address "$args" --dry-run
    echo "$args -> $status: $output"
    [ "$status" -eq 0 ]
  done
}

@test "nat: bad input exits 2 and changes nothing" {
  add_container web
  # a network of the container's own, which --private must not take
  on web ip addr add 198.18.77.2/24 dev lo
  snapshot host >"$BATS_TEST_TMPDIR/host"
  snapshot web >"$BATS_TEST_TMPDIR/web"
  local -a bad=(
    "--uplink nope0 --address $LAN_ADDR/24"
    "--uplink em1 --address 198.51.100.0/24"
    "--uplink em1 --address 198.51.100.255/24"
    "--uplink em1 --address 224.1.1.1/32"
    "--uplink em1 --address 198.51.100.76/24"
    "--uplink em1 --address 2001:db8:1::117/64"
    "--uplink em1 --address 198.18.9.2/32 --private 198.18.9.0/30"
    "--uplink em1 --address $LAN_ADDR/24 --private 198.51.100.0/30"
    "--uplink em1 --address $LAN_ADDR/24 --private 198.18.77.0/30"
    "--uplink em1 --address $LAN_ADDR/24 --publish 80 --publish 80"
    "--uplink em1 --address $LAN_ADDR/24 --publish tcp/80:80 --publish 80:8080"
    "--uplink em1 --address $LAN_ADDR/24 --publish sctp/80"
    "--uplink em1 --address $LAN_ADDR/24 --publish 0"
    "--uplink em1 --address $LAN_ADDR/24 --to 10.9.9.9"
    "--uplink em1 --address $LAN_ADDR/24 --to 198.51.100.76"
    "--uplink em1 --address $LAN_ADDR/24 --to docker"
    "--uplink em1 --address $LAN_ADDR/24 --ip 198.18.3.3/24"
    "--uplink em1 --address $LAN_ADDR/24 --route 0.0.0.0/0"
    "--uplink em1"
  )
  local args
  for args in "${bad[@]}"; do
    # shellcheck disable=SC2086
    run lj attach nat "netns:${LAB_PREFIX}web" $args
    echo "$args -> $status: $output"
    [ "$status" -eq 2 ]
    [[ $output == *lanjoin:* ]]
  done
  # no rights for nftables (CAP_NET_ADMIN dropped): a clear message, still nothing changed
  run on host setpriv --bounding-set=-net_admin "$LANJOIN" attach nat "netns:${LAB_PREFIX}web" \
    --uplink em1 --address $LAN_ADDR/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *CAP_NET_ADMIN* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
  assert_same_state web "$BATS_TEST_TMPDIR/web"
  [ -z "$(lj list --json | jq -r '.[]')" ]
}

# The nft input of a --dry-run's plan: its here-documents and its one-line nft commands.
plan_nft_input() {
  awk '/<<.EOF.$/ { f = 1; next } /^EOF$/ { f = 0; next } f' <<<"$1"
  sed -n "s/^nft '\(insert rule .*\)'$/\1/p" <<<"$1"
}

# lanjoin sends its nf_tables changes as netlink requests of its own (libnftnl), not as nft
# text: nft must list what they made exactly as what the --dry-run's nft commands make.
@test "nat: nft lists lanjoin's nf_tables changes exactly as the --dry-run's nft commands" {
  add_container web
  docker_firewall
  local args=(--address $LAN_ADDR/24 --publish tcp/8080:80 --publish udp/5353:53) plan
  plan=$(nat_attach web "${args[@]}" --dry-run)
  detach_later web
  run nat_attach web "${args[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  # the record's id names the chains and the rules' comment; the dry run has none yet
  local id norm='s/lj[0-9a-f]{12}/ljID/g; s/lanjoin:[0-9a-f]{12}/lanjoin:ID/g; s/handle [0-9]+/handle H/g'
  id=$(state_records | jq -r '.[0].id')
  [[ $id =~ ^[0-9a-f]{12}$ ]]
  plan_nft_input "$plan" >"$BATS_TEST_TMPDIR/plan.nft"
  cat "$BATS_TEST_TMPDIR/plan.nft"
  grep -q "create element ip lanjoin outbound" "$BATS_TEST_TMPDIR/plan.nft"
  grep -q "insert rule ip filter DOCKER-USER" "$BATS_TEST_TMPDIR/plan.nft"
  # the same firewall in a namespace of its own, then the dry run's commands
  # the accept rules' conntrack match is iptables-nft's (nft cannot make it): iptables lines
  grep '^iptables -w -I DOCKER-USER .* --ctstate ' <<<"$plan" >"$BATS_TEST_TMPDIR/plan.sh"
  [ "$(wc -l <"$BATS_TEST_TMPDIR/plan.sh")" -eq 2 ]
  # (nft lists no text for iptables' comment match: the filter table as iptables lists it too)
  unshare -n bash -c 'iptables -N DOCKER-USER && iptables -A FORWARD -j DOCKER-USER &&
    iptables -P FORWARD DROP && nft -f "$1" && bash -e "$2" &&
    nft list table ip lanjoin && nft list table ip filter && iptables -S' _ "$BATS_TEST_TMPDIR/plan.nft" \
    "$BATS_TEST_TMPDIR/plan.sh" | sed -E "$norm" >"$BATS_TEST_TMPDIR/want"
  { on host nft list table ip lanjoin && on host nft list table ip filter && on host iptables -S; } |
    sed -E "$norm" >"$BATS_TEST_TMPDIR/got"
  diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
  grep -q 'udp dport 5353 dnat to 198.1[89].*:53$' "$BATS_TEST_TMPDIR/got"
}

@test "nat: --dry-run prints the plan and changes nothing" {
  add_container web
  docker_firewall
  snapshot host >"$BATS_TEST_TMPDIR/host"
  run lj attach nat "netns:${LAB_PREFIX}web" --uplink em1 --address $LAN_ADDR/24 --publish 80 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"ip addr add $LAN_ADDR/24 brd + dev em1"* ]]
  [[ $output == *"sysctl -w net.ipv4.ip_forward=1"* ]]
  [[ $output == *"tcp dport 80 dnat to"* ]]
  [[ $output == *"insert rule ip filter DOCKER-USER"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
}

@test "nat: --dry-run --json prints the same commands as one JSON document, and changes nothing" {
  add_container web
  take_snapshots web
  local args=("netns:${LAB_PREFIX}web" --uplink em1 --address "$LAN_ADDR/24" --publish 80 --dry-run)
  run lj attach nat "${args[@]}"
  [ "$status" -eq 0 ]
  local text=$output
  run lj attach nat "${args[@]}" --json
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(jq -r '.dry_run' <<<"$output")" = true ]
  [ "$(jq -r '.schema' <<<"$output")" = lanjoin/plan/v1 ] # doc/json.md
  [ "$(jq -r '.way + " " + .target' <<<"$output")" = "nat netns:${LAB_PREFIX}web" ]
  # the text's commands after its "# lanjoin attach ..." header line, here-documents and all
  # (the veth's two MACs lanjoin picks anew in each run aside)
  local macs='s/address ([0-9a-f]{2}:){5}[0-9a-f]{2}/address MAC/g'
  diff <(tail -n +2 <<<"$text" | sed -E "$macs") <(jq -r '.commands[]' <<<"$output" | sed -E "$macs")
  diff <(jq -r '.commands[]' <<<"$output") <(jq -r '.steps[].commands[]' <<<"$output")
  [ "$(jq -r '.steps[0].where' <<<"$output")" = host ]
  [[ $(jq -r '.steps[1].what' <<<"$output") == *"$LAN_ADDR"* ]]
  assert_unchanged
}

@test "nat: a fault at every step rolls back to the exact state (exit 1)" {
  add_container web --with-8080
  docker_firewall
  on host iptables -t nat -I POSTROUTING -s 198.18.0.0/15 ! -d 198.18.0.0/15 -j MASQUERADE
  snapshot host >"$BATS_TEST_TMPDIR/host"
  snapshot web >"$BATS_TEST_TMPDIR/web"
  local n steps=0
  for ((n = 1; n <= 30; n++)); do
    LANJOIN_FAULT_STEP=$n run lj attach nat "netns:${LAB_PREFIX}web" --uplink em1 \
      --address $LAN_ADDR/24 --publish 80 --publish tcp/8080:8080
    echo "fault at step $n -> $status: $output"
    if [ "$status" -eq 0 ]; then
      break
    fi
    [ "$status" -eq 1 ]
    [[ $output == *"Rolled back"* ]]
    assert_same_state host "$BATS_TEST_TMPDIR/host"
    assert_same_state web "$BATS_TEST_TMPDIR/web"
    [ -z "$(lj list --json | jq -r '.[]')" ]
    steps=$n
  done
  defer lj detach "netns:${LAB_PREFIX}web"
  # every step was tried (probe, addr, garp, veth, 4 container-side, forwarding, nat, firewall)
  [ "$steps" -eq 11 ]
  assert_hello peer http://$LAN_ADDR:8080/hello.html
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
  assert_same_state web "$BATS_TEST_TMPDIR/web"
}

@test "nat: an undo failing during detach keeps the record; detach again finishes" {
  add_container web
  snapshot host >"$BATS_TEST_TMPDIR/host"
  detach_later web
  run nat_attach web --address $LAN_ADDR/24
  echo "$output"
  [ "$status" -eq 0 ]
  # step 9 is the NAT rules
  LANJOIN_FAULT_UNDO=9 run lj detach "netns:${LAB_PREFIX}web"
  echo "$output"
  [ "$status" -ne 0 ]
  [ -n "$(lj list --json | jq -r '.[]')" ]
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
}

@test "nat: gc after the container is gone removes the host side (address, rules, forwarding)" {
  add_container gone
  docker_firewall
  snapshot host >"$BATS_TEST_TMPDIR/host"
  detach_later gone
  run nat_attach gone --address $LAN_ADDR/24
  [ "$status" -eq 0 ]
  lab container del gone
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$(lj list --json | jq -r '.[]')" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
}

@test "nat: kill -9 at any point of an attach, then gc, leaves the exact previous state" {
  add_container kc
  docker_firewall
  snapshot host >"$BATS_TEST_TMPDIR/host"
  snapshot kc >"$BATS_TEST_TMPDIR/kc"
  local ms
  # 10 steps, 100 ms apart: kill at points spread over the plan
  for ms in 20 130 240 350 460 570 680 790 900 1010; do
    LANJOIN_STEP_DELAY_MS=100 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach nat \
      "netns:${LAB_PREFIX}kc" --uplink em1 --address $LAN_ADDR/24 >/dev/null 2>&1 &
    local pid=$!
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    run lj gc
    [ "$status" -eq 0 ]
    run lj detach "netns:${LAB_PREFIX}kc"
    [ "$status" -eq 0 ]
    [ -z "$(lj list --json | jq -r '.[]')" ]
    assert_same_state host "$BATS_TEST_TMPDIR/host"
    assert_same_state kc "$BATS_TEST_TMPDIR/kc"
  done
}

@test "nat: a LAN address someone already holds is refused (ARP probe), naming its MAC" {
  add_container held
  snapshot host >"$BATS_TEST_TMPDIR/host"
  local gw_mac
  gw_mac=$(on gw cat /sys/class/net/eth0/address)
  run lj attach nat "netns:${LAB_PREFIX}held" --uplink em1 --address 198.51.100.254/24
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"$gw_mac"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host"
  # the gateway's neighbours were not told otherwise: the peer still reaches the outside
  run curl_from peer http://203.0.113.1/cgi-bin/ip
  [ "$output" = 198.51.100.10 ]
}

@test "nat: attached again with --publish in another order is as asked; a bad --address or --private is named, not 'differs'" {
  state_sums() { (cd "$LANJOIN_STATE_DIR" && find . -type f ! -name lock -exec sha256sum {} + | sort); }
  add_container web
  detach_later web
  # the input errors without an attachment ...
  local bad=("--address 0.0.0.0/0" "--address 127.0.0.1/8"
    "--address $LAN_ADDR/24 --private 198.18.9.0/7" "--address $LAN_ADDR/24 --private 198.18.9.1/32")
  local i
  for i in "${!bad[@]}"; do
    # shellcheck disable=SC2086 # one test case's words
    run nat_attach web ${bad[$i]}
    echo "${bad[$i]} -> $status: $output"
    [ "$status" -eq 2 ]
    echo "$output" >"$BATS_TEST_TMPDIR/bad$i"
  done
  run nat_attach web --address $LAN_ADDR/24 --publish 80 --publish tcp/9090:8080
  echo "$output"
  [ "$status" -eq 0 ]
  sums=$(state_sums)
  # repeated options are a set: another order (and spelling) is the same attach
  run nat_attach web --publish 9090:8080 --address $LAN_ADDR/24 --publish tcp/80
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already attached as 'eth1' as asked"* ]]
  # the record keeps the order given first
  [ "$(state_records | jq -c '.[0].spec.publish')" = '["tcp/80:80","tcp/9090:8080"]' ]
  # one more or one less is a difference
  run nat_attach web --address $LAN_ADDR/24 --publish 80
  [ "$status" -eq 2 ]
  [[ $output == *"otherwise: publish differs;"* ]]
  [ "$(state_sums)" = "$sums" ]
  # ... are the same while it is attached (not "already attached ... differs")
  for i in "${!bad[@]}"; do
    # shellcheck disable=SC2086
    run nat_attach web ${bad[$i]}
    echo "${bad[$i]} -> $status: $output"
    [ "$status" -eq 2 ]
    [ "$output" = "$(cat "$BATS_TEST_TMPDIR/bad$i")" ]
    [[ $output != *"already attached"* ]]
  done
  [ "$(state_sums)" = "$sums" ]
}

@test "nat: beside another way's eth1, a nat attachment is told to take its own --ifname, and stands with it" {
  add_container mv
  run lj attach macvlan "netns:${LAB_PREFIX}mv" --parent em1 --ip 198.51.100.133/24
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later mv
  run nat_attach mv --address 198.51.100.120/24 --to 198.51.100.133
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"already attached as 'eth1' (way macvlan) otherwise"*"give this one another name with --ifname (e.g. --ifname nat0); or detach it first, or use --replace (which removes it)"* ]]
  run nat_attach mv --address 198.51.100.120/24 --to 198.51.100.133 --ifname nat0
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}mv" --ifname nat0
  [ "$(lj list --json | jq length)" -eq 2 ]
  on mv ip -o addr show dev eth1 | grep -q 198.51.100.133/24
  run lj detach "netns:${LAB_PREFIX}mv" --ifname nat0
  [ "$status" -eq 0 ]
  [ "$(lj list --json | jq -r '.[].way')" = macvlan ]
}
