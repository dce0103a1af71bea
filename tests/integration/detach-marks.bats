#!/usr/bin/env bats
# Detach's marks (session 9): a persistent attachment's stored spec goes only once the
# attachment is really gone (a detach that fails or is refused keeps it; an interrupted one's
# "detaching" mark says whether the spec goes, for reconcile, watch and gc that finish it);
# every path that undoes records (detach --all, gc, CNI DEL; the Docker driver's delete is
# lj_detach_id, as reconcile's drop) marks them "detaching" before the first undo, so a kill
# part-way reads as a detach to finish, not as drift to repair; and --dry-run of a --gateway
# attachment whose default route a later one replaced prints what the real detach does.

load helpers
load cni-helpers

setup_file() { lab_setup_file --bridge-host && spec_dir_setup; }
teardown_file() { spec_dir_teardown && lab_teardown_file; }
teardown() { lab_teardown && spec_dir_clear; }

specs() { find "$LANJOIN_SPEC_DIR" -name '*.json' | wc -l; }
no_records() { [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null)" ]; }
no_default() { [ -z "$(ip -n "$LAB_PREFIX$1" route show default)" ]; }

# attach_gw CONTAINER OCTET [ARGS...]: bridge way on br-em1 with a default route
attach_gw() {
  local c=$1 o=$2
  shift 2
  run lj attach bridge "netns:$LAB_PREFIX$c" --bridge br-em1 --ip "198.51.100.$o/24" \
    --gateway 198.51.100.254 --no-conflict-check "$@"
  echo "$output"
  [ "$status" -eq 0 ]
}

# kill_part_way CONTAINER CMD...: run lanjoin CMD in the host node with a step delay, SIGKILL
# it once its undo has taken CONTAINER's default route away (the undos before the others)
kill_part_way() {
  local c=$1 pid
  shift
  LANJOIN_STEP_DELAY_MS=400 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" "$@" >/dev/null 2>&1 &
  pid=$!
  defer kill_quietly -9 "$pid"
  wait_until 30 no_default "$c"
  kill -9 "$pid"
  wait "$pid" || true
}

# the one record left: interrupted while detaching (status and list say so)
left_detaching() { # TARGET
  state_records | jq -e 'length == 1 and .[0].status == "detaching"'
  run lj status "$1"
  echo "$output"
  [[ $output == *"detaching: interrupted"* ]]
}

# --- 1. the stored spec of a persistent attachment ---------------------------------------------

@test "detach: an undo that fails keeps the persistent spec and the record; reconcile finishes the detach, then the spec goes" {
  add_container sf
  local t=netns:${LAB_PREFIX}sf
  defer lj detach "$t"
  attach_gw sf 121 --persist
  [ "$(specs)" -eq 1 ]
  LANJOIN_FAULT_UNDO=1 run lj detach "$t"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"the record is kept"* ]]
  [ "$(specs)" -eq 1 ]
  state_records | jq -e '.[0].status == "detaching" and .[0].drop_spec == true'
  run lj reconcile "$t"
  echo "$output"
  [[ $output == *"finished an interrupted detach"* ]]
  no_records
  [ "$(specs)" -eq 0 ]
  ! on sf ip link show eth1 2>/dev/null || false
  # nothing to attach again from
  run lj reconcile
  echo "$output"
  ! on sf ip link show eth1 2>/dev/null || false
}

@test "detach --keep-spec: an undo that fails, finished by gc, keeps the spec" {
  add_container sk
  local t=netns:${LAB_PREFIX}sk
  defer lj detach "$t"
  attach_gw sk 122 --persist
  LANJOIN_FAULT_UNDO=1 run lj detach "$t" --keep-spec
  [ "$status" -eq 1 ]
  state_records | jq -e '.[0].status == "detaching" and (.[0].drop_spec // false) == false'
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"a detach was interrupted: finished"* ]]
  no_records
  [ "$(specs)" -eq 1 ]
}

@test "detach: refused (its record unreadable: nothing changed) keeps the persistent spec" {
  add_container sr
  local t=netns:${LAB_PREFIX}sr f
  defer lj detach "$t"
  attach_gw sr 123 --persist
  f=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
  cp "$f" "$BATS_TEST_TMPDIR/rec"
  defer cp "$BATS_TEST_TMPDIR/rec" "$f"
  echo '{"format": ' >"$f"
  run lj detach "$t"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"could not be read"*"nothing was changed"* ]]
  [ "$(specs)" -eq 1 ]
  cp "$BATS_TEST_TMPDIR/rec" "$f"
  run lj detach "$t"
  [ "$status" -eq 0 ]
  [ "$(specs)" -eq 0 ]
}

@test "detach killed part-way: the persistent spec stays until gc or reconcile finishes the detach, then goes; nothing attached again" {
  local how t
  for how in gc reconcile; do
    add_container "sp$how"
    t=netns:${LAB_PREFIX}sp$how
    defer lj detach "$t"
    attach_gw "sp$how" 124 --persist
    kill_part_way "sp$how" detach "$t"
    left_detaching "$t"
    [ "$(specs)" -eq 1 ]
    run lj "$how"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output != *repair* ]]
    no_records
    [ "$(specs)" -eq 0 ]
    run lj reconcile
    echo "$output"
    ! on "sp$how" ip link show eth1 2>/dev/null || false
  done
}

