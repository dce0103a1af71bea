#!/usr/bin/env bats
# CNI plugin mode as the reference client and plugins see it (issue 15, section 5): a bridge
# lanjoin creates keeps its MAC, nat CHECK reads the nft rules, ovs STATUS asks OVS (in
# cni-ovs.bats), a malformed prevResult is a decode error, static IPAM CHECK at 1.1.0, a second
# interface on the same network like the reference bridge plugin, portMappings' hostIP with IPAM.

load helpers

bats_require_minimum_version 1.5.0

setup_file() { lab_setup_file --bridge-host; }

REF=/usr/lib/cni

# Each test hands out addresses from its own block of ten, 198.51.100.100 on.
setup() {
  IPAM_DIR=$BATS_TEST_TMPDIR/ipam
  CONF=$BATS_TEST_TMPDIR/conf.json
  local k=$((BATS_TEST_NUMBER - 1))
  RANGE_START=198.51.100.$((100 + 10 * k))
  RANGE_END=198.51.100.$((109 + 10 * k))
}

# conf MODE VERSION [JQ_FILTER] — network "specnet" on br-em1 with host-local IPAM over this
# test's block (gateway .254, a default route), edited by JQ_FILTER, into $CONF
conf() {
  jq -n --arg m "$1" --arg v "$2" --arg dir "$IPAM_DIR" --arg start "$RANGE_START" \
    --arg last "$RANGE_END" '{
    cniVersion: $v, name: "specnet", type: "lanjoin", mode: $m, bridge: "br-em1",
    ipam: {type: "host-local", dataDir: $dir,
           ranges: [[{subnet: "198.51.100.0/24", rangeStart: $start,
                      rangeEnd: $last, gateway: "198.51.100.254"}]],
           routes: [{dst: "0.0.0.0/0"}]}} | '"${3:-.}" >"$CONF"
}

# cni COMMAND CONTAINER_ID NETNS [IFNAME] [CONF] — lanjoin as a CNI plugin in the host node
cni() {
  ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$3" \
    CNI_IFNAME="${4:-eth0}" CNI_PATH="$REF" "$LANJOIN" <"${5:-$CONF}"
}

# ref_cni PLUGIN COMMAND CONTAINER_ID NETNS IFNAME CONF — a Debian reference plugin, same way
ref_cni() {
  ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS="$4" \
    CNI_IFNAME="$5" CNI_PATH="$REF" "$REF/$1" <"$6"
}

ns() { echo "/run/netns/${LAB_PREFIX}$1"; }

# with_prev RESULT [CONF] — CONF ($CONF) plus prevResult, into a file; prints its path
with_prev() {
  local out
  out=$(mktemp "$BATS_TEST_TMPDIR/prev.XXXXXX")
  jq --argjson p "$1" '. + {prevResult: $p}' "${2:-$CONF}" >"$out"
  echo "$out"
}

records() { ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null | wc -l; }

@test "cni: a bridge lanjoin creates keeps its MAC when a port with a lower MAC joins; CHECK still passes" {
  add_container m1
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  conf bridge 1.1.0 '.bridge = "br-spec"'
  run --separate-stderr cni ADD cid-m1 "$(ns m1)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-m1 "$(ns m1)" eth0 "$CONF"
  local result=$output mac
  [ "$(jq -r '.interfaces[0].name' <<<"$result")" = br-spec ]
  mac=$(jq -r '.interfaces[0].mac' <<<"$result")
  [ "$mac" = "$(on host cat /sys/class/net/br-spec/address)" ]
  # a port with the lowest MAC there is (documentation range) joins the bridge, as another
  # container's veth would
  on host ip link add ljspecp0 address 00:00:5e:00:53:01 type veth peer name ljspecp1
  defer on host sh -c 'ip link del ljspecp0 2>/dev/null || true'
  on host ip link set ljspecp0 master br-spec up
  run --separate-stderr cni CHECK cid-m1 "$(ns m1)" eth0 "$(with_prev "$result")"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  [ "$(on host cat /sys/class/net/br-spec/address)" = "$mac" ]
  on host ip link del ljspecp0
  run --separate-stderr cni DEL cid-m1 "$(ns m1)" eth0 "$CONF"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni nat: CHECK finds the NAT table, chains and map elements gone or changed" {
  add_container nt
  conf nat 1.0.0 'del(.bridge) | .uplink = "br-em1" | .address = "'"$RANGE_END"'/24" | del(.ipam)
    | .publish = ["tcp/8080:80"]'
  run --separate-stderr cni ADD cid-nt "$(ns nt)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-nt "$(ns nt)" eth0 "$CONF"
  local result=$output prev dnat
  prev=$(with_prev "$result")
  run --separate-stderr cni CHECK cid-nt "$(ns nt)" eth0 "$prev"
  [ "$status" -eq 0 ]
  # an element of a map goes (the rules stay, but nothing jumps to them)
  on host nft delete element ip lanjoin inbound "{ $RANGE_END }"
  run --separate-stderr cni CHECK cid-nt "$(ns nt)" eth0 "$prev"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 102 ]
  [[ $output == *"map inbound"*"$RANGE_END"* ]]
  # the DNAT rule goes
  dnat=$(on host nft -j list table ip lanjoin | jq -r '.nftables[].chain.name // empty' | grep '_dnat$')
  on host nft add element ip lanjoin inbound "{ $RANGE_END : jump $dnat }"
  run --separate-stderr cni CHECK cid-nt "$(ns nt)" eth0 "$prev"
  [ "$status" -eq 0 ]
  on host nft flush chain ip lanjoin "$dnat"
  run --separate-stderr cni CHECK cid-nt "$(ns nt)" eth0 "$prev"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"rules of chains $dnat"* ]]
  # the whole table goes
  on host nft delete table ip lanjoin
  run --separate-stderr cni CHECK cid-nt "$(ns nt)" eth0 "$prev"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 102 ]
  [[ $output == *"table ip lanjoin is missing"* ]]
  run --separate-stderr cni DEL cid-nt "$(ns nt)" eth0 "$CONF"
  [ "$status" -eq 0 ]
}

