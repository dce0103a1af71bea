#!/usr/bin/env bats
# --dry-run pastes (issue 16): the plan it prints, pasted into a root shell (`bash -e`) in
# lanjoin's namespace, leaves the lab in the same state as the real attach does, for every way
# and for uplink adopt. Each test: print the plan, attach for real, snapshot, undo (back to the
# first snapshot), run the printed plan, snapshot again and compare. Names, MACs, ifindexes
# and nft handles that legitimately differ between two runs are normalised.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
  lab_setup_file
  echo plain >"$BATS_FILE_TMPDIR/lab"
}

# need_lab [--bridge-host|--ovs-host]: the lab as `lab up` with these options makes it. It is
# rebuilt only when the last test left another kind, or a pasted plan it could not remove
# (a pasted plan has no record to detach).
need_lab() {
  local want=${1:-plain}
  LAB_KIND=$want
  [[ $(<"$BATS_FILE_TMPDIR/lab") == "$want" ]] && return
  lab down
  lab up "$@" >/dev/null
  echo "$want" >"$BATS_FILE_TMPDIR/lab"
}

# What differs between two identical runs: interface indexes, random MACs (and the IPv6
# link-local addresses made from them), nft rule handles, OVS row UUIDs. The lines are then
# sorted: the snapshot's order of routes depends on the addresses normalised away.
normalise() {
  sed -E -e 's/"(ifindex|link_index|handle)": [0-9]+/"\1": N/' \
    -e 's/"(bridge_id|root_id|designated_root|designated_bridge)": "[0-9a-f]+\.[0-9a-f:]+"/"\1": "ID"/' \
    -e 's/([0-9a-f]{2}:){5}[0-9a-f]{2}/MAC/g' \
    -e 's/fe80::[0-9a-f:]+/fe80::X/g' \
    -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UUID/g' | sort
}

# Links set up have come up (a bridge that just got its ports takes a moment); one that stays
# down for a reason (a veth whose peer is down) only costs the wait.
_links_up() {
  ip -n "$LAB_PREFIX$1" -j link show |
    jq -e 'all(.[]; (.flags | index("UP")) == null or (.operstate | IN("UP", "UNKNOWN")))'
}
settled_snapshot() {
  wait_until 5 _links_up "$1" 2>/dev/null || true
  snapshot "$1" | normalise
}

# check_paste NODE... -- LANJOIN-ARGS...: see the file's header. The test defines undo (the
# lanjoin commands that undo the real run) and unpaste (what removes the pasted plan's
# objects; not defined: the lab is rebuilt by the next test that needs it).
check_paste() {
  local -a nodes=()
  while [[ $1 != -- ]]; do nodes+=("$1"); shift; done
  shift
  local t=$BATS_TEST_TMPDIR n
  take_snapshots "${nodes[@]}"
  lj "$@" --dry-run >"$t/plan.sh"
  cat "$t/plan.sh"
  lj "$@" >/dev/null
  for n in host "${nodes[@]}"; do
    settled_snapshot "$n" >"$t/$n.real"
  done
  undo
  assert_unchanged
  echo "# pasting the plan"
  echo dirty >"$BATS_FILE_TMPDIR/lab"
  on host bash -e "$t/plan.sh"
  for n in host "${nodes[@]}"; do
    settled_snapshot "$n" >"$t/$n.paste"
    diff -u --label "$n after attach" --label "$n after the pasted plan" "$t/$n.real" "$t/$n.paste"
  done
  if declare -F unpaste >/dev/null; then
    unpaste
    assert_same_state host "$t/host.before"
    echo "$LAB_KIND" >"$BATS_FILE_TMPDIR/lab"
  fi
}

detach_web() { lj detach "netns:${LAB_PREFIX}web" >/dev/null; }
del_web() { lab container del web; }

@test "dry-run pastes: macvlan with --host-shim, static IPv4 and IPv6" {
  need_lab
  add_container web
  undo() { detach_web; }
  unpaste() { del_web; on host ip link del ljsc2ec4818f04f; }
  check_paste web -- attach macvlan "netns:${LAB_PREFIX}web" --parent em1 \
    --ip 198.51.100.117/24 --gateway 198.51.100.254 --ip 2001:db8:1::117/64 \
    --gateway 2001:db8:1::fe --host-shim 198.51.100.77/32
}

@test "dry-run pastes: macvlan, a pid target, mode private, --mac and --mtu, without the ARP probe" {
  need_lab
  add_container web
  undo() { lj detach "pid:$CONTAINER_PID" >/dev/null; }
  unpaste() { del_web; }
  check_paste web -- attach macvlan "pid:$CONTAINER_PID" --parent em1 --mode private \
    --ip 198.51.100.119/24 --mac 02:00:00:00:01:19 --mtu 1400 --ifname lan0 --no-conflict-check
}

