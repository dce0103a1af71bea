#!/usr/bin/env bats
# Docker and Podman containers as targets (issue 7), against real engines started inside the
# lab's host namespace (engine-helpers.bash): attach by name, `lanjoin pid`/`ip` against the
# engine's own inspect, clear errors with nothing changed, gc of containers that are gone.

load helpers
load engine-helpers

setup_file() {
  lab_setup_file --bridge-host
  # Docker sets FORWARD DROP with br_netfilter on: attach bridge adds the accept rules for
  # the bridged traffic itself (DOCKER-USER), so no hand-made rule here.
  docker_start || true
  podman_start || true
}

teardown_file() {
  podman_stop || true
  docker_stop || true
  lab_teardown_file
}

# Each test claims its own LAN address: the peer's ARP cache still maps an address a previous
# test used to that test's container for a while (nothing announces the new owner).
attach_args() { # LAST-OCTET
  ATTACH=(--bridge br-em1 --ip "198.51.100.$1/24" --gateway 198.51.100.254)
  URL=http://198.51.100.$1/hello.html
}

# lanjoin with ENGINE's socket chosen three different ways: DOCKER_HOST for Docker,
# --engine-socket for Podman (LANJOIN_ENGINE_SOCKET has a test of its own).
lje() { # ENGINE ARGS...
  local e=$1
  shift
  if [[ $e == docker ]]; then
    DOCKER_HOST=unix://$(engine_sock docker) lj "$@"
  else
    lj "$@" --engine-socket "$(engine_sock podman)"
  fi
}

no_records() { [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null)" ]; }

# The container's own network namespace, as a path lanjoin does not need the engine for.
cnetns() { echo "/proc/$(engine_inspect "$1" "$2" .State.Pid)/ns/net"; }

attach_by_name() { # ENGINE LAST-OCTET
  local e=$1 name=lj-web-$1 pid
  require_engine "$e"
  attach_args "$2"
  engine_run "$e" "$name" --network none
  pid=$(engine_inspect "$e" "$name" .State.Pid)
  snapshot host >"$BATS_TEST_TMPDIR/host.before"

  run lje "$e" attach bridge "$name" "${ATTACH[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "$name" \
    --engine-socket "$(engine_sock "$e")"
  [[ $output == *"Attached $name as lan0"*"198.51.100.$2/24"* ]]

  run curl_from peer "$URL"
  [ "$status" -eq 0 ]
  [ "$output" = "Hello world" ]
  # it really is the container: lan0 is in the namespace of the engine's PID
  run nsenter --net="/proc/$pid/ns/net" ip -j addr show dev lan0
  [[ $output == *"\"local\":\"198.51.100.$2\",\"prefixlen\":24"* ]]
  # the record names the container by its full ID and name
  run lj list --json
  [ "$(jq -r '.[0].target.container_id' <<<"$output")" = "$CONTAINER_ID" ]
  [ "$(jq -r '.[0].target.name' <<<"$output")" = "$name" ]
  # lanjoin ip (docker-ip) shows the LAN address lanjoin gave it, marked as lanjoin's
  run lje "$e" ip "$name"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "198.51.100.$2/24 lan0 (lanjoin bridge br-em1)" ]
  run lje "$e" ip "$name" --json
  [ "$(jq -c '.addresses' <<<"$output")" = \
    '[{"address":"198.51.100.'"$2"'/24","ifname":"lan0","on":"container","source":"lanjoin","via":"br-em1","way":"bridge"}]' ]

  run lje "$e" detach "$name"
  echo "$output"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  no_records
  ! nsenter --net="/proc/$pid/ns/net" ip link show lan0 || false
  ! curl_from peer "$URL" || false
}

@test "docker: a --network none container attached by name (bridge way) answers the peer" {
  attach_by_name docker 117
}

@test "podman: a --network none container attached by name (bridge way) answers the peer" {
  attach_by_name podman 118
}

@test "docker: a container attached as eth1 (every target's default before lan0) keeps it: the same attach and an apply without ifname find it" {
  require_engine docker
  attach_args 122
  engine_run docker lj-old --network none
  # what an earlier lanjoin made without --ifname
  run lje docker attach bridge lj-old "${ATTACH[@]}" --ifname eth1
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach lj-old \
    --engine-socket "$(engine_sock docker)"
  run lje docker attach bridge lj-old "${ATTACH[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already attached as 'eth1' as asked"* ]]
  cat >"$BATS_TEST_TMPDIR/old.json" <<EOF
{"way": "bridge", "target": "lj-old", "bridge": "br-em1", "ip": ["198.51.100.122/24"],
 "gateway": ["198.51.100.254"]}
