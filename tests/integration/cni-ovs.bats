#!/usr/bin/env bats
# CNI plugin mode, the ovs way: "mode": "ovs" on the lab's Open vSwitch bridge br-em1 (userspace
# datapath inside the lab host), with host-local IPAM; DEL leaves the OVS database as it was.

load helpers

bats_require_minimum_version 1.5.0

REF=/usr/lib/cni

setup_file() {
  lab_setup_file --ovs-host
  eval "$("$LAB" ovs env)"
  export LAB_OVSDB
}

setup() {
  IPAM_DIR=$BATS_TEST_TMPDIR/ipam
  CONF=$BATS_TEST_TMPDIR/conf.json
}

vsctl() { ovs-vsctl "--db=$LAB_OVSDB" --timeout=10 "$@"; }

# conf VERSION [JQ_FILTER]
conf() {
  jq -n --arg v "$1" --arg dir "$IPAM_DIR" --arg db "$LAB_OVSDB" '{
    cniVersion: $v, name: "ovsnet", type: "lanjoin", mode: "ovs", bridge: "br-em1", ovsdb: $db,
    ipam: {type: "host-local", dataDir: $dir,
           ranges: [[{subnet: "198.51.100.0/24", rangeStart: "198.51.100.30",
                      rangeEnd: "198.51.100.39", gateway: "198.51.100.254"}]],
           routes: [{dst: "0.0.0.0/0"}]}} | '"${2:-.}" >"$CONF"
}

cni() {
  ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$3" \
    CNI_IFNAME="${4:-eth0}" CNI_PATH="$REF" "$LANJOIN" <"${5:-$CONF}"
}

ns() { echo "/run/netns/${LAB_PREFIX}$1"; }

@test "cni ovs: ADD puts the container on the OVS bridge, CHECK passes, DEL restores host and OVS db" {
  add_container o
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  conf 1.0.0
  run --separate-stderr cni ADD cid-o "$(ns o)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-o "$(ns o)" eth0 "$CONF"
  local result=$output port addr
  [ "$(jq -r '.interfaces[0].name' <<<"$result")" = br-em1 ]
  port=$(jq -r '.interfaces[1].name' <<<"$result")
  [[ $port == ljo* ]]
  vsctl list-ports br-em1 | grep -qx "$port"
  [ "$(jq -r '.interfaces[2].sandbox' <<<"$result")" = "$(ns o)" ]
  [ "$(jq -r '.interfaces[2].mac' <<<"$result")" = "$(on o cat /sys/class/net/eth0/address)" ]
  addr=$(jq -r '.ips[0].address | split("/")[0]' <<<"$result")
  run curl_from peer "http://$addr/hello.html"
  [ "$output" = "Hello world" ]
  jq --argjson p "$result" '. + {prevResult: $p}' "$CONF" >"$BATS_TEST_TMPDIR/prev.json"
  run --separate-stderr cni CHECK cid-o "$(ns o)" eth0 "$BATS_TEST_TMPDIR/prev.json"
  [ "$status" -eq 0 ]
  # DEL without the namespace
  lab container del o
  run --separate-stderr cni DEL cid-o "" eth0 "$BATS_TEST_TMPDIR/prev.json"
  [ "$status" -eq 0 ]
  ! vsctl list-ports br-em1 | grep -qx "$port" || false
  [ -z "$(ls "$IPAM_DIR/ovsnet" | grep -E '^[0-9]')" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni ovs: vlan tags the port; STATUS needs the OVS bridge" {
  add_container v
  conf 1.1.0 '.vlan = 42'
  run --separate-stderr cni ADD cid-v "$(ns v)"
  [ "$status" -eq 0 ]
  defer cni DEL cid-v "$(ns v)" eth0 "$CONF"
  [ "$(vsctl get Port "$(jq -r '.interfaces[1].name' <<<"$output")" tag)" = 42 ]
  run --separate-stderr cni STATUS "" "" "" "$CONF"
  [ "$status" -eq 0 ]
  conf 1.1.0 '.bridge = "br-nosuch"'
  run --separate-stderr cni STATUS "" "" "" "$CONF"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 50 ]
}

@test "cni ovs: STATUS fails (code 50) when ovsdb-server does not answer or lacks the bridge" {
  conf 1.1.0
  run --separate-stderr cni STATUS "" "" "" "$CONF"
  [ "$status" -eq 0 ]
  # no ovsdb-server at that socket
  conf 1.1.0 '.ovsdb = "unix:'"$BATS_TEST_TMPDIR"'/none/db.sock"'
  run --separate-stderr cni STATUS "" "" "" "$CONF"
  echo "$output $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 50 ]
  # a socket nobody listens on (ovsdb-server died), next to the running ovs-vswitchd's pid file
  local run=$BATS_TEST_TMPDIR/stale
  mkdir "$run"
  cp "$(dirname "${LAB_OVSDB#unix:}")/ovs-vswitchd.pid" "$run/"
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$run/db.sock"
  [ -S "$run/db.sock" ]
  conf 1.1.0 '.ovsdb = "unix:'"$run"'/db.sock"'
  run --separate-stderr cni STATUS "" "" "" "$CONF"
  echo "$output $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 50 ]
  # the link exists, but it is not a bridge in this OVS database
  on host ip link add ljovsx0 type veth peer name ljovsx1
  defer on host sh -c 'ip link del ljovsx0 2>/dev/null || true'
  conf 1.1.0 '.bridge = "ljovsx0"'
  run --separate-stderr cni STATUS "" "" "" "$CONF"
  echo "$output $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = 50 ]
  [[ $output == *"not in the database"* ]]
}