@test "cni: CHECK and ADD refuse a malformed prevResult with a decode error (code 6)" {
  add_container pr
  conf bridge 1.0.0
  run --separate-stderr cni ADD cid-pr "$(ns pr)"
  [ "$status" -eq 0 ]
  defer cni DEL cid-pr "$(ns pr)" eth0 "$CONF"
  local result=$output f
  run --separate-stderr cni CHECK cid-pr "$(ns pr)" eth0 "$(with_prev "$result")"
  [ "$status" -eq 0 ]
  for f in '.ips = "x"' '.interfaces = {}' '.ips[0].address = "198.51.100.1"' \
    '.ips[0].interface = 7' '.ips[0].gateway = 5' '.routes = [{gw: "198.51.100.254"}]' \
    '.routes[0].dst = "nowhere"' '.interfaces[0].name = 3' '.dns = []' \
    '.dns.nameservers = [1]' '.ips[0].version = "5"' '.routes[0].mtu = "1500"'; do
    run --separate-stderr cni CHECK cid-pr "$(ns pr)" eth0 "$(with_prev "$(jq -c "$f" <<<"$result")")"
    echo "$f: $status $output $stderr"
    [ "$status" -eq 1 ]
    [ "$(jq -r .code <<<"$output")" = 6 ]
    [[ $stderr == lanjoin:*prevResult* ]]
  done
  run --separate-stderr cni CHECK cid-pr "$(ns pr)" eth0 "$(with_prev '"x"')"
  [ "$(jq -r .code <<<"$output")" = 6 ]
  # ADD chained after a plugin whose result is malformed changes nothing
  add_container pr2
  run --separate-stderr cni ADD cid-pr2 "$(ns pr2)" eth0 "$(with_prev "$(jq -c '.ips = "x"' <<<"$result")")"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 6 ]
  [ "$(records)" -eq 1 ]
  ! on pr2 ip link show eth0 || false
  # DEL tolerates it: a runtime retries a failed DEL forever
  run --separate-stderr cni DEL cid-pr "$(ns pr)" eth0 "$(with_prev "$(jq -c '.ips = "x"' <<<"$result")")"
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
}

