#!/usr/bin/env bats
# lanjoin status (issue 18, item 2): read only; each attachment ok, drifted (saying what
# differs from its record), target-gone or target-restarted; exit 0 when all are ok, else 1.

load helpers

bats_require_minimum_version 1.5.0

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
  # only the error (on stderr): no table header for nothing
  [ -z "$(lj status netns:nosuch 2>/dev/null)" ]
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

# status_names TEXT: status exits 1, its text and its --json "what" both name TEXT.
status_names() {
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"$1"* ]]
  run lj status --json
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(jq -r .ok <<<"$output")" = false ]
  [[ $(jq -r '.attachments[] | select(.status == "drifted") | .what' <<<"$output") == *"$1"* ]]
}
status_ok() {
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
}

attach_nat() {
  lj attach nat "netns:${LAB_PREFIX}$1" --uplink em1 --address 198.51.100.132/24
}

@test "status: lanjoin's nft table flushed, then deleted, makes a nat attachment drifted" {
  add_container web
  detach_later web
  run attach_nat web
  [ "$status" -eq 0 ]
  status_ok
  saved=$(on host nft list table ip lanjoin)
  on host nft flush table ip lanjoin
  status_names "base chain prerouting of table ip lanjoin has no rule"
  on host nft delete table ip lanjoin
  status_names "table ip lanjoin is missing"
  # an element of lanjoin's map deleted is named too
  on host nft -f - <<<"$saved"
  status_ok
  on host nft delete element ip lanjoin inbound '{ 198.51.100.132 }'
  status_names "map inbound of table ip lanjoin has no element 198.51.100.132"
  on host nft delete table ip lanjoin
  on host nft -f - <<<"$saved"
  status_ok
}

# Docker's firewall as far as it matters (as nat.bats): FORWARD policy DROP, an empty
# DOCKER-USER jumped from FORWARD (iptables-nft, table ip filter).
fw_reset() {
  on host nft delete table ip filter 2>/dev/null || true
  on host nft delete table ip nat 2>/dev/null || true
}

