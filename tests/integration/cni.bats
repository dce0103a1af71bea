#!/usr/bin/env bats
# CNI plugin mode (issue 9): the protocol driven directly (every command x version, DEL without
# a namespace, ADD twice, CHECK after tampering, GC), side by side with Debian's reference
# bridge plugin, and Podman 4.3 as a real client. Hostile input and failures: cni-hostile.bats.

load helpers
load cni-helpers
load engine-helpers # podman_mntns_start, podman_nsenter

bats_require_minimum_version 1.5.0

setup_file() { lab_setup_file --bridge-host; }

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
  ! on host ip link show "$host_if" || false
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
  ! on alive ip link show eth0 || false
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: detach --all leaves a CNI runtime's attachments and says so; --include-cni or the TARGET detaches them" {
  conf 1.0.0
  add_container keep
  run --separate-stderr cni ADD cid-keep "$(ns keep)"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}keep"
  run lj detach --all
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Detached 0 attachments"* ]]
  [[ $output == *"1 attachment of a CNI runtime left: its runtime removes it (CNI DEL)"* ]]
  [ "$(records)" -eq 1 ]
  on keep ip link show eth0
  run lj detach --all --dry-run
  [ "$status" -eq 0 ]
  [[ $output != *eth0* ]]
  run lj detach --include-cni "netns:${LAB_PREFIX}keep"
  [ "$status" -eq 2 ]
  [[ $output == *"--include-cni goes with --all"* ]]
  [ "$(records)" -eq 1 ]

  run lj detach --all --include-cni
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Detached 1 attachment"* ]]
  [ "$(records)" -eq 0 ]
  ! on keep ip link show eth0 || false
  run --separate-stderr cni DEL cid-keep "$(ns keep)"
  [ "$status" -eq 0 ]

  # a TARGET named is detached whoever attached it
  run --separate-stderr cni ADD cid-keep "$(ns keep)"
  [ "$status" -eq 0 ]
  run lj detach "netns:${LAB_PREFIX}keep"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  run --separate-stderr cni DEL cid-keep "$(ns keep)"
  [ "$status" -eq 0 ]
  [ -z "$(ipam_ips)" ]
}