@test "cni: static IPAM (spec 1.0.0 only) ADD, CHECK and DEL at 1.1.0" {
  add_container st
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  conf bridge 1.1.0 '.ipam = {type: "static",
    addresses: [{address: "'"$RANGE_START"'/24", gateway: "198.51.100.254"}],
    routes: [{dst: "0.0.0.0/0"}]}'
  run --separate-stderr cni ADD cid-st "$(ns st)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-st "$(ns st)" eth0 "$CONF"
  local result=$output
  [ "$(jq -r .cniVersion <<<"$result")" = 1.1.0 ]
  [ "$(jq -r '.ips[0].address' <<<"$result")" = "$RANGE_START/24" ]
  run --separate-stderr cni CHECK cid-st "$(ns st)" eth0 "$(with_prev "$result")"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  run --separate-stderr cni DEL cid-st "$(ns st)" eth0 "$(with_prev "$result")"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: an IPv6 link-local address (runtimeConfig.ips, or from static IPAM) is an invalid configuration (code 7); nothing changes" {
  add_container llc
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  snapshot llc >"$BATS_TEST_TMPDIR/llc.before"
  # the runtime's addresses, no IPAM: refused while the configuration is read
  conf bridge 1.0.0 'del(.ipam) | .capabilities = {ips: true}
    | .runtimeConfig = {ips: ["2001:db8:1::142/64", "fe80::142/64"]}'
  run --separate-stderr cni ADD cid-llc "$(ns llc)"
  echo "status $status, stdout: $output, stderr: $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 7 ]
  [[ $(jq -r .details <<<"$output") == *"runtimeConfig.ips[1] is a link-local address (fe80::/10)"* ]]
  # the static IPAM plugin's result: refused by the attach, as on the command line
  conf bridge 1.0.0 '.ipam = {type: "static", addresses: [{address: "fe80::143/64"}]}'
  run --separate-stderr cni ADD cid-llc "$(ns llc)"
  echo "status $status, stdout: $output, stderr: $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 7 ]
  [[ $(jq -r .details <<<"$output") == *"--ip fe80::143/64 is a link-local address (fe80::/10)"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  assert_same_state llc "$BATS_TEST_TMPDIR/llc.before"
  [ "$(ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null | wc -l)" -eq 0 ]
}

@test "cni: a second interface on the same network in one container, like the reference bridge plugin" {
  add_container two
  add_container reftwo
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  snapshot two >"$BATS_TEST_TMPDIR/two.before"
  conf bridge 1.0.0
  # the reference bridge plugin: both ADDs succeed, one default route per interface
  jq '.type = "bridge" | del(.mode) | .name = "refnet" | .ipam.dataDir += "-ref"' "$CONF" \
    >"$BATS_TEST_TMPDIR/ref.json"
  local i
  for i in eth0 eth1; do
    run --separate-stderr ref_cni bridge ADD cid-ref "$(ns reftwo)" $i "$BATS_TEST_TMPDIR/ref.json"
    echo "reference $i: $status $output $stderr"
    [ "$status" -eq 0 ]
    defer ref_cni bridge DEL cid-ref "$(ns reftwo)" $i "$BATS_TEST_TMPDIR/ref.json"
  done
  [ "$(on reftwo ip -4 -j route show default | jq -r '[.[].dev] | sort | join(" ")')" = "eth0 eth1" ]
  # lanjoin the same way
  local r0 r1 a0 a1
  run --separate-stderr cni ADD cid-two "$(ns two)" eth0
  [ "$status" -eq 0 ]
  defer cni DEL cid-two "$(ns two)" eth0 "$CONF"
  r0=$output
  run --separate-stderr cni ADD cid-two "$(ns two)" eth1
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-two "$(ns two)" eth1 "$CONF"
  r1=$output
  [ "$(on two ip -4 -j route show default | jq -r '[.[].dev] | sort | join(" ")')" = "eth0 eth1" ]
  a0=$(jq -r '.ips[0].address | split("/")[0]' <<<"$r0")
  a1=$(jq -r '.ips[0].address | split("/")[0]' <<<"$r1")
  run curl_from peer "http://$a0/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from peer "http://$a1/hello.html"
  [ "$output" = "Hello world" ]
  run --separate-stderr cni CHECK cid-two "$(ns two)" eth0 "$(with_prev "$r0")"
  [ "$status" -eq 0 ]
  run --separate-stderr cni CHECK cid-two "$(ns two)" eth1 "$(with_prev "$r1")"
  [ "$status" -eq 0 ]
  # DEL of one leaves the other's default route; DEL of both leaves the container as it was
  run --separate-stderr cni DEL cid-two "$(ns two)" eth1 "$CONF"
  [ "$status" -eq 0 ]
  [ "$(on two ip -4 -j route show default | jq -r '[.[].dev] | join(" ")')" = eth0 ]
  run --separate-stderr cni CHECK cid-two "$(ns two)" eth0 "$(with_prev "$r0")"
  [ "$status" -eq 0 ]
  run --separate-stderr cni DEL cid-two "$(ns two)" eth0 "$CONF"
  [ "$status" -eq 0 ]
  assert_same_state two "$BATS_TEST_TMPDIR/two.before"
}

@test "cni nat: a portMappings hostIP other than the address IPAM gave is refused, not ignored" {
  add_container hp
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  # IPAM hands out RANGE_START first
  conf nat 1.0.0 'del(.bridge) | .uplink = "br-em1" | .ipam.routes = [] | del(.ipam.ranges[0][0].gateway)
    | .capabilities = {portMappings: true}
    | .runtimeConfig = {portMappings: [{hostPort: 8085, containerPort: 80, hostIP: "198.51.100.3"}]}'
  run --separate-stderr cni ADD cid-hp "$(ns hp)"
  echo "$output $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 2 ]
  [[ $output == *"198.51.100.3"*"$RANGE_START"* ]]
  [ "$(records)" -eq 0 ]
  [ -z "$(ls "$IPAM_DIR/specnet" 2>/dev/null | grep -E '^[0-9]' || true)" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  # the address IPAM gives is honoured: the port answers there (a fresh host-local store:
  # it would go on from the address it gave last)
  conf nat 1.0.0 'del(.bridge) | .uplink = "br-em1" | .ipam.routes = [] | del(.ipam.ranges[0][0].gateway)
    | .ipam.dataDir += "-2"
    | .capabilities = {portMappings: true}
    | .runtimeConfig = {portMappings: [{hostPort: 8085, containerPort: 80, hostIP: "'"$RANGE_START"'"}]}'
  run --separate-stderr cni ADD cid-hp "$(ns hp)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-hp "$(ns hp)" eth0 "$CONF"
  run curl_from peer "http://$RANGE_START:8085/hello.html"
  [ "$output" = "Hello world" ]
  run --separate-stderr cni DEL cid-hp "$(ns hp)" eth0 "$CONF"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}
