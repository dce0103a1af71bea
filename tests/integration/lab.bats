#!/usr/bin/env bats
# Tests of the lab itself (lab/lab.sh): if these fail, every other integration test is moot.
# test.sh: plain pass only (no lanjoin here: the lab and the test helpers)

load helpers

@test "lab: peer reaches the gateway over the LAN (IPv4 and IPv6)" {
  ping_from peer 198.51.100.254
  ping_from peer 2001:db8:1::fe
}

@test "lab: the outside host sees the peer's source address" {
  run curl_from peer http://203.0.113.1/cgi-bin/ip
  [ "$status" -eq 0 ]
  [ "$output" = "198.51.100.10" ]
  run curl_from peer 'http://[2001:db8:2::1]/cgi-bin/ip'
  [ "$status" -eq 0 ]
  [ "$output" = "2001:db8:1::10" ]
}

@test "lab: host reaches peer and, through the gateway, the outside" {
  ping_from host 198.51.100.10
  ping_from host 2001:db8:1::10
  run curl_from host http://203.0.113.1/cgi-bin/ip
  [ "$status" -eq 0 ]
  [ "$output" = "198.51.100.76" ]
}

@test "lab: host is at kernel defaults for forwarding" {
  [ "$(on host cat /proc/sys/net/ipv4/ip_forward)" = 0 ]
  [ "$(on host cat /proc/sys/net/ipv6/conf/all/forwarding)" = 0 ]
}

@test "lab: a container's httpd answers Hello world inside its own namespace" {
  add_container c1
  [[ $CONTAINER_PID =~ ^[0-9]+$ ]]
  [ "$(lab container pid c1)" = "$CONTAINER_PID" ]
  # lanjoin finds it by pid: the httpd runs in the container's namespace
  [ "$(readlink "/proc/$CONTAINER_PID/ns/net")" = "$(on c1 readlink /proc/self/ns/net)" ]
  run curl_from c1 http://127.0.0.1/hello.html
  [ "$status" -eq 0 ]
  [ "$output" = "Hello world" ]
  # nothing but lo in it
  [ "$(ip -n "${LAB_PREFIX}c1" -o link show | wc -l)" -eq 1 ]
  # no :8080 unless asked for
  run curl_from c1 http://127.0.0.1:8080/hello.html
  [ "$status" -ne 0 ]
}

@test "lab: container add --with-8080 serves on both ports; del removes it and its processes" {
  add_container c2 --with-8080
  run curl_from c2 http://127.0.0.1:8080/hello.html
  [ "$output" = "Hello world" ]
  local pids
  pids=$(ip netns pids "${LAB_PREFIX}c2")
  [ "$(echo "$pids" | wc -w)" -eq 2 ]
  lab container del c2
  [ ! -e "/run/netns/${LAB_PREFIX}c2" ]
  for p in $pids; do
    [ ! -d "/proc/$p" ] || [ "$(awk '{print $3}' "/proc/$p/stat")" = Z ]
  done
  lab container del c2 # idempotent
}

@test "lab: dnsmasq hands out a DHCPv4 lease with the gateway as router" {
  local ns=${LAB_PREFIX}dhcp
  ip netns add "$ns"
  defer ip netns del "$ns"
  on lan ip link add p-dhcp type veth peer name eth0 netns "$ns"
  on lan ip link set p-dhcp master lan0 up
  ip -n "$ns" link set eth0 up
  cat >"$BATS_TEST_TMPDIR/script" <<'EOF'
#!/bin/sh
[ "$1" = bound ] && echo "bound $ip router $router"
exit 0
EOF
  chmod +x "$BATS_TEST_TMPDIR/script"
  run ip netns exec "$ns" busybox udhcpc -i eth0 -n -q -t 5 -T 1 -s "$BATS_TEST_TMPDIR/script"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output =~ bound\ 198\.51\.100\.(1[5-9][0-9])\ router\ 198\.51\.100\.254 ]]
  grep -q "DHCPACK(eth0) 198.51.100.${BASH_REMATCH[1]}" "$LAB_DIR/dnsmasq.log"
}

@test "lab: dnsmasq sends router advertisements for 2001:db8:1::/64" {
  grep -q 'RTR-ADVERT(eth0) 2001:db8:1::' "$LAB_DIR/dnsmasq.log" ||
    wait_until 10 grep -q 'RTR-ADVERT(eth0) 2001:db8:1::' "$LAB_DIR/dnsmasq.log"
  [ -n "$(on gw ss -Hlnu 'sport = :67')" ]
}

@test "lab: a snapshot of an unchanged node is stable" {
  snapshot host >"$BATS_TEST_TMPDIR/before"
  # traffic, neighbour entries and time passing must not show up
  ping_from peer 198.51.100.76
  curl_from host http://203.0.113.1/cgi-bin/ip
  sleep 1
  assert_same_state host "$BATS_TEST_TMPDIR/before"
  snapshot peer >"$BATS_TEST_TMPDIR/peer"
  assert_same_state peer "$BATS_TEST_TMPDIR/peer"
}

