#!/usr/bin/env bats
# Addressing (issue 8): DHCP with a supervised client, IPv6 static and SLAAC with DAD,
# gratuitous ARP / unsolicited NA, RFC 5227 conflict detection. Lab: dnsmasq on gw gives
# DHCPv4 .150-.199 with 2-minute leases and RA for 2001:db8:1::/64.

load helpers

setup_file() { lab_setup_file --bridge-host; }



# True if process $1 exists and is not a zombie.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null || true)
  [[ -n $stat ]] || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}
gone() {
  if alive "$1"; then
    return 1
  fi
  return 0
}

# The DHCP supervisor PID of the attachment of container $1 (from list --json), and its children.
supervisor_pid() {
  lj list --json | jq -r --arg t "netns:${LAB_PREFIX}$1" '.[] | select(.target.spec == $t) | .info.dhcp.pid'
}
children_of() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . | head -1; }
# No child of process $1 is a zombie.
no_zombies() {
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    grep -q '^State:[[:space:]]*Z' /proc/"$c"/status 2>/dev/null && return 1
  done
  return 0
}

# Clients installed here (the same fixed paths lanjoin looks at).
available_clients() {
  [[ -x /bin/busybox || -x /usr/bin/busybox ]] && echo udhcpc
  [[ -x /sbin/dhclient || -x /usr/sbin/dhclient ]] && echo dhclient
  [[ -x /sbin/dhcpcd || -x /usr/sbin/dhcpcd ]] && echo dhcpcd
  return 0
}

# Everything a DHCP client might write on a host, hashed and listed.
host_files() {
  local p
  for p in /etc/resolv.conf /etc/hosts /etc/hostname /etc/dhcp /etc/dhcpcd.conf \
    /var/lib/dhcp /var/lib/dhclient /var/lib/dhcpcd /run/dhcpcd /var/db /run/resolvconf; do
    [[ -e $p ]] || continue
    find "$p" -xdev \( -type f -o -type l \) -print0 | sort -z | xargs -0r sha256sum
    find "$p" -xdev -printf '%p %y %s %m\n' | sort
  done
}

dnsmasq_acks() { grep -c "DHCPACK(eth0) .* $1" "$LAB_DIR/dnsmasq.log" || true; }
lease_expiry() { awk -v m="$1" '$2 == m {print $1}' "$LAB_DIR/dnsmasq.leases"; }
# (functions, so that wait_until re-evaluates them)
more_acks() { [ "$(dnsmasq_acks "$1")" -gt "$2" ]; }
later_expiry() { [ "$(lease_expiry "$1")" -gt "$2" ]; }

