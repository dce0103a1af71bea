#!/usr/bin/env bats
# Crash consistency (issue 10): lanjoin killed with SIGKILL at points spread over an attach,
# a detach and a gc (LANJOIN_STEP_DELAY_MS widens the window before each step and each undo),
# then the ordinary commands (a re-run of the same attach, gc, detach) bring back a clean,
# known state: the host and the container exactly as before, no record, no DHCP client left.
# Kill times are (j + 1/2) step delays plus a random jitter (seed printed; LJ_CRASH_SEED=N
# repeats a run). The bridge way's attach crash is also in reliability.bats, nat's in nat.bats.

load helpers

setup_file() {
  lab_setup_file
  "$LAB" ovs start
  eval "$("$LAB" ovs env)"
  export LAB_OVSDB
  export CRASH_KILLS=$BATS_FILE_TMPDIR/kills
  : >"$CRASH_KILLS"
}

teardown_file() {
  echo "# crash kills recovered from: $(wc -l <"$CRASH_KILLS")" >&3
  lab_teardown_file
}

DELAY=60 # ms before each step / each undo that acts

setup() {
  SEED=${LJ_CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
  RANDOM=$SEED
  echo "# crash seed $SEED (LJ_CRASH_SEED=$SEED repeats it)"
}



records() { lj list --json | jq length; }
has_record() { compgen -G "$LANJOIN_STATE_DIR/attachments/*.json" >/dev/null; }

NO_UNDO_TYPES='["arp-probe", "arp-notify", "announce", "slaac", "garp", "tx-csum-off"]'
acting_steps() {
  state_records | jq -r --argjson none "$NO_UNDO_TYPES" '.[0].undo | to_entries[]
    | select((.value.skip_undo // false) == false and (.value.type | IN($none[]) | not))
    | .key + 1' | wc -l
}

# kill_at MS CMD...: start lanjoin CMD with the step delay, SIGKILL it after MS milliseconds
kill_at() {
  local ms=$1
  shift
  LANJOIN_STEP_DELAY_MS=$DELAY ip netns exec "${LAB_PREFIX}host" "$LANJOIN" "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$* $ms" >>"$CRASH_KILLS"
}

# the kill time for point j: (j + 1/2) delays, +- a third of a delay
point() { echo $(((2 * $1 + 1) * DELAY / 2 + RANDOM % (2 * DELAY / 3) - DELAY / 3)); }

# crash_walk LABEL CONTAINER WAY ARGS...: kill attach before/inside each step, recover by a
# re-run of the attach (even points) or by gc (odd points), then detach; kill detach before
# each undo that acts, recover by detach.
crash_walk() {
  local label=$1 c=$2 way=$3
  shift 3
  local target=netns:$LAB_PREFIX$c
  local -a attach=(attach "$way" "$target" "$@")
  local L A j ms
  take_snapshots "$c"
  run lj "${attach[@]}"
  echo "$label: $output"
  [ "$status" -eq 0 ]
  L=$(state_records | jq '.[0].undo | length')
  A=$(acting_steps)
  run lj detach "$target"
  [ "$status" -eq 0 ]

  for ((j = 0; j <= L; j++)); do
    ms=$(point "$j")
    kill_at "$ms" "${attach[@]}"
    if ((j % 2 == 0)); then
      run lj "${attach[@]}"
      echo "$label: attach killed at ${ms} ms, attach again -> $status: $output"
      # killed while waiting for a DHCP lease: it is recorded as attached already
      [ "$status" -eq 0 ] || [[ $status -eq 2 && $output == *"already attached"* ]]
    else
      run lj gc
      echo "$label: attach killed at ${ms} ms, gc -> $status: $output"
      [ "$status" -eq 0 ]
    fi
    run lj detach "$target"
    echo "$label: detach -> $status: $output"
    [ "$status" -eq 0 ]
    assert_unchanged
  done

  for ((j = 0; j <= A; j++)); do
    run lj "${attach[@]}"
    [ "$status" -eq 0 ]
    ms=$(point "$j")
    kill_at "$ms" detach "$target"
    # unless the kill came after the end, the record is still there for the next detach
    echo "$label: detach killed at ${ms} ms, records left: $(records)"
    run lj detach "$target"
    echo "$label: detach again -> $status: $output"
    [ "$status" -eq 0 ]
    assert_unchanged
  done
}

@test "crash: bridge way creating its bridge" {
  add_container cb
  crash_walk bridge cb bridge --bridge br-cr --create-bridge --ip 198.51.100.130/24 --gateway 198.51.100.254
}

@test "crash: ovs way with a VLAN tag" {
  add_container co
  crash_walk ovs co ovs --bridge br-cro --create-bridge --vlan 20 --ovsdb "$LAB_OVSDB" --ip 198.51.100.131/24
}

@test "crash: macvlan way with a host shim" {
  add_container cm
  crash_walk macvlan cm macvlan --parent em1 --ip 198.51.100.132/24 --host-shim 198.51.100.145/24
}

@test "crash: nat way with --publish" {
  add_container cn
  crash_walk nat cn nat --uplink em1 --address 198.51.100.133/24 --publish 80
}

@test "crash: macvlan way with DHCP" {
  add_container cd
  crash_walk dhcp cd macvlan --parent em1 --dhcp
}

@test "crash: gc killed before each undo, then gc again" {
  take_snapshots
  local j A ms
  for ((j = 0; ; j++)); do
    lab container add cg >/dev/null
    defer "$LAB" container del cg
    run lj attach nat "netns:${LAB_PREFIX}cg" --uplink em1 --address 198.51.100.134/24 --publish 80
    [ "$status" -eq 0 ]
    A=$(acting_steps)
    lab container del cg
    ms=$(point "$j")
    kill_at "$ms" gc
    run lj gc
    echo "gc killed at ${ms} ms, gc again -> $status: $output"
    [ "$status" -eq 0 ]
    [ "$(records)" -eq 0 ]
    assert_unchanged
    ((j < A)) || break
  done
}

# record_before_change CONTAINER BRIDGE ADDR [ENV...]: stop an attach (SIGSTOP) before its first
# step: the record already holds the whole plan, under its own name only (no temporary file
# left: the first save is one file linked in, or renamed where O_TMPFILE is not used); killed
# there, gc undoes it.
record_before_change() {
  local c=$1 br=$2 addr=$3
  shift 3
  add_container "$c"
  ip netns exec "${LAB_PREFIX}host" env LANJOIN_STEP_DELAY_MS=2000 "$@" "$LANJOIN" attach bridge \
    "netns:${LAB_PREFIX}$c" --bridge "$br" --create-bridge --ip "$addr/24" >/dev/null 2>&1 &
  local pid=$!
  defer sh -c "kill -9 $pid 2>/dev/null; true"
  wait_until 5 has_record
  kill -STOP "$pid"
  ! on host ip link show "$br" || false
  local f
  f=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
  [ "$(ls -A "$LANJOIN_STATE_DIR/attachments")" = "$(basename "$f")" ]
  [ "$(jq -r .status "$f")" = applying ]
  [ "$(jq '.undo | length' "$f")" -gt 3 ]
  [ "$(jq -r '.undo[0].type' "$f")" = bridge ]
  [ "$(stat -c %a "$f")" = 600 ]
  kill -9 "$pid"
  wait "$pid" || true
  run lj gc
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
}

@test "crash: records are written before the kernel changes they describe" {
  record_before_change cr br-crr 198.51.100.135
}

@test "crash: records are written before the kernel changes they describe, without O_TMPFILE" {
  # LANJOIN_TEST_NO_TMPFILE: as on a file system without O_TMPFILE (or a process that may not
  # link a file by its descriptor): the first save's file is made under its temporary name
  record_before_change ct br-crt 198.51.100.138 LANJOIN_TEST_NO_TMPFILE=1
  LANJOIN_TEST_NO_TMPFILE=1 run lj attach bridge "netns:${LAB_PREFIX}ct" --bridge br-crt \
    --create-bridge --ip 198.51.100.138/24
  [ "$status" -eq 0 ]
  [ "$(ls -A "$LANJOIN_STATE_DIR/attachments" | grep -c .)" -eq 1 ]
  LANJOIN_TEST_NO_TMPFILE=1 run lj detach "netns:${LAB_PREFIX}ct"
  [ "$status" -eq 0 ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
}

# The veth step's record: its host end's name, the MAC the record gives it before it is made
# (link_mac), and the ifindex (i64) recorded with the commit.
veth_step() { state_records | jq -c '[.[0].undo[] | select(.type == "veth")][0]'; }

# start_veth_kill NAME ADDR: an attach of container NAME (made here) on a bridge of its own,
# with a long pause before each step, killed (SIGKILL) once its veth exists: the pause after
# the veth is where only a save of the veth step itself could have written its ifindex.
# Sets HOSTIF and HOSTMAC (the record's).
start_veth_kill() {
  add_container "$1"
  LANJOIN_STEP_DELAY_MS=1500 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "netns:${LAB_PREFIX}$1" --bridge "br-$1" --create-bridge --ip "$2/24" \
    --gateway 198.51.100.254 --no-conflict-check >/dev/null 2>&1 &
  local pid=$!
  defer sh -c "kill -9 $pid 2>/dev/null; true"
  wait_until 5 has_record
  HOSTIF=$(veth_step | jq -r .link)
  HOSTMAC=$(veth_step | jq -r .link_mac)
  [ -n "$HOSTIF" ] && [ "$HOSTIF" != null ]
  [[ $HOSTMAC =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]]
  wait_until 10 on host ip link show "$HOSTIF"
  kill -9 "$pid"
  wait "$pid" || true
  # the record as before the veth was made: its MAC, no ifindex
  [ "$(veth_step | jq -r .link_mac)" = "$HOSTMAC" ]
  [ "$(veth_step | jq -r '.i64 // 0')" = 0 ]
}

@test "crash: a veth's host end is known by the MAC its record gave it before it was made (what gc judges it by)" {
  start_veth_kill cv 198.51.100.136
  # the creating request set it
  [ "$(on host cat "/sys/class/net/$HOSTIF/address")" = "$HOSTMAC" ]
  run lj gc
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  ! on host ip link show "$HOSTIF" || false
}

@test "crash: a link under the veth's name without its recorded MAC is not lanjoin's: gc leaves it" {
  start_veth_kill cw 198.51.100.137
  # lanjoin's pair is gone (deleted by someone); another veth takes the host end's name
  on host ip link del "$HOSTIF"
  on host ip link add "$HOSTIF" type veth peer name ljcw-other
  defer sh -c "ip -n ${LAB_PREFIX}host link del $HOSTIF 2>/dev/null; true"
  [ "$(on host cat "/sys/class/net/$HOSTIF/address")" != "$HOSTMAC" ]
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  on host ip link show "$HOSTIF"
  on host ip link show ljcw-other
}

@test "crash: a link left between its creation and its marking is recognised as lanjoin's (bridge, shim)" {
  # The kernel ignores an alias in the request that creates a link: a kill right after the
  # creation leaves an unmarked link. Made here by clearing the mark after a kill.
  add_container cl
  take_snapshots cl
  LANJOIN_STEP_DELAY_MS=400 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "netns:${LAB_PREFIX}cl" --bridge br-cl --create-bridge --ip 198.51.100.136/24 >/dev/null 2>&1 &
  local pid=$!
  wait_until 5 on host ip link show br-cl
  kill -9 "$pid"
  wait "$pid" || true
  on host ip link set br-cl alias ""
  [ -z "$(on host ip -j -d link show br-cl | jq -r '.[0].ifalias // empty')" ]
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  ! on host ip link show br-cl || false
  assert_unchanged

  # an unmarked bridge that was there before the attach stays (with a port of its own, so that
  # its MAC and carrier do not change as lanjoin's port comes and goes)
  on host ip link add br-cl type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-cl
  on host ip link add vcl0 type veth peer name vcl1
  defer ip -n "${LAB_PREFIX}host" link del vcl0
  on host ip link set vcl0 master br-cl
  take_snapshots cl
  run lj attach bridge "netns:${LAB_PREFIX}cl" --bridge br-cl --create-bridge --ip 198.51.100.136/24
  [ "$status" -eq 0 ]
  run lj detach "netns:${LAB_PREFIX}cl"
  [ "$status" -eq 0 ]
  on host ip link show br-cl
  assert_unchanged

  # the shim: `shim add` takes over an unmarked, address-less shim of its name on the parent
  run lj shim add em1 --ip 198.51.100.146/24
  [ "$status" -eq 0 ]
  local shim
  shim=$(sed -n 's/^Created host shim \([^ ]*\) .*/\1/p' <<<"$output")
  [ -n "$shim" ]
  run lj shim del em1
  [ "$status" -eq 0 ]
  take_snapshots
  on host ip link add link em1 name "$shim" type macvlan mode bridge
  defer sh -c "ip -n ${LAB_PREFIX}host link del $shim 2>/dev/null; true"
  run lj shim add em1 --ip 198.51.100.146/24
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Created host shim $shim"* ]]
  run lj shim del em1
  [ "$status" -eq 0 ]
  assert_unchanged
  # ... but not one that has an address: that is someone's
  on host ip link add link em1 name "$shim" type macvlan mode bridge
  on host ip addr add 198.51.100.147/32 dev "$shim"
  run lj shim add em1 --ip 198.51.100.146/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"is not lanjoin's host shim"* ]]
  on host ip link del "$shim"
}

em1_settled() {
  local addrs routes
  [[ -z $(on host ip -6 addr show dev em1 tentative) ]] || return 1
  addrs=$(on host ip -j -6 addr show dev em1 | jq '[.[0].addr_info[]?] | length')
  routes=$(on host ip -j -6 route show table local | jq '[.[] | select(.dev == "em1" and .type == "local")] | length')
  [[ $addrs == "$routes" ]]
}
uplink_records() { find "$LANJOIN_STATE_DIR/uplinks" -name '*.json' 2>/dev/null | wc -l; }

@test "crash: uplink adopt and release killed at random points; gc, release or a re-run recover" {
  take_snapshots
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" uplink release br-cu --force
  local i ms L total
  run lj uplink adopt br-cu em1
  [ "$status" -eq 0 ]
  L=$(jq '.undo | length' "$LANJOIN_STATE_DIR"/uplinks/*.json)
  run lj uplink release br-cu
  [ "$status" -eq 0 ]
  wait_until 5 em1_settled
  total=$(((L + 1) * DELAY))
  for ((i = 0; i < 8; i++)); do
    ms=$((RANDOM % total))
    kill_at "$ms" uplink adopt br-cu em1
    case $((i % 3)) in
    0) run lj gc ;;
    1) run lj uplink release br-cu ;;
    2)
      run lj uplink adopt br-cu em1
      echo "adopt killed at $ms ms, adopt again -> $status: $output"
      [ "$status" -eq 0 ]
      run lj uplink release br-cu
      ;;
    esac
    echo "adopt killed at $ms ms, recovery $((i % 3)) -> $status: $output"
    [ "$status" -eq 0 ]
    if [ "$(uplink_records)" -ne 0 ]; then
      # gc leaves a whole adoption alone (the kill came after the end): release it
      run lj uplink release br-cu
      [ "$status" -eq 0 ]
    fi
    wait_until 5 em1_settled
    assert_unchanged
  done
  for ((i = 0; i < 6; i++)); do
    run lj uplink adopt br-cu em1
    [ "$status" -eq 0 ]
    ms=$((RANDOM % total))
    kill_at "$ms" uplink release br-cu
    run lj uplink release br-cu
    echo "release killed at $ms ms, release again -> $status: $output"
    [ "$status" -eq 0 ]
    [ "$(uplink_records)" -eq 0 ]
    wait_until 5 em1_settled
    assert_unchanged
  done
}

@test "crash: a DHCP client whose PID never reached the record is still stopped" {
  # attach killed between starting the DHCP supervisor and saving its PID: emulated by
  # dropping the PID from the record; the supervisor's own BASE.supervisor file names it
  add_container cp
  take_snapshots cp
  run lj attach macvlan "netns:${LAB_PREFIX}cp" --parent em1 --dhcp
  [ "$status" -eq 0 ]
  local f sup
  f=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
  sup=$(jq -r '.info.dhcp.pid' "$f")
  [ "$(cut -d' ' -f1 "$LANJOIN_STATE_DIR"/dhcp/*.supervisor)" = "$sup" ]
  jq '(.undo[] | select(.type == "dhcp")) |= del(.i64) | .status = "applying"' "$f" >"$f.new"
  mv "$f.new" "$f"
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  wait_until 5 pid_gone "$sup"
  assert_unchanged
}

@test "crash: a detach killed part-way: status names it; reconcile and gc finish it (not repaired)" {
  local t="netns:${LAB_PREFIX}kd" pid
  for how in reconcile gc; do
    "$LAB" container add kd >/dev/null
    run lj attach bridge "$t" --bridge br-crk --create-bridge --ip 198.51.100.134/24 --gateway 198.51.100.254
    echo "$output"
    [ "$status" -eq 0 ]
    LANJOIN_STEP_DELAY_MS=500 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "$t" >/dev/null 2>&1 &
    pid=$!
    wait_until 30 bash -c "! ip netns exec '${LAB_PREFIX}kd' ip route show default | grep -q ."
    kill -9 "$pid"
    wait "$pid" || true
    run lj status "$t"
    echo "$output"
    [[ $output == *"detaching: interrupted, run 'lanjoin detach' or 'lanjoin gc'"* ]]
    run lj "$how"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output != *repair* ]]
    ! ls "$LANJOIN_STATE_DIR/attachments" | grep -q json || false
    ! on kd ip link show eth1 2>/dev/null || false
    "$LAB" container del kd
  done
}