@test "status: lanjoin's iptables accept rule deleted (Docker's FORWARD DROP) is drifted" {
  add_container web
  defer fw_reset
  on host iptables -N DOCKER-USER
  on host iptables -A FORWARD -j DOCKER-USER
  on host iptables -P FORWARD DROP
  detach_later web
  run attach_nat web
  echo "$output"
  [ "$status" -eq 0 ]
  status_ok
  local rule
  rule=$(on host iptables -S DOCKER-USER | grep -m1 -- '-s .*lanjoin:' | tr -d '"')
  echo "$rule"
  # shellcheck disable=SC2086 # the rule's words, as iptables -S printed them
  on host iptables ${rule/#-A /-D }
  status_names "iptables accept rule for 198.18."
  # put back as lanjoin made it (nft's own comment: iptables -m comment is opaque to nft)
  local w
  read -ra w <<<"$rule"
  on host nft insert rule ip filter DOCKER-USER iifname "${w[5]}" ip saddr "${w[3]%/32}" \
    counter accept comment "\"${w[9]}\""
  status_ok
  # an inbound rule (only what the DNAT let in: iptables' conntrack match) missing is drifted too
  rule=$(on host iptables -S DOCKER-USER | grep -m1 -- '--ctstate DNAT .*lanjoin:' | tr -d '"')
  echo "$rule"
  # shellcheck disable=SC2086
  on host iptables ${rule/#-A /-D }
  status_names "iptables accept rule for 198.18."
  # shellcheck disable=SC2086
  on host iptables ${rule/#-A /-I }
  status_ok
}

@test "status: IPv4 forwarding that nat turned on, written back to 0, is drifted" {
  add_container web
  detach_later web
  run attach_nat web
  [ "$status" -eq 0 ]
  [ "$(on host sysctl -n net.ipv4.ip_forward)" = 1 ]
  defer on host sysctl -qw net.ipv4.ip_forward=1
  on host sysctl -qw net.ipv4.ip_forward=0
  status_names "sysctl net.ipv4.ip_forward is 0, not 1"
  on host sysctl -qw net.ipv4.ip_forward=1
  status_ok
}

@test "status: a sysctl lanjoin set in the container (accept_ra of its link), changed, is drifted" {
  add_container web
  detach_later web
  run attach_bridge web
  [ "$status" -eq 0 ]
  [ "$(on web sysctl -n net.ipv6.conf.eth1.accept_ra)" = 0 ]
  on web sysctl -qw net.ipv6.conf.eth1.accept_ra=1
  status_names "sysctl net/ipv6/conf/eth1/accept_ra is 1 in the target, not 0"
  on web sysctl -qw net.ipv6.conf.eth1.accept_ra=0
  status_ok
}

@test "status: the nat uplink set down is drifted" {
  add_container web
  detach_later web
  run attach_nat web
  [ "$status" -eq 0 ]
  defer on host ip link set em1 up
  on host ip link set em1 down
  status_names "link em1 is down on the host (the uplink)"
  on host ip link set em1 up
  status_ok
}

@test "status: the bridge (the veth's master) set down is drifted" {
  add_container web
  detach_later web
  run attach_bridge web
  [ "$status" -eq 0 ]
  defer on host ip link set "$BR" up
  on host ip link set "$BR" down
  status_names "link $BR is down on the host"
  # said once, though two steps find it (the bridge, the veth's master)
  [ "$(jq -r '.attachments[0].what' <<<"$output" | grep -o 'is down' | wc -l)" -eq 1 ]
  on host ip link set "$BR" up
  status_ok
}

@test "status: lanjoin's OVS port deleted from the database is drifted (one select per run)" {
  command -v ovs-vsctl >/dev/null || skip "no Open vSwitch"
  add_container web
  defer lab ovs stop
  lab ovs start
  eval "$("$LAB" ovs env)"
  detach_later web
  run lj attach ovs "netns:${LAB_PREFIX}web" --bridge ljstovs0 --create-bridge \
    --ip 198.18.1.2/24 --ovsdb "$LAB_OVSDB"
  echo "$output"
  [ "$status" -eq 0 ]
  status_ok
  local port
  port=$(lj list --json | jq -r '.[0].host_ifname')
  ovs-vsctl "--db=$LAB_OVSDB" --timeout=10 del-port ljstovs0 "$port"
  status_names "OVS port $port of bridge ljstovs0 is missing from the database"
  ovs-vsctl "--db=$LAB_OVSDB" --timeout=10 add-port ljstovs0 "$port" -- \
    set Port "$port" external_ids:lanjoin-owner=lanjoin
  status_ok
}

@test "status: an uplink adoption is its own entry: the bridge's MAC changed, DEV taken out" {
  defer lj uplink release ljstup0
  run lj uplink adopt ljstup0 em1 --probe 198.51.100.254
  echo "$output"
  [ "$status" -eq 0 ]
  status_ok
  [[ $output == *ljstup0*uplink*ok* ]]
  local mac
  mac=$(on host ip -br link show ljstup0 | awk '{print $3}')
  on host ip link set ljstup0 address 02:00:00:00:00:99
  status_names "ljstup0 on the host has MAC 02:00:00:00:00:99, not $mac"
  [[ $(jq -r '.attachments[] | select(.ifname == "ljstup0") | .way' <<<"$output") == uplink ]]
  on host ip link set ljstup0 address "$mac"
  status_ok
  on host ip link set em1 nomaster
  status_names "em1 is no longer a port of ljstup0"
  on host ip link set em1 master ljstup0
  status_ok
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

@test "status: the DHCP lease's address removed, or the client killed (its supervisor ends), is drifted" {
  add_container web
  detach_later web
  run lj attach macvlan "netns:${LAB_PREFIX}web" --parent em1 --dhcp --json
  echo "$output"
  [ "$status" -eq 0 ]
  sup=$(jq -r '.info.dhcp.pid' <<<"$output")
  [[ $sup =~ ^[0-9]+$ ]]
  lease=$(jq -r '.info.dhcp.address' <<<"$output")
  [[ $lease == 198.51.100.*/24 ]]
  status_ok
  # the lease's address taken off the link, then put back
  on web ip addr del "$lease" dev eth1
  status_names "the DHCP lease's address $lease is missing on eth1 in the target"
  on web ip addr add "$lease" dev eth1
  status_ok
  client=$(pgrep -P "$sup" | head -n 1)
  [[ $client =~ ^[0-9]+$ ]]
  kill "$client"
  wait_until 10 status_is web drifted
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *macvlan*drifted*"the DHCP supervisor of eth1 (PID $sup) is not running"* ]]
}

@test "status: a container with a network of its own: its source rule or table gone is drifted; reconcile puts them back" {
  add_container eng
  engine_net eng ljsteng
  detach_later eng
  run lj attach macvlan "netns:${LAB_PREFIX}eng" --parent em1 --ip 198.51.100.133/24 \
    --gateway 198.51.100.254
  echo "$output"
  [ "$status" -eq 0 ]
  status_ok
  local table
  table=$(on eng ip rule show from 198.18.9.2 | sed -n 's/.*lookup \([0-9]*\).*/\1/p')
  [ -n "$table" ]
  on eng ip rule del from 198.18.9.2 lookup "$table"
  status_names "no routing rule sends replies from the addresses of 'eth0' to table $table"
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  status_ok
  on eng ip route flush table "$table"
  status_names "routing table $table, for replies from the addresses of 'eth0', is empty"
  run lj reconcile
  [ "$status" -eq 0 ]
  status_ok
  on eng ip rule show from 198.18.9.2 | grep -q "lookup $table"
}

@test "status, list, reconcile: a record that cannot be read (truncated) is named and is exit 1, after all that can be read; gc leaves it, naming it" {
  add_container cr
  run attach_bridge cr
  [ "$status" -eq 0 ]
  detach_later cr
  local dir=$LANJOIN_STATE_DIR/attachments rec bad
  rec=$(ls "$dir"/*.json)
  # a record cut short (a full disk, a copy interrupted), under a record's own kind of name
  bad=$dir/0000deadbeef.json
  head -c 200 "$rec" >"$bad"
  defer rm -f "$bad"
  local name=${bad##*/}

  run --separate-stderr lj list
  echo "$output / $stderr"
  [ "$status" -eq 1 ]
  [[ $output == *"netns:${LAB_PREFIX}cr"*eth1*bridge* ]] # what can be read is listed
  [[ $stderr == *"1 file in $LANJOIN_STATE_DIR/attachments could not be read"*"left alone: $name (truncated);"* ]]
  run --separate-stderr lj list --json
  echo "$output / $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r '[.[] | select(.schema == "lanjoin/attachment/v1") | .target.spec] | join(" ")' <<<"$output")" = "netns:${LAB_PREFIX}cr" ]
  [ "$(jq -c '[.[] | select(.schema == "lanjoin/unreadable/v1") | .file]' <<<"$output")" = "[\"$bad\"]" ]
  [ "$(jq -r '.[-1].error' <<<"$output")" = truncated ]
  # what is wrong, in words: a file that is no record's by its name, a record's that is no JSON
  echo '{}' >"$dir/not-a-record.json"
  echo 'garbage' >"$dir/0000deadbeee.json"
  run --separate-stderr lj list
  echo "$stderr"
  [ "$status" -eq 1 ]
  [[ $stderr == *"3 files in $LANJOIN_STATE_DIR/attachments could not be read, left alone: 0000deadbeee.json (malformed JSON), $name (truncated), not-a-record.json (not a record file name);"* ]]
  [[ $stderr != *"Invalid argument"* ]]
  rm "$dir/not-a-record.json" "$dir/0000deadbeee.json"

  run --separate-stderr lj status
  echo "$output / $stderr"
  [ "$status" -eq 1 ]
  [[ $output == *"netns:${LAB_PREFIX}cr"*eth1*bridge*" ok "* ]]
  [[ $stderr == *"could not be read"*"$name"* ]]
  run --separate-stderr lj status --json
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(jq -r .ok <<<"$output")" = false ]
  [ "$(jq -r '.attachments[0].status' <<<"$output")" = ok ]
  [ "$(jq -r '.unreadable[0].file' <<<"$output")" = "$bad" ]
  [ "$(jq -r '.unreadable[0].schema' <<<"$output")" = lanjoin/unreadable/v1 ]

  # reconcile cannot bring it back either: not ok; the readable attachment is left as it is
  run --separate-stderr lj reconcile --json
  echo "$output / $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r .ok <<<"$output")" = false ]
  [ "$(jq -r '.unreadable[0].file' <<<"$output")" = "$bad" ]
  [ "$(jq '.actions | length' <<<"$output")" -eq 0 ]
  # gc cannot tell whose it was: it names it and leaves it (exit 0: it did what it can)
  run --separate-stderr lj gc --json
  echo "$output / $stderr"
  [ "$status" -eq 0 ]
  [ "$(jq -r '.unreadable[0].file' <<<"$output")" = "$bad" ]
  [[ $stderr == *"could not be read"*"$name"* ]]
  [ -e "$bad" ]
  [ "$(status_of cr)" = ok ]

  # an uplink adoption's record (status checks adoptions too) likewise
  rm -f "$bad"
  mkdir -p -m 0700 "$LANJOIN_STATE_DIR/uplinks"
  head -c 100 "$rec" >"$LANJOIN_STATE_DIR/uplinks/0000deadbeef.json"
  defer rm -f "$LANJOIN_STATE_DIR/uplinks/0000deadbeef.json"
  run --separate-stderr lj status --json
  echo "$output / $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r '.unreadable[0].file' <<<"$output")" = "$LANJOIN_STATE_DIR/uplinks/0000deadbeef.json" ]
  [[ $stderr == *"1 file in $LANJOIN_STATE_DIR/uplinks could not be read"*"if one was an uplink adoption's"* ]]
  # uplink list names it too (exit 1), as list does; --json appends it after the adoptions
  run --separate-stderr lj uplink list
  echo "$output / $stderr"
  [ "$status" -eq 1 ]
  [[ $output == BRIDGE* ]]
  [[ $stderr == *"1 file in $LANJOIN_STATE_DIR/uplinks could not be read"*"0000deadbeef.json (truncated)"* ]]
  run --separate-stderr lj uplink list --json
  echo "$output / $stderr"
  [ "$status" -eq 1 ]
  [ "$(jq -r '.[-1].schema' <<<"$output")" = lanjoin/unreadable/v1 ]
  [ "$(jq -r '.[-1].file' <<<"$output")" = "$LANJOIN_STATE_DIR/uplinks/0000deadbeef.json" ]
  [ "$(jq -r '.[-1].error' <<<"$output")" = truncated ]
  rm -f "$LANJOIN_STATE_DIR/uplinks/0000deadbeef.json"
  run --separate-stderr lj uplink list --json
  [ "$status" -eq 0 ]
  [ "$output" = "[]" ]

  # once it is dealt with, all is well again
  run --separate-stderr lj list
  [ "$status" -eq 0 ]
  [ -z "$stderr" ]
  run lj status --json
  [ "$status" -eq 0 ]
  [ "$(jq -c .unreadable <<<"$output")" = "[]" ]
}