@test "addressing: --dhcp gets a pool address; peer and outside reach it; detach stops the client and releases the lease" {
  add_container web
  take_snapshots web
  run lj attach bridge "netns:${LAB_PREFIX}web" --bridge br-em1 --dhcp --mac-from web --json
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}web"
  addr=$(jq -r '.info.dhcp.address' <<<"$output")
  ip=${addr%/*}
  [[ $addr =~ ^198\.51\.100\.(1[5-9][0-9])/24$ ]]
  [ "$(jq -r '.addresses[0]' <<<"$output")" = "$addr" ]
  [ "$(jq -r '.info.dhcp.router' <<<"$output")" = 198.51.100.254 ]
  [ "$(jq -r '.info.dhcp.hostname' <<<"$output")" = "${LAB_PREFIX}web" ]
  mac=$(jq -r '.mac' <<<"$output")
  sup=$(jq -r '.info.dhcp.pid' <<<"$output")
  alive "$sup"
  client=$(children_of "$sup")
  [ -n "$client" ]
  alive "$client"
  # the client runs inside the container's namespace
  [ "$(readlink "/proc/$client/ns/net")" = "$(on web readlink /proc/self/ns/net)" ]
  # dnsmasq leased it to this MAC and got the container's name as host name
  grep -q "DHCPACK(eth0) $ip $mac ${LAB_PREFIX}web" "$LAB_DIR/dnsmasq.log"

  run curl_from peer "http://$ip/hello.html"
  [ "$output" = "Hello world" ]
  run curl_from web http://203.0.113.1/cgi-bin/ip
  [ "$output" = "$ip" ]
  run on web ip -j route show default
  [[ $output == *'"gateway":"198.51.100.254","dev":"eth1"'* ]]

  # the plain output names the address too
  run lj list
  [[ $output == *"$addr"* ]]

  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  gone "$sup"
  gone "$client"
  grep -q "DHCPRELEASE(eth0) $ip $mac" "$LAB_DIR/dnsmasq.log"
  ! grep -q " $mac " "$LAB_DIR/dnsmasq.leases" || false
  assert_unchanged web
}

@test "addressing: the DHCP lease renews (2-minute lease: about a minute)" {
  add_container renew
  run lj attach bridge "netns:${LAB_PREFIX}renew" --bridge br-em1 --dhcp --mac-from renew --json
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}renew"
  mac=$(jq -r '.mac' <<<"$output")
  addr=$(jq -r '.info.dhcp.address' <<<"$output")
  acks=$(dnsmasq_acks "$mac")
  expiry=$(lease_expiry "$mac")
  [ -n "$expiry" ]
  # udhcpc renews at half the lease time (60 s): dnsmasq acks again and extends the lease
  # (dnsmasq gives no lease under 2 minutes and udhcpc renews at half of it: a minute it is,
  # polled once a second)
  wait_until_every 1 100 more_acks "$mac" "$acks"
  wait_until 5 later_expiry "$mac" "$expiry"
  # what the client's hooks leave behind is reaped by the supervisor (not a zombie a renewal)
  sup=$(supervisor_pid renew)
  [ -n "$sup" ]
  wait_until 5 no_zombies "$sup"
  # same address, still configured, still reachable
  run on renew ip -4 -o addr show dev eth1
  [[ $output == *"${addr}"* ]]
  run curl_from peer "http://${addr%/*}/hello.html"
  [ "$output" = "Hello world" ]
}

@test "addressing: deleting the container's namespace stops its DHCP client" {
  add_container gone
  run lj attach bridge "netns:${LAB_PREFIX}gone" --bridge br-em1 --dhcp --json
  [ "$status" -eq 0 ]
  sup=$(jq -r '.info.dhcp.pid' <<<"$output")
  client=$(children_of "$sup")
  alive "$sup"
  alive "$client"
  # Not the lab's `container del`, which kills every process in the namespace first: only
  # the namespace's name goes away, as when a runtime removes it.
  kill "$(lab container pid gone)"
  ip netns del "${LAB_PREFIX}gone"
  wait_until 5 gone "$client"
  wait_until 5 gone "$sup"
  # gc then drops the attachment and its host side
  run lj gc
  [ "$status" -eq 0 ]
  [ "$(lj list --json | jq length)" -eq 0 ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/dhcp")" ]
}

# Directories a client writes to may be missing on the host (a fresh machine has no /run/dhcpcd)
# or there (an earlier run or a hand install may have left one): whatever this machine has,
# lanjoin and its client run here in a view of the host (a mount namespace of the test's) where
# every directory a client may write to is missing, down to /var/db, or present with a file of
# the host's in it: overlays on /var and /run whose upper layers are the
# test's (the host's own directories are never touched), /run/netns and the state directory
# bound back in. In either view the client must see each directory, empty of the host's files,
# and nothing may appear in the view or on the host. The state directory is under /run, as the
# default one is, so that lanjoin's own files lie below the overlay the client gets on /run.
CLIENT_DIRS=(/var/lib/dhcp /var/lib/dhclient /var/lib/dhcpcd /run/dhcpcd /var/db/dhcpcd)
# (own_mntns, in_view: helpers.bash)
make_view() { # missing|present
  local t=$BATS_TEST_TMPDIR/view-$1 d top
  mkdir -p "$t"/var/{u,w} "$t"/run/{u,w} "$t/netns" "$t/state"
  unshare -m --propagation slave sleep 600 3>&- &
  VIEW=$!
  defer stop_pid "$VIEW"
  wait_until 5 own_mntns "$VIEW"
  in_view mount --rbind /run/netns "$t/netns"
  in_view mount --bind "$LANJOIN_STATE_DIR" "$t/state"
  for top in var run; do
    in_view mount -t overlay lj-view -o "lowerdir=/$top,upperdir=$t/$top/u,workdir=$t/$top/w" "/$top"
    # (never remove anything below a directory that is not the test's overlay)
    [ "$(in_view findmnt -n -o FSTYPE "/$top")" = overlay ]
  done
  in_view mount --move "$t/netns" /run/netns
  in_view mount --move "$t/state" "$LANJOIN_STATE_DIR"
  for d in "${CLIENT_DIRS[@]}"; do
    case $1 in
    missing) in_view rm -rf "$d" ;;
    present) in_view mkdir -p "$d" && in_view touch "$d/host-file" ;;
    esac
  done
  [[ $1 != missing ]] || in_view rm -rf /var/db
}
view_files() { in_view bash -c "$(declare -f host_files); host_files"; }
# Each client directory, in the mount namespace of process $1, is there and has no host file.
client_dirs_private() {
  local d
  for d in "${CLIENT_DIRS[@]}"; do
    nsenter -t "$1" -m -- test -d "$d" || { echo "client: no $d"; return 1; }
    ! nsenter -t "$1" -m -- test -e "$d/host-file" || { echo "client: host's $d"; return 1; }
  done
}

@test "addressing: host files are byte-identical around DHCP attaches with each client, whether the host has its directories or not" {
  local c v LANJOIN_STATE_DIR sup client ip out n=0
  local -A pid
  LANJOIN_STATE_DIR=$(mktemp -d /run/lanjoin-state.XXXXXX)
  defer rm -rf "$LANJOIN_STATE_DIR"
  export LANJOIN_STATE_DIR
  host_files >"$BATS_TEST_TMPDIR/files.before"
  for c in $(available_clients); do
    add_container "v$c"
  done
  for v in missing present; do
    make_view "$v"
    view_files >"$BATS_TEST_TMPDIR/view.before"
    # the clients at once (each waits for its lease; a lease takes seconds)
    for c in $(available_clients); do
      in_view ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
        "netns:${LAB_PREFIX}v$c" --bridge br-em1 --dhcp --dhcp-client "$c" --json \
        >"$BATS_TEST_TMPDIR/$v-$c.out" 2>&1 3>&- &
      pid[$c]=$!
      defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}v$c"
    done
    for c in $(available_clients); do
      wait "${pid[$c]}" || { cat "$BATS_TEST_TMPDIR/$v-$c.out"; false; }
      out=$(cat "$BATS_TEST_TMPDIR/$v-$c.out")
      echo "$v $c: $out"
      [ "$(jq -r '.info.dhcp.client' <<<"$out")" = "$c" ]
      sup=$(jq -r '.info.dhcp.pid' <<<"$out")
      ip=$(jq -r '.info.dhcp.address' <<<"$out")
      client=$(children_of "$sup")
      [ -n "$client" ]
      client_dirs_private "$client"
      [ "$(curl_from peer "http://${ip%/*}/hello.html")" = "Hello world" ]
    done
    # while they run...
    diff -u "$BATS_TEST_TMPDIR/view.before" <(view_files)
    for c in $(available_clients); do
      ip=$(jq -r '.info.dhcp.address' "$BATS_TEST_TMPDIR/$v-$c.out")
      run in_view ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}v$c"
      [ "$status" -eq 0 ]
      grep -q "DHCPRELEASE(eth0) ${ip%/*} " "$LAB_DIR/dnsmasq.log"
      n=$((n + 1))
    done
    # ...and after they stopped
    diff -u "$BATS_TEST_TMPDIR/view.before" <(view_files)
    diff -u "$BATS_TEST_TMPDIR/files.before" <(host_files)
    stop_pid "$VIEW"
  done
  [ "$n" -ge 2 ]
}

@test "addressing: no lease within --dhcp-timeout rolls back, exit 1" {
  add_container lonely
  # a bridge with no DHCP server behind it (its own MAC, IPv6 and offloads change as ports
  # come and go, so the host is compared through what lanjoin made: links and records)
  on host ip link add br-x address 02:00:00:00:0b:01 type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-x
  on host ip link set br-x up
  snapshot lonely >"$BATS_TEST_TMPDIR/lonely.before"
  on host ip -o link show >"$BATS_TEST_TMPDIR/links.before"
  run lj attach bridge "netns:${LAB_PREFIX}lonely" --bridge br-x --dhcp --dhcp-timeout 2
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"no DHCP lease for 'eth1' within 2 s"* ]]
  [[ $output == *"nothing was left behind"* ]]
  assert_same_state lonely "$BATS_TEST_TMPDIR/lonely.before"
  [ -z "$(on host ip -o link show | grep ' ljv' || true)" ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments" 2>/dev/null)" ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/dhcp" 2>/dev/null)" ]
  [ -z "$(pgrep -f "dhcp-supervise .*$LANJOIN_STATE_DIR" || true)" ]
}

# A bridge br-x on the host with no DHCP server behind it, made so that a port coming and
# going leaves no trace on it (fixed MAC, no IPv6 address, and one veth port added and removed
# first: the bridge keeps the TSO limit and multicast route its first port gave it), so that
# the host snapshot can include it.
quiet_bridge() {
  on host ip link add br-x address 02:00:00:00:0b:01 type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-x
  on host ip link set br-x addrgenmode none
  on host ip link set br-x up
  on host ip link add brx-prime master br-x type veth peer name brx-prime-p
  on host ip link set brx-prime-p up
  on host ip link set brx-prime up
  wait_until 5 _no_tentative host
  on host ip link del brx-prime
  wait_until 5 br_x_down
}
# (the kernel's linkwatch reports a lost carrier up to a second later)
br_x_down() { [ "$(on host ip -j link show br-x | jq -r '.[0].operstate')" = DOWN ]; }
stop_pid() { kill -KILL "$1" 2>/dev/null || true; }

# Start `lanjoin attach bridge netns:PREFIX$1 --bridge br-x --dhcp` in the background, with
# SIGINT not ignored (a non-interactive shell's background job ignores it), waiting for a
# lease that never comes; ATTACH_PID is lanjoin's PID (env and ip netns exec exec it).
start_waiting_attach() {
  env --default-signal=INT ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "netns:${LAB_PREFIX}$1" --bridge br-x --dhcp --dhcp-timeout 60 \
    >"$BATS_TEST_TMPDIR/$1.out" 2>&1 3>&- &
  ATTACH_PID=$!
  defer stop_pid "$ATTACH_PID"
  wait_until 10 pgrep -f "dhcp-supervise .*${LAB_PREFIX}$1"
}

record_status() { jq -r .status "$LANJOIN_STATE_DIR"/attachments/*.json; }
is_settling() { [ "$(record_status)" = settling ]; }

@test "addressing: SIGINT or SIGTERM while waiting for a DHCP lease rolls back; nothing is left" {
  add_container sigint
  quiet_bridge
  take_snapshots sigint
  local sig rc
  for sig in INT TERM; do
    start_waiting_attach sigint
    # the record says who waits: this process, by PID and start time
    wait_until 5 is_settling
    f=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
    [ "$(jq -r .owner.pid "$f")" = "$ATTACH_PID" ]
    [ "$(jq -r .owner.start_time "$f")" = "$(awk '{print $22}' "/proc/$ATTACH_PID/stat")" ]
    run lj list
    [[ $output == *"settling: attach PID $ATTACH_PID waits"* ]]
    kill -"$sig" "$ATTACH_PID"
    rc=0
    wait "$ATTACH_PID" || rc=$?
    cat "$BATS_TEST_TMPDIR/sigint.out"
    [ "$rc" -eq 1 ]
    grep -q "Interrupted (SIG$sig) while waiting for a DHCP lease on 'eth1'; nothing was left behind" \
      "$BATS_TEST_TMPDIR/sigint.out"
    wait_until 5 br_x_down
    assert_unchanged
  done
}

@test "addressing: SIGHUP while waiting for a SLAAC address (no router advertisement) rolls back" {
  add_container hup
  quiet_bridge
  take_snapshots hup
  env --default-signal=HUP ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "netns:${LAB_PREFIX}hup" --bridge br-x --slaac --dhcp-timeout 60 \
    >"$BATS_TEST_TMPDIR/hup.out" 2>&1 3>&- &
  ATTACH_PID=$!
  defer stop_pid "$ATTACH_PID"
  wait_until 10 is_settling
  kill -HUP "$ATTACH_PID"
  rc=0
  wait "$ATTACH_PID" || rc=$?
  cat "$BATS_TEST_TMPDIR/hup.out"
  [ "$rc" -eq 1 ]
  grep -q "Interrupted (SIGHUP) while waiting for a SLAAC address on 'eth1'; nothing was left behind" \
    "$BATS_TEST_TMPDIR/hup.out"
  wait_until 5 br_x_down
  assert_unchanged
}

@test "addressing: gc leaves a live settling attach alone, and undoes it once the attach is killed" {
  add_container killed
  quiet_bridge
  take_snapshots killed
  start_waiting_attach killed
  wait_until 5 is_settling
  sup=$(jq -r '.undo[] | select(.type == "dhcp") | .i64' "$LANJOIN_STATE_DIR"/attachments/*.json)
  # alive: gc keeps it and a second attach of the same interface is refused
  run lj gc
  [ "$status" -eq 0 ]
  [ "$(record_status)" = settling ]
  kill -0 "$sup"
  run lj attach bridge "netns:${LAB_PREFIX}killed" --bridge br-x --dhcp
  [ "$status" -eq 2 ]
  [[ $output == *"is being attached as 'eth1' by lanjoin (PID $ATTACH_PID)"* ]]
  # killed: the record stays as settling, list says so, gc undoes it (client included)
  kill -KILL "$ATTACH_PID"
  wait "$ATTACH_PID" || true
  [ "$(record_status)" = settling ]
  run lj list
  [[ $output == *"(settling: interrupted, run 'lanjoin gc')"* ]]
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  wait_until 5 pid_gone "$sup"
  wait_until 5 br_x_down
  assert_unchanged
}

@test "addressing: detach undoes a settling attachment; the waiting attach then fails" {
  add_container det
  quiet_bridge
  take_snapshots det
  start_waiting_attach det
  wait_until 5 is_settling
  run lj detach "netns:${LAB_PREFIX}det"
  echo "$output"
  [ "$status" -eq 0 ]
  rc=0
  wait "$ATTACH_PID" || rc=$?
  cat "$BATS_TEST_TMPDIR/det.out"
  [ "$rc" -eq 1 ]
  grep -q "was detached while attach waited for it" "$BATS_TEST_TMPDIR/det.out"
  wait_until 5 br_x_down
  assert_unchanged
}

@test "addressing: waiting for a lease does not hold up other attaches" {
  add_container slow
  add_container quick
  on host ip link add br-x address 02:00:00:00:0b:01 type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-x
  on host ip link set br-x up
  lj attach bridge "netns:${LAB_PREFIX}slow" --bridge br-x --dhcp --dhcp-timeout 8 \
    >"$BATS_TEST_TMPDIR/slow.out" 2>&1 3>&- &
  slow=$!
  wait_until 5 pgrep -f "dhcp-supervise .*${LAB_PREFIX}slow"
  run lj attach bridge "netns:${LAB_PREFIX}quick" --bridge br-em1 --ip 198.51.100.140/24
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}quick"
  # the quick one is done while the slow one still waits for its lease
  kill -0 "$slow"
  rc=0
  wait "$slow" || rc=$?
  cat "$BATS_TEST_TMPDIR/slow.out"
  [ "$rc" -eq 1 ]
}

@test "addressing: static IPv4 + IPv6 on one interface: both default routes; the peer reaches both" {
  add_container dual
  take_snapshots dual
  run lj attach bridge "netns:${LAB_PREFIX}dual" --bridge br-em1 --ip 198.51.100.117/24 \
    --gateway 198.51.100.254 --ip 2001:db8:1::117/64 --gateway 2001:db8:1::fe
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}dual"
  # reported only once DAD is done: the configured address is not tentative (the link-local
  # address lanjoin did not ask for may still be)
  [ -z "$(on dual ip -6 addr show dev eth1 scope global tentative)" ]
  run on dual ip -j -4 route show default
  [ "$(jq -r '.[0].gateway' <<<"$output")" = 198.51.100.254 ]
  run on dual ip -j -6 route show default
  [ "$(jq length <<<"$output")" -eq 1 ]
  [ "$(jq -r '.[0].gateway' <<<"$output")" = 2001:db8:1::fe ]
  # exactly the addresses asked for: no SLAAC address without --slaac
  [ "$(on dual ip -j -6 addr show dev eth1 scope global | jq '[.[].addr_info[] | select(.local)] | length')" -eq 1 ]
  run curl_from peer http://198.51.100.117/hello.html
  [ "$output" = "Hello world" ]
  run curl_from peer 'http://[2001:db8:1::117]/hello.html'
  [ "$output" = "Hello world" ]
  run curl_from dual 'http://[2001:db8:2::1]/cgi-bin/ip'
  [ "$output" = 2001:db8:1::117 ]
  run lj detach "netns:${LAB_PREFIX}dual"
  [ "$status" -eq 0 ]
  assert_unchanged dual
}

@test "addressing: --slaac: an address from the router advertisements, reported by attach" {
  add_container sl
  take_snapshots sl
  run lj attach bridge "netns:${LAB_PREFIX}sl" --bridge br-em1 --slaac --ip 198.51.100.119/24 --json
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}sl"
  addr=$(jq -r '.info.slaac' <<<"$output")
  [[ $addr == 2001:db8:1:0:*/64 ]]
  jq -e --arg a "$addr" '.addresses | index($a)' <<<"$output"
  run on sl ip -6 -o addr show dev eth1
  [[ $output == *"${addr}"* ]]
  [[ $output != *tentative* ]]
  run curl_from peer "http://[${addr%/*}]/hello.html"
  [ "$output" = "Hello world" ]
  run lj detach "netns:${LAB_PREFIX}sl"
  [ "$status" -eq 0 ]
  assert_unchanged sl
}

