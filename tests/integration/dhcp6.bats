#!/usr/bin/env bats
# Stateful DHCPv6 (issue 20): attach --dhcp6 runs dhcpcd -6 under lanjoin's DHCP supervisor,
# lanjoin as its hook. Lab: the gateway's dnsmasq gives 2001:db8:1::1000-1fff (2-minute
# leases) with DNS server 2001:db8:1::fe, beside DHCPv4 and RA for 2001:db8:1::/64.

load helpers

setup_file() { lab_setup_file --bridge-host; }

alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null || true)
  [[ -n $stat ]] || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}
gone() { ! alive "$1"; }
children_of() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . | head -1; }

leased() { grep -q " ${1} " "$LAB_DIR/dnsmasq.leases"; }
not_leased() { ! leased "$1"; }
replies() { grep -c "DHCPREPLY(eth0) $1 " "$LAB_DIR/dnsmasq.log" || true; }
more_replies() { [ "$(replies "$1")" -gt "$2" ]; }

# Everything a DHCP client might write on a host, hashed and listed (as addressing.bats).
host_files() {
  local p
  for p in /etc/resolv.conf /etc/hosts /etc/hostname /etc/dhcp /etc/dhcpcd.conf \
    /var/lib/dhcp /var/lib/dhclient /var/lib/dhcpcd /run/dhcpcd /var/db /run/resolvconf; do
    [[ -e $p ]] || continue
    find "$p" -xdev \( -type f -o -type l \) -print0 | sort -z | xargs -0r sha256sum
    find "$p" -xdev -printf '%p %y %s %m\n' | sort
  done
}

@test "dhcp6: --dhcp6 gets a pool address and DNS servers, reported; detach releases it" {
  add_container six
  run lj attach bridge "netns:${LAB_PREFIX}six" --bridge br-em1 --dhcp6 --dry-run
  [ "$status" -eq 0 ]
  [[ $output == *"dhcpcd -6 on eth1"* ]]
  [[ $output == *"accept_ra"* ]]
  run lj attach bridge "netns:${LAB_PREFIX}six" --bridge br-em1 --dhcp6 --json
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}six"
  addr=$(jq -r '.info.dhcp6.address' <<<"$output")
  [[ $addr == 2001:db8:1::1???/128 ]]
  [ "$(jq -r '.info.dhcp6.client' <<<"$output")" = dhcpcd ]
  [ "$(jq -r '.info.dhcp6.dns[0]' <<<"$output")" = 2001:db8:1::fe ]
  [ "$(jq -r '.info.dhcp6.lease_seconds' <<<"$output")" = 120 ]
  jq -e --arg a "$addr" '.addresses | index($a)' <<<"$output"
  [ "$(jq -r '.info.dhcp' <<<"$output")" = null ]
  # in the container, past DAD; in dnsmasq's leases
  run on six ip -6 -o addr show dev eth1
  [[ $output == *" ${addr} "* ]]
  [[ $output != *tentative* ]]
  leased "${addr%/*}"
  # the peer reaches it (the on-link prefix comes from the router advertisements)
  run ping_from peer "${addr%/*}"
  [ "$status" -eq 0 ]
  run lj detach "netns:${LAB_PREFIX}six"
  [ "$status" -eq 0 ]
  wait_until 5 not_leased "${addr%/*}"
  grep -q "DHCPRELEASE(eth0)" "$LAB_DIR/dnsmasq.log"
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/dhcp")" ]
  [ -z "$(pgrep -f "dhcp-supervise .*$LANJOIN_STATE_DIR" || true)" ]
}

# dnsmasq gives no lease under 2 minutes (a renewal a minute later): dhcpcd is told to renew
# now (-N, through its control socket, inside its private mount namespace).
@test "dhcp6: the lease renews and stays configured" {
  add_container ren6
  run lj attach bridge "netns:${LAB_PREFIX}ren6" --bridge br-em1 --dhcp6 --json
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}ren6"
  addr=$(jq -r '.info.dhcp6.address' <<<"$output")
  sup=$(jq -r '.info.dhcp6.pid' <<<"$output")
  client=$(children_of "$sup")
  [ -n "$client" ]
  n=$(replies "${addr%/*}")
  nsenter -t "$client" -m -n dhcpcd -6 -N eth1
  wait_until 10 more_replies "${addr%/*}" "$n"
  grep -q "DHCPRENEW(eth0)" "$LAB_DIR/dnsmasq.log"
  alive "$sup"
  alive "$client"
  run on ren6 ip -6 -o addr show dev eth1
  [[ $output == *" ${addr} "* ]]
}

@test "dhcp6: deleting the container's namespace stops its DHCPv6 client" {
  add_container gone6
  run lj attach bridge "netns:${LAB_PREFIX}gone6" --bridge br-em1 --dhcp6 --json
  [ "$status" -eq 0 ]
  sup=$(jq -r '.info.dhcp6.pid' <<<"$output")
  client=$(children_of "$sup")
  alive "$sup"
  alive "$client"
  kill "$(lab container pid gone6)"
  ip netns del "${LAB_PREFIX}gone6"
  wait_until 5 gone "$client"
  wait_until 5 gone "$sup"
  run lj gc
  [ "$status" -eq 0 ]
  [ "$(lj list --json | jq length)" -eq 0 ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/dhcp")" ]
}