@test "dry-run pastes: nat with --publish" {
  need_lab
  add_container web
  local fwd
  fwd=$(on host sysctl -n net.ipv4.ip_forward)
  undo() { detach_web; }
  unpaste() {
    del_web
    on host ip addr del 198.51.100.117/24 dev em1
    on host nft delete table ip lanjoin
    on host sysctl -qw net.ipv4.ip_forward="$fwd"
  }
  check_paste web -- attach nat "netns:${LAB_PREFIX}web" --uplink em1 \
    --address 198.51.100.117/24 --publish 8080:80 --publish udp/53
}

@test "dry-run pastes: routed, IPv4 and IPv6, --mtu" {
  need_lab
  add_container web
  undo() { detach_web; }
  check_paste web -- attach routed "netns:${LAB_PREFIX}web" --parent em1 \
    --ip 198.51.100.117/24 --ip 2001:db8:1::117/64 --mtu 1400
}

@test "dry-run pastes: bridge that lanjoin creates, a pid target, --mac and --mtu, without the ARP probe" {
  need_lab
  add_container web
  undo() { lj detach "pid:$CONTAINER_PID" >/dev/null; }
  unpaste() { del_web; on host ip link del br-new; }
  check_paste web -- attach bridge "pid:$CONTAINER_PID" --bridge br-new --create-bridge \
    --ip 198.51.100.118/24 --mac 02:00:00:00:01:18 --mtu 1400 --ifname lan0 --no-conflict-check
}

@test "dry-run pastes: nat behind Docker's firewall (FORWARD policy DROP, DOCKER-USER)" {
  need_lab
  add_container web
  on host iptables -N DOCKER-USER
  on host iptables -A FORWARD -j DOCKER-USER
  on host iptables -P FORWARD DROP
  undo() { detach_web; }
  check_paste web -- attach nat "netns:${LAB_PREFIX}web" --uplink em1 \
    --address 198.51.100.117/24 --publish 80
}

@test "dry-run pastes: bridge --uplink (adopts em1 first)" {
  need_lab
  add_container web
  undo() { detach_web; lj uplink release br-em1 >/dev/null; }
  check_paste web -- attach bridge "netns:${LAB_PREFIX}web" --bridge br-em1 --uplink em1 \
    --ip 198.51.100.117/24 --gateway 198.51.100.254
}

@test "dry-run pastes: uplink adopt" {
  need_lab
  undo() { lj uplink release br-em1 >/dev/null; }
  check_paste -- uplink adopt br-em1 em1
}

# The accept rule an adoption adds for Docker's firewall names the bridge twice and in its
# comment: one shell word, the names as nft strings; pasting it runs no code hidden in the name.
@test "dry-run pastes: uplink adopt behind Docker's firewall, a bridge name holding shell code" {
  need_lab
  on host test -e /proc/sys/net/bridge/bridge-nf-call-iptables ||
    skip "br_netfilter is not available (not built in, and the module cannot be loaded here)"
  local v4 br='b$(id>&2)'
  v4=$(on host cat /proc/sys/net/bridge/bridge-nf-call-iptables)
  defer on host sysctl -qw "net.bridge.bridge-nf-call-iptables=$v4"
  on host sysctl -qw net.bridge.bridge-nf-call-iptables=1
  on host iptables -N DOCKER-USER
  on host iptables -A FORWARD -j DOCKER-USER
  on host iptables -P FORWARD DROP
  echo dirty >"$BATS_FILE_TMPDIR/lab"
  undo() { lj uplink release "$br" >/dev/null; }
  check_paste -- uplink adopt "$br" em1 2>"$BATS_TEST_TMPDIR/err"
  cat "$BATS_TEST_TMPDIR/err"
  ! grep -q uid= "$BATS_TEST_TMPDIR/err" || false
  on host iptables -S DOCKER-USER | grep -F -- "-i $br -o $br -m comment --comment \"lanjoin: bridged on $br\" -j ACCEPT"
}

@test "dry-run pastes: bridge, static IPv4 and IPv6 with gateways and a route" {
  need_lab --bridge-host
  add_container web
  undo() { detach_web; }
  unpaste() { del_web; }
  check_paste web -- attach bridge "netns:${LAB_PREFIX}web" --bridge br-em1 \
    --ip 198.51.100.117/24 --gateway 198.51.100.254 --ip 2001:db8:1::117/64 \
    --gateway 2001:db8:1::fe --route 203.0.113.0/24@198.51.100.254
}