@test "addressing: gratuitous ARP and unsolicited NA update the peer's neighbour cache" {
  add_container garp
  on peer ip neigh replace 198.51.100.117 lladdr 02:00:00:00:00:01 dev eth0 nud stale
  on peer ip neigh replace 2001:db8:1::117 lladdr 02:00:00:00:00:01 dev eth0 nud stale
  defer ip -n "${LAB_PREFIX}peer" neigh flush dev eth0
  run lj attach bridge "netns:${LAB_PREFIX}garp" --bridge br-em1 --ip 198.51.100.117/24 \
    --ip 2001:db8:1::117/64 --mac 02:00:00:00:01:17
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}garp"
  # no traffic from the peer: only the announcements can have changed these
  run on peer ip -j neigh show 198.51.100.117 dev eth0
  [ "$(jq -r '.[0].lladdr' <<<"$output")" = 02:00:00:00:01:17 ]
  run on peer ip -j neigh show 2001:db8:1::117 dev eth0
  [ "$(jq -r '.[0].lladdr' <<<"$output")" = 02:00:00:00:01:17 ]
}

@test "addressing: without the ARP probe the kernel announces every IPv4 address through the bridge (arp_notify)" {
  add_container kgarp
  peer_takes_announcements
  run lj attach bridge "netns:${LAB_PREFIX}kgarp" --bridge br-em1 --ip 198.51.100.117/24 \
    --ip 198.51.100.118/24 --ip 2001:db8:1::117/64 --gateway 198.51.100.254 --no-conflict-check
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}kgarp"
  # the kernel sent them: the link has arp_notify on; the addresses and the routes are there
  [ "$(on kgarp sysctl -n net.ipv4.conf.eth1.arp_notify)" = 1 ]
  on kgarp ip route show default | grep -q "via 198.51.100.254 dev eth1"
  on kgarp ip -6 addr show dev eth1 | grep -q 2001:db8:1::117/64
  # no traffic from the peer: with arp_accept=1 only the announcements make these entries
  local mac
  mac=$(on kgarp cat /sys/class/net/eth1/address)
  peer_learned 198.51.100.117 "$mac"
  peer_learned 198.51.100.118 "$mac"
}

