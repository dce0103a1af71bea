#!/usr/bin/env bats
# CNI plugin mode (issue 9): the protocol driven directly (every command x version, DEL without
# a namespace, ADD twice, CHECK after tampering, GC, hostile input), side by side with Debian's
# reference bridge plugin, and Podman 4.3 as a real client.

load helpers
load engine-helpers # podman_mntns_start, podman_nsenter

bats_require_minimum_version 1.5.0

setup_file() { lab_setup_file --bridge-host; }

VERSIONS=(0.3.0 0.3.1 0.4.0 1.0.0 1.1.0)
REF=/usr/lib/cni

# Each test hands out addresses from its own block of eight (RANGE_START..RANGE_END), so that
# no address of an earlier test is reused while the peer may still have its old MAC cached.
# The blocks are those of the LAN that nothing else uses (not the peer's .10, the host's .76,
# the DHCP pool .150-.199 or the gateway's .254), in turn; past the last block the first comes
# again, by then long unused.
BLOCK_STARTS=()
for _r in "11 75" "77 149" "200 253"; do
  read -r _lo _hi <<<"$_r"
  for ((_b = _lo; _b + 7 <= _hi; _b += 8)); do BLOCK_STARTS+=("$_b"); done
done
setup() {
  IPAM_DIR=$BATS_TEST_TMPDIR/ipam
  CONF=$BATS_TEST_TMPDIR/conf.json
  local base=${BLOCK_STARTS[$(((BATS_TEST_NUMBER - 1) % ${#BLOCK_STARTS[@]}))]}
  RANGE_START=198.51.100.$base
  RANGE_END=198.51.100.$((base + 7))
}

# conf VERSION [JQ_FILTER] — the bridge network "labnet" on br-em1 with host-local IPAM
# (this test's block, gateway .254, a default route), edited by JQ_FILTER, into $CONF.
conf() {
  jq -n --arg v "$1" --arg dir "$IPAM_DIR" --arg start "$RANGE_START" --arg last "$RANGE_END" '{
    cniVersion: $v, name: "labnet", type: "lanjoin", mode: "bridge", bridge: "br-em1",
    ipam: {type: "host-local", dataDir: $dir,
           ranges: [[{subnet: "198.51.100.0/24", rangeStart: $start,
                      rangeEnd: $last, gateway: "198.51.100.254"}]],
           routes: [{dst: "0.0.0.0/0"}]}} | '"${2:-.}" >"$CONF"
}

# cni COMMAND CONTAINER_ID NETNS [IFNAME] [CONF] — lanjoin as a CNI plugin in the host node
cni() {
  ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$3" \
    CNI_IFNAME="${4:-eth0}" CNI_PATH="$REF" "$LANJOIN" <"${5:-$CONF}"
}

# ref_cni PLUGIN COMMAND CONTAINER_ID NETNS CONF — a Debian reference plugin, same way
ref_cni() {
  ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS="$4" \
    CNI_IFNAME=eth0 CNI_PATH="$REF" "$REF/$1" <"$5"
}

ns() { echo "/run/netns/${LAB_PREFIX}$1"; }

# with_prev RESULT — $CONF plus prevResult (for CHECK and DEL)
with_prev() {
  jq --argjson p "$1" '. + {prevResult: $p}' "$CONF" >"$BATS_TEST_TMPDIR/prev.json"
  echo "$BATS_TEST_TMPDIR/prev.json"
}

# addresses host-local holds for labnet
ipam_ips() { ls "$IPAM_DIR/labnet" 2>/dev/null | grep -E '^[0-9]' || true; }
records() { ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null | wc -l; }

# expect_error CODE — the last `run --separate-stderr` failed with exit 1, one error JSON
# with CODE on stdout and one line on stderr
expect_error() {
  echo "status $status, stdout: $output, stderr: $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" = "$1" ]
  [ "$(jq -r '.msg | type' <<<"$output")" = string ]
  [ "${#lines[@]}" -eq 1 ]
  [ "$(wc -l <<<"$stderr")" -eq 1 ]
  [[ $stderr == lanjoin:* ]]
  [[ $stderr != *$'\e'* ]] # hostile values are not echoed as control characters
}

@test "cni: VERSION lists 0.3.0 to 1.1.0 and answers in the version asked" {
  for v in "${VERSIONS[@]}"; do
    run --separate-stderr cni VERSION "" "" "" <(echo "{\"cniVersion\":\"$v\"}")
    [ "$status" -eq 0 ]
    [ "$(jq -r .cniVersion <<<"$output")" = "$v" ]
    [ "$(jq -c .supportedVersions <<<"$output")" = '["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]' ]
  done
  # libcni 1.1.2's probe: {"cniVersion":"1.0.0"} with dummy variables; an empty stdin too
  run --separate-stderr env CNI_COMMAND=VERSION CNI_NETNS=dummy CNI_IFNAME=dummy CNI_PATH=dummy \
    "$LANJOIN" <<<'{"cniVersion":"1.0.0"}'
  [ "$status" -eq 0 ]
  [ "$(jq -r .cniVersion <<<"$output")" = 1.0.0 ]
  run --separate-stderr env CNI_COMMAND=VERSION "$LANJOIN" </dev/null
  [ "$status" -eq 0 ]
  [ "$(jq -r .cniVersion <<<"$output")" = 1.1.0 ]
}

@test "cni: ADD, CHECK, STATUS, GC, DEL in every version; DEL leaves the lab as it was" {
  add_container c
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  snapshot c >"$BATS_TEST_TMPDIR/c.before"
  for v in "${VERSIONS[@]}"; do
    conf "$v"
    run --separate-stderr cni ADD "cid-$v" "$(ns c)"
    echo "ADD $v: $status $output $stderr"
    [ "$status" -eq 0 ]
    local result=$output
    # shape: bridge, host veth, container side (with MAC and sandbox); ips point at it
    [ "$(jq -r .cniVersion <<<"$result")" = "$v" ]
    [ "$(jq -r '.interfaces | length' <<<"$result")" -eq 3 ]
    [ "$(jq -r '.interfaces[0].name' <<<"$result")" = br-em1 ]
    [ "$(jq -r '.interfaces[2].name' <<<"$result")" = eth0 ]
    [ "$(jq -r '.interfaces[2].sandbox' <<<"$result")" = "$(ns c)" ]
    [ "$(jq -r '.interfaces[2].mac' <<<"$result")" = "$(on c cat /sys/class/net/eth0/address)" ]
    [ "$(jq -r '.interfaces[1].mac' <<<"$result")" = \
      "$(on host cat /sys/class/net/"$(jq -r '.interfaces[1].name' <<<"$result")"/address)" ]
    [ "$(jq -r '.ips[0].interface' <<<"$result")" -eq 2 ]
    [ "$(jq -r '.ips[0].gateway' <<<"$result")" = 198.51.100.254 ]
    [ "$(jq -c .routes <<<"$result")" = '[{"dst":"0.0.0.0/0"}]' ]
    local addr
    addr=$(jq -r '.ips[0].address' <<<"$result")
    [[ $addr == 198.51.100.*/24 ]]
    case $v in
    0.*) [ "$(jq -r '.ips[0].version' <<<"$result")" = 4 ] ;;
    *) [ "$(jq -r '.ips[0] | has("version")' <<<"$result")" = false ] ;;
    esac
    if [ "$v" = 1.1.0 ]; then
      [ "$(jq -r '.interfaces[2].mtu' <<<"$result")" -eq 1500 ]
    else
      [ "$(jq -r '.interfaces[2] | has("mtu")' <<<"$result")" = false ]
    fi
    # the container is on the LAN at that address
    run curl_from peer "http://${addr%/*}/hello.html"
    [ "$output" = "Hello world" ]
    run on c ip -j route show default
    [[ $output == *'"gateway":"198.51.100.254","dev":"eth0"'* ]]

    # CHECK from 0.4.0 on; before, it is an incompatible version
    run --separate-stderr cni CHECK "cid-$v" "$(ns c)" eth0 "$(with_prev "$result")"
    case $v in
    0.3.*) expect_error 1 ;;
    *) [ "$status" -eq 0 ] && [ -z "$output" ] ;;
    esac
    # STATUS and GC only in 1.1.0
    run --separate-stderr cni STATUS "" "" "" "$CONF"
    if [ "$v" = 1.1.0 ]; then [ "$status" -eq 0 ] && [ -z "$output" ]; else expect_error 1; fi
    jq '. + {"cni.dev/valid-attachments": [{containerID: "cid-1.1.0", ifname: "eth0"}]}' \
      "$CONF" >"$BATS_TEST_TMPDIR/gc.json"
    run --separate-stderr cni GC "" "" "" "$BATS_TEST_TMPDIR/gc.json"
    if [ "$v" = 1.1.0 ]; then [ "$status" -eq 0 ]; else expect_error 1; fi
    [ "$(records)" -eq 1 ] # the attachment is valid: GC kept it

    run --separate-stderr cni DEL "cid-$v" "$(ns c)" eth0 "$(with_prev "$result")"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$(records)" -eq 0 ]
    [ -z "$(ipam_ips)" ]
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    assert_same_state c "$BATS_TEST_TMPDIR/c.before"
    # DEL again: nothing to do, still success
    run --separate-stderr cni DEL "cid-$v" "$(ns c)"
    [ "$status" -eq 0 ]
  done
}