EOF
  run lje docker apply "$BATS_TEST_TMPDIR/old.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already attached as 'eth1' as asked"* ]]
  ! nsenter --net="$(cnetns docker lj-old)" ip link show lan0 || false
  [ "$(curl_from peer "$URL")" = "Hello world" ]
  run lje docker detach lj-old
  [ "$status" -eq 0 ]
  # once it is gone, the default is lan0
  run lje docker attach bridge lj-old "${ATTACH[@]}" --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *" peer name lan0 "* ]]
  run lje docker apply "$BATS_TEST_TMPDIR/old.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"attached lj-old as lan0 (bridge way)"* ]]
  [ "$(curl_from peer "$URL")" = "Hello world" ]
  run lje docker detach lj-old
  [ "$status" -eq 0 ]
  # Ctrl-C while that attach waits for the state lock stops it at once, exit 130: the look
  # for an eth1 record takes no lock (it did, where a signal killed the process unsaid)
  # shellcheck disable=SC2016 # $1 is sh's
  sh -c 'exec 9>>"$1" && flock 9 && exec sleep 60' sh "$LANJOIN_STATE_DIR/lock" &
  local holder=$! pid rc=0
  defer kill_quietly "$holder"
  env --default-signal=INT ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge lj-old \
    "${ATTACH[@]}" --engine-socket "$(engine_sock docker)" 2>"$BATS_TEST_TMPDIR/err" &
  pid=$!
  defer kill_quietly "$pid"
  wait_until 60 grep -q "waiting for the state lock" "$BATS_TEST_TMPDIR/err"
  kill -INT "$pid"
  wait "$pid" || rc=$?
  cat "$BATS_TEST_TMPDIR/err"
  [ "$rc" -eq 130 ]
  grep -q "Interrupted (SIGINT) while waiting for the state lock" "$BATS_TEST_TMPDIR/err"
  ! nsenter --net="$(cnetns docker lj-old)" ip link show lan0 || false
  kill "$holder"
}

@test "docker: attach by unique ID prefix and by full ID; detach by name finds it" {
  require_engine docker
  attach_args 119
  engine_run docker lj-idweb --network none
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run lje docker attach bridge "${CONTAINER_ID:0:12}" "${ATTACH[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "$CONTAINER_ID" \
    --engine-socket "$(engine_sock docker)"
  run curl_from peer "$URL"
  [ "$output" = "Hello world" ]
  # a second attach by full ID is the same target, attached as asked: nothing to do
  run lje docker attach bridge "$CONTAINER_ID" "${ATTACH[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already attached as 'lan0' as asked"* ]]
  # otherwise, it is refused (exit 2) whatever the name
  run lje docker attach bridge "$CONTAINER_ID" "${ATTACH[@]}" --mtu 1400
  [ "$status" -eq 2 ]
  [[ $output == *"already attached"*"otherwise"* ]]
  run lje docker detach lj-idweb
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  no_records
}

pid_and_ip() { # ENGINE NETWORK-ARGS...
  local e=$1 name=lj-ip-$1
  shift
  require_engine "$e"
  engine_run "$e" "$name" "$@"
  run lje "$e" pid "$name"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(engine_inspect "$e" "$name" .State.Pid)" ]
  [ "$output" -gt 1 ]
  # by ID too
  run lje "$e" pid "${CONTAINER_ID:0:12}"
  [ "$output" = "$(engine_inspect "$e" "$name" .State.Pid)" ]

  run lje "$e" ip "$name"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(engine_inspect "$e" "$name" \
    '.NetworkSettings.Networks // {} | .[] | (.IPAddress, .GlobalIPv6Address) | select(. != "")')" ]
  run lje "$e" ip "$name" --json
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(jq -r .id <<<"$output")" = "$CONTAINER_ID" ]
  [ "$(jq -r .schema <<<"$output")" = lanjoin/container/v1 ] # doc/json.md
  [ "$(jq -r .pid <<<"$output")" = "$(engine_inspect "$e" "$name" .State.Pid)" ]
  [ "$(jq -c '[.networks[] | [.name, (.ipv4 // ""), (.mac // "")]]' <<<"$output")" = \
    "$(engine_inspect "$e" "$name" '[.NetworkSettings.Networks // {} | to_entries[]
      | [.key, (if .value.IPAddress != "" then "\(.value.IPAddress)/\(.value.IPPrefixLen)" else "" end),
         .value.MacAddress]] | tojson')" ]
}

