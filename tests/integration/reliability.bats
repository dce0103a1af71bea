#!/usr/bin/env bats
# Reliability (issue 10), bridge way: many attaches at once, and kill -9 at any point.

load helpers

setup_file() { lab_setup_file --bridge-host; }

N=64
# addresses .85-.148: free in the lab (.10 peer, .76 host, .150-.199 DHCP), as the ARP probe checks

make_namespaces() {
  local i
  for ((i = 1; i <= N; i++)); do
    ip netns add "${LAB_PREFIX}k$i"
    defer ip netns del "${LAB_PREFIX}k$i"
  done
}

@test "reliability: $N attaches at the same instant, then $N detaches at once" {
  make_namespaces
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local i pids=() rc=0
  for ((i = 1; i <= N; i++)); do
    lj attach bridge "netns:${LAB_PREFIX}k$i" --bridge br-em1 --ip "198.51.100.$((i + 84))/24" \
      >"$BATS_TEST_TMPDIR/a$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || { rc=1; cat "$BATS_TEST_TMPDIR/a$((i + 1)).log"; }; done
  [ "$rc" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" gc

  # every attachment is there, with its own host link and its own address
  run lj list --json
  [ "$(jq length <<<"$output")" -eq "$N" ]
  [ "$(jq -r '.[].host_ifname' <<<"$output" | sort -u | wc -l)" -eq "$N" ]
  [ "$(on host ip -o link show master br-em1 | grep -c ' ljv')" -eq "$N" ]
  for i in 1 17 33 64; do
    [[ $(ip -n "${LAB_PREFIX}k$i" -o addr show dev eth1) == *"198.51.100.$((i + 84))/24"* ]]
  done
  ping_from peer 198.51.100.148

  # list and gc racing with detaches must not disturb them
  pids=()
  for ((i = 1; i <= N; i++)); do
    lj detach "netns:${LAB_PREFIX}k$i" >"$BATS_TEST_TMPDIR/d$i.log" 2>&1 &
    pids+=($!)
    if ((i % 16 == 0)); then
      lj list >/dev/null &
      pids+=($!)
      lj gc >/dev/null &
      pids+=($!)
    fi
  done
  rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  [ "$rc" -eq 0 ]
  [ "$(lj list --json | jq length)" -eq 0 ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "reliability: kill -9 during attach, then gc/detach bring back the exact previous state" {
  ip netns add "${LAB_PREFIX}kc"
  defer ip netns del "${LAB_PREFIX}kc"
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  snapshot kc >"$BATS_TEST_TMPDIR/kc.before"
  local ms
  # with 100 ms between steps, kill at points spread over the 7-step plan
  for ms in 20 130 240 350 460 570 680 790; do
    LANJOIN_STEP_DELAY_MS=100 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
      "netns:${LAB_PREFIX}kc" --bridge br-lj7 --ip 198.51.100.200/24 --ip 2001:db8:1::200/64 \
      --gateway 198.51.100.254 >/dev/null 2>&1 &
    local pid=$!
    sleep "0.$(printf %03d "$ms")"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # a record exists for whatever was started: nothing is orphaned untracked
    if on host ip link show br-lj7 >/dev/null 2>&1; then
      [ -n "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
    fi
    run lj gc
    [ "$status" -eq 0 ]
    run lj detach "netns:${LAB_PREFIX}kc"
    [ "$status" -eq 0 ]
    [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    assert_same_state kc "$BATS_TEST_TMPDIR/kc.before"
  done
}

@test "reliability: an interrupted attach is cleaned up by re-running the same attach" {
  add_container rr
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  LANJOIN_STEP_DELAY_MS=200 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "netns:${LAB_PREFIX}rr" --bridge br-em1 --ip 198.51.100.201/24 >/dev/null 2>&1 &
  local pid=$!
  sleep 0.5
  kill -9 "$pid"
  wait "$pid" || true
  run lj list
  [[ $output == *"interrupted"* ]]
  run lj attach bridge "netns:${LAB_PREFIX}rr" --bridge br-em1 --ip 198.51.100.201/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}rr"
  run curl_from peer http://198.51.100.201/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}rr"
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "reliability: a failing undo still lets the rest of the rollback run, and says what is left" {
  add_container uf
  run env LANJOIN_FAULT_STEP=4 LANJOIN_FAULT_UNDO=1 ip netns exec "${LAB_PREFIX}host" \
    "$LANJOIN" attach bridge "netns:${LAB_PREFIX}uf" --bridge br-lj8 --ip 198.51.100.202/24
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"Could not undo: create bridge 'br-lj8'"* ]]
  [[ $output != *"nothing was left behind"* ]]
  # the veth (step 2) was undone despite the failed bridge undo (step 1)
  ! on host ip -o link show | grep -q " ljv"
  # the record is kept, so detach can finish the job
  run lj detach "netns:${LAB_PREFIX}uf"
  [ "$status" -eq 0 ]
  ! on host ip link show br-lj8
}

@test "reliability: hostile state files are refused, never followed" {
  mkdir -p "$LANJOIN_STATE_DIR/attachments"
  echo '{"format":"lanjoin-attach' >"$LANJOIN_STATE_DIR/attachments/aaaaaaaaaaaa.json"
  ln -s /etc/passwd "$LANJOIN_STATE_DIR/attachments/bbbbbbbbbbbb.json"
  defer rm -f "$LANJOIN_STATE_DIR/attachments/aaaaaaaaaaaa.json" "$LANJOIN_STATE_DIR/attachments/bbbbbbbbbbbb.json"
  run lj list
  [ "$status" -eq 0 ]
  [[ $output == *"2 files"*"could not be read"* ]]
  run lj gc
  [ "$status" -eq 0 ]
  [ "$(stat -c %a "$LANJOIN_STATE_DIR")" = 700 ]
  # a world-writable state directory is refused
  chmod 0777 "$LANJOIN_STATE_DIR"
  defer chmod 0700 "$LANJOIN_STATE_DIR"
  add_container hs
  run lj attach bridge "netns:${LAB_PREFIX}hs" --bridge br-em1 --ip 198.51.100.203/24
  [ "$status" -eq 1 ]
  [[ $output == *"owned by root, mode 0700"* ]]
  [ -z "$(on hs ip -o link show eth1 2>/dev/null)" ]
}