_em1_forwards() { bridge -n "${LAB_PREFIX}host" -j link show dev em1 | jq -e '.[0].state == "forwarding"'; }

@test "addressing: with STP on the bridge, the probe and the announcement wait until the container's port forwards" {
  add_container stp
  add_container stp2
  # STP's listening and learning take 2 s each here (the kernel's shortest forward delay)
  on host ip link set br-em1 type bridge forward_delay 200 stp_state 1
  defer on host ip link set br-em1 type bridge stp_state 0 forward_delay 1500
  wait_until 20 _em1_forwards
  take_snapshots stp
  # the peer's own address: the probe waits for the port, then sees the peer answer
  run lj attach bridge "netns:${LAB_PREFIX}stp" --bridge br-em1 --ip 198.51.100.10/24
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"198.51.100.10 is already in use on the LAN"* ]]
  # (the host's bridge is in an STP topology change: only the container is compared)
  assert_same_state stp "$BATS_TEST_TMPDIR/stp.before"
  # without the probe, the kernel's announcement is made once the port forwards
  peer_takes_announcements
  run lj attach bridge "netns:${LAB_PREFIX}stp2" --bridge br-em1 --ip 198.51.100.119/24 \
    --no-conflict-check
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}stp2"
  peer_learned 198.51.100.119 "$(on stp2 cat /sys/class/net/eth1/address)"
}

