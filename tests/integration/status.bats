#!/usr/bin/env bats
# lanjoin status (issue 18, item 2): read only; each attachment ok, drifted (saying what
# differs from its record), target-gone or target-restarted; exit 0 when all are ok, else 1.

load helpers

# A bridge lanjoin makes itself (the plain lab's em1 stays free for macvlan and nat).
BR=ljstbr0
BR_ATTACH=(--bridge "$BR" --create-bridge --ip 198.18.0.2/24 --gateway 198.18.0.1)

attach_bridge() {
  lj attach bridge "netns:$LAB_PREFIX$1" "${BR_ATTACH[@]}"
}
detach_later() { defer lj detach "netns:$LAB_PREFIX$1"; }

# The STATUS column of target NAME's row.
status_of() {
  lj status --json | jq -r --arg s "netns:$LAB_PREFIX$1" '.attachments[] | select(.target == $s) | .status'
}

@test "status: nothing attached is ok (exit 0, header only; --json has no attachments)" {
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == TARGET*IFNAME*WAY*STATUS*WHAT ]]
  [ "${#lines[@]}" -eq 1 ]
  run lj status --json
  [ "$status" -eq 0 ]
  [ "$(jq -r .schema <<<"$output")" = lanjoin/status/v1 ]
  [ "$(jq -r .ok <<<"$output")" = true ]
  [ "$(jq '.attachments | length' <<<"$output")" -eq 0 ]
  # a TARGET with no attachment (a misspelt name) is not "all ok"
  run lj status netns:nosuch
  [ "$status" -eq 1 ]
  [[ $output == *"no attachment of netns:nosuch"* ]]
}

@test "status: bad usage exits 2" {
  run lj status --bogus
  [ "$status" -eq 2 ]
  [[ $output == *"Unknown option '--bogus'"* ]]
  run lj status a b
  [ "$status" -eq 2 ]
  [[ $output == *"Unexpected argument 'b'"* ]]
  run lj status --engine-socket
  [ "$status" -eq 2 ]
  run lj status --help
  [ "$status" -eq 0 ]
  [[ $output == *"Usage: lanjoin status"* ]]
}

@test "status: bridge, macvlan and nat attachments are ok right after attach" {
  add_container b
  add_container m
  add_container n
  detach_later b
  run attach_bridge b
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later m
  run lj attach macvlan "netns:${LAB_PREFIX}m" --parent em1 --ip 198.51.100.131/24
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later n
  run lj attach nat "netns:${LAB_PREFIX}n" --uplink em1 --address 198.51.100.132/24
  echo "$output"
  [ "$status" -eq 0 ]

  for node in host b m n; do snapshot "$node" >"$BATS_TEST_TMPDIR/$node.before"; done
  records_before=$(cd "$LANJOIN_STATE_DIR" && find . -type f -exec sha256sum {} + | sort)
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 4 ]
  # records made in the same second come in any order
  [[ $output == *"netns:${LAB_PREFIX}b "*eth1*bridge*ok* ]]
  [[ $output == *"netns:${LAB_PREFIX}m "*eth1*macvlan*ok* ]]
  [[ $output == *"netns:${LAB_PREFIX}n "*eth1*nat*ok* ]]

  run lj status --json
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(jq -r .schema <<<"$output")" = lanjoin/status/v1 ]
  [ "$(jq -r .ok <<<"$output")" = true ]
  [ "$(jq -r '[.attachments[].status] | unique | join(",")' <<<"$output")" = ok ]
  [ "$(jq -r '[.attachments[].way] | sort | join(",")' <<<"$output")" = bridge,macvlan,nat ]
  [ "$(jq -r '[.attachments[].what] | unique | map(tostring) | join(",")' <<<"$output")" = null ]
  [ "$(jq -r '.attachments[0] | keys | join(",")' <<<"$output")" = host_ifname,ifname,status,target,unchecked_steps,way,what ]

  # TARGET picks one attachment
  run lj status "netns:${LAB_PREFIX}m"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[1]} == *macvlan*ok* ]]
  run lj status "netns:${LAB_PREFIX}nosuch"
  [ "$status" -eq 1 ]
  [[ $output == *"no attachment of netns:${LAB_PREFIX}nosuch"* ]]

  # read only: nothing changed, in the kernel or in the state directory
  for node in host b m n; do assert_same_state "$node" "$BATS_TEST_TMPDIR/$node.before"; done
  [ "$(cd "$LANJOIN_STATE_DIR" && find . -type f -exec sha256sum {} + | sort)" = "$records_before" ]
}

