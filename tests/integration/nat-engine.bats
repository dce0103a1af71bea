#!/usr/bin/env bats
# The nat way forwarding to a Docker container's own address on an engine network (no --to,
# --to docker, --to docker:NETWORK), against a real dockerd of the lab (containers on Docker's
# default bridge, 198.18.0.0/24) and lanjoin's Docker plugin beside it:
#  - the network the address was taken from is kept (record, persistent spec), so that a
#    container that joined a second network since is still forwarded to the same one after a
#    restart, a repair or a reboot (the spec alone), and one that left it is said to have;
#  - a container that also joins a macvlan network on the same LAN (the plugin's) answers LAN
#    hosts through the macvlan, untranslated: status warns about it.

load helpers
load engine-helpers
load docker-plugin-helpers
load watch-helpers

setup_file() {
  LANJOIN_SPEC_DIR=$(mktemp -d /tmp/lanjoin-specs.XXXXXX)
  export LANJOIN_SPEC_DIR
  plugin_docker_setup_file
}
setup() { no_leftover_networks; }
teardown_file() {
  plugin_docker_teardown_file
  [[ ${LANJOIN_SPEC_DIR:-} == /tmp/lanjoin-specs.* ]] && rm -rf "$LANJOIN_SPEC_DIR"
}

addr_on() { engine_inspect docker "$2" ".NetworkSettings.Networks[\"$1\"].IPAddress"; } # NET NAME
# A second engine network for the container (removed after the test).
other_net() {
  dk network create --subnet 198.18.7.0/24 lj-other >/dev/null
  defer dk network rm lj-other
}
spec_file() { ls "$LANJOIN_SPEC_DIR"/*.json; }

@test "nat without --to, --persist: the container joins a second network, restarts, stops and starts (the spec alone) -> still forwarded to its address on bridge" {
  require_engine docker
  engine_run docker web
  who_is web
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  defer ljd detach web
  # the network the address came from: in the record and in the stored spec
  [ "$(lj list --json | jq -r '.[] | select(.way == "nat") | .info.to_network')" = bridge ]
  [ "$(jq -r .to "$(spec_file)")" = docker:bridge ]
  # the stored spec applied again is the attachment as asked (its derived MAC names nothing:
  # nat --to makes no interface)
  run ljd apply "$(spec_file)"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"nothing to do"* ]]
  peer_gets web
  other_net
  dk network connect lj-other web
  defer dk network disconnect -f lj-other web
  # a restart: the record's network
  dk restart -t 0 web
  run ljd reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  nat_to_only "$(addr_on bridge web)"
  peer_gets web
  # stopped (the record dropped, the spec kept) and started: the spec's network
  dk stop -t 0 web
  run ljd reconcile
  echo "$output"
  [[ $output == *"its persistent spec is kept"* ]]
  dk start web
  run ljd reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"from its persistent spec"* ]]
  nat_to_only "$(addr_on bridge web)"
  peer_gets web
  run ljd status web
  echo "$output"
  [ "$status" -eq 0 ]
  # the command given first, again: already as asked (the stored network is lanjoin's choice)
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already attached"*"as asked"* ]]
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --to docker:bridge
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already attached"*"as asked"* ]]
}

@test "nat --to docker:NETWORK forwards to the address on that network; a network the container is not on, or a malformed one, is refused (exit 2)" {
  require_engine docker
  engine_run docker web
  who_is web
  other_net
  dk network connect lj-other web
  defer dk network disconnect -f lj-other web
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --to docker:nosuch
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Container 'web' is not on network 'nosuch' (its networks: "*"lj-other"* ]]
  for bad in docker: 'docker:a b' docker:-x podman:; do
    run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --to "$bad"
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"Invalid --to"* ]]
  done
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --to docker:lj-other
  echo "$output"
  [ "$status" -eq 0 ]
  defer ljd detach web
  [[ $output == *"translated to its address $(addr_on lj-other web)"* ]]
  [[ $output != *warning* ]] # its replies go through the host (via docker0): translated
  nat_to_only "$(addr_on lj-other web)"
  peer_gets web
  [ "$(lj list --json | jq -r '.[] | select(.way == "nat") | .info.to_network')" = lj-other ]
  # podman:NETWORK is the same word (the engine is the container's); another network is not
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --to podman:lj-other
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already attached"*"as asked"* ]]
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --to docker:bridge
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"already attached"*"to differs"* ]]
  run ljd detach web
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "nat --persist from Docker: the container leaves the network its address came from -> not forwarded to another one; status and reconcile say so; connected again -> forwarded" {
  require_engine docker
  engine_run docker web
  who_is web
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --persist
  [ "$status" -eq 0 ]
  defer ljd detach web
  old=$(addr_on bridge web)
  other_net
  dk network connect lj-other web
  defer dk network disconnect -f lj-other web
  dk network disconnect bridge web
  other=$(addr_on lj-other web)
  run ljd status web
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"the forward's address $old (--to) is no longer an address of the target (its address on engine network 'bridge'"* ]]
  run ljd reconcile web
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"Container 'web' is not on network 'bridge' (its networks: lj-other)"*"docker network connect bridge web"* ]]
  # nothing forwards the LAN address to its address on the other network
  ! on host nft list table ip lanjoin 2>/dev/null | grep -q "dnat to $other" || false
  run ljd status web
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"its repair failed: "*"is not on network 'bridge'"* ]]
  dk network connect bridge web
  run ljd reconcile web
  echo "$output"
  [ "$status" -eq 0 ]
  nat_to_only "$(addr_on bridge web)"
  peer_gets web
  [ "$(jq -r .to "$(spec_file)")" = docker:bridge ]
}

@test "nat --to docker, the container also on a lanjoin macvlan network of the same LAN: status warns (replies leave through the macvlan), not drifted; disconnected -> no warning, answers again" {
  require_engine docker
  run dk network create -d lanjoin -o mode=macvlan -o parent=em1 \
    --subnet 198.51.100.0/24 --gateway 198.51.100.254 lan
  echo "$output"
  [ "$status" -eq 0 ]
  defer net_rm lan
  engine_run docker web
  who_is web
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --to docker
  [ "$status" -eq 0 ]
  defer ljd detach web
  peer_gets web
  run ljd status web
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *warning* ]]
  dk network connect --ip 198.51.100.133 lan web # (engine_rm's removal disconnects it)
  # the replies leave through the macvlan, from the bridge address: the peer gets no answer
  ! peer_gets web || false
  run ljd status web
  echo "$output"
  [ "$status" -eq 0 ]
  bridge=$(addr_on bridge web)
  [[ $output == *"nat"*"ok"*"warning: its replies to the LAN leave the target through eth"*"(its route 198.51.100.0/24), not through eth0 where the forward's address $bridge is"*"docker network disconnect NETWORK web"* ]]
  run ljd status web --json
  [ "$status" -eq 0 ]
  jq -e '.attachments[] | select(.way == "nat") | .status == "ok" and (.warning | test("leave the target through"))' <<<"$output"
  jq -e '[.attachments[] | select(.way != "nat") | has("warning")] == [false]' <<<"$output"
  # attached while it is on that network: attach warns too
  run ljd detach web
  [ "$status" -eq 0 ]
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --to docker:bridge
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"warning: web answers the LAN through 'eth"*"not through the link of $bridge"*"drop them"* ]]
  # the LAN peer reaches it at its own LAN address
  [ "$(curl_from peer http://198.51.100.133/who.html)" = web ]
  dk network disconnect lan web
  run ljd status web
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *warning* ]]
  peer_gets web
}

@test "nat --to docker beside a lanjoin attachment of the same container on the LAN: its source route brings the replies back through the host, so no warning, and the peer gets an answer" {
  require_engine docker
  engine_run docker web
  who_is web
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --to docker:bridge
  [ "$status" -eq 0 ]
  defer ljd detach web
  run ljd attach macvlan web --parent em1 --ifname lan1 --ip 198.51.100.140/24 --no-default-route
  echo "$output"
  [ "$status" -eq 0 ]
  # lanjoin keeps replies from the engine address on their own link (rule 32700 and its table)
  peer_gets web
  run ljd status web
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *warning* ]]
}
