#!/usr/bin/env bats
# DHCP servers that hand out what must not be taken (issue 15, "Addresses offered by the
# network"): an offer of an address in use on the LAN (the gateway's, the host's, a
# neighbour's) is probed (RFC 5227) and declined, never configured; an offer --ip would refuse
# (network or broadcast address) is refused; a 1-second lease does not make a client renew
# without pause. Each case runs with every client installed.
#
# The rogue server runs on a LAN node of its own, ${P}rogue (198.51.100.99, port rg0 of the
# LAN switch), started by each test; the gateway's dnsmasq is told (an nft rule in ${P}gw) to
# ignore the MACs the test uses, so that only the rogue answers them.

load helpers

setup_file() { lab_setup_file --bridge-host; }

available_clients() {
  [[ -x /bin/busybox || -x /usr/bin/busybox ]] && echo udhcpc
  [[ -x /sbin/dhclient || -x /usr/sbin/dhclient ]] && echo dhclient
  [[ -x /sbin/dhcpcd || -x /usr/sbin/dhcpcd ]] && echo dhcpcd
  return 0
}

# The rogue node on the LAN.
add_rogue_node() {
  ip netns add "${LAB_PREFIX}rogue"
  defer ip netns del "${LAB_PREFIX}rogue"
  ip -n "${LAB_PREFIX}lan" link add rg0 type veth peer name eth0 netns "${LAB_PREFIX}rogue"
  defer ip -n "${LAB_PREFIX}lan" link del rg0
  ip -n "${LAB_PREFIX}lan" link set rg0 master lan0 up
  on rogue ip link set lo up
  on rogue ip link set eth0 up
  on rogue ip addr add 198.51.100.99/24 dev eth0
}

# The gateway's dnsmasq does not answer MACs $@.
mute_gateway_for() {
  local set
  set=$(
    IFS=,
    echo "$*"
  )
  on gw nft add table inet ljrogue
  defer ip netns exec "${LAB_PREFIX}gw" nft delete table inet ljrogue
  on gw nft add chain inet ljrogue input '{ type filter hook input priority 0; }'
  on gw nft add rule inet ljrogue input ether saddr "{ $set }" udp dport 67 drop
}

stop_rogue() {
  kill "$1" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
}
rogue_listening() { on rogue ss -Hlun | grep -q ':67 '; }

# A dnsmasq on the rogue node with the options $@ (stopping the previous one: dnsmasq keeps
# a declined address from being offered again for 10 minutes); its log is $ROGUE/log.
start_rogue_dnsmasq() {
  ROGUE=$LAB_DIR/rogue
  if [[ -n ${ROGUE_PID:-} ]]; then
    stop_rogue "$ROGUE_PID"
  else
    defer rm -rf "$ROGUE"
  fi
  rm -rf "$ROGUE"
  mkdir -p "$ROGUE"
  ip netns exec "${LAB_PREFIX}rogue" dnsmasq --keep-in-foreground --user=root \
    --conf-file=/dev/null --no-resolv --no-hosts --port=0 --pid-file="$ROGUE/pid" \
    --interface=eth0 --bind-interfaces --dhcp-authoritative --no-ping \
    --dhcp-option=option:router,198.51.100.254 --dhcp-leasefile="$ROGUE/leases" \
    --log-facility="$ROGUE/log" --log-dhcp "$@" >"$ROGUE/out" 2>&1 3>&- &
  ROGUE_PID=$!
  defer stop_rogue "$ROGUE_PID"
  wait_until 10 rogue_listening || {
    cat "$ROGUE/out" >&2
    return 1
  }
}

# busybox udhcpd on the rogue node giving each MAC in $@ (MAC=ADDR) a 1-second lease; its
# log is $ROGUE/log. (dnsmasq makes every lease at least 2 minutes long.)
start_rogue_udhcpd() {
  local kv
  ROGUE=$LAB_DIR/rogue
  mkdir -p "$ROGUE"
  defer rm -rf "$ROGUE"
  {
    echo "start 198.51.100.120"
    echo "end 198.51.100.129"
    echo "interface eth0"
    echo "lease_file $ROGUE/leases"
    echo "pidfile $ROGUE/pid"
    echo "min_lease 1"
    for kv in "$@"; do echo "static_lease ${kv%=*} ${kv#*=}"; done
    echo "option subnet 255.255.255.0"
    echo "option router 198.51.100.254"
    echo "option lease 1"
  } >"$ROGUE/udhcpd.conf"
  touch "$ROGUE/leases"
  ip netns exec "${LAB_PREFIX}rogue" busybox udhcpd -f "$ROGUE/udhcpd.conf" \
    >"$ROGUE/log" 2>&1 3>&- &
  defer stop_rogue "$!"
  wait_until 10 rogue_listening
}

