#!/usr/bin/env bats
# uplink adopt / release beside the ways that use the uplink itself: a nat attachment's address
# (--uplink) and a routed one's proxy entries (--parent) would move away from, or stay behind
# on, the link that is adopted or released. Both refuse (exit 2), naming each attachment, as
# adopt refuses an uplink that macvlan children hold (uplink.bats). The lab is plain: em1 holds
# 198.51.100.76/24, 2001:db8:1::76/64 and the default routes.

load helpers
load engine-helpers
load docker-plugin-helpers

setup_file() {
  lab_setup_file
  spec_dir_setup
}
teardown_file() {
  spec_dir_teardown
  lab_teardown_file
}

setup() {
  # Whatever a test does, the uplink goes back (release is a no-op when nothing is adopted).
  defer lj uplink release br-em1 --force
  defer spec_dir_clear
}

del_proxy() { on host ip neigh del proxy "$1" dev em1 2>/dev/null || true; }
detach_later() { defer lj detach "netns:$LAB_PREFIX$1"; }

# ADOPT/RELEASE's refusal: exit 2, naming only what applies: the ways in the way, each
# attachment (way, target, address, how to detach it), what would break, what to do.
# refusal LINK VERB TO WHY USERS: the whole text; used NAME WAY ADDRESS: one attachment in USERS
refusal() {
  local n=them
  [[ $5 == *"), "* ]] || n=it
  local ways
  case $5 in
  *"nat netns"*"routed netns"*) ways="nat: --uplink $3; routed: --parent $3" ;;
  *"nat netns"*) ways="nat: --uplink $3" ;;
  *) ways="routed: --parent $3" ;;
  esac
  echo "'$1' cannot be ${2%e}ed while $([[ $n == it ]] && echo "this uses" || echo "these use") it ($4: they would stop working): $5. Detach $n first, $2, then attach $n again on '$3' ($ways)"
}
used() { echo "$2 netns:$LAB_PREFIX$1 $3 ('lanjoin detach netns:$LAB_PREFIX$1')"; }
assert_refused() { # TEXT
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"$1"* ]] || {
    echo "expected: $1"
    return 1
  }
}
MOVE_EM1="its addresses would move to 'em1'"
MOVE_BR="its addresses would move to 'br-em1'"
PROXIES="its proxy entries would stay behind"

@test "uplink-ways: adopt refuses (exit 2, nothing changed) an uplink that a nat attachment uses, also --ovs, --dry-run and attach bridge --uplink" {
  add_container web
  take_snapshots web
  run lj attach nat "netns:${LAB_PREFIX}web" --uplink em1 --address 198.51.100.120/24 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later web
  local attached=$BATS_TEST_TMPDIR/attached
  snapshot host >"$attached"

  local text
  text=$(refusal em1 adopt br-em1 "$MOVE_BR" "$(used web nat 198.51.100.120/24)")
  run lj uplink adopt br-em1 em1
  assert_refused "$text"
  # only what applies: no routed attachment, no proxy entry
  [[ $output != *proxy* && $output != *routed* && $output != *--parent* ]]
  run lj uplink adopt br-em1 em1 --dry-run
  assert_refused "$text"
  run lj uplink adopt br-ovs em1 --ovs
  assert_refused "$(refusal em1 adopt br-ovs "its addresses would move to 'br-ovs'" "$(used web nat 198.51.100.120/24)")"
  run lj attach bridge "netns:${LAB_PREFIX}web" --ifname eth2 --bridge br-em1 --uplink em1 --ip 198.51.100.121/24
  assert_refused "$text"
  run lj attach bridge "netns:${LAB_PREFIX}web" --ifname eth2 --bridge br-em1 --uplink em1 --ip 198.51.100.121/24 --dry-run
  assert_refused "$text"

  # nothing moved: the nat still works and stays in step with its spec
  assert_same_state host "$attached"
  [ "$(lj uplink list --json | jq length)" -eq 0 ]
  run curl_from peer http://198.51.100.120/hello.html
  [ "$output" = "Hello world" ]
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]

  # detached first, the adoption works, and its release gives em1 back exactly
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  run lj uplink adopt br-em1 em1
  echo "$output"
  [ "$status" -eq 0 ]
  run lj uplink release br-em1
  [ "$status" -eq 0 ]
  wait_until 5 _no_tentative host || true
  assert_unchanged
}