@test "addressing: conflict: the peer holds .117, attach exits 1 naming its MAC, nothing changed" {
  add_container dup
  on peer ip addr add 198.51.100.117/24 dev eth0
  defer ip -n "${LAB_PREFIX}peer" addr del 198.51.100.117/24 dev eth0
  peer_mac=$(on peer cat /sys/class/net/eth0/address)
  take_snapshots dup
  run lj attach bridge "netns:${LAB_PREFIX}dup" --bridge br-em1 --ip 198.51.100.117/24 \
    --gateway 198.51.100.254
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"198.51.100.117 is already in use on the LAN by $peer_mac"* ]]
  assert_unchanged dup
  # --no-conflict-check skips the probe
  run lj attach bridge "netns:${LAB_PREFIX}dup" --bridge br-em1 --ip 198.51.100.117/24 \
    --no-conflict-check
  [ "$status" -eq 0 ]
  run lj detach "netns:${LAB_PREFIX}dup"
  [ "$status" -eq 0 ]
  assert_unchanged dup
}

@test "addressing: --dry-run shows the probe, the announcements and the DHCP client; changes nothing" {
  add_container dry
  take_snapshots dry
  run lj attach bridge "netns:${LAB_PREFIX}dry" --bridge br-em1 --ip 198.51.100.117/24 \
    --ip 2001:db8:1::117/64 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"busybox arping -q -D -c 2 -w 1 -I eth1 198.51.100.117"* ]]
  [[ $output == *"busybox arping -q -U -c 1 -I eth1 198.51.100.117"* ]]
  [[ $output == *"unsolicited neighbour advertisement"* ]]
  # without the probe: the addresses while the link is down, then up; through a bridge
  # arp_notify only now (an announcement as the link comes up could be lost before the port
  # forwards, and each is copied to every port), the announcement once it forwards, routes
  run lj attach bridge "netns:${LAB_PREFIX}dry" --bridge br-em1 --ip 198.51.100.117/24 \
    --ip 2001:db8:1::117/64 --gateway 198.51.100.254 --no-conflict-check --dry-run --json
  [ "$status" -eq 0 ]
  local order
  order=$(jq -r '.commands[]' <<<"$output" |
    sed -nE 's/.*(arp_notify=1|addr add 198|addr add 2001|link set eth1 up|arping -q -[DU]|route add default).*/\1/p' |
    paste -sd,)
  echo "$order"
  [ "$order" = "addr add 198,addr add 2001,link set eth1 up,arp_notify=1,arping -q -U,route add default" ]
  run lj attach bridge "netns:${LAB_PREFIX}dry" --bridge br-em1 --dhcp --slaac --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"udhcpc on eth1"* ]]
  [[ $output == *"accept_ra=2"* ]]
  assert_unchanged dry
}