mac_of() { on "$1" cat "/sys/class/net/$2/address"; }
# The MAC peer has for address $1 (after asking for it with a ping).
peer_sees() {
  ping_from peer "$1" >/dev/null
  on peer ip -j neigh show "$1" dev eth0 | jq -r '.[0].lladdr'
}
ljv_links() { on host ip -o link show | grep ' ljv' || true; }

# Nothing of a failed attach is left: no link, record, DHCP file or supervisor.
assert_nothing_left() {
  [ -z "$(ljv_links)" ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null)" ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/dhcp" 2>/dev/null)" ]
  [ -z "$(pgrep -f "dhcp-supervise .*$LANJOIN_STATE_DIR" || true)" ]
}

@test "dhcp-hostile: an offer of the gateway's, the host's or a neighbour's address is declined, never configured; the next good lease is taken (each client)" {
  local gw_mac host_mac peer_mac c bad addr mac=02:00:00:00:ab:01
  gw_mac=$(mac_of gw eth0)
  host_mac=$(mac_of host br-em1)
  peer_mac=$(mac_of peer eth0)
  add_rogue_node
  mute_gateway_for "$mac"
  add_container off
  for c in $(available_clients); do
    for bad in 254 76 10; do
      start_rogue_dnsmasq --dhcp-range=198.51.100.120,198.51.100.129,255.255.255.0,10m \
        "--dhcp-host=$mac,198.51.100.$bad"
      run lj attach bridge "netns:${LAB_PREFIX}off" --bridge br-em1 --dhcp --dhcp-client "$c" \
        --mac "$mac" --dhcp-timeout 25 --json
      echo "$c, offered .$bad: $output"
      [ "$status" -eq 0 ]
      addr=$(jq -r '.info.dhcp.address' <<<"$output")
      # the rogue's next offer, from its pool, after the decline
      [[ $addr == 198.51.100.12[0-9]/24 ]]
      grep -q "DHCPDECLINE(eth0) 198.51.100.$bad $mac" "$ROGUE/log"
      [[ -z $(on off ip -4 -o addr show to "198.51.100.$bad") ]]
      # the gateway, the host and the peer kept their address: each is reached at its own
      # MAC (a gratuitous ARP of the offer would have moved it to the container's)
      [ "$(peer_sees 198.51.100.254)" = "$gw_mac" ]
      [ "$(peer_sees 198.51.100.76)" = "$host_mac" ]
      ping_from gw 198.51.100.10
      [ "$(on gw ip -j neigh show 198.51.100.10 dev eth0 | jq -r '.[0].lladdr')" = "$peer_mac" ]
      ping_from peer "${addr%/*}"
      lj detach "netns:${LAB_PREFIX}off"
    done
  done
}

@test "dhcp-hostile: a server that only offers the gateway's address: the attach fails cleanly, the gateway stays reachable (each client)" {
  local gw_mac c mac=02:00:00:00:ac:01
  gw_mac=$(mac_of gw eth0)
  add_rogue_node
  mute_gateway_for "$mac"
  add_container only
  snapshot only >"$BATS_TEST_TMPDIR/only.before"
  for c in $(available_clients); do
    # static leases only: after the decline there is nothing else to offer
    start_rogue_dnsmasq --dhcp-range=198.51.100.0,static,255.255.255.0 \
      "--dhcp-host=$mac,198.51.100.254"
    run lj attach bridge "netns:${LAB_PREFIX}only" --bridge br-em1 --dhcp --dhcp-client "$c" \
      --mac "$mac" --dhcp-timeout 5
    echo "$c: $output"
    [ "$status" -eq 1 ]
    [[ $output == *"in use on the LAN"* ]]
    [[ $output == *"nothing was left behind"* ]]
    grep -q "DHCPDECLINE(eth0) 198.51.100.254 $mac" "$ROGUE/log"
    assert_same_state only "$BATS_TEST_TMPDIR/only.before"
    assert_nothing_left
    [ "$(peer_sees 198.51.100.254)" = "$gw_mac" ]
    ping_from peer 198.51.100.76
  done
}

@test "dhcp-hostile: an offered broadcast or network address is refused; no lease, the attach fails cleanly (each client)" {
  local c bad why mac=02:00:00:00:ad:01
  add_rogue_node
  mute_gateway_for "$mac"
  add_container bc
  snapshot bc >"$BATS_TEST_TMPDIR/bc.before"
  for c in $(available_clients); do
    for bad in 255 0; do
      start_rogue_dnsmasq --dhcp-range=198.51.100.0,static,255.255.255.0 \
        "--dhcp-host=$mac,198.51.100.$bad"
      # (dhcpcd ARP-probes the offer for about 6 s before its hook sees it)
      run lj attach bridge "netns:${LAB_PREFIX}bc" --bridge br-em1 --dhcp --dhcp-client "$c" \
        --mac "$mac" --dhcp-timeout "$([ "$c" = dhcpcd ] && echo 12 || echo 4)"
      echo "$c, offered .$bad: $output"
      [ "$status" -eq 1 ]
      [[ $output == *"nothing was left behind"* ]]
      assert_same_state bc "$BATS_TEST_TMPDIR/bc.before"
      assert_nothing_left
      # dnsmasq itself may refuse to offer a network address: then nobody answers
      if grep -q "DHCPOFFER(eth0) 198.51.100.$bad " "$ROGUE/log"; then
        why=broadcast
        [ "$bad" = 255 ] || why=network
        [[ $output == *"198.51.100.$bad/24, which is the $why address of its subnet: refused"* ]]
      else
        [ "$bad" = 0 ]
      fi
    done
  done
}