@test "status: an address deleted in the container is drifted, naming it (exit 1)" {
  add_container web
  detach_later web
  run attach_bridge web
  [ "$status" -eq 0 ]
  on web ip addr del 198.18.0.2/24 dev eth1
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"address 198.18.0.2/24 is missing on eth1 in the target"* ]]
  run lj status --json
  [ "$status" -eq 1 ]
  [ "$(jq -r .ok <<<"$output")" = false ]
  [ "$(jq -r '.attachments[0].status' <<<"$output")" = drifted ]
  [[ $(jq -r '.attachments[0].what' <<<"$output") == *"198.18.0.2/24"* ]]
}

@test "status: the container's default route deleted is drifted" {
  add_container web
  detach_later web
  run attach_bridge web
  [ "$status" -eq 0 ]
  on web ip route del default
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"default route via 198.18.0.1 on eth1 is missing"* ]]
}

@test "status: the veth deleted is drifted, naming the missing link" {
  add_container web
  detach_later web
  run attach_bridge web
  [ "$status" -eq 0 ]
  host_if=$(lj list --json | jq -r '.[0].host_ifname')
  on host ip link del "$host_if"
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"link $host_if is missing on the host"* ]]
}

@test "status: the bridge's port taken out of it is drifted" {
  add_container web
  detach_later web
  run attach_bridge web
  [ "$status" -eq 0 ]
  host_if=$(lj list --json | jq -r '.[0].host_ifname')
  on host ip link set "$host_if" nomaster
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"$host_if is no longer a port of $BR"* ]]
}

@test "status: the bridge's port set down on the host is drifted" {
  add_container web
  detach_later web
  run attach_bridge web
  [ "$status" -eq 0 ]
  host_if=$(lj list --json | jq -r '.[0].host_ifname')
  on host ip link set "$host_if" down
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"$host_if"*down* ]]
  on host ip link set "$host_if" up
  run lj status
  [ "$status" -eq 0 ]
}

@test "status: a macvlan parent that is down is drifted" {
  add_container web
  detach_later web
  run lj attach macvlan "netns:${LAB_PREFIX}web" --parent em1 --ip 198.51.100.131/24
  [ "$status" -eq 0 ]
  defer on host ip link set em1 up
  on host ip link set em1 down
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"link em1 is down on the host (the parent)"* ]]
  on host ip link set em1 up
  run lj status
  [ "$status" -eq 0 ]
}

@test "status: lanjoin's nft table flushed in the host makes a nat attachment drifted" {
  add_container web
  detach_later web
  run lj attach nat "netns:${LAB_PREFIX}web" --uplink em1 --address 198.51.100.132/24
  [ "$status" -eq 0 ]
  run lj status
  [ "$status" -eq 0 ]
  on host nft flush table ip lanjoin
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *nat*drifted*"table ip lanjoin"* ]]
  on host nft delete table ip lanjoin
  run lj status --json
  [ "$status" -eq 1 ]
  [[ $(jq -r '.attachments[0].what' <<<"$output") == *"table ip lanjoin is missing"* ]]
}

@test "status: a deleted target namespace is target-gone; others stay ok" {
  add_container gone
  add_container stays
  detach_later stays
  run attach_bridge stays
  [ "$status" -eq 0 ]
  run lj attach bridge "netns:${LAB_PREFIX}gone" --bridge "$BR" --create-bridge --ip 198.18.0.3/24
  [ "$status" -eq 0 ]
  defer lj gc
  lab container del gone
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(status_of gone)" = target-gone ]
  [ "$(status_of stays)" = ok ]
  run lj status "netns:${LAB_PREFIX}stays"
  [ "$status" -eq 0 ]
  run lj status "netns:${LAB_PREFIX}gone"
  [ "$status" -eq 1 ]
  [[ ${lines[1]} == *target-gone* ]]
}

# status_is NAME STATUS: target NAME's row says STATUS (for wait_until).
status_is() { [ "$(status_of "$1")" = "$2" ]; }

@test "status: the DHCP client killed (its supervisor then ends) is drifted" {
  add_container web
  detach_later web
  run lj attach macvlan "netns:${LAB_PREFIX}web" --parent em1 --dhcp --json
  echo "$output"
  [ "$status" -eq 0 ]
  sup=$(jq -r '.info.dhcp.pid' <<<"$output")
  [[ $sup =~ ^[0-9]+$ ]]
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
  client=$(pgrep -P "$sup" | head -n 1)
  [[ $client =~ ^[0-9]+$ ]]
  kill "$client"
  wait_until 10 status_is web drifted
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *macvlan*drifted*"the DHCP supervisor of eth1 (PID $sup) is not running"* ]]
}