@test "cni: DEL without a record removes the host veth prevResult names only when it is provably this attachment's" {
  conf 1.0.0
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  add_container lost
  run --separate-stderr cni ADD cid-lost "$(ns lost)"
  [ "$status" -eq 0 ]
  local prev=$output host_if fake
  host_if=$(jq -r '.interfaces[1].name' <<<"$prev")
  # the state directory lost the record
  rm -f "$LANJOIN_STATE_DIR"/attachments/*
  [ "$(records)" -eq 0 ]
  # a veth of the same shape, not the name lanjoin gives this attachment: left alone
  on host ip link add ljv000000000000 type veth peer name ljv000000000001
  fake=$(jq -c '.interfaces[1].name = "ljv000000000000"' <<<"$prev")
  run --separate-stderr cni DEL cid-lost "$(ns lost)" eth0 "$(with_prev "$fake")"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  on host ip link show ljv000000000000
  on host ip link show "$host_if"
  on lost ip link show eth0
  # the attachment's own host end, still paired with eth0 in CNI_NETNS: removed
  run --separate-stderr cni DEL cid-lost "$(ns lost)" eth0 "$(with_prev "$prev")"
  echo "$output $stderr"
  [ "$status" -eq 0 ]
  [[ $stderr == *"removed '$host_if'"* ]]
  ! on host ip link show "$host_if" || false
  ! on lost ip link show eth0 || false
  on host ip link del ljv000000000000
  [ -z "$(ipam_ips)" ]
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

@test "cni: the index links each attachment's key to its record; an older lanjoin's records are indexed on first use" {
  conf 1.0.0
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  add_container ix1
  add_container ix2
  local idx=$LANJOIN_STATE_DIR/cni rec
  run --separate-stderr cni ADD cid-ix "$(ns ix1)"
  [ "$status" -eq 0 ]
  defer cni DEL cid-ix "$(ns ix1)" eth0 "$CONF"
  rec=$(ls "$LANJOIN_STATE_DIR/attachments")
  [ "$(readlink "$idx/labnet:cid-ix:eth0").json" = "$rec" ]
  [ -f "$idx/.ready" ]
  # the same key into another namespace: found through the index, refused, nothing made
  run --separate-stderr cni ADD cid-ix "$(ns ix2)"
  expect_error 101
  [[ $output == *"attachment already exists"* ]]
  ! on ix2 ip link show eth0 || false
  [ "$(records)" -eq 1 ]
  [ "$(ipam_ips | wc -l)" -eq 1 ]
  # DEL without a namespace finds it by the key alone, and removes the link
  run --separate-stderr cni DEL cid-ix ""
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  [ ! -e "$idx/labnet:cid-ix:eth0" ]
  ! on ix1 ip link show eth0 || false

  # a state directory an older lanjoin left (records, no index): still found and undone
  run --separate-stderr cni ADD cid-ix "$(ns ix1)"
  [ "$status" -eq 0 ]
  rm -r "$idx"
  run --separate-stderr cni ADD cid-ix "$(ns ix2)"
  expect_error 101
  [ "$(readlink "$idx/labnet:cid-ix:eth0").json" = "$(ls "$LANJOIN_STATE_DIR/attachments")" ]
  rm -r "$idx"
  run --separate-stderr cni DEL cid-ix ""
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  ! on ix1 ip link show eth0 || false
  [ -f "$idx/.ready" ]
  # ... also when a link is missing (that version ran after the index was built): by the namespace
  run --separate-stderr cni ADD cid-ix "$(ns ix1)"
  [ "$status" -eq 0 ]
  rm "$idx/labnet:cid-ix:eth0"
  run --separate-stderr cni DEL cid-ix "$(ns ix1)"
  [ "$status" -eq 0 ]
  [ "$(records)" -eq 0 ]
  ! on ix1 ip link show eth0 || false
  # a failed ADD (rolled back) leaves no link
  LANJOIN_FAULT_STEP=1 run --separate-stderr cni ADD cid-ix "$(ns ix1)"
  [ "$status" -eq 1 ]
  [ "$(records)" -eq 0 ]
  [ -z "$(ls "$idx")" ]
  [ -z "$(ipam_ips)" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
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
  ! on g1 ip link show eth0 || false
  ! on g3 ip link show eth0 || false
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
  vg_quiet "$log"
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
  ! curl_from peer "http://$ip/hello.html" || false
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
  ! on host ip link show br-cnin || false
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "cni: ADD refuses the host's own address and another attachment's (static IPAM, conflictCheck off): error 7, nothing left" {
  add_container st
  add_container rt
  # another attachment of the LAN: the routed way on the host's bridge (.206)
  run lj attach routed "netns:${LAB_PREFIX}rt" --parent br-em1 --ip 198.51.100.206/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}rt"
  local n a
  n=$(records)
  snapshot st >"$BATS_TEST_TMPDIR/st.before"
  for a in 198.51.100.76 198.51.100.206; do
    conf 1.0.0 '.ipam = {type: "static", addresses: [{address: "'"$a"'/24", gateway: "198.51.100.254"}]}'
    run --separate-stderr cni ADD cid-st "$(ns st)"
    expect_error 7
    # the host's own; the routed attachment's by the host's route to it (conflictCheck off:
    # the records are not read)
    local why
    why=$(jq -r '.msg + ": " + .details' <<<"$output")
    [[ $why == *"$a is the host's own"* || $why == *"$a is routed by the host"* ]]
    [ "$(records)" -eq "$n" ]
    diff "$BATS_TEST_TMPDIR/st.before" <(snapshot st)
  done
}