@test "dhcp-hostile: a 1-second lease: renewals stay at most one per 2 s (each client)" {
  local c i=0 macs=() leases=() before after
  for c in $(available_clients); do
    i=$((i + 1))
    macs+=("02:00:00:00:ae:$(printf %02x "$i")")
    leases+=("${macs[-1]}=198.51.100.$((130 + i))")
  done
  add_rogue_node
  mute_gateway_for "${macs[@]}"
  start_rogue_udhcpd "${leases[@]}"
  add_container short
  i=0
  for c in $(available_clients); do
    run lj attach bridge "netns:${LAB_PREFIX}short" --bridge br-em1 --dhcp --dhcp-client "$c" \
      --mac "${macs[i]}" --json
    echo "$c: $output"
    [ "$status" -eq 0 ]
    [ "$(jq -r '.info.dhcp.lease_seconds' <<<"$output")" = 1 ]
    before=$(grep -c "sending ACK" "$ROGUE/log" || true)
    sleep 6
    after=$(grep -c "sending ACK" "$ROGUE/log" || true)
    echo "$c: $((after - before)) DHCPACKs in 6 s"
    # one lease event per 2 s at most: 3 or 4 in 6 s (dhclient renewed 20-40 times a second)
    [ $((after - before)) -le 5 ]
    ping_from peer "198.51.100.$((131 + i))"
    lj detach "netns:${LAB_PREFIX}short"
    i=$((i + 1))
  done
}

restore_arp_ignore() { on host sysctl -qw "net.ipv4.conf.br-em1.arp_ignore=$1"; }

@test "dhcp-hostile: macvlan: an offer of the host's own address, which the container's link cannot probe, is refused (each client)" {
  local c addr old mac=02:00:00:00:af:01
  # a second host uplink em2 (198.51.100.77) to be a macvlan parent; the host answers ARP
  # for an address only on the link that has it (else br-em1 would answer the probe for .77)
  old=$(on host sysctl -n net.ipv4.conf.br-em1.arp_ignore)
  on host sysctl -qw net.ipv4.conf.br-em1.arp_ignore=1
  defer restore_arp_ignore "$old"
  ip -n "${LAB_PREFIX}lan" link add mv0 type veth peer name em2 netns "${LAB_PREFIX}host"
  defer ip -n "${LAB_PREFIX}lan" link del mv0
  ip -n "${LAB_PREFIX}lan" link set mv0 master lan0 up
  on host sysctl -qw net.ipv4.conf.em2.arp_ignore=1
  on host ip link set em2 up
  on host ip addr add 198.51.100.77/24 dev em2
  add_rogue_node
  mute_gateway_for "$mac"
  add_container mv
  snapshot mv >"$BATS_TEST_TMPDIR/mv.before"
  for c in $(available_clients); do
    start_rogue_dnsmasq --dhcp-range=198.51.100.120,198.51.100.129,255.255.255.0,10m \
      "--dhcp-host=$mac,198.51.100.77"
    # a macvlan child and its parent do not hear each other: no ARP answer for .77
    run lj attach macvlan "netns:${LAB_PREFIX}mv" --parent em2 --dhcp --dhcp-client "$c" \
      --mac "$mac" --dhcp-timeout "$([ "$c" = dhcpcd ] && echo 12 || echo 5)" --json
    echo "$c: $output"
    if [ "$c" = dhclient ]; then
      # declined by the hook's refusal; the next offer is taken
      [ "$status" -eq 0 ]
      addr=$(jq -r '.info.dhcp.address' <<<"$output")
      [[ $addr == 198.51.100.12[0-9]/24 ]]
      grep -q "DHCPDECLINE(eth0) 198.51.100.77 $mac" "$ROGUE/log"
      lj detach "netns:${LAB_PREFIX}mv"
    else
      # udhcpc and dhcpcd cannot be made to decline it: it stays unconfigured, no lease
      [ "$status" -eq 1 ]
      [[ $output == *"198.51.100.77, which is the host's own address"* ]]
      [[ $output == *"nothing was left behind"* ]]
      assert_nothing_left
    fi
    assert_same_state mv "$BATS_TEST_TMPDIR/mv.before"
  done
}