@test "cni: DEL after the namespace was deleted and with an empty CNI_NETNS" {
  conf 1.0.0
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  lab container add gone >/dev/null
  defer "$LAB" container del gone
  run --separate-stderr cni ADD cid-gone "$(ns gone)"
  [ "$status" -eq 0 ]
  local host_if
  host_if=$(jq -r '.interfaces[1].name' <<<"$output")
  lab container del gone
  [ "$(records)" -eq 1 ]
  run --separate-stderr cni DEL cid-gone "$(ns gone)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  [ -z "$(ipam_ips)" ]
  ! on host ip link show "$host_if"
  run --separate-stderr cni DEL cid-gone ""
  [ "$status" -eq 0 ]

  # empty CNI_NETNS while the namespace still lives: the host side goes (and the peer with it)
  add_container alive
  run --separate-stderr cni ADD cid-alive "$(ns alive)"
  [ "$status" -eq 0 ]
  run --separate-stderr cni DEL cid-alive ""
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  [ -z "$(ipam_ips)" ]
  ! on alive ip link show eth0
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: ADD twice for the same container and ifname fails and duplicates nothing" {
  conf 1.0.0
  add_container twice
  run --separate-stderr cni ADD cid-twice "$(ns twice)"
  [ "$status" -eq 0 ]
  defer cni DEL cid-twice "$(ns twice)" eth0 "$CONF"
  snapshot host >"$BATS_TEST_TMPDIR/host.added"
  # (the container's own IPv6 addresses may change meanwhile: the gateway sends RAs)
  local links addrs
  links=$(on twice ip -br link)
  addrs=$(on twice ip -4 -br addr)
  run --separate-stderr cni ADD cid-twice "$(ns twice)"
  expect_error 101
  [[ $output == *eth0* ]]
  # another container ID into the same namespace and ifname: the interface exists
  run --separate-stderr cni ADD cid-other "$(ns twice)"
  expect_error 101
  assert_same_state host "$BATS_TEST_TMPDIR/host.added"
  [ "$(on twice ip -br link)" = "$links" ]
  [ "$(on twice ip -4 -br addr)" = "$addrs" ]
  [ "$(records)" -eq 1 ]
  [ "$(ipam_ips | wc -l)" -eq 1 ]
}

@test "cni: CHECK finds a removed address, a removed route, a changed MAC" {
  conf 1.1.0
  add_container chk
  run --separate-stderr cni ADD cid-chk "$(ns chk)"
  [ "$status" -eq 0 ]
  defer cni DEL cid-chk "$(ns chk)" eth0 "$CONF"
  local result=$output prev addr
  prev=$(with_prev "$result")
  addr=$(jq -r '.ips[0].address' <<<"$result")
  # right after ADD it passes (MACs were read back after every change)
  run --separate-stderr cni CHECK cid-chk "$(ns chk)" eth0 "$prev"
  [ "$status" -eq 0 ]
  on chk ip route del default
  run --separate-stderr cni CHECK cid-chk "$(ns chk)" eth0 "$prev"
  expect_error 102
  [[ $output == *"0.0.0.0/0"* ]]
  on chk ip route add default via 198.51.100.254 dev eth0
  on chk ip addr del "$addr" dev eth0
  run --separate-stderr cni CHECK cid-chk "$(ns chk)" eth0 "$prev"
  expect_error 102
  [[ $output == *"$addr is missing"* ]]
  on chk ip addr add "$addr" dev eth0
  on chk ip route add default via 198.51.100.254 dev eth0
  run --separate-stderr cni CHECK cid-chk "$(ns chk)" eth0 "$prev"
  [ "$status" -eq 0 ]
  on chk ip link set eth0 address 02:00:00:00:00:99
  run --separate-stderr cni CHECK cid-chk "$(ns chk)" eth0 "$prev"
  expect_error 102
  [[ $output == *MAC* ]]
  # a container lanjoin never attached; no prevResult
  run --separate-stderr cni CHECK cid-nobody "$(ns chk)" eth0 "$prev"
  expect_error 102
  run --separate-stderr cni CHECK cid-chk "$(ns chk)" eth0 "$CONF"
  expect_error 7
}

