#!/usr/bin/env bats
# Fault injection (issue 10), part: the bridge, ovs and macvlan ways' attach and detach, and a
# bridge deleted during an attach.
# The walks and what each checks: faults-helpers.bash.

load faults-helpers

# user_bridge BRIDGE PORT PEER: a bridge of the user's in the host, up, with a veth port of its
# own (so that its carrier does not change when lanjoin's come and go); removed by the test.
user_bridge() {
  on host ip link add "$1" type bridge
  defer ip -n "${LAB_PREFIX}host" link del "$1"
  defer ip -n "${LAB_PREFIX}host" link del "$2"
  on host ip link set "$1" up
  on host ip link add "$2" type veth peer name "$3"
  on host ip link set "$2" master "$1"
  on host ip link set "$2" up
  on host ip link set "$3" up
}

@test "faults: attach bridge, static IPv4 + IPv6, gateway, route, on an existing bridge" {
  user_bridge br-user vu0 vu1
  add_container fb
  walk_faults "bridge(static-v4v6)" fb bridge --bridge br-user --ip 198.51.100.120/24 \
    --ip 2001:db8:1::120/64 --gateway 198.51.100.254 --route 203.0.113.0/25@198.51.100.254
}

@test "faults: attach bridge creating its bridge, with --mac and --mtu, without the ARP probe" {
  add_container fn
  walk_faults "bridge(new-bridge)" fn bridge --bridge br-new --create-bridge --ip 198.51.100.121/24 \
    --mac 02:00:00:00:01:21 --mtu 1400 --no-conflict-check
  ! on host ip link show br-new || false
}

@test "faults: attach ovs on a new OVS bridge with a VLAN tag" {
  add_container fo
  walk_faults "ovs(vlan)" fo ovs --bridge br-fo --create-bridge --vlan 10 --ovsdb "$LAB_OVSDB" \
    --ip 198.51.100.122/24 --gateway 198.51.100.254
}

@test "faults: attach macvlan, static IPv4 + IPv6, without the ARP probe" {
  add_container fm
  walk_faults "macvlan" fm macvlan --parent em1 --ip 198.51.100.123/24 \
    --ip 2001:db8:1::123/64 --gateway 198.51.100.254 --no-conflict-check
}

@test "faults: attach macvlan with a host shim" {
  add_container fs
  walk_faults "macvlan(host-shim)" fs macvlan --parent em1 --ip 198.51.100.124/24 \
    --host-shim 198.51.100.144/24
}

@test "faults: attach routed, IPv4 + IPv6" {
  add_container fr
  walk_faults "routed" fr routed --parent em1 --ip 198.51.100.129/24 --ip 2001:db8:1::129/64
}

@test "faults: a bridge deleted (or replaced) by someone else during an attach fails it and rolls it back" {
  add_container fr
  defer del_link_quietly br-race
  local args=(attach bridge "netns:${LAB_PREFIX}fr" --bridge br-race --ip 198.51.100.129/24
    --gateway 198.51.100.254) L n how
  # the host without the bridge: each case ends with it deleted
  take_snapshots fr
  on host ip link add br-race type bridge
  on host ip link set br-race up
  L=$(lj "${args[@]}" --dry-run --json | jq '.steps | length')
  [ "$L" -ge 4 ]
  on host ip link del br-race
  # deleted once the veth is its port (before step 3), or at the very end; or deleted and made
  # again under the same name (another ifindex)
  for how in del recreate; do
    for n in 3 $((L + 1)); do
      on host ip link add br-race type bridge
      on host ip link set br-race up
      pause_attach "$n" "${args[@]}"
      on host ip link del br-race
      if [[ $how == recreate ]]; then
        on host ip link add br-race type bridge
        on host ip link set br-race up
      fi
      resume_attach
      echo "bridge $how before point $n -> $status: $output"
      [ "$status" -eq 1 ]
      [[ $output == *"bridge 'br-race' was deleted"* ]]
      [[ $output == *"nothing was left behind"* ]]
      [ "$(records)" -eq 0 ]
      assert_same_state fr "$BATS_TEST_TMPDIR/fr.before"
      if [[ $how == recreate ]]; then
        [ -z "$(on host ip -o link show master br-race)" ]
        on host ip link del br-race
      fi
      assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    done
  done
  # undisturbed, the same attach succeeds
  on host ip link add br-race type bridge
  on host ip link set br-race up
  run lj "${args[@]}"
  [ "$status" -eq 0 ]
  [[ $output == *"br-race"* ]]
  run lj detach "netns:${LAB_PREFIX}fr"
  [ "$status" -eq 0 ]
  on host ip link del br-race
  assert_unchanged
}

@test "faults: a default route the container gets while lanjoin attaches (its plan saw none) is replaced, and put back by detach" {
  add_container fd
  user_bridge br-dr vd0 vd1
  take_snapshots fd
  local args=(attach bridge "netns:${LAB_PREFIX}fd" --bridge br-dr --ip 198.51.100.133/24
    --gateway 198.51.100.254 --no-conflict-check) n
  # before the default route's step: the plan found no default route in the container
  n=$(lj "${args[@]}" --dry-run --json |
    jq '[.steps[].what] | index("set the IPv4 default route via 198.51.100.254") + 1')
  [ "$n" -ge 2 ]
  pause_attach "$n" "${args[@]}"
  # the container's own link (a veth with both ends inside) and its default route, meanwhile
  on fd ip link add v0 type veth peer name v1
  on fd ip link set v1 up
  on fd ip link set v0 up
  on fd ip addr add 198.18.5.1/24 dev v0
  on fd ip route add default via 198.18.5.254 dev v0
  resume_attach
  echo "attach -> $status: $output"
  [ "$status" -eq 0 ]
  [ "$(on fd ip -4 route show default | wc -l)" -eq 1 ]
  [[ $(on fd ip -4 route show default) == "default via 198.51.100.254 dev eth1 "* ]]
  # the record holds the route it replaced: detach puts it back
  run lj detach "netns:${LAB_PREFIX}fd"
  echo "detach -> $status: $output"
  [ "$status" -eq 0 ]
  [ "$(on fd ip -4 route show default | wc -l)" -eq 1 ]
  [[ $(on fd ip -4 route show default) == "default via 198.18.5.254 dev v0"* ]]
  on fd ip link del v0
  assert_unchanged
}
