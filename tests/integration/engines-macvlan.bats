#!/usr/bin/env bats
# Docker and Podman containers attached by name through the macvlan way (issue 7). A lab of its
# own: the macvlan's parent is the plain uplink em1 (in engines.bats em1 is a bridge port).

load helpers
load engine-helpers

setup_file() {
  lab_setup_file
  docker_start || true
  podman_start || true
}

teardown_file() {
  podman_stop || true
  docker_stop || true
  lab_teardown_file
}

attach_macvlan_by_name() { # ENGINE LAST-OCTET
  local e=$1 name=lj-mv-$1 pid sock
  require_engine "$e"
  sock=$(engine_sock "$e")
  engine_run "$e" "$name" --network none
  pid=$(engine_inspect "$e" "$name" .State.Pid)
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run lj attach macvlan "$name" --parent em1 --ip "198.51.100.$2/24" \
    --gateway 198.51.100.254 --engine-socket "$sock"
  echo "$output"
  if [[ $status -ne 0 && $output == *"not implemented"* ]]; then
    skip "the macvlan way is not on this branch yet"
  fi
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "$name" --engine-socket "$sock"
  [[ $output == *"198.51.100.$2/24"* ]]
  run curl_from peer "http://198.51.100.$2/hello.html"
  [ "$status" -eq 0 ]
  [ "$output" = "Hello world" ]
  # it is a macvlan in the namespace of the engine's PID
  run nsenter --net="/proc/$pid/ns/net" ip -j -d link show dev lan0
  [[ $output == *'"info_kind":"macvlan"'* ]]
  run lj list --json
  [ "$(jq -r '.[0].target.container_id' <<<"$output")" = "$CONTAINER_ID" ]

  run lj detach "$name" --engine-socket "$sock"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null)" ]
  ! nsenter --net="/proc/$pid/ns/net" ip link show lan0 || false
}

@test "docker: a --network none container attached by name (macvlan way) answers the peer" {
  attach_macvlan_by_name docker 124
}

@test "podman: a --network none container attached by name (macvlan way) answers the peer" {
  attach_macvlan_by_name podman 125
}