@test "cni: GC removes lanjoin's attachments of the network missing from the valid list" {
  conf 1.1.0
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local keep_ip
  for c in g1 g2 g3; do
    add_container $c
    run --separate-stderr cni ADD "cid-$c" "$(ns $c)"
    [ "$status" -eq 0 ]
    defer cni DEL "cid-$c" "$(ns $c)" eth0 "$CONF"
    if [ $c = g2 ]; then keep_ip=$(jq -r '.ips[0].address | split("/")[0]' <<<"$output"); fi
  done
  # another network's attachment is never GC's business
  add_container o1
  jq --arg a "$RANGE_END" '.name = "othernet" | .ipam.ranges[0][0].rangeStart = $a' "$CONF" \
    >"$BATS_TEST_TMPDIR/other.json"
  run --separate-stderr cni ADD cid-o1 "$(ns o1)" eth0 "$BATS_TEST_TMPDIR/other.json"
  [ "$status" -eq 0 ]
  defer cni DEL cid-o1 "$(ns o1)" eth0 "$BATS_TEST_TMPDIR/other.json"
  [ "$(records)" -eq 4 ]
  [ "$(ipam_ips | wc -l)" -eq 3 ]

  # only the older key, as libcni before cni#1101 sent it
  jq '. + {"cni.dev/attachments": [{containerID: "cid-g2", ifname: "eth0"}]}' "$CONF" \
    >"$BATS_TEST_TMPDIR/gc.json"
  run --separate-stderr cni GC "" "" "" "$BATS_TEST_TMPDIR/gc.json"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 2 ]
  [ "$(ipam_ips)" = "$keep_ip" ]
  ! on g1 ip link show eth0
  ! on g3 ip link show eth0
  run curl_from peer "http://$keep_ip/hello.html"
  [ "$output" = "Hello world" ]
  on o1 ip link show eth0

  # the valid list wins over the old key when both are sent
  jq '. + {"cni.dev/valid-attachments": [], "cni.dev/attachments": [{containerID: "cid-g2", ifname: "eth0"}]}' \
    "$CONF" >"$BATS_TEST_TMPDIR/gc.json"
  run --separate-stderr cni GC "" "" "" "$BATS_TEST_TMPDIR/gc.json"
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 1 ]
  [ -z "$(ipam_ips)" ]
  run --separate-stderr cni DEL cid-o1 "$(ns o1)" eth0 "$BATS_TEST_TMPDIR/other.json"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: hostile or malformed input gets the right error code and changes nothing" {
  add_container h
  conf 1.0.0
  local good=$CONF ns_h
  ns_h=$(ns h)
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  snapshot h >"$BATS_TEST_TMPDIR/h.before"
  unchanged() {
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    assert_same_state h "$BATS_TEST_TMPDIR/h.before"
    [ "$(records)" -eq 0 ]
    [ -z "$(ipam_ips)" ]
  }
  # bad_conf CODE JQ_FILTER — ADD with the good configuration edited
  bad_conf() {
    jq "$2" "$good" >"$BATS_TEST_TMPDIR/bad.json"
    run --separate-stderr cni ADD cid-h "$ns_h" eth0 "$BATS_TEST_TMPDIR/bad.json"
    echo "filter: $2"
    expect_error "$1"
    unchanged
  }
  # bad_stdin CODE TEXT
  bad_stdin() {
    printf '%s' "$2" >"$BATS_TEST_TMPDIR/bad.json"
    run --separate-stderr cni ADD cid-h "$ns_h" eth0 "$BATS_TEST_TMPDIR/bad.json"
    expect_error "$1"
    unchanged
  }
  # bad_env CODE [VAR=VALUE | -VAR]... — ADD with the environment edited (-VAR: unset)
  bad_env() {
    local code=$1 a
    shift
    local -A e=([CNI_COMMAND]=ADD [CNI_CONTAINERID]=cid-h [CNI_NETNS]=$ns_h [CNI_IFNAME]=eth0
      [CNI_PATH]=$REF)
    for a in "$@"; do
      if [[ $a == -* ]]; then unset "e[${a#-}]"; else e[${a%%=*}]=${a#*=}; fi
    done
    local args=()
    for a in "${!e[@]}"; do args+=("$a=${e[$a]}"); done
    run --separate-stderr ip netns exec "${LAB_PREFIX}host" env "${args[@]}" "$LANJOIN" <"$good"
    echo "env: $*"
    expect_error "$code"
    unchanged
  }

  bad_stdin 6 '{"cniVersion": "1.0.0", "name": '
  bad_stdin 6 '[1, 2]'
  bad_stdin 6 ''
  bad_stdin 6 '{"cniVersion": "1.0.0", "name": "a", "name": "b", "mode": "bridge"}'
  bad_stdin 6 "{\"cniVersion\": \"1.0.0\", \"name\": \"a\\u0000b\", \"mode\": \"bridge\"}"
  bad_conf 6 '.cniVersion = 1'
  bad_conf 1 'del(.cniVersion)'
  bad_conf 1 '.cniVersion = "0.2.0"'
  bad_conf 1 '.cniVersion = "2.0.0"'
  bad_conf 1 '.cniVersion = "1.0.0-rc1"'
  bad_conf 7 'del(.name)'
  bad_conf 7 '.name = "a/b"'
  bad_conf 7 '.name = ("n" * 200)'
  bad_conf 7 '.name = 7'
  bad_conf 7 'del(.mode)'
  bad_conf 7 '.mode = "ipvlan"'
  bad_conf 7 '.bridge = "abcdefghijklmnop"'
  bad_conf 7 '.bridge = "../x"'
  bad_conf 7 '.bridge = 3'
  bad_conf 7 '.bridge = "b\u001b[31m"'
  bad_conf 7 '.mtu = "1500"'
  bad_conf 7 '.mtu = 10'
  bad_conf 7 '.mtu = 9000' # above the bridge's: refused by the library, nothing attempted
  bad_conf 7 '.ipam = "host-local"'
  bad_conf 7 '.ipam.type = "../../bin/sh"'
  bad_conf 7 '.ipam.type = "no-such-ipam"'
  bad_conf 7 '.runtimeConfig = {mac: "01:00:5e:00:00:01"}'
  bad_conf 7 '.runtimeConfig = []'
  bad_conf 7 '.args = {cni: {mac: "zz"}}'
  bad_conf 7 '.runtimeConfig = {ips: ["198.51.100.300/24"]}'
  bad_conf 6 '.prevResult = "x"'
  bad_conf 2 '.isGateway = true'
  bad_conf 2 '.ipMasq = true'
  bad_conf 2 '.master = "em1"'
  bad_conf 2 '.vlan = 5'
  bad_conf 2 '.runtimeConfig = {portMappings: [{hostPort: 8080, containerPort: 80, protocol: "tcp"}]}'
  bad_conf 7 '.bridge = "em1"' # exists and is not a bridge
  # the DEL a runtime sends after such a failed ADD succeeds (else it is retried forever)
  for f in '.isGateway = true' '.mode = "ipvlan"' '.bridge = "a/b"' '.runtimeConfig = {mac: "zz"}'; do
    jq "$f" "$good" >"$BATS_TEST_TMPDIR/bad.json"
    run --separate-stderr cni DEL cid-h "$ns_h" eth0 "$BATS_TEST_TMPDIR/bad.json"
    [ "$status" -eq 0 ]
  done
  unchanged
  bad_env 4 -CNI_NETNS
  bad_env 4 -CNI_CONTAINERID -CNI_IFNAME
  bad_env 4 -CNI_PATH
  bad_env 4 CNI_CONTAINERID=-leading-dash
  bad_env 4 CNI_CONTAINERID='a b'
  bad_env 4 CNI_CONTAINERID="$(printf 'x%.0s' {1..300})"
  bad_env 4 CNI_IFNAME=abcdefghijklmnop
  bad_env 4 CNI_IFNAME=a/b
  bad_env 4 CNI_IFNAME=a:b
  bad_env 4 CNI_IFNAME=..
  bad_env 4 CNI_NETNS=relative/path
  bad_env 4 CNI_ARGS='IgnoreUnknown=1;broken'
  bad_env 4 CNI_ARGS='MAC=not-a-mac'
  bad_env 4 CNI_COMMAND=ATTACH
  bad_env 4 CNI_COMMAND=$'A\e[31m'
  bad_env 4 CNI_IFNAME=$'e\e[31m'
  bad_env 3 CNI_NETNS=/run/netns/no-such-netns-here
  bad_env 8 CNI_NETNS=/etc/hostname
  bad_env 8 CNI_NETNS="$(ns host)" # the plugin's own namespace
  # a configuration larger than 1 MiB
  head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big.json"
  run --separate-stderr cni ADD cid-h "$ns_h" eth0 "$BATS_TEST_TMPDIR/big.json"
  expect_error 5
  unchanged
}