@test "addressing: a fault at every step leaves everything as it was (static dual-stack and DHCP)" {
  add_container f
  take_snapshots f
  local args n
  for args in "--ip 198.51.100.117/24 --gateway 198.51.100.254 --ip 2001:db8:1::117/64 --gateway 2001:db8:1::fe" \
    "--dhcp --slaac"; do
    for ((n = 1; n < 30; n++)); do
      # shellcheck disable=SC2086
      run env LANJOIN_FAULT_STEP=$n ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
        "netns:${LAB_PREFIX}f" --bridge br-em1 $args
      if [ "$status" -eq 0 ]; then
        break
      fi
      echo "step $n: $output"
      [ "$status" -eq 1 ]
      [[ $output == *"nothing was left behind"* ]]
      assert_unchanged f
      [ -z "$(pgrep -f "dhcp-supervise .*$LANJOIN_STATE_DIR" || true)" ]
    done
    [ "$n" -gt 3 ]
    run lj detach "netns:${LAB_PREFIX}f"
    [ "$status" -eq 0 ]
    assert_unchanged f
    [ -z "$(pgrep -f "dhcp-supervise .*$LANJOIN_STATE_DIR" || true)" ]
  done
}

@test "addressing: bad input is refused (exit 2) without any change" {
  add_container bad
  take_snapshots bad
  run lj attach bridge "netns:${LAB_PREFIX}bad" --bridge br-em1 --dhcp --gateway 198.51.100.254
  [ "$status" -eq 2 ]
  run lj attach bridge "netns:${LAB_PREFIX}bad" --bridge br-em1 --dhcp --ip 198.51.100.117/24
  [ "$status" -eq 2 ]
  run lj attach bridge "netns:${LAB_PREFIX}bad" --bridge br-em1 --mac 02:00:00:00:00:01 --mac-from x
  [ "$status" -eq 2 ]
  run lj attach bridge "netns:${LAB_PREFIX}bad" --bridge br-em1 --dhcp-client pump --dhcp
  [ "$status" -eq 2 ]
  assert_unchanged bad
}

