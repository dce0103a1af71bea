#!/usr/bin/env bats
# lanjoin reconcile (issue 18, items 3 and 6): each attachment brought back to its spec:
# drifted → repaired; target-restarted → attached again with the same MAC and addresses;
# target-gone → host side dropped, a persistent spec kept (and attached when the target is
# back, as after a reboot). A repair that fails rolls back and stays drifted.

load helpers
load engine-helpers

setup_file() {
  lab_setup_file --bridge-host
  spec_dir_setup
  docker_start || true
}
teardown_file() {
  docker_stop || true
  spec_dir_teardown
  lab_teardown_file
}
teardown() {
  lab_teardown
  spec_dir_clear
}

target() { echo "netns:$LAB_PREFIX$1"; }
detach_later() { defer lj detach "$1"; }
# each test its own LAN address (the peer's ARP cache remembers earlier owners)
attach_args() { ATTACH=(--bridge br-em1 --ip "198.51.100.$1/24" --gateway 198.51.100.254); }
# docker_persistent NAME N: Docker container NAME (no network of its own) attached to br-em1
# with 198.51.100.N, --persist; detached when the test ends.
docker_persistent() {
  require_engine docker
  engine_run docker "$1" --network none
  export DOCKER_HOST=unix://$(engine_sock docker)
  detach_later "$1"
  attach_args "$2"
  run lj attach bridge "$1" "${ATTACH[@]}" --persist
  echo "$output"
  [ "$status" -eq 0 ]
}
status_of() { lj status --json | jq -r --arg t "$1" '.attachments[] | select(.target == $t) | .status'; }

@test "reconcile: all ok is exit 0 and does nothing; bad usage exits 2" {
  add_container ok
  detach_later "$(target ok)"
  attach_args 150
  run lj attach bridge "$(target ok)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  take_snapshots ok
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run lj reconcile --json
  [ "$status" -eq 0 ]
  [ "$(jq -r .schema <<<"$output")" = lanjoin/reconcile/v1 ]
  [ "$(jq -r .ok <<<"$output")" = true ]
  [ "$(jq '.actions | length' <<<"$output")" -eq 0 ]
  for n in host ok; do assert_same_state "$n" "$BATS_TEST_TMPDIR/$n.before"; done
  # a misspelt TARGET is no "all ok" (as with status); one a persistent spec names is
  run lj reconcile "$(target misspelt)"
  [ "$status" -eq 1 ]
  [[ $output == *"no attachment of $(target misspelt)"* ]]
  echo '{"way": "bridge", "target": "'"$(target ghost)"'", "bridge": "br-em1", "persist": true}' \
    >"$LANJOIN_SPEC_DIR/ghost.json"
  run lj reconcile "$(target ghost)"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run lj reconcile --bogus
  [ "$status" -eq 2 ]
  run lj reconcile a b
  [ "$status" -eq 2 ]
}

@test "reconcile: the nat table deleted (a firewall reload) is repaired; the peer reaches it again" {
  add_container n
  detach_later "$(target n)"
  run lj attach nat "$(target n)" --uplink br-em1 --address 198.51.100.151/24
  echo "$output"
  [ "$status" -eq 0 ]
  curl_from peer http://198.51.100.151/hello.html | grep -q "Hello world"
  on host nft delete table ip lanjoin
  [ "$(status_of "$(target n)")" = drifted ]
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$(target n) eth1: repair"* ]]
  [ "$(status_of "$(target n)")" = ok ]
  curl_from peer http://198.51.100.151/hello.html | grep -q "Hello world"
  [ "$(state_records | jq length)" -eq 1 ]
}

