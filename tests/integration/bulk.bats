#!/usr/bin/env bats
# Bulk teardown (issue 11): `detach --all` and gc delete the host-side links of many
# attachments with one request (a link group), then finish each undo plan; the state after is
# exactly the state before. And detach finds a target's records by their name prefix.

load helpers

setup_file() { lab_setup_file --bridge-host; }

snap_all() { # NAME...: snapshots of the host and the containers
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local c
  for c in "$@"; do snapshot "$c" >"$BATS_TEST_TMPDIR/$c.before"; done
}

assert_all_unchanged() { # NAME...
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  local c
  for c in "$@"; do assert_same_state "$c" "$BATS_TEST_TMPDIR/$c.before"; done
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null)" ]
}

# Four attachments: a and b on br-em1 (the user's bridge), c twice on br-bulk (created by
# lanjoin, so it must go away with its last port).
attach_four() {
  lj attach bridge "netns:${LAB_PREFIX}a" --bridge br-em1 --ip 198.51.100.181/24 --gateway 198.51.100.254
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}a"
  lj attach bridge "netns:${LAB_PREFIX}b" --bridge br-em1 --ip 198.51.100.182/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}b"
  lj attach bridge "netns:${LAB_PREFIX}c" --bridge br-bulk --create-bridge --ip 198.18.1.2/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}c"
  lj attach bridge "netns:${LAB_PREFIX}c" --bridge br-bulk --create-bridge --ip 198.18.2.2/24 --ifname eth2
  [ "$(lj list --json | jq length)" -eq 4 ]
}

@test "bulk: detach --all removes every attachment and restores the exact state" {
  add_container a
  add_container b
  add_container c
  snap_all a b c
  attach_four
  on host ip link show br-bulk
  run curl_from peer http://198.51.100.181/hello.html
  [ "$output" = "Hello world" ]

  run lj detach --all
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "Detached 4 attachments" ]
  ! on host ip link show br-bulk || false
  ! curl_from peer http://198.51.100.181/hello.html || false
  assert_all_unchanged a b c
  # nothing left: still fine
  run lj detach --all
  [ "$status" -eq 0 ]
  [ "$output" = "Detached 0 attachments" ]
}

@test "bulk: when the one-request delete fails, links are deleted one by one" {
  add_container a
  add_container b
  add_container c
  snap_all a b c
  attach_four
  run env LANJOIN_FAULT_BATCH=1 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach --all
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "Detached 4 attachments" ]
  assert_all_unchanged a b c
}

@test "bulk: a link group is used only for the delete; other links keep their groups" {
  add_container a
  add_container b
  add_container c
  # a user's link in a group of lanjoin's range must not be touched (another group is used)
  on host ip link add ljgrp0 type veth peer name ljgrp1
  defer ip -n "${LAB_PREFIX}host" link del ljgrp0
  on host ip link set ljgrp0 group $((0x4c4a0001))
  snap_all a b c
  attach_four
  run lj detach --all
  [ "$status" -eq 0 ]
  on host ip link show ljgrp0
  [ "$(on host ip -j -d link show ljgrp0 | jq -r '.[0].group')" = $((0x4c4a0001)) ]
  assert_all_unchanged a b c
}

@test "bulk: gc undoes dead and half-done attachments together" {
  add_container a
  lab container add z >/dev/null
  defer "$LAB" container del z
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  lj attach bridge "netns:${LAB_PREFIX}z" --bridge br-em1 --ip 198.51.100.185/24
  # a half-done attach: killed after its veth exists (its record says "applying")
  LANJOIN_STEP_DELAY_MS=3000 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "netns:${LAB_PREFIX}a" --bridge br-em1 --ip 198.51.100.186/24 >/dev/null 2>&1 &
  local pid=$!
  wait_until 10 bash -c "ip -n ${LAB_PREFIX}a link show eth1 >/dev/null 2>&1"
  kill -9 "$pid"
  wait "$pid" || true
  lab container del z
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Removed 2 stale attachments"* ]]
  ! on a ip link show eth1 || false
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
}

@test "bulk: detach finds a record named without the target prefix, and only the target's" {
  add_container a
  add_container b
  snap_all a b
  lj attach bridge "netns:${LAB_PREFIX}a" --bridge br-em1 --ip 198.51.100.187/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}a"
  lj attach bridge "netns:${LAB_PREFIX}b" --bridge br-em1 --ip 198.51.100.188/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}b"
  # a's record as an older lanjoin named it (no target prefix)
  local f id
  f=$(grep -l "\"netns:${LAB_PREFIX}a\"" "$LANJOIN_STATE_DIR"/attachments/*.json)
  id=$(basename "$f" .json)
  jq -c ".id = \"000000${id:6}\"" "$f" >"$LANJOIN_STATE_DIR/attachments/000000${id:6}.json"
  chmod 600 "$LANJOIN_STATE_DIR/attachments/000000${id:6}.json"
  rm "$f"
  run lj detach "netns:${LAB_PREFIX}a"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Detached netns:${LAB_PREFIX}a (eth1)"* ]]
  [ "$(lj list --json | jq -r '.[].target.spec')" = "netns:${LAB_PREFIX}b" ]
  run lj detach "netns:${LAB_PREFIX}a"
  [[ $output == *"not attached"* ]]
  lj detach "netns:${LAB_PREFIX}b"
  assert_all_unchanged a b
}

@test "bulk: detach --all --dry-run prints the undo and changes nothing; bad usage is refused" {
  add_container a
  lj attach bridge "netns:${LAB_PREFIX}a" --bridge br-em1 --ip 198.51.100.189/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}a"
  snap_all a
  run lj detach --all --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"# detach netns:${LAB_PREFIX}a (eth1), way bridge"* ]]
  [[ $output == *"ip link del ljv"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  [ "$(lj list --json | jq length)" -eq 1 ]
  run lj detach --all "netns:${LAB_PREFIX}a"
  [ "$status" -eq 2 ]
  run lj detach --all --ifname eth1
  [ "$status" -eq 2 ]
}