@test "status, reconcile: a routed attachment's parent that is down is waited for (its proxy entries with it), not repaired; up again, it is repaired" {
  add_container web
  detach_later web
  run lj attach routed "netns:${LAB_PREFIX}web" --parent em1 --ip 198.51.100.133/24
  echo "$output"
  [ "$status" -eq 0 ]
  rec=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
  created=$(jq -r .created "$rec")
  mac=$(on web cat /sys/class/net/eth1/address)
  defer on host ip route replace default via 198.51.100.254 dev em1
  defer on host ip link set em1 up
  # the kernel drops em1's proxy entries with it: the parent is what differs, not them
  on host ip link set em1 down
  status_names "link em1 is down on the host (the parent)"
  run lj status --json
  [[ $output != *"proxy entry"* ]]
  run lj reconcile
  echo "$output"
  [ "$status" -eq 1 ]
  # left alone: the same interface and address in the container, the same record
  [ "$(on web cat /sys/class/net/eth1/address)" = "$mac" ]
  on web ip -4 addr show dev eth1 | grep -q 198.51.100.133/32
  [ "$(jq -r .created "$rec")" = "$created" ]
  [ "$(jq -r .status "$rec")" = attached ]
  # up again: the proxy entry it lost is put back by one reconcile, the peer reaches it
  on host ip link set em1 up
  on host ip route replace default via 198.51.100.254 dev em1
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  status_ok
  curl_from peer http://198.51.100.133/hello.html | grep -q "Hello world"
}