@test "cni: a failed IPAM or a failure at any attach step leaves nothing behind" {
  add_container f1
  add_container f2
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  snapshot f2 >"$BATS_TEST_TMPDIR/f2.before"
  # an exhausted range: the IPAM error is passed on, no veth is created (plugins#29)
  conf 1.0.0 '.ipam.ranges[0][0].rangeEnd = .ipam.ranges[0][0].rangeStart'
  run --separate-stderr cni ADD cid-f1 "$(ns f1)"
  [ "$status" -eq 0 ]
  snapshot host >"$BATS_TEST_TMPDIR/host.one"
  run --separate-stderr cni ADD cid-f2 "$(ns f2)"
  echo "$output $stderr"
  [ "$status" -eq 1 ]
  [[ $output == *"no IP addresses available"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.one"
  assert_same_state f2 "$BATS_TEST_TMPDIR/f2.before"
  run --separate-stderr cni DEL cid-f2 "$(ns f2)"
  [ "$status" -eq 0 ]
  [ "$(ipam_ips)" = "$RANGE_START" ]
  run --separate-stderr cni DEL cid-f1 "$(ns f1)"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"

  # a failure at every step of the attach: rolled back, the address released
  conf 1.0.0 '.bridge = "br-cni9"'
  local n=1 steps=0
  while :; do
    run --separate-stderr env LANJOIN_FAULT_STEP=$n ip netns exec "${LAB_PREFIX}host" env \
      CNI_COMMAND=ADD CNI_CONTAINERID=cid-f2 CNI_NETNS="$(ns f2)" CNI_IFNAME=eth0 \
      CNI_PATH="$REF" "$LANJOIN" <"$CONF"
    [ "$status" -eq 0 ] && break
    echo "step $n: $output"
    expect_error 100
    [[ $output == *"step $n of"* ]]
    [[ $output == *"nothing was left behind"* ]]
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    assert_same_state f2 "$BATS_TEST_TMPDIR/f2.before"
    [ "$(records)" -eq 0 ]
    [ -z "$(ipam_ips)" ]
    steps=$n
    n=$((n + 1))
    [ "$n" -le 20 ]
  done
  defer cni DEL cid-f2 "$(ns f2)" eth0 "$CONF"
  # bridge, veth, link up, address, default route (and whatever addressing adds)
  [ "$steps" -ge 5 ]
  run --separate-stderr cni DEL cid-f2 "$(ns f2)"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: runtimeConfig mac and ips, CNI_ARGS MAC, args.cni.mac precedence; no IPAM" {
  add_container m
  local a=$RANGE_START b=$RANGE_END
  conf 1.0.0 'del(.ipam) | .capabilities = {mac: true, ips: true}
    | .runtimeConfig = {mac: "02:00:c6:33:64:0a", ips: ["'"$a"'/24", "2001:db8:1::141/64"]}
    | .args = {cni: {mac: "02:00:c6:33:64:0b"}}'
  run --separate-stderr ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND=ADD \
    CNI_CONTAINERID=cid-m CNI_NETNS="$(ns m)" CNI_IFNAME=net1 CNI_PATH="$REF" \
    CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=x;MAC=02:00:c6:33:64:0c" "$LANJOIN" <"$CONF"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-m "$(ns m)" net1 "$CONF"
  [ "$(on m cat /sys/class/net/net1/address)" = 02:00:c6:33:64:0a ]
  [ "$(jq -r '.interfaces[2].mac' <<<"$output")" = 02:00:c6:33:64:0a ]
  [ "$(jq -c '[.ips[].address]' <<<"$output")" = '["'"$a"'/24","2001:db8:1::141/64"]' ]
  run curl_from peer "http://$a/hello.html"
  [ "$output" = "Hello world" ]
  run --separate-stderr cni DEL cid-m "$(ns m)" net1
  [ "$status" -eq 0 ]

  # capabilities declared without mac: runtimeConfig.mac is ignored, args.cni.mac wins over CNI_ARGS
  conf 1.0.0 'del(.ipam) | .capabilities = {ips: true}
    | .runtimeConfig = {mac: "02:00:c6:33:64:0a", ips: ["'"$b"'/24"]}
    | .args = {cni: {mac: "02:00:c6:33:64:0b"}}'
  run --separate-stderr ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND=ADD \
    CNI_CONTAINERID=cid-m CNI_NETNS="$(ns m)" CNI_IFNAME=net1 CNI_PATH="$REF" \
    CNI_ARGS="MAC=02:00:c6:33:64:0c" "$LANJOIN" <"$CONF"
  [ "$status" -eq 0 ]
  [ "$(on m cat /sys/class/net/net1/address)" = 02:00:c6:33:64:0b ]
}

@test "cni: chained after another plugin, the result carries prevResult's and ours" {
  add_container ch
  conf 1.0.0
  jq '.type = "loopback" | del(.mode, .ipam)' "$CONF" >"$BATS_TEST_TMPDIR/lo.json"
  run --separate-stderr ref_cni loopback ADD cid-ch "$(ns ch)" "$BATS_TEST_TMPDIR/lo.json"
  [ "$status" -eq 0 ]
  local lo=$output
  echo "loopback: $lo"
  run --separate-stderr cni ADD cid-ch "$(ns ch)" eth0 "$(with_prev "$lo")"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-ch "$(ns ch)" eth0 "$CONF"
  local n
  n=$(jq '.interfaces | length' <<<"$lo")
  [ "$(jq -c '.interfaces[:'"$n"']' <<<"$output")" = "$(jq -c .interfaces <<<"$lo")" ]
  [ "$(jq -r ".interfaces[$n + 2].name" <<<"$output")" = eth0 ]
  [ "$(jq -r '.ips[-1].interface' <<<"$output")" -eq $((n + 2)) ]
  [ "$(jq -r '[.ips[] | has("version")] | any' <<<"$output")" = false ]
  [ "$(jq -r '.ips | length' <<<"$output")" -eq $(($(jq '.ips | length' <<<"$lo") + 1)) ]
  # a malformed prevResult is refused before anything is done
  run --separate-stderr cni ADD cid-ch2 "$(ns ch)" eth1 "$(with_prev '{"interfaces": 3}')"
  expect_error 6 # the spec's "failed to decode content"
  run --separate-stderr cni DEL cid-ch "$(ns ch)"
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
}

@test "cni: side by side with the reference bridge plugin: same result shape, both reachable, DEL restores the lab" {
  add_container ours
  add_container theirs
  conf 1.0.0
  jq '.type = "bridge" | del(.mode)' "$CONF" >"$BATS_TEST_TMPDIR/ref.json"
  snapshot host >"$BATS_TEST_TMPDIR/host.before"

  run --separate-stderr cni ADD cid-ours "$(ns ours)"
  [ "$status" -eq 0 ]
  defer cni DEL cid-ours "$(ns ours)" eth0 "$CONF"
  local a=$output
  run --separate-stderr ref_cni bridge ADD cid-theirs "$(ns theirs)" "$BATS_TEST_TMPDIR/ref.json"
  [ "$status" -eq 0 ]
  defer ref_cni bridge DEL cid-theirs "$(ns theirs)" "$BATS_TEST_TMPDIR/ref.json"
  local b=$output
  echo "lanjoin: $a"
  echo "bridge:  $b"
  # the same keys everywhere, the same interface roles, the same routes and gateway
  shape='{cniVersion, interfaces: [.interfaces[] | keys], ips: [.ips[] | keys | sort],
          routes, dns, gw: [.ips[].gateway], ifnames: [.interfaces[0].name, .interfaces[2].name],
          sandbox: [.interfaces[] | has("sandbox")], idx: [.ips[].interface]}'
  [ "$(jq -S -c "$shape" <<<"$a")" = "$(jq -S -c "$shape" <<<"$b")" ]
  [ "$(jq -r '.interfaces[2].sandbox' <<<"$a")" = "$(ns ours)" ]
  [ "$(jq -r '.interfaces[2].sandbox' <<<"$b")" = "$(ns theirs)" ]
  local ip_a ip_b
  ip_a=$(jq -r '.ips[0].address | split("/")[0]' <<<"$a")
  ip_b=$(jq -r '.ips[0].address | split("/")[0]' <<<"$b")
  [ "$ip_a" != "$ip_b" ]
  # both answer the peer, and each other
  run curl_from peer "http://$ip_a/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from peer "http://$ip_b/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from ours "http://$ip_b/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from theirs "http://$ip_a/hello.html"
  [ "$output" = "Hello world" ]
  # each one's CHECK accepts its own result
  jq --argjson p "$b" '. + {prevResult: $p}' "$BATS_TEST_TMPDIR/ref.json" >"$BATS_TEST_TMPDIR/refp.json"
  run --separate-stderr ref_cni bridge CHECK cid-theirs "$(ns theirs)" "$BATS_TEST_TMPDIR/refp.json"
  [ "$status" -eq 0 ]
  run --separate-stderr cni CHECK cid-ours "$(ns ours)" eth0 "$(with_prev "$a")"
  [ "$status" -eq 0 ]

  run --separate-stderr cni DEL cid-ours "$(ns ours)" eth0 "$(with_prev "$a")"
  [ "$status" -eq 0 ]
  run --separate-stderr ref_cni bridge DEL cid-theirs "$(ns theirs)" "$BATS_TEST_TMPDIR/refp.json"
  [ "$status" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  [ -z "$(ipam_ips)" ]
}

@test "cni: parallel ADDs and DELs of different containers on one network do not collide" {
  conf 1.0.0
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local i pids=()
  for i in 1 2 3 4 5 6 7 8; do
    add_container "p$i"
  done
  for i in 1 2 3 4 5 6 7 8; do
    cni ADD "cid-p$i" "$(ns p$i)" >"$BATS_TEST_TMPDIR/add.$i" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || {
      cat "$BATS_TEST_TMPDIR/add.$((i + 1))"
      false
    }
  done
  for i in 1 2 3 4 5 6 7 8; do
    defer cni DEL "cid-p$i" "$(ns p$i)" eth0 "$CONF"
  done
  [ "$(records)" -eq 8 ]
  [ "$(cat "$BATS_TEST_TMPDIR"/add.* | jq -r '.ips[0].address' | sort -u | wc -l)" -eq 8 ]
  run curl_from p1 "http://$(jq -r '.ips[0].address | split("/")[0]' "$BATS_TEST_TMPDIR/add.8")/hello.html"
  [ "$output" = "Hello world" ]
  pids=()
  for i in 1 2 3 4 5 6 7 8; do
    cni DEL "cid-p$i" "$(ns p$i)" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do
    wait "$p"
  done
  [ "$(records)" -eq 0 ]
  [ -z "$(ipam_ips)" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: dhcp IPAM gets a lease from the LAN's server; DEL releases it before removing the link" {
  add_container d
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  snapshot d >"$BATS_TEST_TMPDIR/d.before"
  local sock=$BATS_TEST_TMPDIR/dhcp.sock leases=$LAB_DIR/dnsmasq.leases
  jq -n --arg s "$sock" '{cniVersion: "1.0.0", name: "dnet", type: "lanjoin", mode: "bridge",
    bridge: "br-em1", ipam: {type: "dhcp", daemonSocketPath: $s}}' >"$CONF"

  # no dhcp daemon: ADD fails after attaching, and takes the attachment back
  run --separate-stderr cni ADD cid-d "$(ns d)"
  echo "$output $stderr"
  [ "$status" -eq 1 ]
  [ "$(records)" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  assert_same_state d "$BATS_TEST_TMPDIR/d.before"
  conf 1.1.0
  jq --arg s "$sock" '.cniVersion = "1.1.0" | .ipam = {type: "dhcp", daemonSocketPath: $s}' \
    "$CONF" >"$BATS_TEST_TMPDIR/status.json"
  run --separate-stderr cni STATUS "" "" "" "$BATS_TEST_TMPDIR/status.json"
  [ "$(jq -r .code <<<"$output")" = 50 ]

  on host "$REF/dhcp" daemon -socketpath "$sock" >"$BATS_TEST_TMPDIR/dhcp.log" 2>&1 &
  local pid=$!
  defer kill "$pid"
  wait_until 5 test -S "$sock"
  run --separate-stderr cni STATUS "" "" "" "$BATS_TEST_TMPDIR/status.json"
  [ "$status" -eq 0 ]
  jq -n --arg s "$sock" '{cniVersion: "1.0.0", name: "dnet", type: "lanjoin", mode: "bridge",
    bridge: "br-em1", ipam: {type: "dhcp", daemonSocketPath: $s}}' >"$CONF"
  run --separate-stderr cni ADD cid-d "$(ns d)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-d "$(ns d)" eth0 "$CONF"
  local ip mac
  ip=$(jq -r '.ips[0].address | split("/")[0]' <<<"$output")
  mac=$(jq -r '.interfaces[2].mac' <<<"$output")
  [[ $ip == 198.51.100.1[5-9]? ]] # the lab's pool
  [ "$(jq -r '.ips[0].gateway' <<<"$output")" = 198.51.100.254 ]
  grep -q "$mac $ip" "$leases"
  run curl_from peer "http://$ip/hello.html"
  [ "$output" = "Hello world" ]
  run on d ip -j route show default
  [[ $output == *'"gateway":"198.51.100.254"'* ]]

  run --separate-stderr cni DEL cid-d "$(ns d)"
  [ "$status" -eq 0 ]
  # the server forgot the lease (DHCPRELEASE went out while the link still existed)
  wait_until 5 bash -c "! grep -q '$mac' '$leases'"
  [ "$(records)" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

# vg_cni COMMAND CONTAINER_ID NETNS CONF — lanjoin as a CNI plugin under valgrind memcheck;
# fails on any memory error or leak (definite, indirect); sets $status and $output.
vg_cni() {
  local log=$BATS_TEST_TMPDIR/vg.$RANDOM
  run --separate-stderr ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$1" \
    CNI_CONTAINERID="$2" CNI_NETNS="$3" CNI_IFNAME=eth0 CNI_PATH="$REF" valgrind --quiet \
    --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --track-origins=yes --child-silent-after-fork=yes --log-file="$log" "$LANJOIN" <"$4"
  sed -i -e '/unhandled ioctl 0xb703/,+2d' "$log" # nsfs NS_GET_NSTYPE: unknown to valgrind
  echo "CNI $1 -> $status: $output"
  cat "$log"
  [ "$status" -ne 99 ] && [ ! -s "$log" ]
}

@test "cni: valgrind finds no memory errors or leaks in ADD, CHECK, GC, DEL and a failed ADD" {
  command -v valgrind >/dev/null || skip "valgrind missing"
  skip_if_sanitized
  add_container vg
  conf 1.1.0
  vg_cni ADD cid-vg "$(ns vg)" "$CONF"
  [ "$status" -eq 0 ]
  defer cni DEL cid-vg "$(ns vg)" eth0 "$CONF"
  vg_cni CHECK cid-vg "$(ns vg)" "$(with_prev "$output")"
  [ "$status" -eq 0 ]
  vg_cni ADD cid-vg "$(ns vg)" "$CONF"
  [ "$status" -eq 1 ]
  jq '. + {"cni.dev/valid-attachments": []}' "$CONF" >"$BATS_TEST_TMPDIR/gc.json"
  vg_cni GC "" "" "$BATS_TEST_TMPDIR/gc.json"
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  vg_cni DEL cid-vg "" "$CONF"
  [ "$status" -eq 0 ]
  vg_cni STATUS "" "" "$CONF"
  [ "$status" -eq 0 ]
  vg_cni VERSION "" "" "$CONF"
  [ "$status" -eq 0 ]
  printf '{"cniVersion": "1.1.0", "name": 7}' >"$BATS_TEST_TMPDIR/bad.json"
  vg_cni ADD cid-vg "$(ns vg)" "$BATS_TEST_TMPDIR/bad.json"
  [ "$status" -eq 1 ]
  LANJOIN_FAULT_STEP=3 vg_cni ADD cid-vg "$(ns vg)" "$CONF"
  [ "$status" -eq 1 ]
  [ -z "$(ipam_ips)" ]
}

# --- Podman 4.3 as a client (CNI backend forced) ------------------------------------------------

# podman_env — a private Podman world in $PODMAN_DIR: containers.conf forcing the CNI backend,
# plugin dirs with lanjoin (as `lanjoin`) and the reference set, its own storage, an image
# imported from a busybox rootfs made here. Defines `pm` (podman in the lab's host namespace).
podman_env() {
  command -v podman >/dev/null && command -v runc >/dev/null || skip "podman or runc missing"
  PODMAN_DIR=$BATS_TEST_TMPDIR/podman
  mkdir -p "$PODMAN_DIR"/{bin,net.d,ipam,tmp,rootfs/bin,rootfs/www}
  # Every podman of the test, and the cleanup processes conmon starts, in a mount namespace
  # whose /var/lib is an overlay in $PODMAN_DIR (podman's blob-info and CNI result caches go
  # to fixed paths there): see podman_mntns_start. Ended last, after the deferred `pm rm`s.
  podman_mntns_start "$PODMAN_DIR"
  defer podman_mntns_stop "$PODMAN_DIR"
  ln -s "$(readlink -f "$LANJOIN")" "$PODMAN_DIR/bin/lanjoin"
  cp "$(command -v busybox)" "$PODMAN_DIR/rootfs/bin/busybox"
  echo "Hello world" >"$PODMAN_DIR/rootfs/www/hello.html"
  tar -C "$PODMAN_DIR/rootfs" -cf "$PODMAN_DIR/rootfs.tar" .
  cat >"$PODMAN_DIR/containers.conf" <<CONF
[network]
network_backend = "cni"
cni_plugin_dirs = ["$PODMAN_DIR/bin", "$REF"]
network_config_dir = "$PODMAN_DIR/net.d"
[engine]
tmp_dir = "$PODMAN_DIR/tmp"
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
# for every podman process, also the "podman container cleanup" conmon starts, which may be
# the one that runs DEL: conmon does not pass our environment on
env = ["LANJOIN_STATE_DIR=$LANJOIN_STATE_DIR"${ASAN_OPTIONS:+, \"ASAN_OPTIONS=$ASAN_OPTIONS\"}]
CONF
  pm import "$PODMAN_DIR/rootfs.tar" localhost/ljcni-busybox >/dev/null
  defer pm rmi -f localhost/ljcni-busybox
}

pm() {
  podman_nsenter "$PODMAN_DIR" env CONTAINERS_CONF="$PODMAN_DIR/containers.conf" \
    podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/runroot" --storage-driver vfs "$@"
}

pm_run() { # NAME NETWORK [PODMAN RUN ARGS...] — busybox httpd serving /www on :80, detached
  local name=$1 net=$2 h
  shift 2
  h=$(ulimit -Hn)
  pm run -d --name "$name" --network "$net" --ulimit "nofile=$h:$h" \
    --ulimit nproc=32768:32768 "$@" localhost/ljcni-busybox /bin/busybox httpd -f -p 80 -h /www
}

@test "cni: podman run on a lanjoin network answers the peer at its LAN address; podman rm leaves nothing" {
  podman_env
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  jq -n --arg dir "$PODMAN_DIR/ipam" --arg start "$RANGE_START" --arg last "$RANGE_END" '{
    cniVersion: "1.0.0", name: "ljnet", plugins: [{
      type: "lanjoin", mode: "bridge", bridge: "br-em1",
      ipam: {type: "host-local", dataDir: $dir,
             ranges: [[{subnet: "198.51.100.0/24", rangeStart: $start, rangeEnd: $last,
                        gateway: "198.51.100.254"}]],
             routes: [{dst: "0.0.0.0/0"}]}}]}' >"$PODMAN_DIR/net.d/ljnet.conflist"
  run pm network ls --format '{{.Name}} {{.Driver}}'
  [[ $output == *"ljnet lanjoin"* ]]

  run pm_run web ljnet
  echo "$output"
  [ "$status" -eq 0 ]
  defer pm rm -f -t 0 web
  local id ip mac sandbox
  id=$(pm inspect web --format '{{.Id}}')
  ip=$(pm inspect web --format '{{(index .NetworkSettings.Networks "ljnet").IPAddress}}')
  mac=$(pm inspect web --format '{{(index .NetworkSettings.Networks "ljnet").MacAddress}}')
  sandbox=$(pm inspect web --format '{{.NetworkSettings.SandboxKey}}')
  echo "id $id ip $ip mac $mac sandbox $sandbox"
  [[ $ip == 198.51.100.* ]]
  # the container's eth0 has the MAC podman reports (it came from our result)
  [ "$(nsenter --net="$sandbox" ip -j link show eth0 | jq -r '.[0].address')" = "$mac" ]
  wait_until 5 curl_from peer "http://$ip/hello.html"
  run curl_from peer "http://$ip/hello.html"
  [ "$output" = "Hello world" ]
  # lanjoin's record is keyed by podman's network name, container ID and ifname
  run lj list --json
  [ "$(jq -r '.[0].info.cni | "\(.network) \(.containerID) \(.ifname)"' <<<"$output")" = "ljnet $id eth0" ]

  run pm rm -f -t 0 web
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  [ -z "$(ls "$PODMAN_DIR/ipam/ljnet" | grep -E '^[0-9]')" ]
  [ ! -e "$sandbox" ]
  # podman's CNI result cache (its /var/lib/cni is in $PODMAN_DIR/varlib, see podman_env)
  [ -d "$PODMAN_DIR/varlib/upper/cni/results" ]
  [ ! -e "$PODMAN_DIR/varlib/upper/cni/results/ljnet-$id-eth0" ]
  ! curl_from peer "http://$ip/hello.html"
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: podman run -p on a lanjoin nat network: the peer reaches the published port at the LAN address" {
  podman_env
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  jq -n --arg dir "$PODMAN_DIR/ipam" --arg start "$RANGE_START" --arg last "$RANGE_END" '{
    cniVersion: "1.0.0", name: "ljnat", plugins: [{
      type: "lanjoin", mode: "nat", uplink: "br-em1", capabilities: {portMappings: true},
      ipam: {type: "host-local", dataDir: $dir,
             ranges: [[{subnet: "198.51.100.0/24", rangeStart: $start, rangeEnd: $last}]]}}]}' \
    >"$PODMAN_DIR/net.d/ljnat.conflist"
  run pm_run pub ljnat -p 8083:80/tcp
  echo "$output"
  [ "$status" -eq 0 ]
  defer pm rm -f -t 0 pub
  local lan
  lan=$(lj list --json | jq -r '.[0].info.address | split("/")[0]')
  [ "$lan" = "$RANGE_START" ]
  run curl_from peer "http://$lan:8083/hello.html"
  [ "$output" = "Hello world" ]
  run pm rm -f -t 0 pub
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: a FIFO as CNI_NETNS is refused at once (ADD, CHECK, DEL), never opened for reading" {
  conf 1.0.0
  local fifo=$BATS_TEST_TMPDIR/netns-fifo
  mkfifo -m 0600 "$fifo"
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  # timeout: without the non-blocking open, each would wait for a writer forever
  cni_t() {
    timeout 60 ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$1" CNI_CONTAINERID=cid-fifo \
      CNI_NETNS="$fifo" CNI_IFNAME=eth0 CNI_PATH="$REF" "$LANJOIN" <"${2:-$CONF}"
  }
  run --separate-stderr cni_t ADD
  expect_error 8
  [[ $output == *"not a network namespace"* ]]
  run --separate-stderr cni_t CHECK "$(with_prev '{"cniVersion": "1.0.0"}')"
  echo "CHECK: $status $output"
  [ "$status" -eq 1 ]
  [ "$(jq -r .code <<<"$output")" != null ]
  run --separate-stderr cni_t DEL
  echo "DEL: $status $output"
  [ "$status" -eq 0 ]
  [ -p "$fifo" ]
  [ "$(records)" -eq 0 ]
  [ -z "$(ipam_ips)" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: a hung IPAM plugin is killed after ipamTimeout; ADD fails and leaves nothing behind" {
  add_container hi
  local dir=$BATS_TEST_TMPDIR/plugins pid
  mkdir -p "$dir"
  # a plugin that never answers, with a child of its own (killed with it: same process group)
  printf '#!/bin/sh\nsleep 3600 &\necho $! >>"%s/sleep.pids"\nwait\n' "$dir" >"$dir/hang-ipam"
  chmod 0755 "$dir/hang-ipam"
  conf 1.0.0 '.ipam = {type: "hang-ipam"} | .ipamTimeout = 1'
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  snapshot hi >"$BATS_TEST_TMPDIR/hi.before"
  run --separate-stderr timeout 120 ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND=ADD \
    CNI_CONTAINERID=cid-hi CNI_NETNS="$(ns hi)" CNI_IFNAME=eth0 CNI_PATH="$dir" "$LANJOIN" <"$CONF"
  expect_error 104
  [[ $output == *"hang-ipam did not answer ADD within 1 s"* ]]
  [ -s "$dir/sleep.pids" ]
  while read -r pid; do
    ! kill -0 "$pid" 2>/dev/null
  done <"$dir/sleep.pids"
  [ "$(records)" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  assert_same_state hi "$BATS_TEST_TMPDIR/hi.before"
  # the setting is validated like any other
  conf 1.0.0 '.ipamTimeout = 0'
  run --separate-stderr cni ADD cid-hi "$(ns hi)"
  expect_error 7
  [[ $output == *ipamTimeout* ]]
}

@test "cni: a missing bridge is created, as CNI's bridge plugin does, and removed by the last DEL" {
  conf 1.0.0 '.bridge = "br-cnin" | .ipam.ranges = [[{subnet: "198.18.30.0/24"}]] | .ipam.routes = []'
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  add_container cn
  run --separate-stderr cni ADD cid-cn "$(ns cn)"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  defer cni DEL cid-cn "$(ns cn)"
  [ "$(on host ip -j -d link show br-cnin | jq -r '.[0].linkinfo.info_kind')" = bridge ]
  run --separate-stderr cni DEL cid-cn "$(ns cn)"
  [ "$status" -eq 0 ]
  ! on host ip link show br-cnin
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: DEL of a dead container whose namespace inode a live container got leaves the live one alone" {
  conf 1.0.0
  lab container add old >/dev/null
  defer "$LAB" container del old
  run --separate-stderr cni ADD cid-old "$(ns old)"
  [ "$status" -eq 0 ]
  local prev=$output ino i
  ino=$(stat -L -c %i "$(ns old)")
  lab container del old
  # The kernel gives a namespace the lowest free inode number, and frees the old one's once
  # it is cleaned up (asynchronously): make namespaces, keeping each (so that it holds a
  # lower number someone else freed), until one gets the old one's number.
  local new=""
  for ((i = 0; i < 200; i++)); do
    ip netns add "${LAB_PREFIX}new$i"
    defer ip netns del "${LAB_PREFIX}new$i"
    if [ "$(stat -L -c %i "$(ns "new$i")")" = "$ino" ]; then
      new=new$i
      break
    fi
    sleep 0.05
  done
  # Another process making a namespace meanwhile can take the freed number first: then the
  # case cannot be set up (it is when nothing else runs, as in test.sh).
  [ -n "$new" ] || skip "no new namespace got the dead one's inode number ($ino) in 200 tries"
  run --separate-stderr cni ADD cid-new "$(ns "$new")"
  [ "$status" -eq 0 ]
  defer cni DEL cid-new "$(ns "$new")" eth0 "$CONF"
  local new_if new_ip
  new_if=$(jq -r '.interfaces[1].name' <<<"$output")
  new_ip=$(jq -r '.ips[0].address | split("/")[0]' <<<"$output")
  ping_from peer "$new_ip"
  # DEL for the dead one (prevResult names its host veth)
  run --separate-stderr cni DEL cid-old "$(ns old)" eth0 "$(with_prev "$prev")"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  on host ip link show "$new_if"
  on "$new" ip link show eth0
  ping_from peer "$new_ip"
  [ "$(records)" -eq 1 ]
}