@test "addressing: routes and addresses that could only fail while applied are refused up front (exit 2)" {
  add_container badrt
  take_snapshots badrt
  local b=(attach bridge "netns:${LAB_PREFIX}badrt" --bridge br-em1)
  # the default route twice: --gateway and --route 0.0.0.0/0 (also in --dry-run)
  run lj "${b[@]}" --ip 198.51.100.117/24 --gateway 198.51.100.254 --route 0.0.0.0/0@198.51.100.253
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"The IPv4 default route is given twice (--gateway and --route 0.0.0.0/0)"* ]]
  run lj "${b[@]}" --dry-run --ip 198.51.100.117/24 --gateway 198.51.100.254 --route 0.0.0.0/0
  [ "$status" -eq 2 ]
  run lj "${b[@]}" --ip 2001:db8:1::117/64 --gateway 2001:db8:1::fe --route ::/0@2001:db8:1::fd
  [ "$status" -eq 2 ]
  [[ $output == *"The IPv6 default route is given twice (--gateway and --route ::/0)"* ]]
  # the same destination twice, with the same or another via
  run lj "${b[@]}" --ip 198.51.100.117/24 --route 203.0.113.0/24 --route 203.0.113.0/24
  [ "$status" -eq 2 ]
  [[ $output == *"Route 203.0.113.0/24 is given twice"* ]]
  run lj "${b[@]}" --ip 198.51.100.117/24 --route 203.0.113.0/24@198.51.100.254 \
    --route 203.0.113.0/24@198.51.100.253
  [ "$status" -eq 2 ]
  [[ $output == *"Route 203.0.113.0/24 is given twice"* ]]
  # a via that is one of the container's own addresses
  run lj "${b[@]}" --ip 198.51.100.117/24 --ip 2001:db8:1::117/64 --route 2001:db8:2::/64@2001:db8:1::117
  [ "$status" -eq 2 ]
  [[ $output == *"Route 2001:db8:2::/64: via 2001:db8:1::117 is the container's own address"* ]]
  # the IPv6 subnet-router anycast address (like the IPv4 network address)
  run lj "${b[@]}" --ip 2001:db8:1::/64
  [ "$status" -eq 2 ]
  [[ $output == *"--ip 2001:db8:1::/64 is the subnet-router anycast address of its subnet"* ]]
  # a /0 prefix: every address on the link (IPv4, IPv6, also in a dry run)
  for ip in 198.51.100.117/0 2001:db8:1::117/0; do
    run lj "${b[@]}" --ip "$ip" --dry-run
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"Invalid --ip '$ip': a /0 prefix would put every address on the link"* ]]
  done
  assert_unchanged badrt
}

# engine_like NODE: NODE gets a link of its own with a default route through it, as an
# engine's network gives a container (eng0, 198.18.5.2/24, default via 198.18.5.1)
engine_like() {
  on "$1" ip link add eng0 type veth peer name eng1
  on "$1" ip link set eng0 up
  on "$1" ip link set eng1 up
  on "$1" ip addr add 198.18.5.2/24 dev eng0
  on "$1" ip route add default via 198.18.5.1 dev eng0
}

@test "addressing: --route 0.0.0.0/0 beside the target's own default route (an engine's) is refused up front (exit 2), with --no-default-route or without; where the target has none it works" {
  add_container eng
  engine_like eng
  take_snapshots eng
  local b=(attach bridge "netns:${LAB_PREFIX}eng" --bridge br-em1 --ip 198.51.100.117/24)
  local dry
  for dry in "" --dry-run; do
    # shellcheck disable=SC2086 # none or one word
    run lj "${b[@]}" --no-default-route --route 0.0.0.0/0@198.51.100.254 $dry
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"--route 0.0.0.0/0 and --no-default-route exclude each other here: the target's IPv4 default route (via 198.18.5.1 dev eng0) stays with --no-default-route"*"--gateway ADDR"* ]]
    # shellcheck disable=SC2086
    run lj "${b[@]}" --route 0.0.0.0/0@198.51.100.254 $dry
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"--route 0.0.0.0/0: the target has an IPv4 default route already (via 198.18.5.1 dev eng0)"* ]]
  done
  # the other family has no default route there: ::/0 is taken
  run lj "${b[@]}" --ip 2001:db8:1::117/64 --no-default-route --route ::/0@2001:db8:1::1 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  assert_unchanged eng

  # a target without a default route: the same options attach, and the route is there
  add_container nodef
  take_snapshots nodef
  run lj attach bridge "netns:${LAB_PREFIX}nodef" --bridge br-em1 --ip 198.51.100.118/24 \
    --no-default-route --route 0.0.0.0/0@198.51.100.254
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}nodef"
  [ "$(on nodef ip -j route show default | jq -r '.[0].gateway')" = 198.51.100.254 ]
  run lj detach "netns:${LAB_PREFIX}nodef"
  [ "$status" -eq 0 ]
  assert_unchanged nodef
}

