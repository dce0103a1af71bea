#!/usr/bin/env bats
# The ovs way (issue 5): the seed's scenario through an Open vSwitch bridge (userspace netdev
# datapath, OVS running inside the lab host), VLAN isolation, no stale port rows after detach
# or gc, exact rollback at every step, and bad input refused without any change.

load helpers

setup_file() {
  lab_setup_file --ovs-host
  eval "$("$LAB" ovs env)"
  export LAB_OVSDB
}

ATTACH=(--bridge br-em1 --ip 198.51.100.117/24 --gateway 198.51.100.254)

vsctl() { ovs-vsctl "--db=$LAB_OVSDB" --timeout=10 "$@"; }

# ext TABLE RECORD KEY: external_ids:KEY of a row, unquoted
ext() { vsctl get "$1" "$2" "external_ids:$3" | tr -d '"'; }

# idempotent cleanups for defer
del_host_link() { ip -n "${LAB_PREFIX}host" link del "$1" 2>/dev/null || true; }

# The port names lanjoin made in br-em1 (everything but em1 and the bridge's own port).
lanjoin_ports() { vsctl list-ports "${1:-br-em1}" | grep -v '^em1$' || true; }



detach_later() { defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "$@"; }

# The host-side name lanjoin will use for target $1 (from --dry-run).
planned_port() {
  lj attach ovs "$1" --bridge br-em1 --ip 198.51.100.199/24 --ovsdb "$LAB_OVSDB" --dry-run |
    sed -n 's/^ip link add \(ljo[0-9a-f]*\) .*/\1/p'
}