@test "docker: lanjoin pid / ip match docker inspect (container on Docker's bridge)" {
  pid_and_ip docker
  # an address on Docker's own bridge, in the lab's host namespace
  run lje docker ip lj-ip-docker
  [[ $output == 198.18.0.* ]]
  [ "$(on host curl -sS --max-time 5 "http://$output/hello.html")" = "Hello world" ]
  run lje docker ip lj-ip-docker --json
  [ "$(jq -r '.addresses[] | select(.source == "engine") | .address' <<<"$output")" = \
    "$(engine_inspect docker lj-ip-docker '.NetworkSettings.Networks.bridge | "\(.IPAddress)/\(.IPPrefixLen)"')" ]
}

@test "podman: lanjoin pid / ip match podman inspect (container on a podman network)" {
  require_engine podman
  # a CNI bridge network of podman's own, inside the lab's host namespace
  defer pm network rm -f lj-net
  podman_network_create lj-net cni-ljnet 198.18.1.0/24 198.18.1.1
  pid_and_ip podman --network lj-net
  run lje podman ip lj-ip-podman
  [[ $output == 198.18.1.* ]]
  [ "$(on host curl -sS --max-time 5 "http://$output/hello.html")" = "Hello world" ]
  # --network none: no address at all
  engine_run podman lj-none --network none
  run lje podman ip lj-none
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run lje podman ip lj-none --json
  [ "$(jq -c .networks <<<"$output")" = "[]" ]
}

stopped_refused() { # ENGINE
  local e=$1 name=lj-stop-$1
  require_engine "$e"
  attach_args 120
  engine_run "$e" "$name" --network none
  engine_cli "$e" stop -t 0 "$name" >/dev/null
  [ "$(engine_inspect "$e" "$name" .State.Running)" = false ]
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run lje "$e" attach bridge "$name" "${ATTACH[@]}"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Container '$name' is not running"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  no_records
  run lje "$e" pid "$name"
  [ "$status" -eq 2 ]
  [[ $output == *"not running"* ]]
  # persistent: the spec is stored and waits for the container (a boot-time spec directory),
  # for attach --persist and apply alike; nothing else changes
  export LANJOIN_SPEC_DIR=$BATS_TEST_TMPDIR/specs
  run lje "$e" attach bridge "$name" "${ATTACH[@]}" --persist
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$name does not run: its spec is stored in $LANJOIN_SPEC_DIR (persistent), waiting"* ]]
  [ "$(jq -r .target "$LANJOIN_SPEC_DIR"/*.json)" = "$name" ]
  run lje "$e" status "$name"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$name"*lan0*bridge*waiting* ]]
  rm "$LANJOIN_SPEC_DIR"/*.json
  mkdir "$BATS_TEST_TMPDIR/apply"
  echo '{"way": "bridge", "target": "'"$name"'", "bridge": "br-em1", "ip": ["198.51.100.120/24"], "persist": true}' \
    >"$BATS_TEST_TMPDIR/apply/w.json"
  run lje "$e" apply "$BATS_TEST_TMPDIR/apply/"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == "$BATS_TEST_TMPDIR/apply/w.json: $name does not run: its spec is stored"*waiting* ]]
  [ "$(jq -r .target "$LANJOIN_SPEC_DIR"/*.json)" = "$name" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  no_records
  # without persist, apply still fails as attach does
  jq 'del(.persist)' "$BATS_TEST_TMPDIR/apply/w.json" >"$BATS_TEST_TMPDIR/w1.json"
  run lje "$e" apply "$BATS_TEST_TMPDIR/w1.json"
  [ "$status" -eq 2 ]
  [[ $output == *"Container '$name' is not running"* ]]
}

@test "docker: a stopped container is refused with a clear error, nothing changed; a persistent spec of it is stored, waiting" {
  stopped_refused docker
}

@test "podman: a stopped container is refused with a clear error, nothing changed; a persistent spec of it is stored, waiting" {
  stopped_refused podman
}

@test "engine errors: no such container, ambiguous prefix, no socket, bad DOCKER_HOST; exit 2" {
  require_engine docker
  attach_args 120
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run lje docker attach bridge lj-nosuch "${ATTACH[@]}"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"No such container 'lj-nosuch'"*"$(engine_sock docker)"*"No such container: lj-nosuch"* ]]
  # detach says it too (a misspelt name must not read as 'not attached'; exit 0, as a removed
  # container's detach repeated); a container without an attachment is 'not attached'
  run lje docker detach lj-nosuch
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"No such container 'lj-nosuch'"*", and no attachment or stored spec names it: nothing to do" ]]
  engine_run docker lj-notatt --network none
  run lje docker detach lj-notatt
  [ "$status" -eq 0 ]
  [[ $output == *"lj-notatt is not attached; nothing to do"* ]]

  # Make two containers whose IDs share a first digit, then use that digit.
  local i first prefix=
  declare -A seen=()
  for ((i = 0; i < 17; i++)); do
    defer engine_rm docker "lj-amb$i"
    first=$(dk create --name "lj-amb$i" --network none "$ENGINE_IMAGE" /bin/sleep 1)
    first=${first:0:1}
    if [[ -n ${seen[$first]:-} ]]; then
      prefix=$first
      break
    fi
    seen[$first]=1
  done
  [ -n "$prefix" ]
  run lje docker pid "$prefix"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Container ID prefix '$prefix' is ambiguous"* ]]
  run lje docker attach bridge "$prefix" "${ATTACH[@]}"
  [ "$status" -eq 2 ]
  [[ $output == *"ambiguous"* ]]

  run lj attach bridge lj-web "${ATTACH[@]}" --engine-socket "$BATS_TEST_TMPDIR/none.sock"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Cannot reach the container engine at $BATS_TEST_TMPDIR/none.sock"* ]]
  LANJOIN_ENGINE_SOCKET=$BATS_TEST_TMPDIR/none.sock run lj pid lj-web
  [ "$status" -eq 2 ]
  [[ $output == *"$BATS_TEST_TMPDIR/none.sock"* ]]
  DOCKER_HOST=tcp://127.0.0.1:2375 run lj attach bridge lj-web "${ATTACH[@]}"
  [ "$status" -eq 2 ]
  [[ $output == *"DOCKER_HOST=tcp://127.0.0.1:2375 is not supported"* ]]
  # a socket that is not an engine's (a plain file)
  : >"$BATS_TEST_TMPDIR/file.sock"
  run lj ip lj-web --engine-socket "$BATS_TEST_TMPDIR/file.sock"
  [ "$status" -eq 2 ]
  [[ $output == *"$BATS_TEST_TMPDIR/file.sock"* ]]

  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  no_records
}

@test "LANJOIN_ENGINE_SOCKET selects the engine; pid works for pid:N, not for netns targets" {
  require_engine podman
  engine_run podman lj-env --network none
  LANJOIN_ENGINE_SOCKET=$(engine_sock podman) run lj pid lj-env
  [ "$status" -eq 0 ]
  [ "$output" = "$(engine_inspect podman lj-env .State.Pid)" ]
  run lj pid "pid:$output"
  [ "$status" -eq 0 ]
  run lj pid "netns:${LAB_PREFIX}peer"
  [ "$status" -eq 2 ]
  [[ $output == *"has no PID"* ]]
  run lj ip "netns:${LAB_PREFIX}peer"
  [ "$status" -eq 2 ]
}

@test "docker: fault injection at every step of an attach by name leaves nothing behind" {
  require_engine docker
  attach_args 121
  engine_run docker lj-fault --network none
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local n rc
  for ((n = 1; n < 50; n++)); do
    LANJOIN_FAULT_STEP=$n run lje docker attach bridge lj-fault "${ATTACH[@]}"
    rc=$status
    if ((rc == 0)); then
      break
    fi
    echo "step $n: $output"
    [ "$rc" -eq 1 ]
    [[ $output == *"Rolled back"* ]]
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    no_records
    ! nsenter --net="$(cnetns docker lj-fault)" ip link show lan0 || false
  done
  [ "$rc" -eq 0 ]
  ((n > 2))
  run lje docker detach lj-fault
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

gc_gone() { # ENGINE LAST-OCTET
  local e=$1 name=lj-gc-$1
  require_engine "$e"
  attach_args "$2"
  engine_run "$e" "$name" --network none
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run lje "$e" attach bridge "$name" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "$name" --engine-socket "$(engine_sock "$e")"

  # The engine cannot be reached: gc falls back to the recorded PID and keeps the live one.
  LANJOIN_ENGINE_SOCKET=$BATS_TEST_TMPDIR/none.sock run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Removed 0"* ]]
  run curl_from peer "$URL"
  [ "$output" = "Hello world" ]
  # The engine says it is alive: kept.
  run lje "$e" gc
  [[ $output == *"Removed 0"* ]]

  # Gone: removed by the engine (its namespace with it); gc undoes the host side.
  engine_rm "$e" "$name"
  run lje "$e" gc
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Removed 1"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  no_records
}

@test "docker: gc undoes the attachment of a removed container, keeps a live one" {
  gc_gone docker 122
}

@test "podman: gc undoes the attachment of a removed container, keeps a live one" {
  gc_gone podman 123
}

# Docker's FORWARD DROP is opened for what lanjoin's DNAT let in, on Docker's bridge, not for
# the container's address: a LAN host routing to Docker's range reaches no unpublished port.
@test "docker: nat --to docker --publish: a LAN host routing to Docker's range reaches only the published port" {
  require_engine docker
  engine_run docker lj-natpub
  local addr gw
  addr=$(engine_inspect docker lj-natpub '.NetworkSettings.Networks.bridge.IPAddress')
  [[ $addr == 198.18.0.* ]]
  gw=$(on host ip -4 -o addr show dev br-em1 | awk '{ sub("/.*", "", $4); print $4; exit }')
  run lje docker attach nat lj-natpub --uplink br-em1 --address 198.51.100.132/24 --to docker \
    --publish tcp/8080:80
  echo "$output"
  [ "$status" -eq 0 ]
  defer env DOCKER_HOST="unix://$(engine_sock docker)" ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach lj-natpub
  defer on peer ip route del 198.18.0.0/15 via "$gw"
  on peer ip route add 198.18.0.0/15 via "$gw"
  run curl_from peer http://198.51.100.132:8080/hello.html
  [ "$output" = "Hello world" ]
  run dk exec lj-natpub /bin/busybox wget -qO- http://203.0.113.1/cgi-bin/ip
  [ "$output" = "198.51.100.132" ]
  run curl_from peer "http://$addr/hello.html"
  echo "the container's port 80 at its Docker address: status $status: $output"
  [ "$status" -ne 0 ]
  # the accept rules name Docker's bridge
  local bridge rules
  bridge=$(on host ip -4 -o route get "$addr" | sed -E 's/.* dev ([^ ]+).*/\1/')
  rules=$(on host iptables -S DOCKER-USER | grep lanjoin:)
  echo "$rules"
  [ "$(grep -c . <<<"$rules")" -eq 3 ]
  [ "$(grep -c -- "-[io] $bridge " <<<"$rules")" -eq 3 ]
}

@test "docker: nat --to docker exposes a container on Docker's bridge at a LAN address (the seed's nat case)" {
  require_engine docker
  engine_run docker lj-natweb
  local addr
  addr=$(engine_inspect docker lj-natweb '.NetworkSettings.Networks.bridge.IPAddress')
  [[ $addr == 198.18.0.* ]]
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  # Docker's own iptables rules (MASQUERADE for 198.18.0.0/24, FORWARD DROP, DOCKER-USER) are live
  on host iptables -t nat -S POSTROUTING | grep -q MASQUERADE
  run lje docker attach nat lj-natweb --uplink br-em1 --address 198.51.100.131/24 --to docker
  echo "$output"
  [ "$status" -eq 0 ]
  defer env DOCKER_HOST="unix://$(engine_sock docker)" ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach lj-natweb
  run curl_from peer http://198.51.100.131/hello.html
  [ "$output" = "Hello world" ]
  # lanjoin ip: the LAN address is the host's (on its uplink), translated to the container's
  run lje docker ip lj-natweb
  echo "$output"
  [ "${lines[-1]}" = "198.51.100.131/24 on the host's br-em1 (lanjoin nat to $addr)" ]
  run lje docker ip lj-natweb --json
  [ "$(jq -c '.addresses[] | select(.source == "lanjoin") | [.on, .via, .to]' <<<"$output")" = \
    '["host","br-em1","'"$addr"'"]' ]
  run dk exec lj-natweb /bin/busybox wget -qO- http://203.0.113.1/cgi-bin/ip
  echo "$output"
  [ "$output" = "198.51.100.131" ]
  # without --to, a container with exactly one address gets the same
  run lje docker detach lj-natweb
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  run lje docker attach nat lj-natweb --uplink br-em1 --address 198.51.100.131/24
  [ "$status" -eq 0 ]
  [ "$(lj list --json | jq -r '.[0].info.to // .[0].info.private // empty')" != "" ]
  run curl_from peer http://198.51.100.131/hello.html
  [ "$output" = "Hello world" ]
  run lje docker detach lj-natweb
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}