@test "dry-run pastes: bridge on a container with a network of its own (an engine's eth0 and default route)" {
  need_lab --bridge-host
  add_container web
  engine_net web ljdneng
  undo() { detach_web; }
  unpaste() { # the veth (eth1 goes with it), the source rule and its table, the engine's route
    on host ip link del "$(sed -n "s/^ip link add \(ljv[0-9a-f]*\) .*/\1/p" "$BATS_TEST_TMPDIR/plan.sh")"
    on web ip rule del from 198.18.9.2 lookup 1818886144 priority 32700
    on web ip route flush table 1818886144
    on web ip route replace default via 198.18.9.1 dev eth0
  }
  check_paste web -- attach bridge "netns:${LAB_PREFIX}web" --bridge br-em1 \
    --ip 198.51.100.117/24 --gateway 198.51.100.254
  assert_unchanged
  # the plan replaced the engine's route and kept replies from eth0's address on eth0
  grep -q "route replace default via 198.51.100.254 dev eth1" "$BATS_TEST_TMPDIR/plan.sh"
  grep -q "rule add from 198.18.9.2 lookup 1818886144 priority 32700" "$BATS_TEST_TMPDIR/plan.sh"
}

@test "dry-run pastes: detach of a container with an engine's network; the uplink's bridge stays" {
  need_lab --bridge-host
  add_container web
  engine_net web ljdneng
  take_snapshots web
  lj attach bridge "netns:${LAB_PREFIX}web" --bridge br-em1 --ip 198.51.100.117/24 \
    --gateway 198.51.100.254 >/dev/null
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}web"
  lj detach "netns:${LAB_PREFIX}web" --dry-run >"$BATS_TEST_TMPDIR/undo.sh"
  cat "$BATS_TEST_TMPDIR/undo.sh"
  # pasted under bash -e it runs to the end, and leaves br-em1 (it holds em1, the host's uplink)
  on host bash -e "$BATS_TEST_TMPDIR/undo.sh"
  on host ip link show br-em1 >/dev/null
  ! on web ip link show eth1 2>/dev/null || false
  on web ip route show default | grep -q "via 198.18.9.1 dev eth0"
  # the record's own detach then finds nothing left to undo: the lab is as before the attach
  run lj detach "netns:${LAB_PREFIX}web"
  echo "$output"
  [ "$status" -eq 0 ]
  assert_unchanged
}

@test "dry-run pastes: ovs, static IPv4 and IPv6, VLAN tag" {
  need_lab --ovs-host
  eval "$("$LAB" ovs env)"
  add_container web
  undo() { detach_web; }
  unpaste() {
    del_web
    ovs-vsctl "--db=$LAB_OVSDB" --timeout=10 del-port br-em1 "$(sed -n "s/^ip link add \(ljo[0-9a-f]*\) .*/\1/p" "$BATS_TEST_TMPDIR/plan.sh")"
  }
  check_paste web -- attach ovs "netns:${LAB_PREFIX}web" --bridge br-em1 \
    --ovsdb "$LAB_OVSDB" --vlan 10 --ip 198.51.100.117/24 --gateway 198.51.100.254 \
    --ip 2001:db8:1::117/64
}

# A name from the system or the command line is one shell word in the plan, whatever it holds:
# pasting the plan runs what it shows, never a command hidden in a name.
@test "dry-run pastes: a namespace and an ifname holding shell code are quoted" {
  need_lab
  local ns="${LAB_PREFIX}w'\$(id>&2)" ifname="e\$(id>&2)"
  local t=$BATS_TEST_TMPDIR
  ip netns add "$ns"
  defer ip netns del "$ns"
  echo dirty >"$BATS_FILE_TMPDIR/lab"
  lj attach macvlan "netns:$ns" --parent em1 --ip 198.51.100.153/24 --ifname "$ifname" \
    --dry-run >"$t/plan.sh"
  cat "$t/plan.sh"
  on host bash -e "$t/plan.sh" 2>"$t/err"
  cat "$t/err"
  ! grep -q uid= "$t/err" || false
  ip -n "$ns" -4 addr show dev "$ifname" | grep -q "198.51.100.153/24"
  # the detach of a real attach, pasted, quotes the namespace too
  ip -n "$ns" link del "$ifname"
  lj attach macvlan "netns:$ns" --parent em1 --ip 198.51.100.153/24 >/dev/null
  lj detach "netns:$ns" --dry-run >"$t/undo.sh"
  cat "$t/undo.sh"
  on host bash -e "$t/undo.sh" 2>"$t/err"
  cat "$t/err"
  ! grep -q uid= "$t/err" || false
  ! ip -n "$ns" link show dev eth1 2>/dev/null || false
  lj detach "netns:$ns" >/dev/null
}