@test "ovs: the peer reaches the container at .117 and the outside sees .117" {
  add_container web
  take_snapshots web
  run lj attach ovs "netns:${LAB_PREFIX}web" "${ATTACH[@]}" --ovsdb "$LAB_OVSDB"
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later "netns:${LAB_PREFIX}web"
  [[ $output == *"OVS bridge br-em1"*"198.51.100.117/24"* ]]

  run curl_from peer http://198.51.100.117/hello.html
  [ "$status" -eq 0 ]
  [ "$output" = "Hello world" ]
  run curl_from web http://203.0.113.1/cgi-bin/ip
  [ "$status" -eq 0 ]
  [ "$output" = "198.51.100.117" ]

  # the host end is an OVS port marked as lanjoin's, naming the target and the ifname
  local port
  port=$(lj list --json | jq -r '.[0].host_ifname')
  [[ $port == ljo* && ${#port} -le 15 ]]
  [ "$(lanjoin_ports)" = "$port" ]
  [ "$(ext Port "$port" lanjoin-owner)" = lanjoin ]
  [ "$(ext Port "$port" lanjoin-target)" = "netns:${LAB_PREFIX}web" ]
  [ "$(ext Port "$port" lanjoin-ifname)" = eth1 ]
  [ "$(vsctl get Port "$port" tag)" = "[]" ]
  [ "$(lj list --json | jq -r '.[0].info.datapath_type')" = netdev ]
  # netdev datapath: TX checksum offload is off on both veth ends
  on host ethtool -k "$port" | grep -qx 'tx-checksumming: off'
  on web ethtool -k eth1 | grep -qx 'tx-checksumming: off'

  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  assert_unchanged web
  ! curl_from peer http://198.51.100.117/hello.html || false
  run lj detach "netns:${LAB_PREFIX}web"
  [ "$status" -eq 0 ]
  [[ $output == *"not attached"* ]]
  assert_unchanged web
}

@test "ovs: without the ARP probe the kernel announces the address through the OVS bridge (arp_notify)" {
  add_container kgarp
  peer_takes_announcements
  run lj attach ovs "netns:${LAB_PREFIX}kgarp" "${ATTACH[@]}" --ovsdb "$LAB_OVSDB" --no-conflict-check
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later "netns:${LAB_PREFIX}kgarp"
  [ "$(on kgarp sysctl -n net.ipv4.conf.eth1.arp_notify)" = 1 ]
  # no traffic from the peer: with arp_accept=1 only the announcement makes this entry
  peer_learned 198.51.100.117 "$(on kgarp cat /sys/class/net/eth1/address)"
}

@test "ovs: two containers on VLAN 10 reach each other; one on VLAN 20 reaches neither" {
  add_container v1
  add_container v2
  add_container v3
  take_snapshots v1 v2 v3
  OVS_RUNDIR=$LAB_DIR/ovs lj attach ovs "netns:${LAB_PREFIX}v1" --bridge br-em1 --vlan 10 \
    --ip 198.51.100.121/24
  detach_later "netns:${LAB_PREFIX}v1"
  lj attach ovs "netns:${LAB_PREFIX}v2" --bridge br-em1 --vlan 10 --ip 198.51.100.122/24 \
    --ovsdb "$LAB_OVSDB"
  detach_later "netns:${LAB_PREFIX}v2"
  lj attach ovs "netns:${LAB_PREFIX}v3" --bridge br-em1 --vlan 20 --ip 198.51.100.123/24 \
    --ovsdb "$LAB_OVSDB"
  detach_later "netns:${LAB_PREFIX}v3"

  local p1 p3
  p1=$(lj list --json | jq -r '.[] | select(.target.spec == "netns:'"${LAB_PREFIX}"'v1") | .host_ifname')
  p3=$(lj list --json | jq -r '.[] | select(.target.spec == "netns:'"${LAB_PREFIX}"'v3") | .host_ifname')
  [ "$(vsctl get Port "$p1" tag)" = 10 ]
  [ "$(vsctl get Port "$p3" tag)" = 20 ]
  [ "$(lj list --json | jq -r '.[] | select(.info.vlan == 20) | .host_ifname')" = "$p3" ]

  run curl_from v1 http://198.51.100.122/hello.html
  [ "$output" = "Hello world" ]
  run curl_from v2 http://198.51.100.121/hello.html
  [ "$output" = "Hello world" ]
  ! ping_from v3 198.51.100.121 || false
  ! ping_from v3 198.51.100.122 || false
  ! curl_from v3 http://198.51.100.121/hello.html --max-time 2 || false
  ! ping_from v1 198.51.100.123 || false

  lj detach "netns:${LAB_PREFIX}v1"
  lj detach "netns:${LAB_PREFIX}v2"
  lj detach "netns:${LAB_PREFIX}v3"
  assert_unchanged v1 v2 v3
}

@test "ovs: a failure at every step rolls back to the exact previous state" {
  add_container f
  take_snapshots f
  local bridge steps n
  # once on the lab's bridge (with a VLAN), once on a bridge lanjoin has to create
  for bridge in br-em1 br-lj9; do
    n=1 steps=0
    while :; do
      run env LANJOIN_FAULT_STEP=$n ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach ovs \
        "netns:${LAB_PREFIX}f" --bridge "$bridge" --create-bridge --vlan 10 --ovsdb "$LAB_OVSDB" \
        --ip 198.51.100.140/24 --ip 2001:db8:1::140/64 --gateway 198.51.100.254 \
        --route 203.0.113.0/25@198.51.100.254
      if [ "$status" -eq 0 ]; then
        break
      fi
      echo "$bridge step $n: $output"
      [ "$status" -eq 1 ]
      [[ $output == *"step $n of"* ]]
      [[ $output == *"nothing was left behind"* ]]
      assert_unchanged f
      ! vsctl br-exists br-lj9 || false
      steps=$n
      n=$((n + 1))
      [ "$n" -le 30 ]
    done
    detach_later "netns:${LAB_PREFIX}f"
    # bridge, veth, TX csum, port, accept_ra off, up, ARP probe, 2 addresses,
    # 2 announcements, default route, extra route
    [ "$steps" -eq 13 ]
    [ "$(vsctl get Port "$(lanjoin_ports "$bridge")" tag)" = 10 ]
    run lj detach "netns:${LAB_PREFIX}f"
    [ "$status" -eq 0 ]
    assert_unchanged f
    # the bridge lanjoin created went away with its last port
    ! vsctl br-exists br-lj9 || false
  done
}

@test "ovs: a bridge lanjoin created is marked and kept while in use; a user's bridge is never removed" {
  add_container g1
  add_container g2
  take_snapshots g1 g2
  lj attach ovs "netns:${LAB_PREFIX}g1" --bridge br-lj1 --create-bridge --ip 198.51.100.151/24 --ovsdb "$LAB_OVSDB"
  detach_later "netns:${LAB_PREFIX}g1"
  [ "$(ext Bridge br-lj1 lanjoin-owner)" = lanjoin ]
  # it follows the datapath of the bridges already there
  [ "$(vsctl get Bridge br-lj1 datapath_type)" = netdev ]
  lj attach ovs "netns:${LAB_PREFIX}g2" --bridge br-lj1 --create-bridge --ip 198.51.100.152/24 --ovsdb "$LAB_OVSDB"
  detach_later "netns:${LAB_PREFIX}g2"
  run curl_from g1 http://198.51.100.152/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}g1"
  vsctl br-exists br-lj1 # g2 still uses it
  lj detach "netns:${LAB_PREFIX}g2"
  ! vsctl br-exists br-lj1 || false
  assert_unchanged g1 g2

  vsctl add-br br-user -- set Bridge br-user datapath_type=netdev
  defer ovs-vsctl "--db=$LAB_OVSDB" --if-exists del-br br-user
  lj attach ovs "netns:${LAB_PREFIX}g1" --bridge br-user --ip 198.51.100.151/24 --ovsdb "$LAB_OVSDB"
  [ "$(vsctl list-ports br-user | wc -l)" -eq 1 ]
  lj detach "netns:${LAB_PREFIX}g1"
  vsctl br-exists br-user # not lanjoin's: kept
  [ -z "$(vsctl list-ports br-user)" ]
}

@test "ovs: after the container's namespace is deleted, detach and gc leave no port row" {
  lab container add z >/dev/null
  defer "$LAB" container del z
  take_snapshots
  lj attach ovs "netns:${LAB_PREFIX}z" "${ATTACH[@]}" --ovsdb "$LAB_OVSDB"
  local port
  port=$(lj list --json | jq -r '.[0].host_ifname')
  lab container del z
  # the kernel removed both veth ends with the namespace; OVS still has the row
  ! on host ip link show "$port" || false
  [ "$(lanjoin_ports)" = "$port" ]
  run lj detach "netns:${LAB_PREFIX}z"
  [ "$status" -eq 0 ]
  [ -z "$(lanjoin_ports)" ]
  [ "$(lj list --json | jq length)" -eq 0 ]
  assert_unchanged

  lab container add y >/dev/null
  defer "$LAB" container del y
  lj attach ovs "netns:${LAB_PREFIX}y" --bridge br-em1 --vlan 30 --ip 198.51.100.171/24 \
    --ovsdb "$LAB_OVSDB"
  lab container del y
  [ -n "$(lanjoin_ports)" ]
  run lj gc
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Removed 1 stale attachment"* ]]
  [ -z "$(lanjoin_ports)" ]
  assert_unchanged
}

@test "ovs: gc removes lanjoin's rows that outlived their records (a reboot), and nobody else's" {
  take_snapshots
  # what a reboot leaves: OVS restored lanjoin's rows from its database, /run/lanjoin is empty
  vsctl add-br br-lj7 -- set Bridge br-lj7 datapath_type=netdev external_ids:lanjoin-owner=lanjoin
  vsctl add-port br-em1 ljo0123456789ab external_ids:lanjoin-owner=lanjoin \
    'external_ids:lanjoin-target="netns:gone"' 2>/dev/null
  vsctl add-port br-lj7 ljo0123456789ac external_ids:lanjoin-owner=lanjoin 2>/dev/null
  # somebody else's row for a missing interface, and a live lanjoin-marked port: both kept
  vsctl add-port br-em1 user0 2>/dev/null
  defer ovs-vsctl "--db=$LAB_OVSDB" --if-exists del-port user0
  on host ip link add ljo0123456789ad type veth peer name ljo0123456789ae
  defer del_host_link ljo0123456789ad
  vsctl add-port br-em1 ljo0123456789ad external_ids:lanjoin-owner=lanjoin
  defer ovs-vsctl "--db=$LAB_OVSDB" --if-exists del-port ljo0123456789ad

  run env OVS_RUNDIR="$LAB_DIR/ovs" ip netns exec "${LAB_PREFIX}host" "$LANJOIN" gc
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Removed OVS port row ljo0123456789ab of netns:gone (?, ovs way) from $LAB_OVSDB"* ]]
  [[ $output == *"Removed OVS port row ljo0123456789ac of ? (?, ovs way)"* ]]
  [[ $output == *"Removed OVS bridge br-lj7 from $LAB_OVSDB"* ]]
  [ "${lines[-1]}" = "Removed 0 stale attachments, 2 OVS rows" ]
  ! vsctl br-exists br-lj7 || false
  [ "$(lanjoin_ports | sort | tr '\n' ' ')" = "ljo0123456789ad user0 " ]
  vsctl del-port user0
  vsctl del-port ljo0123456789ad
  on host ip link del ljo0123456789ad
  assert_unchanged
}

@test "ovs: a stale row of lanjoin's with the port's name is replaced, not refused" {
  add_container s
  take_snapshots s
  local port
  port=$(planned_port "netns:${LAB_PREFIX}s")
  [[ $port == ljo* ]]
  vsctl add-port br-em1 "$port" tag=99 external_ids:lanjoin-owner=lanjoin 2>/dev/null
  # (a fresh address: the peer may still have .117 cached with another container's MAC)
  run lj attach ovs "netns:${LAB_PREFIX}s" --bridge br-em1 --ip 198.51.100.119/24 --ovsdb "$LAB_OVSDB"
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later "netns:${LAB_PREFIX}s"
  [ "$(vsctl get Port "$port" tag)" = "[]" ]
  [ "$(ext Port "$port" lanjoin-target)" = "netns:${LAB_PREFIX}s" ]
  run curl_from peer http://198.51.100.119/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}s"
  assert_unchanged s
}

@test "ovs: --dry-run prints ovs-vsctl, ethtool and ip commands and changes nothing" {
  add_container d
  take_snapshots d
  run lj attach ovs "netns:${LAB_PREFIX}d" --bridge br-new --create-bridge --vlan 42 --ip 198.51.100.160/24 \
    --gateway 198.51.100.254 --ovsdb "$LAB_OVSDB" --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"ovs-vsctl --db=$LAB_OVSDB -- add-br br-new -- set Bridge br-new datapath_type=netdev external_ids:lanjoin-owner=lanjoin"* ]]
  [[ $output == *"type veth peer name eth1 netns ${LAB_PREFIX}d"* ]]
  [[ $output == *"ip netns exec ${LAB_PREFIX}d ethtool -K eth1 tx off"* ]]
  [[ $output == *"-- add-port br-new ljo"*" tag=42 external_ids:lanjoin-owner=lanjoin"* ]]
  [[ $output == *"ip -n ${LAB_PREFIX}d addr add 198.51.100.160/24 brd + dev eth1"* ]]
  assert_unchanged d
  ! vsctl br-exists br-new || false
}

@test "ovs: bad input is refused with exit 2 and nothing changes" {
  add_container b
  take_snapshots b
  local t="netns:${LAB_PREFIX}b"
  bad() {
    run lj attach ovs "$@"
    echo "lanjoin attach ovs $*: $status $output"
    [ "$status" -eq 2 ]
    [[ $output == lanjoin:* ]]
    [ "${#lines[@]}" -eq 1 ]
    assert_unchanged b
  }
  local db=(--ovsdb "$LAB_OVSDB")
  bad "$t" "${ATTACH[@]}" "${db[@]}" --vlan 0
  bad "$t" "${ATTACH[@]}" "${db[@]}" --vlan 4095
  bad "$t" "${ATTACH[@]}" "${db[@]}" --vlan ten
  bad "$t" "${ATTACH[@]}" --ovsdb /no/unix/prefix
  bad "$t" --ip 198.51.100.117/24 "${db[@]}"
  bad "$t" "${ATTACH[@]}" "${db[@]}" --mtu 9000
  bad "$t" "${ATTACH[@]}" "${db[@]}" --ifname lo
  # em1 is a port of the OVS bridge, not a bridge
  bad "$t" --bridge em1 --ip 198.51.100.117/24 "${db[@]}"
  [[ $output == *"'em1' is not an Open vSwitch bridge"* ]]
  # the other way round: the OVS bridge (a tap of the netdev datapath) given to attach bridge
  run lj attach bridge "$t" --bridge br-em1 --ip 198.51.100.117/24
  echo "$output"
  [ "$status" -eq 2 ]
  [ "$output" = "lanjoin: 'br-em1' is an Open vSwitch bridge: use 'lanjoin attach ovs'" ]
  assert_unchanged b
  # a Linux bridge
  on host ip link add br-lin type bridge
  defer del_host_link br-lin
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  bad "$t" --bridge br-lin --ip 198.51.100.117/24 "${db[@]}"
  [[ $output == *"'br-lin' is a Linux bridge"*"lanjoin attach bridge"* ]]
  on host ip link del br-lin
  snapshot host >"$BATS_TEST_TMPDIR/host.before"

  # OVS not installed, not running (no ovsdb-server socket), ovs-vswitchd not running
  LANJOIN_OVS_VSCTL=/nonexistent/ovs-vsctl bad "$t" "${ATTACH[@]}" "${db[@]}"
  [[ $output == *"Open vSwitch is not installed"*"apt-get install openvswitch-switch"* ]]
  bad "$t" "${ATTACH[@]}" --ovsdb "unix:$BATS_TEST_TMPDIR/nothing/db.sock"
  [[ $output == *"ovsdb-server is not running"*"$BATS_TEST_TMPDIR/nothing/db.sock"*"Start Open vSwitch"* ]]
  OVS_RUNDIR=$BATS_TEST_TMPDIR/nothing bad "$t" "${ATTACH[@]}"
  [[ $output == *"ovsdb-server is not running"*"$BATS_TEST_TMPDIR/nothing/db.sock"* ]]
  mkdir "$BATS_TEST_TMPDIR/novswitchd"
  ln -s "$LAB_DIR/ovs/db.sock" "$BATS_TEST_TMPDIR/novswitchd/db.sock"
  bad "$t" "${ATTACH[@]}" --ovsdb "unix:$BATS_TEST_TMPDIR/novswitchd/db.sock"
  [[ $output == *"ovs-vswitchd is not running"*"Start Open vSwitch"* ]]

  # lanjoin in another namespace than ovs-vswitchd (which could not open the veth)
  snapshot peer >"$BATS_TEST_TMPDIR/peer.before"
  run on peer "$LANJOIN" attach ovs "$t" "${ATTACH[@]}" "${db[@]}"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"ovs-vswitchd (pid "*") runs in another network namespace"* ]]
  assert_same_state peer "$BATS_TEST_TMPDIR/peer.before"
  assert_unchanged b

  # a port of lanjoin's name for this target exists and is not lanjoin's
  local port
  port=$(planned_port "$t")
  vsctl add-port br-em1 "$port" 2>/dev/null
  defer ovs-vsctl "--db=$LAB_OVSDB" --if-exists del-port "$port"
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run lj attach ovs "$t" "${ATTACH[@]}" "${db[@]}"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"port named '$port' exists in Open vSwitch and is not lanjoin's"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  assert_same_state b "$BATS_TEST_TMPDIR/b.before"
  vsctl del-port "$port"

  # a second attach of the same target and ifname
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  lj attach ovs "$t" "${ATTACH[@]}" "${db[@]}"
  detach_later "$t"
  snapshot host >"$BATS_TEST_TMPDIR/host.attached"
  run lj attach ovs "$t" --bridge br-em1 --ip 198.51.100.118/24 "${db[@]}"
  [ "$status" -eq 2 ]
  [[ $output == *"already attached"* ]]
  assert_same_state host "$BATS_TEST_TMPDIR/host.attached"
  lj detach "$t"
  assert_unchanged b
}