# An attach still waiting (here for a DHCP lease no one gives) is settling: nothing wrong, but
# not ready; a health check must not read it as ok. Exit 3, said on stderr; --json counts it.
@test "status: an attachment whose attach still runs (settling) exits 3, not 0, and says so" {
  add_container sq
  env --default-signal=INT ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "netns:${LAB_PREFIX}sq" --bridge ljstbrq --create-bridge --dhcp --dhcp-timeout 60 \
    >"$BATS_TEST_TMPDIR/sq.out" 2>&1 3>&- &
  local pid=$!
  defer sh -c "kill -KILL $pid 2>/dev/null || true"
  settling() { [ "$(status_of sq)" = settling ]; }
  wait_until 10 settling
  run --separate-stderr lj status
  echo "$output"
  echo "$stderr"
  [ "$status" -eq 3 ]
  [[ $output == *"netns:${LAB_PREFIX}sq"*settling* ]]
  [[ $stderr == *"1 attachment still settling"*"exit status 3"* ]]
  run --separate-stderr lj status --json
  [ "$status" -eq 3 ]
  [ "$(jq -c '[.ok, .settling]' <<<"$output")" = '[true,1]' ]
  # something worse than settling wins: exit 1
  run lj status netns:nosuch
  [ "$status" -eq 1 ]
  kill -INT "$pid"
  wait "$pid" || true
  cat "$BATS_TEST_TMPDIR/sq.out"
  run lj status
  [ "$status" -eq 0 ]
  on host ip link del ljstbrq 2>/dev/null || true
}