@test "lab: a snapshot sees a change, and its undo" {
  snapshot host >"$BATS_TEST_TMPDIR/before"
  on host ip addr add 198.51.100.200/32 dev em1
  defer on host ip addr del 198.51.100.200/32 dev em1
  run assert_same_state host "$BATS_TEST_TMPDIR/before"
  [ "$status" -ne 0 ]
  [[ $output == *198.51.100.200* ]]
  on host ip addr del 198.51.100.200/32 dev em1
  _LJ_DEFERRED=()
  assert_same_state host "$BATS_TEST_TMPDIR/before"
}

@test "lab: down leaves no namespace, process or state of its prefix; up again works" {
  # A second lab of its own, so this file's lab stays up for the other tests.
  local p=${LAB_PREFIX%-}x-
  LAB_PREFIX=$p "$LAB" up --bridge-host
  defer env LAB_PREFIX="$p" "$LAB" down
  LAB_PREFIX=$p "$LAB" container add w >/dev/null
  LAB_PREFIX=$p "$LAB" down
  [ -z "$(ip netns list | awk -v p="$p" 'index($1, p) == 1')" ]
  [ ! -e "/run/lanjoin-lab/$p" ]
  local proc
  for proc in /proc/[0-9]*/cmdline; do
    ! grep -qF "/run/lanjoin-lab/$p" "$proc" 2>/dev/null || false
  done
  LAB_PREFIX=$p "$LAB" down # idempotent
}

@test "lab: exec and env point lanjoin's state and spec directories into the lab" {
  local d
  d=$("$LAB" dir)
  run env -u LANJOIN_STATE_DIR -u LANJOIN_SPEC_DIR "$LAB" exec host sh -c 'echo "$LANJOIN_STATE_DIR $LANJOIN_SPEC_DIR"'
  [ "$output" = "$d/state $d/specs" ]
  run "$LAB" env
  [ "$output" = "export LANJOIN_STATE_DIR='$d/state' LANJOIN_SPEC_DIR='$d/specs'" ]
  # set already: passed on
  run env LANJOIN_SPEC_DIR=/tmp/x "$LAB" exec host sh -c 'echo "$LANJOIN_SPEC_DIR"'
  [ "$output" = /tmp/x ]
}

@test "lab: up refuses to build over an existing lab" {
  run "$LAB" up
  [ "$status" -ne 0 ]
  [[ $output == *"already up"* ]]
  ping_from peer 198.51.100.254 # and left it alone
}

@test "lab: --ovs-host carries TCP through the OVS netdev bridge (container with TX csum off)" {
  local p=${LAB_PREFIX%-}o-
  LAB_PREFIX=$p "$LAB" up --ovs-host
  defer env LAB_PREFIX="$p" "$LAB" down
  eval "$(LAB_PREFIX=$p "$LAB" ovs env)"
  [ "$LAB_OVSDB" = "unix:/run/lanjoin-lab/${p}/ovs/db.sock" ]
  ovs-vsctl br-exists br-em1
  [ "$(ovs-vsctl get bridge br-em1 datapath_type)" = netdev ]
  [ "$(ovs-vsctl list-ports br-em1)" = em1 ]
  [ ! -e /run/openvswitch/db.sock ] && [ ! -e /var/run/openvswitch/db.sock ]
  # the host's address moved onto the bridge and answers once (no duplicate from em1)
  run ip netns exec "${p}peer" busybox ping -c 2 -W 2 198.51.100.76
  [ "$status" -eq 0 ]
  [[ $output != *duplicate* ]]
  # a container plugged in by hand; its end of the veth must not leave checksums to OVS
  LAB_PREFIX=$p "$LAB" container add w >/dev/null
  ip -n "${p}host" link add vw type veth peer name eth1 netns "${p}w"
  ip -n "${p}host" link set vw up
  ovs-vsctl add-port br-em1 vw
  ip -n "${p}w" link set eth1 up
  ip netns exec "${p}w" ethtool -K eth1 tx off >/dev/null
  ip -n "${p}w" addr add 198.51.100.117/24 dev eth1
  ip -n "${p}w" route add default via 198.51.100.254
  run ip netns exec "${p}peer" curl -sS --max-time 5 http://198.51.100.117/hello.html
  [ "$output" = "Hello world" ]
  run ip netns exec "${p}w" curl -sS --max-time 5 http://203.0.113.1/cgi-bin/ip
  [ "$output" = "198.51.100.117" ]
  # ovs stop leaves no daemon behind
  local pids
  pids=$(cat "/run/lanjoin-lab/${p}/ovs/"*.pid)
  LAB_PREFIX=$p "$LAB" ovs stop
  for pid in $pids; do
    [ ! -d "/proc/$pid" ] || [ "$(awk '{print $3}' "/proc/$pid/stat")" = Z ]
  done
}