@test "ovs: a missing OVS bridge is refused (a misspelt name would reach no LAN) unless --create-bridge" {
  add_container ms
  take_snapshots ms
  run lj attach ovs "netns:${LAB_PREFIX}ms" --bridge br-eml --ip 198.51.100.183/24 --ovsdb "$LAB_OVSDB"
  echo "$output"
  [ "$status" -eq 2 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *"OVS bridge 'br-eml' does not exist (OVS bridges in $LAB_OVSDB: "*"br-em1"* ]]
  [[ $output == *"uplink adopt br-eml DEV --ovs"*"--create-bridge"* ]]
  ! vsctl br-exists br-eml || false
  assert_unchanged ms
  run lj attach ovs "netns:${LAB_PREFIX}ms" --bridge br-eml --create-bridge --ip 198.51.100.183/24 --ovsdb "$LAB_OVSDB"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}ms"
  vsctl br-exists br-eml
  lj detach "netns:${LAB_PREFIX}ms"
  ! vsctl br-exists br-eml || false
  assert_unchanged ms
}

@test "ovs: 'lab.sh ovs status' says whether the lab's OVS runs, and where" {
  run lab ovs status
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"running in ${LAB_PREFIX}host"*"$LAB_OVSDB"* ]]
  # a lab that is not up (no namespace, no OVS): exit 3, and nothing is created
  run "$LAB" -p "${LAB_PREFIX%-}x-" ovs status
  echo "$output"
  [ "$status" -eq 3 ]
  [[ $output == *"not running"* ]]
  [ ! -e "/run/lanjoin-lab/${LAB_PREFIX%-}x-" ]
}