# The header's columns and the rows' columns start at the same place (TARGET as long as a
# Docker plugin's sandbox path); an uplink adoption's TARGET is the host, not a /proc path;
# `uplink list` says when the adopted bridge is gone or its device no longer its port.
@test "status, list, uplink list: long targets keep the columns; an adoption is the host's; a deleted bridge is gone" {
  local ns="${LAB_PREFIX}sandbox-0123456789abcdef0123456789" col
  ip netns add "$ns"
  defer ip netns del "$ns"
  lj attach bridge "/run/netns/$ns" "${BR_ATTACH[@]}" >/dev/null
  defer lj detach "/run/netns/$ns"
  for c in status list; do
    run lj "$c"
    echo "$output"
    col=$(awk 'NR == 1 { print index($0, " IFNAME ") }' <<<"$output")
    [ "$(awk -v t="/run/netns/$ns" '$1 == t { print index($0, " eth1 ") }' <<<"$output")" = "$col" ]
  done
  # an adoption of a device of its own (em1 stays the lab's)
  on host ip link add ljstdev type veth peer name ljstdev-p
  defer on host ip link del ljstdev
  on host ip link set ljstdev up
  on host ip link set ljstdev-p up
  lj uplink adopt ljstup1 ljstdev >/dev/null
  defer lj uplink release ljstup1
  run lj status
  echo "$output"
  [[ $output == *$'\n'"host "*ljstup1*uplink*ok* ]]
  [[ $output != */proc/self/ns/net* ]]
  [ "$(lj uplink list --json | jq -r '.[] | select(.bridge == "ljstup1") | .status')" = adopted ]
  on host ip link set ljstdev nomaster
  run lj uplink list
  echo "$output"
  [[ $output == *ljstup1*ljstdev*drifted* ]]
  on host ip link del ljstup1
  run lj uplink list
  echo "$output"
  [[ $output == *ljstup1*ljstdev*gone* ]]
  [ "$(lj uplink list --json | jq -r '.[] | select(.bridge == "ljstup1") | .status')" = gone ]
}
