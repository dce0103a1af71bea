#!/usr/bin/env bats
# CNI plugin mode, the macvlan and nat ways, on the plain lab (em1 in the host): ADD with
# host-local IPAM, the peer reaches the container, CHECK, DEL without the namespace leaves the
# host as it was; the result's shape matches the reference macvlan plugin's.

load helpers

bats_require_minimum_version 1.5.0

REF=/usr/lib/cni

setup() {
  IPAM_DIR=$BATS_TEST_TMPDIR/ipam
  CONF=$BATS_TEST_TMPDIR/conf.json
  local k=$((BATS_TEST_NUMBER - 1))
  RANGE_START=198.51.100.$((100 + 10 * k))
  RANGE_END=198.51.100.$((109 + 10 * k))
}

# conf MODE VERSION [JQ_FILTER] — network "waynet" with host-local IPAM over this test's block
conf() {
  jq -n --arg m "$1" --arg v "$2" --arg dir "$IPAM_DIR" --arg start "$RANGE_START" \
    --arg last "$RANGE_END" '{
    cniVersion: $v, name: "waynet", type: "lanjoin", mode: $m,
    ipam: {type: "host-local", dataDir: $dir,
           ranges: [[{subnet: "198.51.100.0/24", rangeStart: $start,
                      rangeEnd: $last, gateway: "198.51.100.254"}]],
           routes: [{dst: "0.0.0.0/0"}]}} | '"${3:-.}" >"$CONF"
}

cni() {
  ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$3" \
    CNI_IFNAME="${4:-eth0}" CNI_PATH="$REF" "$LANJOIN" <"${5:-$CONF}"
}

ref_cni() {
  ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS="$4" \
    CNI_IFNAME=eth0 CNI_PATH="$REF" "$REF/$1" <"$5"
}

ns() { echo "/run/netns/${LAB_PREFIX}$1"; }
ipam_ips() { ls "$IPAM_DIR/waynet" 2>/dev/null | grep -E '^[0-9]' || true; }
with_prev() {
  jq --argjson p "$1" '. + {prevResult: $p}' "$CONF" >"$BATS_TEST_TMPDIR/prev.json"
  echo "$BATS_TEST_TMPDIR/prev.json"
}

@test "cni macvlan: the peer reaches the container; same shape as the reference macvlan; DEL without the namespace" {
  add_container mv
  add_container refmv
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  conf macvlan 1.0.0 '.master = "em1"'
  run --separate-stderr cni ADD cid-mv "$(ns mv)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-mv "$(ns mv)" eth0 "$CONF"
  local a=$output b ip_a ip_b
  [ "$(jq -r '.interfaces | length' <<<"$a")" -eq 1 ]
  [ "$(jq -r '.interfaces[0].mac' <<<"$a")" = "$(on mv cat /sys/class/net/eth0/address)" ]
  [ "$(on mv ip -j -d link show eth0 | jq -r '.[0].linkinfo.info_kind')" = macvlan ]
  jq '.type = "macvlan" | del(.mode)' "$CONF" >"$BATS_TEST_TMPDIR/ref.json"
  run --separate-stderr ref_cni macvlan ADD cid-refmv "$(ns refmv)" "$BATS_TEST_TMPDIR/ref.json"
  [ "$status" -eq 0 ]
  defer ref_cni macvlan DEL cid-refmv "$(ns refmv)" "$BATS_TEST_TMPDIR/ref.json"
  b=$output
  shape='{cniVersion, interfaces: [.interfaces[] | keys], ips: [.ips[] | keys | sort], routes, dns,
          gw: [.ips[].gateway], idx: [.ips[].interface]}'
  [ "$(jq -S -c "$shape" <<<"$a")" = "$(jq -S -c "$shape" <<<"$b")" ]
  ip_a=$(jq -r '.ips[0].address | split("/")[0]' <<<"$a")
  ip_b=$(jq -r '.ips[0].address | split("/")[0]' <<<"$b")
  run curl_from peer "http://$ip_a/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from peer "http://$ip_b/hello.html"
  [ "$output" = "Hello world" ]
  run --separate-stderr cni CHECK cid-mv "$(ns mv)" eth0 "$(with_prev "$a")"
  [ "$status" -eq 0 ]
  run --separate-stderr ref_cni macvlan DEL cid-refmv "$(ns refmv)" "$BATS_TEST_TMPDIR/ref.json"
  [ "$status" -eq 0 ]

  lab container del mv
  run --separate-stderr cni DEL cid-mv "$(ns mv)" eth0 "$(with_prev "$a")"
  [ "$status" -eq 0 ]
  run --separate-stderr cni DEL cid-mv "" eth0 "$(with_prev "$a")"
  [ "$status" -eq 0 ]
  [ -z "$(ipam_ips)" ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni macvlan: hostShim lets the host reach the container; DEL removes the shim with the last container" {
  add_container sh1
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  conf macvlan 1.1.0 '.master = "em1" | .hostShim = "'"$RANGE_END"'/24"'
  run --separate-stderr cni ADD cid-sh1 "$(ns sh1)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-sh1 "$(ns sh1)" eth0 "$CONF"
  local ip
  ip=$(jq -r '.ips[0].address | split("/")[0]' <<<"$output")
  run curl_from host "http://$ip/hello.html"
  [ "$output" = "Hello world" ]
  run --separate-stderr cni STATUS "" "" "" "$CONF"
  [ "$status" -eq 0 ]
  run --separate-stderr cni DEL cid-sh1 "$(ns sh1)"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  # STATUS: the master must exist
  conf macvlan 1.1.0 '.master = "nosuch0"'
  run --separate-stderr cni STATUS "" "" "" "$CONF"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 50 ]
}

