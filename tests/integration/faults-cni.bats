#!/usr/bin/env bats
# Fault injection (issue 10), part: CNI ADD and DEL (macvlan with a host shim, nat with published
# ports).
# The walks and what each checks: faults-helpers.bash.

load faults-helpers

@test "faults: CNI ADD and DEL, macvlan mode with a host shim" {
  walk_cni "cni(macvlan-shim)" macvlan '.master = "em1" | .hostShim = "198.51.100.148/24"'
}

@test "faults: CNI ADD and DEL, nat mode with published ports" {
  walk_cni "cni(nat-publish)" nat '.uplink = "em1" | .publish = ["tcp/8085:80"]
    | .runtimeConfig = {portMappings: [{hostPort: 8086, containerPort: 80, protocol: "tcp"}]}'
}