@test "nat --to with --mtu: refused by attach and apply (exit 2, nothing done); a stored spec carrying it (older lanjoin) is attached again with a warning" {
  add_container dk
  # a "docker0": the container's own eth0 on a host link, its default route there
  docker0_standin dk ljrcdk0 198.18.201
  take_snapshots dk
  NAT=(--uplink br-em1 --address 198.51.100.157/24 --to 198.18.201.2)
  detach_later "$(target dk)"
  run lj attach nat "$(target dk)" "${NAT[@]}" --mtu 1400 --persist
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"--mtu does not apply with --to: no interface is made"* ]]
  run lj attach nat "$(target dk)" --uplink br-em1 --address 198.51.100.157/24 --to docker --mtu 1400
  [ "$status" -eq 2 ]
  [[ $output == *"--mtu does not apply with --to"* ]]
  echo '{"way": "nat", "target": "'"$(target dk)"'", "uplink": "br-em1",
    "address": "198.51.100.157/24", "to": "198.18.201.2", "mtu": 1400}' >"$BATS_TEST_TMPDIR/dk.json"
  run lj apply "$BATS_TEST_TMPDIR/dk.json"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"$BATS_TEST_TMPDIR/dk.json: field 'mtu': --mtu does not apply with --to"* ]]
  [ "$(state_records | jq length)" -eq 0 ]
  [ "$(ls "$LANJOIN_SPEC_DIR" | wc -l)" -eq 0 ]
  for n in host dk; do assert_same_state "$n" "$BATS_TEST_TMPDIR/$n.before"; done
  # a spec stored with it (as an older lanjoin did), its attachment gone (a reboot)
  run lj attach nat "$(target dk)" "${NAT[@]}" --persist
  [ "$status" -eq 0 ]
  f=$(ls "$LANJOIN_SPEC_DIR"/*.json)
  jq '.mtu = 1400' "$f" >"$f.new" && mv "$f.new" "$f"
  run lj detach "$(target dk)" --keep-spec
  [ "$status" -eq 0 ]
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"warning: "*"--mtu does not apply with --to"*": ignored"* ]]
  [[ $output == *"$(target dk) eth1: attach: from its persistent spec"* ]]
  [ "$(status_of "$(target dk)")" = ok ]
  [ "$(on dk cat /sys/class/net/eth0/mtu)" = 1500 ]
  ping_from peer 198.51.100.157
}

@test "reconcile: a netns deleted and made again is target-restarted, then back with the same MAC and address" {
  add_container web
  detach_later "$(target web)"
  attach_args 152
  run lj attach bridge "$(target web)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  mac=$(on web cat /sys/class/net/eth1/address)
  lab container del web
  lab container add web >/dev/null
  [ "$(status_of "$(target web)")" = target-restarted ]
  run lj reconcile "$(target web)"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"reattach"* ]]
  [ "$(on web cat /sys/class/net/eth1/address)" = "$mac" ]
  on web ip -br addr show eth1 | grep -q 198.51.100.152/24
  [ "$(status_of "$(target web)")" = ok ]
  [ "$(state_records | jq length)" -eq 1 ]
  curl_from peer http://198.51.100.152/hello.html | grep -q "Hello world"
}

@test "reconcile: four at once after one restart: one reattaches, the others find it already repaired" {
  add_container web
  detach_later "$(target web)"
  attach_args 153
  run lj attach bridge "$(target web)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  mac=$(on web cat /sys/class/net/eth1/address)
  lab container del web
  lab container add web >/dev/null
  local pids=()
  for i in 1 2 3 4; do lj reconcile "$(target web)" >"$BATS_TEST_TMPDIR/r$i" 2>&1 & pids+=($!); done
  local rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=$?; done
  cat "$BATS_TEST_TMPDIR"/r*
  [ "$rc" -eq 0 ] # each exit 0
  # one attaches again; the others (if they saw it restarted) find it done
  [ "$(cat "$BATS_TEST_TMPDIR"/r* | grep -c "reattach: attached again")" -eq 1 ]
  [ -z "$(cat "$BATS_TEST_TMPDIR"/r* | grep -v "reattach: attached again" | grep -v "reattach: already repaired (by another run)")" ]
  [ "$(on web cat /sys/class/net/eth1/address)" = "$mac" ]
  [ "$(status_of "$(target web)")" = ok ]
  [ "$(state_records | jq length)" -eq 1 ]
}

@test "reconcile: the interface deleted in the target is repaired, the missing link named once" {
  add_container lk
  detach_later "$(target lk)"
  attach_args 154
  run lj attach bridge "$(target lk)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  on lk ip link del eth1
  run lj reconcile "$(target lk)"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"repair: "*"eth1"* ]]
  [ "$(grep -o "eth1 is missing" <<<"$output" | wc -l)" -eq 1 ]
  [ "$(status_of "$(target lk)")" = ok ]
}

@test "reconcile: an attach killed part-way is left to gc, not finished (exit 1)" {
  add_container ka
  detach_later "$(target ka)"
  attach_args 149
  run lj attach bridge "$(target ka)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  # as an attach killed before its commit leaves it (crash.bats kills it for real)
  local f
  f=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
  jq '.status = "applying"' "$f" >"$f.new"
  mv "$f.new" "$f"
  on ka ip link del eth1
  run lj reconcile
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"leave: an attach did not finish (status applying): not repaired, 'lanjoin gc' undoes it"* ]]
  ! on ka ip link show eth1 2>/dev/null || false # not made again
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(lj list --json | jq length)" -eq 0 ]
}

@test "reconcile: a bridge that is down is waited for, not repaired (exit 1); up again, it is ok" {
  on host ip link add br-w type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-w
  on host ip link set br-w up
  add_container dw
  detach_later "$(target dw)"
  run lj attach bridge "$(target dw)" --bridge br-w --ip 198.51.100.159/24
  [ "$status" -eq 0 ]
  mac=$(on dw cat /sys/class/net/eth1/address)
  on host ip link set br-w down
  run lj reconcile "$(target dw)"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"wait: link br-w is down"* ]]
  # nothing was torn down: the same interface, and no repair recorded
  [ "$(on dw cat /sys/class/net/eth1/address)" = "$mac" ]
  run lj list --json
  [[ $output != *repair_failed* ]]
  on host ip link set br-w up
  [ "$(status_of "$(target dw)")" = ok ]
  run lj reconcile "$(target dw)"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "reconcile: target gone drops the host side and keeps a persistent spec; back (a reboot), it is attached again" {
  add_container p
  detach_later "$(target p)"
  attach_args 153
  run lj attach bridge "$(target p)" "${ATTACH[@]}" --persist
  [ "$status" -eq 0 ]
  mac=$(on p cat /sys/class/net/eth1/address)
  lab container del p
  [ "$(status_of "$(target p)")" = target-gone ]
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$(target p) eth1: drop"*"persistent spec is kept"* ]]
  [ "$(state_records | jq length)" -eq 0 ]
  [ "$(ls "$LANJOIN_SPEC_DIR" | wc -l)" -eq 1 ]
  # nothing to attach while it is not there
  run lj reconcile
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  add_container p >/dev/null
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$(target p) eth1: attach: from its persistent spec"* ]]
  [ "$(on p cat /sys/class/net/eth1/address)" = "$mac" ]
  curl_from peer http://198.51.100.153/hello.html | grep -q "Hello world"
}

@test "reconcile: a repair that fails rolls back and stays drifted, with the reason (exit 1)" {
  add_container f
  detach_later "$(target f)"
  attach_args 154
  run lj attach bridge "$(target f)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  on f ip addr del 198.51.100.154/24 dev eth1
  run env LANJOIN_FAULT_STEP=2 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" reconcile
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"repair: failed (the attach rolled back; still drifted)"*"fault injected"* ]]
  run lj status "$(target f)"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"its repair failed: "*"fault injected"* ]]
  # the repair that succeeds says so, not the earlier failure as if it were the drift
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$(target f) eth1: repair: link "*" is missing"*"(an earlier repair had failed; this one succeeded)"* ]]
  [[ $output != *"its repair failed"* ]]
  out=$(lj status --json)
  [ "$(jq -r .ok <<<"$out")" = true ]
  [ "$(status_of "$(target f)")" = ok ]
}

@test "reconcile: docker restart web → the same address and MAC, a peer reaches it" {
  docker_persistent lj-rweb 155
  mac=$(lj list --json | jq -r '.[] | select(.target.spec == "lj-rweb") | .mac')
  curl_from peer http://198.51.100.155/hello.html | grep -q "Hello world"
  dk restart -t 0 lj-rweb >/dev/null
  # the engine answers "running" a moment after restart returns
  restarted() { [ "$(status_of lj-rweb)" = target-restarted ]; }
  wait_until 10 restarted
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"lj-rweb lan0: reattach"* ]]
  [ "$(status_of lj-rweb)" = ok ]
  [ "$(lj list --json | jq -r '.[] | select(.target.spec == "lj-rweb") | .mac')" = "$mac" ]
  curl_from peer http://198.51.100.155/hello.html | grep -q "Hello world"
}

@test "reconcile: docker rm -f and a new container of the same name → one run drops the old record and attaches the new one" {
  docker_persistent lj-rnew 156
  old=$(dk inspect -f '{{.Id}}' lj-rnew)
  dk rm -f lj-rnew >/dev/null
  engine_run docker lj-rnew --network none
  [ "$(dk inspect -f '{{.Id}}' lj-rnew)" != "$old" ]
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  # one run: the new container has its interface and address, recorded under its own ID
  [ "$(status_of lj-rnew)" = ok ]
  lj list --json | jq -e --arg id "$(dk inspect -f '{{.Id}}' lj-rnew)" \
    '[.[] | select(.target.spec == "lj-rnew")] | length == 1 and .[0].target.container_id == $id'
  curl_from peer http://198.51.100.156/hello.html | grep -q "Hello world"
}
