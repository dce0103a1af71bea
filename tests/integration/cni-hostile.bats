#!/usr/bin/env bats
# CNI plugin mode (issue 9), the hostile side: malformed and hostile input, a failure at every
# step, a FIFO as the namespace, a hung IPAM plugin, DEL of a dead container whose namespace
# inode was reused. Split from cni.bats so that the two can run in parallel.

load helpers
load cni-helpers

bats_require_minimum_version 1.5.0

setup_file() { lab_setup_file --bridge-host; }

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
    wait_until 5 pid_gone "$pid"
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

@test "cni: DEL of a dead container whose namespace inode a live container got leaves the live one alone" {
  conf 1.0.0
  defer "$LAB" container del old
  # The kernel gives a namespace the lowest free inode number, and frees the old one's once
  # it is cleaned up (asynchronously): make namespaces, keeping each (so that it holds a
  # lower number someone else freed), until one gets the old one's number. Another process
  # making a namespace meanwhile (test files run in parallel) can take the freed number
  # first: then DEL the old one and try again with a new one.
  local prev ino i n=0 try new=""
  for ((try = 1; try <= 5 && n < 400; try++)); do
    lab container add old >/dev/null
    run --separate-stderr cni ADD cid-old "$(ns old)"
    [ "$status" -eq 0 ]
    prev=$output
    ino=$(stat -L -c %i "$(ns old)")
    lab container del old
    for ((i = 0; i < 80; i++, n++)); do
      ip netns add "${LAB_PREFIX}new$n"
      defer ip netns del "${LAB_PREFIX}new$n"
      if [ "$(stat -L -c %i "$(ns "new$n")")" = "$ino" ]; then
        new=new$n
        break 2
      fi
      sleep 0.05
    done
    run --separate-stderr cni DEL cid-old "$(ns old)" eth0 "$(with_prev "$prev")"
    [ "$status" -eq 0 ]
  done
  [ -n "$new" ] || skip "no new namespace got a dead one's inode number in $((try - 1)) tries"
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