@test "uplink-ways: release refuses (exit 2, also --force and --dry-run) a bridge that a nat or routed attachment uses; detached, release leaves nothing" {
  add_container web
  add_container rt
  take_snapshots web rt
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  run lj attach nat "netns:${LAB_PREFIX}web" --uplink br-em1 --address 198.51.100.125/24
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later web
  local adopted=$BATS_TEST_TMPDIR/adopted
  snapshot host >"$adopted"

  for opt in "" --force --dry-run; do
    run lj uplink release br-em1 $opt
    assert_refused "$(refusal br-em1 release em1 "$MOVE_EM1" "$(used web nat 198.51.100.125/24)")"
  done
  assert_same_state host "$adopted"
  run curl_from peer http://198.51.100.125/hello.html
  [ "$output" = "Hello world" ]

  # a routed attachment on the bridge too: both named
  run lj attach routed "netns:${LAB_PREFIX}rt" --parent br-em1 --ip 198.51.100.126/24
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later rt
  run lj uplink release br-em1
  assert_refused "$(refusal br-em1 release em1 "$MOVE_EM1 and its proxy entries stay behind" \
    "$(used web nat 198.51.100.125/24), $(used rt routed 198.51.100.126/32)")"

  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  run lj detach "netns:${LAB_PREFIX}rt"
  [ "$status" -eq 0 ]
  run lj uplink release br-em1
  echo "$output"
  [ "$status" -eq 0 ]
  # the nat address did not come back to em1 with the host's
  run on host ip -o addr show dev em1
  [[ $output != *198.51.100.125* ]]
  wait_until 5 _no_tentative host || true
  assert_unchanged
}

@test "uplink-ways: adopt refuses (exit 2) an uplink with a routed attachment's proxy entries, or anyone's; the peer still reaches the container" {
  add_container rx
  take_snapshots rx
  run lj attach routed "netns:${LAB_PREFIX}rx" --parent em1 --ip 198.51.100.133/24
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later rx
  local text
  text=$(refusal em1 adopt br-em1 "$PROXIES" "$(used rx routed 198.51.100.133/32)")
  run lj uplink adopt br-em1 em1
  assert_refused "$text"
  [[ $output != *"nat"* && $output != *"--uplink"* && $output != *"addresses would move"* ]]
  run lj uplink adopt br-em1 em1 --dry-run
  assert_refused "$text"
  [[ $output != *"proxy neighbour entr"* ]] # the record's own entries are not counted twice
  run on host ip neigh show proxy dev em1
  [[ $output == *198.51.100.133* ]]
  run curl_from peer http://198.51.100.133/hello.html
  [ "$output" = "Hello world" ]
  run lj detach "netns:${LAB_PREFIX}rx"
  [ "$status" -eq 0 ]

  # a proxy entry of no lanjoin attachment would stay behind on em1 as well
  on host ip neigh add proxy 198.51.100.134 dev em1
  defer del_proxy 198.51.100.134
  run lj uplink adopt br-em1 em1
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"'em1' cannot be adopted while this uses it ($PROXIES: they would stop working): 1 proxy neighbour entry of no lanjoin attachment ('ip neigh show proxy dev em1'). Remove the proxy entries first, then adopt"* ]]
  [[ $output != *"attach"*"again"* && $output != *"Detach"* ]]
  on host ip neigh del proxy 198.51.100.134 dev em1
  assert_unchanged
}

@test "uplink-ways: the Docker plugin's uplink= option gets the same refusal in its Err" {
  add_container web
  run lj attach nat "netns:${LAB_PREFIX}web" --uplink em1 --address 198.51.100.120/24
  [ "$status" -eq 0 ]
  detach_later web
  plugin_start
  defer plugin_stop TERM
  local nid=3333333333333333333333333333333333333333333333333333333333333333
  run call NetworkDriver.CreateNetwork "{\"NetworkID\":\"$nid\",\"Options\":{\"com.docker.network.generic\":{\"mode\":\"bridge\",\"bridge\":\"br-em1\",\"uplink\":\"em1\"}},\"IPv4Data\":[{\"Pool\":\"198.51.100.0/24\"}]}"
  echo "$output"
  [[ $(head -n1 <<<"$output" | jq -r .Err) == "'em1' cannot be adopted"*"nat netns:${LAB_PREFIX}web 198.51.100.120/24"* ]]
  [ "$(lj uplink list --json | jq length)" -eq 0 ]
  on host ip -o addr show dev em1 | grep -q 'inet 198.51.100.120/24'
}

@test "uplink-ways: detach --dry-run of a bridge attachment on an adopted bridge does not print deleting it; of one that made its bridge it does" {
  add_container c1
  run lj uplink adopt br-em1 em1
  [ "$status" -eq 0 ]
  run lj attach bridge "netns:${LAB_PREFIX}c1" --bridge br-em1 --ip 198.51.100.140/24
  [ "$status" -eq 0 ]
  detach_later c1
  run lj detach "netns:${LAB_PREFIX}c1" --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *"ip link del br-em1"* ]]
  [[ $output != *"deletes bridge"* ]]
  run lj detach "netns:${LAB_PREFIX}c1"
  [ "$status" -eq 0 ]

  run lj attach bridge "netns:${LAB_PREFIX}c1" --bridge br-lj9 --create-bridge --ip 198.18.9.2/24
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later c1
  run lj detach "netns:${LAB_PREFIX}c1" --dry-run
  echo "$output"
  [[ $output == *"# ip link del br-lj9"* ]]
}
