#!/usr/bin/env bats
# Reliability (issue 10): valgrind memcheck over attach, list and detach of every way and of a
# DHCP attachment: no leaks (definite or indirect), no invalid reads or writes, no uninitialised
# jumps. Only lanjoin itself is checked (--trace-children=no): the DHCP supervisor and client it
# starts are separate programs.
# test.sh: plain pass only (valgrind cannot run an ASan build: every test here skips there)

load helpers

setup_file() {
  lab_setup_file
  "$LAB" ovs start
  eval "$("$LAB" ovs env)"
  export LAB_OVSDB
}

setup() { skip_if_sanitized; }

# memcheck ARGS...: run lanjoin ARGS under valgrind in the host node; fail on any error.
memcheck() {
  local log=$BATS_TEST_TMPDIR/vg.$RANDOM
  run ip netns exec "${LAB_PREFIX}host" valgrind --quiet --error-exitcode=99 \
    --leak-check=full --errors-for-leak-kinds=definite,indirect --track-origins=yes \
    --child-silent-after-fork=yes --suppressions="$BATS_TEST_DIRNAME/valgrind.supp" \
    --log-file="$log" "$LANJOIN" "$@"
  vg_quiet "$log"
  if [ "$status" -ne 0 ] || [ -s "$log" ]; then
    echo "lanjoin $* -> $status: $output"
    cat "$log"
    return 1
  fi
}

@test "valgrind: bridge way attach, list, detach (and a rolled-back attach)" {
  add_container vb
  memcheck attach bridge "netns:${LAB_PREFIX}vb" --bridge br-lj5 --create-bridge --ip 198.51.100.117/24 \
    --ip 2001:db8:1::117/64 --gateway 198.51.100.254
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}vb"
  memcheck list --json
  memcheck detach "netns:${LAB_PREFIX}vb"
  export LANJOIN_FAULT_STEP=4
  run memcheck attach bridge "netns:${LAB_PREFIX}vb" --bridge br-lj5 --create-bridge --ip 198.51.100.117/24
  unset LANJOIN_FAULT_STEP
  [[ $output == *"-> 1:"* ]]           # failed and rolled back, but no valgrind error
  [[ $output != *"=="* ]]
  memcheck attach bridge "netns:${LAB_PREFIX}vb" --bridge br-lj5 --create-bridge --ip 198.51.100.117/24 --dry-run
  memcheck gc
}

@test "valgrind: macvlan way with a host shim" {
  add_container vm
  memcheck attach macvlan "netns:${LAB_PREFIX}vm" --parent em1 --ip 198.51.100.118/24 \
    --host-shim 198.51.100.144/24
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}vm"
  memcheck detach "netns:${LAB_PREFIX}vm"
}

@test "valgrind: ovs way" {
  add_container vo
  memcheck attach ovs "netns:${LAB_PREFIX}vo" --bridge br-vg --create-bridge --ip 198.51.100.119/24 --vlan 10 \
    --ovsdb "$LAB_OVSDB"
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}vo"
  memcheck detach "netns:${LAB_PREFIX}vo"
}

@test "valgrind: nat way with --publish, and a rolled-back attach" {
  add_container vn
  memcheck attach nat "netns:${LAB_PREFIX}vn" --uplink em1 --address 198.51.100.120/24 \
    --publish 80 --publish udp/5353:53
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}vn"
  memcheck list --json
  memcheck detach "netns:${LAB_PREFIX}vn"
  export LANJOIN_FAULT_STEP=8
  run memcheck attach nat "netns:${LAB_PREFIX}vn" --uplink em1 --address 198.51.100.120/24
  unset LANJOIN_FAULT_STEP
  [[ $output == *"-> 1:"* ]]
  [[ $output != *"=="* ]]
  memcheck attach nat "netns:${LAB_PREFIX}vn" --uplink em1 --address 198.51.100.120/24 --dry-run
}

@test "valgrind: DHCP attach (macvlan), list and detach" {
  add_container vd
  memcheck attach macvlan "netns:${LAB_PREFIX}vd" --parent em1 --dhcp
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}vd"
  [[ $(ip -n "${LAB_PREFIX}vd" -4 -o addr show dev eth1) == *"198.51.100.1"[5-9]* ]]
  memcheck list --json
  memcheck detach "netns:${LAB_PREFIX}vd"
  [ -z "$(pgrep -f "dhcp-supervise .*$LANJOIN_STATE_DIR" || true)" ]
}
