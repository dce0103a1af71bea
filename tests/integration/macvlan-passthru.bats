#!/usr/bin/env bats
# macvlan passthru on the host's uplink (the parent carries the host's addresses) takes the
# parent's traffic from the host until detach: refused (exit 2, saying why and how to
# override) on every front end unless forced; a parent of its own is taken without --force.

load helpers
bats_require_minimum_version 1.5.0

@test "macvlan passthru on the host's uplink is refused without --force (CLI and spec)" {
  add_container web
  take_snapshots web
  run lj attach macvlan "netns:${LAB_PREFIX}web" --parent em1 --mode passthru \
    --ip 198.51.100.117/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"carries the host's address 198.51.100.76/24"* ]]
  [[ $output == *"--force"* ]]
  assert_unchanged

  # a spec file: the same check
  printf '{"way": "macvlan", "target": "netns:%sweb", "parent": "em1", "mode": "passthru", "ip": ["198.51.100.117/24"]}\n' \
    "$LAB_PREFIX" >"$BATS_TEST_TMPDIR/spec.json"
  run lj apply "$BATS_TEST_TMPDIR/spec.json"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"carries the host's address"* ]]
  assert_unchanged

  # --force is for passthru only
  run lj attach macvlan "netns:${LAB_PREFIX}web" --parent em1 --ip 198.51.100.117/24 --force
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"passthru mode only"* ]]
}

@test "macvlan passthru with --force takes the uplink; detach gives it back" {
  add_container web
  take_snapshots web
  lj attach macvlan "netns:${LAB_PREFIX}web" --parent em1 --mode passthru --force \
    --ip 198.51.100.117/24 --no-conflict-check >/dev/null
  defer sh -c "ip netns exec ${LAB_PREFIX}host $LANJOIN detach netns:${LAB_PREFIX}web >/dev/null 2>&1 || true"
  on web ip -4 addr show dev eth1 | grep -q 198.51.100.117/24
  lj detach "netns:${LAB_PREFIX}web" >/dev/null
  assert_unchanged
}

@test "macvlan passthru on a parent without the host's addresses needs no --force" {
  add_container web
  on host ip link add ljpt0 type veth peer name ljpt1
  defer on host ip link del ljpt0
  on host ip link set ljpt0 up
  take_snapshots web
  lj attach macvlan "netns:${LAB_PREFIX}web" --parent ljpt0 --mode passthru \
    --ip 198.51.100.117/24 --no-conflict-check >/dev/null
  lj detach "netns:${LAB_PREFIX}web" >/dev/null
  assert_unchanged
}

@test "macvlan passthru on the host's uplink: CNI refuses it without \"force\"" {
  load cni-helpers
  setup
  add_container web
  take_snapshots web
  conf 1.0.0 '.mode = "macvlan" | del(.bridge) | .master = "em1" | .macvlanMode = "passthru"'
  run --separate-stderr cni ADD ljpt1 "$(ns web)" eth1
  echo "$output $stderr"
  [ "$status" -ne 0 ]
  [[ $output == *"carries the host's address"* ]]
  cni DEL ljpt1 "$(ns web)" eth1 >/dev/null || true
  assert_unchanged
}