# Both families at once, each with its own client; host files byte-identical throughout (the
# state directory under /run, as the default one is, below the overlay the clients get).
@test "dhcp6: --dhcp --dhcp6 together; host files untouched; detach releases both" {
  local LANJOIN_STATE_DIR
  LANJOIN_STATE_DIR=$(mktemp -d /run/lanjoin-state.XXXXXX)
  defer rm -rf "$LANJOIN_STATE_DIR"
  export LANJOIN_STATE_DIR
  host_files >"$BATS_TEST_TMPDIR/files.before"
  add_container both
  run lj attach bridge "netns:${LAB_PREFIX}both" --bridge br-em1 --dhcp --dhcp6 \
    --dhcp-client dhcpcd --json
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}both"
  a4=$(jq -r '.info.dhcp.address' <<<"$output")
  a6=$(jq -r '.info.dhcp6.address' <<<"$output")
  [[ $a4 == 198.51.100.1??/24 ]]
  [[ $a6 == 2001:db8:1::1???/128 ]]
  [ "$(jq -r '.info.dhcp.pid' <<<"$output")" != "$(jq -r '.info.dhcp6.pid' <<<"$output")" ]
  run on both ip -o addr show dev eth1
  [[ $output == *" ${a4} "* ]]
  [[ $output == *" ${a6} "* ]]
  run curl_from peer "http://${a4%/*}/hello.html"
  [ "$output" = "Hello world" ]
  diff -u "$BATS_TEST_TMPDIR/files.before" <(host_files)
  run lj detach "netns:${LAB_PREFIX}both"
  [ "$status" -eq 0 ]
  wait_until 5 not_leased "${a6%/*}"
  grep -q "DHCPRELEASE(eth0) ${a4%/*} " "$LAB_DIR/dnsmasq.log"
  diff -u "$BATS_TEST_TMPDIR/files.before" <(host_files)
  [ -z "$(pgrep -f "dhcp-supervise .*$LANJOIN_STATE_DIR" || true)" ]
}

# A rogue DHCPv6 server offering the gateway's own address: DAD finds it in use, the offer is
# never configured, attach rolls back (exit 1). The gateway's dnsmasq ignores the test's MAC.
@test "dhcp6: an offer of an address in use on the LAN (the gateway's) is refused" {
  local mac=02:00:5e:10:00:66 rogue
  ip netns add "${LAB_PREFIX}rogue6"
  defer ip netns del "${LAB_PREFIX}rogue6"
  ip -n "${LAB_PREFIX}lan" link add rg6 type veth peer name eth0 netns "${LAB_PREFIX}rogue6"
  defer ip -n "${LAB_PREFIX}lan" link del rg6
  ip -n "${LAB_PREFIX}lan" link set rg6 master lan0 up
  on rogue6 ip link set lo up
  on rogue6 ip link set eth0 up
  on rogue6 ip addr add 2001:db8:1::99/64 dev eth0 nodad
  on gw nft add table inet ljrogue6
  defer ip netns exec "${LAB_PREFIX}gw" nft delete table inet ljrogue6
  on gw nft add chain inet ljrogue6 input '{ type filter hook input priority 0; }'
  on gw nft add rule inet ljrogue6 input ether saddr "$mac" udp dport 547 drop
  rogue=$LAB_DIR/rogue6
  mkdir -p "$rogue"
  defer rm -rf "$rogue"
  ip netns exec "${LAB_PREFIX}rogue6" dnsmasq --keep-in-foreground --user=root \
    --conf-file=/dev/null --no-resolv --no-hosts --port=0 --pid-file="$rogue/pid" \
    --interface=eth0 --bind-interfaces --dhcp-authoritative \
    --dhcp-range=2001:db8:1::fe,2001:db8:1::fe,64,2m --dhcp-leasefile="$rogue/leases" \
    --log-facility="$rogue/log" --log-dhcp >"$rogue/out" 2>&1 3>&- &
  defer kill $!
  wait_until 10 on rogue6 sh -c "ss -Hlun | grep -q ':547 '"
  add_container bad6
  run lj attach bridge "netns:${LAB_PREFIX}bad6" --bridge br-em1 --dhcp6 --mac "$mac" \
    --dhcp-timeout 10
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"duplicate address detection failed"*"2001:db8:1::fe"* ]]
  grep -q "DHCPREPLY(eth0) 2001:db8:1::fe " "$rogue/log"
  # never configured; nothing left
  ! on bad6 ip -6 addr show | grep -q "2001:db8:1::fe" || false
  [ "$(lj list --json | jq length)" -eq 0 ]
  [ -z "$(pgrep -f "dhcp-supervise .*$LANJOIN_STATE_DIR" || true)" ]
}