@test "cni nat: the IPAM address is claimed on the uplink; the peer reaches the container there, the outside sees it; DEL restores the host" {
  add_container nt
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  conf nat 1.1.0 '.uplink = "em1"'
  run --separate-stderr cni ADD cid-nt "$(ns nt)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-nt "$(ns nt)" eth0 "$CONF"
  local r=$output lan priv
  lan=$(jq -r '.ips[0].address | split("/")[0]' <<<"$r")
  [ "$lan" = "$RANGE_START" ]
  # interfaces: the uplink (holding the LAN address), the host end, the container end
  [ "$(jq -r '[.interfaces[].name] | .[0]' <<<"$r")" = em1 ]
  [[ $(jq -r '.interfaces[1].name' <<<"$r") == ljn* ]]
  [ "$(jq -r '.interfaces[2].sandbox' <<<"$r")" = "$(ns nt)" ]
  [ "$(jq -c '[.ips[].interface]' <<<"$r")" = '[0,2]' ]
  priv=$(jq -r '.ips[1].address | split("/")[0]' <<<"$r")
  on nt ip -4 -o addr show dev eth0 | grep -q "inet $priv/"
  [ "$(jq -r '.routes[0].gw' <<<"$r")" = "$(jq -r '.ips[1].gateway' <<<"$r")" ]
  on host ip -o addr show dev em1 | grep -q "inet $lan/24"
  run curl_from peer "http://$lan/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from nt http://203.0.113.1/cgi-bin/ip
  [ "$output" = "$lan" ]
  run --separate-stderr cni CHECK cid-nt "$(ns nt)" eth0 "$(with_prev "$r")"
  [ "$status" -eq 0 ]
  # someone removes the LAN address from the uplink: CHECK says so
  on host ip addr del "$lan/24" dev em1
  run --separate-stderr cni CHECK cid-nt "$(ns nt)" eth0 "$(with_prev "$r")"
  [ "$status" -eq 1 ]
  [[ $output == *"$lan/24 is missing from em1"* ]]
  on host ip addr add "$lan/24" dev em1

  lab container del nt
  run --separate-stderr cni DEL cid-nt "" eth0 "$CONF"
  [ "$status" -eq 0 ]
  [ -z "$(ipam_ips)" ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni nat: runtimeConfig.portMappings and publish become published ports; DEL without them removes the rules" {
  add_container pm
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  conf nat 1.0.0 '.uplink = "em1" | .address = "'"$RANGE_END"'/24" | del(.ipam) | .publish = ["tcp/8082:80"]
    | .capabilities = {portMappings: true}
    | .runtimeConfig = {portMappings: [{hostPort: 8081, containerPort: 80, protocol: "tcp", hostIP: ""}]}'
  run --separate-stderr cni ADD cid-pm "$(ns pm)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-pm "$(ns pm)" eth0 "$CONF"
  run curl_from peer "http://$RANGE_END:8081/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from peer "http://$RANGE_END:8082/hello.html"
  [ "$output" = "Hello world" ]
  [ -n "$(on host nft list table ip lanjoin)" ]
  # DEL with a configuration that no longer carries the mappings (plugins#509/#510)
  jq 'del(.runtimeConfig)' "$CONF" >"$BATS_TEST_TMPDIR/plain.json"
  run --separate-stderr cni DEL cid-pm "$(ns pm)" eth0 "$BATS_TEST_TMPDIR/plain.json"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  # a hostIP that is not the network's address is refused
  conf nat 1.0.0 '.uplink = "em1" | .address = "'"$RANGE_END"'/24" | del(.ipam)
    | .runtimeConfig = {portMappings: [{hostPort: 8081, containerPort: 80, hostIP: "198.51.100.3"}]}'
  run --separate-stderr cni ADD cid-pm "$(ns pm)"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 2 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni nat: an address off the uplink's LAN is refused (code 7, the prefixes named), nothing changed" {
  add_container off
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  conf nat 1.0.0 '.uplink = "em1" | .address = "203.0.113.5/24" | del(.ipam)'
  run --separate-stderr cni ADD cid-off "$(ns off)"
  echo "$output $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 7 ]
  [[ $(jq -r .details <<<"$output") == *"not on the LAN of uplink 'em1'"*"198.51.100.0/24"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

# fault_every_step MODE_FILTER CONTAINER — ADD with LANJOIN_FAULT_STEP=1.. until it succeeds:
# each failure is code 100, rolled back, the address released, the host as before.
fault_every_step() {
  local n=1
  conf "$1" 1.0.0 "$2"
  while :; do
    run --separate-stderr env LANJOIN_FAULT_STEP=$n ip netns exec "${LAB_PREFIX}host" env \
      CNI_COMMAND=ADD CNI_CONTAINERID="cid-$3" CNI_NETNS="$(ns "$3")" CNI_IFNAME=eth0 \
      CNI_PATH="$REF" "$LANJOIN" <"$CONF"
    [ "$status" -eq 0 ] && break
    echo "step $n: $output"
    [ "$status" -eq 1 ]
    [ "$(jq -r .code <<<"$output")" = 100 ]
    [[ $output == *"step $n of"*"nothing was left behind"* ]]
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    [ -z "$(ipam_ips)" ]
    [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
    n=$((n + 1))
    [ "$n" -le 30 ]
  done
  FAULT_STEPS=$((n - 1))
  run --separate-stderr cni DEL "cid-$3" "$(ns "$3")"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni macvlan and nat: a failure at every attach step rolls back and releases the address" {
  add_container fm
  add_container fn
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  fault_every_step macvlan '.master = "em1"' fm
  echo "macvlan: $FAULT_STEPS steps"
  [ "$FAULT_STEPS" -ge 4 ]
  fault_every_step nat '.uplink = "em1" | .publish = ["8084:80"]' fn
  echo "nat: $FAULT_STEPS steps"
  [ "$FAULT_STEPS" -ge 6 ]
}

@test "cni: conflictCheck refuses an address another host on the LAN already uses" {
  add_container cc
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  # the peer is 198.51.100.10
  conf macvlan 1.0.0 '.master = "em1" | del(.ipam) | .conflictCheck = true
    | .runtimeConfig = {ips: ["198.51.100.10/24"]}'
  run --separate-stderr cni ADD cid-cc "$(ns cc)"
  echo "$output $stderr"
  [ "$status" -eq 1 ]
  [[ $output == *"198.51.100.10"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
  # a free address passes the probe
  conf macvlan 1.0.0 '.master = "em1" | del(.ipam) | .conflictCheck = true
    | .runtimeConfig = {ips: ["'"$RANGE_START"'/24"]}'
  run --separate-stderr cni ADD cid-cc "$(ns cc)"
  [ "$status" -eq 0 ]
  run --separate-stderr cni DEL cid-cc "$(ns cc)"
  [ "$status" -eq 0 ]
}
