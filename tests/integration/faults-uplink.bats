#!/usr/bin/env bats
# Fault injection (issue 10), part: uplink adopt (into a Linux and an OVS bridge) and release.
# The walks and what each checks: faults-helpers.bash.

load faults-helpers

@test "faults: uplink adopt into a Linux bridge, and release" {
  walk_uplink "uplink(bridge)"
}

@test "faults: uplink adopt into an OVS bridge, and release" {
  walk_uplink "uplink(ovs)" --ovs --ovsdb "$LAB_OVSDB"
}
