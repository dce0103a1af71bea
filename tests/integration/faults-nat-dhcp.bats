#!/usr/bin/env bats
# Fault injection (issue 10), part: the nat way, DHCP (and the state directory full at its record
# write), shim add, and gc.
# The walks and what each checks: faults-helpers.bash.

load faults-helpers

@test "faults: attach nat" {
  add_container fa
  walk_faults "nat" fa nat --uplink em1 --address 198.51.100.125/24
}

@test "faults: attach nat with --publish, under Docker's firewall (iptables)" {
  add_container fp --with-8080
  docker_firewall
  walk_faults "nat(publish)" fp nat --uplink em1 --address 198.51.100.126/24 --publish 80 \
    --publish tcp/8081:8080 --publish udp/53
}

@test "faults: attach macvlan with DHCP" {
  add_container fd
  walk_faults "dhcp" fd macvlan --parent em1 --dhcp
}

@test "faults: the state directory full (ENOSPC) at the last record write of a DHCP attach rolls it back" {
  add_container fe
  local mnt=$BATS_TEST_TMPDIR/tmpfs L args
  mkdir -m 0755 "$mnt"
  mount -t tmpfs -o size=4m,mode=0755 lj-fault-tmpfs "$mnt"
  defer umount "$mnt"
  export LANJOIN_STATE_DIR=$mnt/state
  # should the rollback fail, this stops the DHCP client before the tmpfs is unmounted
  defer ip netns exec "${LAB_PREFIX}host" env LANJOIN_STATE_DIR="$LANJOIN_STATE_DIR" \
    "$LANJOIN" detach "netns:${LAB_PREFIX}fe"
  args=(attach macvlan "netns:${LAB_PREFIX}fe" --parent em1 --dhcp)
  L=$(lj "${args[@]}" --dry-run --json | jq '.steps | length')
  take_snapshots fe
  # stopped after the plan and its lease, before the record is written as attached: fill it
  pause_attach $((L + 1)) "${args[@]}"
  # the attach's kept temporary record file (state-save.c) has blocks the last write may fit
  # in: without it, that write needs new ones
  compgen -G "$LANJOIN_STATE_DIR/attachments/.*.tmp" >/dev/null
  rm -f "$LANJOIN_STATE_DIR"/attachments/.*.tmp
  dd if=/dev/zero of="$mnt/fill" bs=64k 2>/dev/null || true
  defer rm -f "$mnt/fill"
  resume_attach
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"cannot write the state record: No space left on device"* ]]
  [[ $output == *"nothing was left behind"* ]]
  rm -f "$mnt/fill"
  assert_unchanged
  ! pgrep -f "$LANJOIN_STATE_DIR" || false
}

@test "faults: shim add" {
  take_snapshots
  local n
  for ((n = 1; ; n++)); do
    LANJOIN_FAULT_STEP=$n run lj shim add em1 --ip 198.51.100.144/24
    echo "shim add, step $n failing -> $status: $output"
    [ "$status" -eq 0 ] && break
    [ "$status" -eq 1 ]
    [[ $output == *"fault injected by LANJOIN_FAULT_STEP=$n"*"nothing was left behind"* ]]
    assert_unchanged
    case_covered "shim-add" apply "$n"
    ((n < 10))
  done
  ((n > 1))
  run lj shim del em1
  [ "$status" -eq 0 ]
  assert_unchanged
}

@test "faults: gc of a nat attachment whose container is gone" {
  docker_firewall
  walk_gc "gc(nat)" ga nat --uplink em1 --address 198.51.100.127/24 --publish 80
}

@test "faults: gc of a macvlan attachment with a host shim whose container is gone" {
  walk_gc "gc(macvlan-shim)" gm macvlan --parent em1 --ip 198.51.100.128/24 \
    --host-shim 198.51.100.144/24
}