# detach --dry-run of a pid target prints commands that run in it (nsenter -t PID -n ip ...),
# never a bare " route ..." line; and for one whose namespace is gone, comments.
@test "dry-run pastes: detach of a pid target with an engine's network, and of one whose namespace is gone" {
  need_lab
  add_container web
  engine_net web ljdnpid
  take_snapshots web
  local t=$BATS_TEST_TMPDIR p
  lj attach macvlan "pid:$CONTAINER_PID" --parent em1 --ip 198.51.100.117/24 \
    --gateway 198.51.100.254 >/dev/null
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "pid:$CONTAINER_PID"
  lj detach "pid:$CONTAINER_PID" --dry-run >"$t/undo.sh"
  cat "$t/undo.sh"
  ! grep -q '^ ' "$t/undo.sh" || false
  grep -q "^nsenter -t $CONTAINER_PID -n ip route replace default via 198.18.9.1 dev eth0" "$t/undo.sh"
  lj detach --all --dry-run | grep -q "^nsenter -t $CONTAINER_PID -n ip link del eth1"
  on host bash -e "$t/undo.sh"
  ! on web ip link show eth1 2>/dev/null || false
  on web ip route show default | grep -q "via 198.18.9.1 dev eth0"
  lj detach "pid:$CONTAINER_PID" >/dev/null
  assert_unchanged

  # a process of ours in a namespace of its own, inside the lab's host; then it exits
  ip netns exec "${LAB_PREFIX}host" unshare -n sleep 600 &
  p=$!
  defer sh -c "kill $p 2>/dev/null || true"
  # (a function: wait_until runs its words again, while "test $(...)" would be expanded once)
  own_ns() { [ "$(readlink "/proc/$p/ns/net")" != "$(ip netns exec "${LAB_PREFIX}host" readlink /proc/self/ns/net)" ]; }
  wait_until 5 own_ns
  lj attach macvlan "pid:$p" --parent em1 --ip 198.51.100.118/24 --no-conflict-check >/dev/null
  kill "$p"
  wait "$p" 2>/dev/null || true
  lj detach "pid:$p" --dry-run >"$t/gone.sh"
  cat "$t/gone.sh"
  ! grep -q '^ ' "$t/gone.sh" || false
  grep -q "^# the target's namespace is gone" "$t/gone.sh"
  on host bash -e "$t/gone.sh"
  lj detach "pid:$p" >/dev/null
}

# Any name the kernel takes for a link works in the real attach as it does in the plan (the
# sysctl steps name the link in /proc/sys), and the plan's sysctl lines run as printed: a '.'
# (sysctl(8)'s separator) and a '=' (its assignment) in the name too.
@test "dry-run pastes: ifnames the kernel takes but sysctl(8) trips over attach for real as planned" {
  need_lab
  local ns="${LAB_PREFIX}odd" t=$BATS_TEST_TMPDIR name
  ip netns add "$ns"
  defer ip netns del "$ns"
  echo dirty >"$BATS_FILE_TMPDIR/lab"
  for name in 'e$(id)' 'a=b' 'x.y' 'a..b'; do
    lj attach macvlan "netns:$ns" --parent em1 --ip 198.51.100.153/24 \
      --ip 2001:db8:1::153/64 --ifname "$name" --no-conflict-check
    ip -n "$ns" -4 addr show dev "$name" | grep -q "198.51.100.153/24"
    [ "$(ip netns exec "$ns" cat "/proc/sys/net/ipv6/conf/$name/accept_ra")" = 0 ]
    lj detach "netns:$ns" --ifname "$name" >/dev/null
    lj attach macvlan "netns:$ns" --parent em1 --ip 198.51.100.153/24 \
      --ip 2001:db8:1::153/64 --ifname "$name" --no-conflict-check --dry-run >"$t/plan.sh"
    cat "$t/plan.sh"
    on host bash -e "$t/plan.sh"
    [ "$(ip netns exec "$ns" cat "/proc/sys/net/ipv6/conf/$name/accept_ra")" = 0 ]
    ip -n "$ns" link del "$name"
  done
  # one rule on every path: the names it refuses, the CLI refuses with exit 2, saying why
  run --separate-stderr "$LANJOIN" attach macvlan "netns:$ns" --parent em1 --ifname 'a%d' \
    --ip 198.51.100.153/24
  [ "$status" -eq 2 ]
  [[ $stderr == *"'%' or whitespace"* ]]
}