# --- 2. the bulk paths mark their records "detaching" before the undo ---------------------------

@test "detach --all killed part-way: the record reads as detaching (not drift); its persistent spec stays; gc finishes both" {
  add_container ba
  local t=netns:${LAB_PREFIX}ba
  defer lj detach "$t"
  attach_gw ba 125 --persist
  kill_part_way ba detach --all
  left_detaching "$t"
  state_records | jq -e '.[0].drop_spec == true'
  [ "$(specs)" -eq 1 ]
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"a detach was interrupted: finished"* ]]
  no_records
  [ "$(specs)" -eq 0 ]
  ! on ba ip link show eth1 2>/dev/null || false
}

@test "gc killed part-way through an attachment an attach left: the record reads as detaching; reconcile finishes it" {
  add_container bg
  local t=netns:${LAB_PREFIX}bg f
  defer lj detach "$t"
  attach_gw bg 126
  f=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
  jq '.status = "applying"' "$f" >"$f.new"
  mv "$f.new" "$f"
  kill_part_way bg gc
  left_detaching "$t"
  run lj reconcile "$t"
  echo "$output"
  [[ $output == *"finished an interrupted detach"* ]]
  [[ $output != *repair* ]]
  no_records
  ! on bg ip link show eth1 2>/dev/null || false
}

@test "CNI DEL killed part-way: the record reads as detaching; DEL again finishes it" {
  add_container bc
  conf 1.0.0
  run --separate-stderr cni ADD ctr-bc "$(ns bc)" eth0
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  ! no_default bc || false
  LANJOIN_STEP_DELAY_MS=400 ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND=DEL \
    CNI_CONTAINERID=ctr-bc CNI_NETNS="$(ns bc)" CNI_IFNAME=eth0 CNI_PATH="$REF" "$LANJOIN" \
    <"$CONF" >/dev/null 2>&1 &
  local pid=$!
  defer kill_quietly -9 "$pid"
  wait_until 30 no_default bc
  kill -9 "$pid"
  wait "$pid" || true
  left_detaching "$(ns bc)"
  run --separate-stderr cni DEL ctr-bc "$(ns bc)" eth0
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  no_records
  ! on bc ip link show eth0 2>/dev/null || false
}

# --- 3. --dry-run of a --gateway attachment whose route a later one replaced -------------------

@test "detach --dry-run of two --gateway attachments prints what detach does: eth1's route handed down, not put back; eth2 puts the original back" {
  add_container dr
  local ns=${LAB_PREFIX}dr t=netns:${LAB_PREFIX}dr
  ip -n "${LAB_PREFIX}host" link add ljdmva type veth peer name va netns "$ns"
  defer ip -n "${LAB_PREFIX}host" link del ljdmva
  ip -n "$ns" link set va up
  ip -n "$ns" addr add 203.0.113.2/24 dev va
  ip -n "$ns" route add default via 203.0.113.1 dev va
  defer lj detach "$t"
  attach_gw dr 127
  attach_gw dr 128 --ifname eth2
  local orig="ip -n $ns route replace default via 203.0.113.1 dev va"
  run lj detach "$t" --ifname eth1 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *"$orig"* ]]
  [[ $output == *"hands down to eth2 (its detach puts it back): default via 203.0.113.1 dev va"* ]]
  # the whole target, and --all: whatever the order, the last route put back is the original
  for cmd in "detach $t" "detach --all"; do
    run lj $cmd --dry-run
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $(grep "route replace default" <<<"$output" | tail -1) == "$orig"* ]]
  done
  # records made in the same second come in their ids' order: eth1 first hands its route down
  # (one put back), eth2 first puts eth1's back and then eth1 the original (two)
  run lj detach --all --dry-run
  local first want=2
  first=$(grep -o -m1 '^# detach [^ ]* ([a-z0-9]*)' <<<"$output")
  [[ $first == *"(eth1)" ]] && want=1
  [ "$(grep -c "route replace default" <<<"$output")" -eq "$want" ]
  # nothing changed; then the real detach of eth1 does what its dry run said
  [ "$(ip -n "$ns" -j route show default | jq -r '.[] | "\(.gateway) \(.dev)"')" = "198.51.100.254 eth2" ]
  run lj detach "$t" --ifname eth1
  [ "$status" -eq 0 ]
  [ "$(ip -n "$ns" -j route show default | jq -r '.[] | "\(.gateway) \(.dev)"')" = "198.51.100.254 eth2" ]
  run lj detach "$t" --ifname eth2 --dry-run
  echo "$output"
  [[ $output == *"$orig"* ]]
  run lj detach "$t" --ifname eth2
  [ "$status" -eq 0 ]
  [ "$(ip -n "$ns" -j route show default | jq -r '.[] | "\(.gateway) \(.dev)"')" = "203.0.113.1 va" ]
}
