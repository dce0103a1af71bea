#!/usr/bin/env bats
# An address the host routes through a host shim (a leftover route to a macvlan container,
# e.g. of the Docker plugin after dockerd was killed) is refused with what the route is, not
# as "a routed attachment's".

load helpers

@test "attach of an address with a host shim's route: the message names the shim" {
  add_container web
  lj shim add em1 --ip 198.51.100.78/24 >/dev/null
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" shim del em1
  local shim
  shim=$(on host ip -o link show type macvlan | sed -n 's/^[0-9]*: \(ljs[0-9a-f]*\)@.*/\1/p')
  [ -n "$shim" ]
  on host ip route add 198.51.100.141/32 dev "$shim"
  take_snapshots web
  run lj attach bridge "netns:${LAB_PREFIX}web" --bridge br-none --create-bridge \
    --ip 198.51.100.141/24 --no-conflict-check
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"198.51.100.141 is routed by the host to '$shim' (a host route through the host shim '$shim' to a macvlan container"* ]]
  [[ $output != *"routed attachment"* ]]
  run lj attach nat "netns:${LAB_PREFIX}web" --uplink em1 --address 198.51.100.141/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"host shim '$shim'"* ]]
  assert_unchanged
}