@test "addressing: a static IPv6 link-local --ip (fe80::/10) is refused by every way alike, exit 2, also with --dry-run" {
  add_container ll
  take_snapshots ll
  local t="netns:${LAB_PREFIX}ll" w ip
  # the kernel gives every link its own fe80:: address: a second one names nothing on the LAN
  local -A opts=([bridge]="--bridge br-em1" [ovs]="--bridge ljllovs0" [macvlan]="--parent em1"
    [routed]="--parent em1")
  for w in bridge ovs macvlan routed; do
    for ip in fe80::5/64 FE80::117/64 febf:1::2/10; do
      # shellcheck disable=SC2086 # split on purpose
      run lj attach "$w" "$t" ${opts[$w]} --ip 2001:db8:1::117/64 --ip "$ip"
      echo "$w $ip -> $status: $output"
      [ "$status" -eq 2 ]
      [[ $output == *"Invalid --ip '$ip': a link-local address (fe80::/10): the kernel gives every interface its own"* ]]
    done
    # shellcheck disable=SC2086
    run lj attach "$w" "$t" ${opts[$w]} --ip fe80::5/64 --dry-run
    [ "$status" -eq 2 ]
    [[ $output == *"a link-local address (fe80::/10)"* ]]
  done
  # the edge of fe80::/10 and a unique local address are not link-local
  run lj attach bridge "$t" --bridge br-em1 --ip fec0::5/64 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  assert_unchanged ll
}

@test "addressing: --route via an address on none of the container's subnets is onlink and works" {
  add_container onl
  take_snapshots onl
  # a /32 address: the LAN gateway is on no subnet of the container
  run lj attach bridge "netns:${LAB_PREFIX}onl" --bridge br-em1 --ip 198.51.100.117/32 \
    --route 203.0.113.0/24@198.51.100.254 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *onlink* ]]
  run lj attach bridge "netns:${LAB_PREFIX}onl" --bridge br-em1 --ip 198.51.100.117/32 \
    --route 203.0.113.0/24@198.51.100.254
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}onl"
  run on onl ip -j route show 203.0.113.0/24
  echo "$output"
  [ "$(jq -r '.[0].gateway' <<<"$output")" = 198.51.100.254 ]
  [ "$(jq -r '.[0].flags | index("onlink") != null' <<<"$output")" = true ]
  run curl_from onl http://203.0.113.1/cgi-bin/ip
  [ "$output" = 198.51.100.117 ]
  run lj detach "netns:${LAB_PREFIX}onl"
  [ "$status" -eq 0 ]
  assert_unchanged onl
}

@test "addressing: a --gateway outside every --ip's subnet is refused (exit 2) unless --onlink; an --ip off the bridge's subnets is a warning" {
  add_container offlan
  take_snapshots offlan
  local t="netns:${LAB_PREFIX}offlan"
  # a mistyped prefix length: the gateway is on no subnet of the container (also --dry-run)
  for dry in "" --dry-run; do
    run lj attach bridge "$t" --bridge br-em1 --ip 198.51.100.117/32 --gateway 198.51.100.254 $dry
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"Gateway 198.51.100.254 is outside the subnet of --ip 198.51.100.117/32: give the --ip the LAN's prefix length (e.g. /24), or --onlink"* ]]
  done
  run lj attach bridge "$t" --bridge br-em1 --ip 2001:db8:1::117/64 --gateway 2001:db8:2::1
  [ "$status" -eq 2 ]
  [[ $output == *"Gateway 2001:db8:2::1 is outside the subnet of --ip 2001:db8:1::117/64"* ]]
  run lj attach bridge "$t" --bridge br-em1 --ip 198.51.100.117/24 --onlink
  [ "$status" -eq 2 ]
  [[ $output == *"--onlink goes with --gateway ADDR"* ]]
  assert_unchanged offlan
  # an IPv6 link-local gateway is on every link
  run lj attach bridge "$t" --bridge br-em1 --ip 2001:db8:1::117/64 --gateway fe80::1 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]

  # asked for: the route is onlink, the outside is reached through it
  run lj attach bridge "$t" --bridge br-em1 --ip 198.51.100.117/32 --gateway 198.51.100.254 --onlink
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "$t"
  [[ $output != *warning* ]]
  run on offlan ip -j route show default
  [ "$(jq -r '.[0].flags | index("onlink") != null' <<<"$output")" = true ]
  run curl_from offlan http://203.0.113.1/cgi-bin/ip
  [ "$output" = 198.51.100.117 ]
  # the same again is as asked (--onlink is part of the spec)
  run lj attach bridge "$t" --bridge br-em1 --ip 198.51.100.117/32 --gateway 198.51.100.254 --onlink
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* ]]
  run lj detach "$t"
  [ "$status" -eq 0 ]

  # an address on none of br-em1's subnets: attached, with a warning (also in --dry-run)
  for dry in --dry-run ""; do
    run lj attach bridge "$t" --bridge br-em1 --ip 198.18.50.5/24 $dry
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"warning: --ip 198.18.50.5/24 is on none of the subnets of bridge 'br-em1' (198.51.100.0/24)"* ]]
  done
  run lj detach "$t"
  [ "$status" -eq 0 ]
  # a bridge the host has no address on: nothing to compare with, no warning
  run lj attach bridge "$t" --bridge ljoffbr0 --create-bridge --ip 198.18.50.5/24
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *warning* ]]
  run lj detach "$t"
  [ "$status" -eq 0 ]
  assert_unchanged offlan
}