@test "ovs: --persist keeps the OVS database used (\$OVS_RUNDIR's): reconcile without \$OVS_RUNDIR repairs through it; a hostile ovsdb in a spec is refused" {
  export LANJOIN_SPEC_DIR=$BATS_TEST_TMPDIR/specs
  add_container ps
  local t="netns:${LAB_PREFIX}ps" spec
  run env "OVS_RUNDIR=$LAB_DIR/ovs" ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach ovs "$t" \
    --bridge br-em1 --ip 198.51.100.121/24 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  detach_later "$t"
  spec=$(echo "$LANJOIN_SPEC_DIR"/*.json)
  cat "$spec"
  [ "$(jq -r .ovsdb "$spec")" = "unix:$LAB_DIR/ovs/db.sock" ]
  # the container's interface is lost (drift): a reconcile run as a systemd unit would run it
  # (no $OVS_RUNDIR) repairs it through the database the spec names
  on ps ip link del eth1
  run env -u OVS_RUNDIR ip netns exec "${LAB_PREFIX}host" "$LANJOIN" reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *"ovsdb-server is not running"* ]]
  on ps ip -o addr show dev eth1 | grep -q 198.51.100.121/24
  [ "$(lanjoin_ports | wc -l)" -eq 1 ]
  # a spec whose ovsdb is hostile is refused, with the file and field named
  local bad=$BATS_TEST_TMPDIR/bad.json
  for db in 'tcp:198.51.100.254:6640' 'unix:relative/db.sock' $'unix:/x\n/db.sock' "unix:/$(printf 'a%.0s' {1..300})"; do
    jq --arg db "$db" '.ovsdb = $db | .ifname = "eth2"' "$spec" >"$bad"
    run env -u OVS_RUNDIR ip netns exec "${LAB_PREFIX}host" "$LANJOIN" apply "$bad"
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"Invalid --ovsdb"*"expected unix:/PATH"* ]]
  done
  ! on ps ip link show dev eth2 || false
}
