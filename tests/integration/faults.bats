#!/usr/bin/env bats
# Fault injection over every command that changes the system (issue 10).
#
# For each command and option family, walk_faults finds the plan's length L from a real run
# and then injects, through lanjoin's hidden hooks (src/lib/core/plan.c):
#   apply     LANJOIN_FAULT_STEP=n for n = 1..L: exit 1, "step n of L", "nothing was left
#             behind", and the host and the container (links, addresses, routes, rules, nft,
#             iptables, sysctls, OVS) exactly as before, no record, no DHCP client;
#   rollback  LANJOIN_FAULT_STEP=n with LANJOIN_FAULT_UNDO=n-1 (for every step whose undo acts):
#             the rest of the rollback still runs, exit 1 names what could not be undone, the
#             record is kept, and `detach` then brings back the exact previous state;
#   detach    LANJOIN_FAULT_UNDO=k during detach for k = 1..L (every step whose undo acts):
#             exit 1, record kept, a second detach finishes, exact previous state.
# CNI ADD and DEL get the same walks (macvlan with a host shim, nat with published ports).
# gc gets the same detach walk with the container gone; `shim add` the apply walk; `uplink adopt`
# (Linux and OVS bridge) the apply and rollback walks, and `uplink release` the undo walk
# (release is atomic: a failing undo redoes what was undone, the adoption stays whole).
# Each case counted is one where the injected fault really fired. The total is printed as
# "# fault cases covered: N" (bats fd 3) and written to $LJ_FAULT_REPORT if that is set.

load helpers

setup_file() {
  lab_setup_file
  "$LAB" ovs start
  eval "$("$LAB" ovs env)"
  export LAB_OVSDB
  export FAULT_CASES=$BATS_FILE_TMPDIR/fault-cases
  : >"$FAULT_CASES"
}

teardown_file() {
  local total
  total=$(wc -l <"$FAULT_CASES")
  awk '{n[$1]++; kind[$1 " " $2]++}
    END {
      nk = split("apply rollback-undo detach-undo gc-undo release-undo", kinds, " ")
      for (c in n) {
        line = ""
        for (i = 1; i <= nk; i++)
          if ((c " " kinds[i]) in kind) line = line sprintf(" %s %d", kinds[i], kind[c " " kinds[i]])
        printf "# fault cases: %-22s %3d:%s\n", c, n[c], line
      }
    }' "$FAULT_CASES" | sort >&3
  echo "# fault cases covered: $total" >&3
  if [[ -n ${LJ_FAULT_REPORT:-} ]]; then
    echo "$total" >"$LJ_FAULT_REPORT"
  fi
  lab_teardown_file
}

# case_covered LABEL KIND N: one (command, step) case checked
case_covered() { echo "$1 $2 $3" >>"$FAULT_CASES"; }



records() { lj list --json | jq length; }

# The 1-based indexes of the steps of the (one) attachment whose undo acts: not skip_undo, and
# of a type with an undo (the types below have none: src/lib/*.c, `.undo` not set).
NO_UNDO_TYPES='["arp-probe", "announce", "slaac", "garp", "tx-csum-off", "ndp-probe", "proxy-announce"]'
acting_steps() {
  state_records | jq -r --argjson none "$NO_UNDO_TYPES" '.[0].undo | to_entries[]
    | select((.value.skip_undo // false) == false and (.value.type | IN($none[]) | not))
    | .key + 1'
}

# walk_faults LABEL CONTAINER WAY ARGS...: the apply, rollback and detach walks (see above) for
# `lanjoin attach WAY netns:CONTAINER ARGS...` and `lanjoin detach netns:CONTAINER`.
walk_faults() {
  local label=$1 c=$2 way=$3
  shift 3
  WALK_ATTACH=(lj attach "$way" "netns:$LAB_PREFIX$c" "$@")
  WALK_DETACH=(lj detach "netns:$LAB_PREFIX$c")
  walk "$label" "$c"
}

# walk LABEL CONTAINER: the walks for the commands in WALK_ATTACH and WALK_DETACH (arrays: a
# function or program and its arguments); UNCHANGED_CHECK (optional) names one more check that
# nothing is left.
walk() {
  local label=$1 c=$2
  local L n k
  local -A acts=()
  take_snapshots "$c"

  run "${WALK_ATTACH[@]}"
  echo "$label: $output"
  [ "$status" -eq 0 ]
  L=$(state_records | jq '.[0].undo | length')
  [ "$L" -gt 0 ]

  # detach, with the undo of step k failing, for every step whose undo acts
  for k in $(acting_steps); do
    acts[$k]=1
  done
  [ "${#acts[@]}" -gt 0 ]
  local first=1
  for k in $(acting_steps); do
    if ((!first)); then
      run "${WALK_ATTACH[@]}"
      [ "$status" -eq 0 ]
    fi
    first=0
    LANJOIN_FAULT_UNDO=$k run "${WALK_DETACH[@]}"
    echo "$label: detach, undo $k failing -> $status: $output"
    [ "$status" -eq 1 ]
    [[ $output == *"the record is kept"* ]]
    [ "$(records)" -eq 1 ]
    run "${WALK_DETACH[@]}"
    echo "$label: detach again -> $status: $output"
    [ "$status" -eq 0 ]
    assert_unchanged
    case_covered "$label" detach-undo "$k"
  done

  # apply, with step n failing; and the undo of step n-1 failing in that rollback
  for ((n = 1; n <= L; n++)); do
    LANJOIN_FAULT_STEP=$n run "${WALK_ATTACH[@]}"
    echo "$label: step $n failing -> $status: $output"
    [ "$status" -eq 1 ]
    [[ $output == *"step $n of $L"* ]]
    [[ $output == *"nothing was left behind"* ]]
    assert_unchanged
    case_covered "$label" apply "$n"
    if ((n >= 2)) && [[ -n ${acts[$((n - 1))]:-} ]]; then
      LANJOIN_FAULT_STEP=$n LANJOIN_FAULT_UNDO=$((n - 1)) run "${WALK_ATTACH[@]}"
      echo "$label: step $n failing, undo $((n - 1)) failing -> $status: $output"
      [ "$status" -eq 1 ]
      [[ $output == *"Could not undo: "* ]]
      [[ $output == *"the record is kept"* ]]
      [[ $output != *"nothing was left behind"* ]]
      [ "$(records)" -eq 1 ]
      run "${WALK_DETACH[@]}"
      echo "$label: detach after it -> $status: $output"
      [ "$status" -eq 0 ]
      assert_unchanged
      case_covered "$label" rollback-undo "$((n - 1))"
    fi
  done

  # a fault past the last step changes nothing: L is the whole plan
  LANJOIN_FAULT_STEP=$((L + 1)) run "${WALK_ATTACH[@]}"
  [ "$status" -eq 0 ]
  run "${WALK_DETACH[@]}"
  [ "$status" -eq 0 ]
  assert_unchanged
}

# walk_gc LABEL CONTAINER WAY ARGS...: attach, remove the container, gc with the undo of step k
# failing (exit 1, record kept), gc again (exact host state); for every k.
walk_gc() {
  local label=$1 c=$2 way=$3
  shift 3
  local L k fired=0
  take_snapshots
  for ((k = 1; ; k++)); do
    lab container add "$c" >/dev/null
    defer "$LAB" container del "$c"
    run lj attach "$way" "netns:$LAB_PREFIX$c" "$@"
    echo "$label: attach -> $status: $output"
    [ "$status" -eq 0 ]
    L=$(state_records | jq '.[0].undo | length')
    lab container del "$c"
    LANJOIN_FAULT_UNDO=$k run lj gc
    echo "$label: gc, undo $k failing -> $status: $output"
    if [ "$status" -ne 0 ]; then
      [ "$status" -eq 1 ]
      [[ $output == *"the record is kept"* ]]
      [ "$(records)" -eq 1 ]
      run lj gc
      echo "$label: gc again -> $status: $output"
      [ "$status" -eq 0 ]
      fired=$((fired + 1))
      case_covered "$label" gc-undo "$k"
    fi
    [[ $output == *"Removed 1 stale attachment"* ]]
    assert_unchanged
    ((k < L)) || break
  done
  [ "$fired" -gt 0 ]
}

# Docker's firewall as far as the nat way cares (iptables-nft): FORWARD policy DROP, DOCKER-USER
# jumped from FORWARD, a MASQUERADE for the private range.
docker_firewall() {
  defer fw_reset
  on host iptables -N DOCKER-USER
  on host iptables -A FORWARD -j DOCKER-USER
  on host iptables -P FORWARD DROP
  on host iptables -t nat -A POSTROUTING -s 198.18.0.0/15 ! -d 198.18.0.0/15 -j MASQUERADE
}
fw_reset() {
  on host nft delete table ip filter 2>/dev/null || true
  on host nft delete table ip nat 2>/dev/null || true
}

@test "faults: attach bridge, static IPv4 + IPv6, gateway, route, on an existing bridge" {
  on host ip link add br-user type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-user
  defer ip -n "${LAB_PREFIX}host" link del vu0
  on host ip link set br-user up
  # a port of its own, so that its carrier does not change when lanjoin's come and go
  on host ip link add vu0 type veth peer name vu1
  on host ip link set vu0 master br-user
  on host ip link set vu0 up
  on host ip link set vu1 up
  add_container fb
  walk_faults "bridge(static-v4v6)" fb bridge --bridge br-user --ip 198.51.100.120/24 \
    --ip 2001:db8:1::120/64 --gateway 198.51.100.254 --route 203.0.113.0/25@198.51.100.254
}

@test "faults: attach bridge creating its bridge, with --mac and --mtu" {
  add_container fn
  walk_faults "bridge(new-bridge)" fn bridge --bridge br-new --create-bridge --ip 198.51.100.121/24 \
    --mac 02:00:00:00:01:21 --mtu 1400
  ! on host ip link show br-new
}

@test "faults: attach ovs on a new OVS bridge with a VLAN tag" {
  add_container fo
  walk_faults "ovs(vlan)" fo ovs --bridge br-fo --create-bridge --vlan 10 --ovsdb "$LAB_OVSDB" \
    --ip 198.51.100.122/24 --gateway 198.51.100.254
}

@test "faults: attach macvlan, static IPv4 + IPv6" {
  add_container fm
  walk_faults "macvlan" fm macvlan --parent em1 --ip 198.51.100.123/24 \
    --ip 2001:db8:1::123/64 --gateway 198.51.100.254
}

@test "faults: attach macvlan with a host shim" {
  add_container fs
  walk_faults "macvlan(host-shim)" fs macvlan --parent em1 --ip 198.51.100.124/24 \
    --host-shim 198.51.100.144/24
}

@test "faults: attach nat" {
  add_container fa
  walk_faults "nat" fa nat --uplink em1 --address 198.51.100.125/24
}

@test "faults: attach nat with --publish, under Docker's firewall (iptables)" {
  add_container fp --with-8080
  docker_firewall
  walk_faults "nat(publish)" fp nat --uplink em1 --address 198.51.100.126/24 --publish 80 \
    --publish tcp/8081:8080 --publish udp/53
}

@test "faults: attach routed, IPv4 + IPv6" {
  add_container fr
  walk_faults "routed" fr routed --parent em1 --ip 198.51.100.129/24 --ip 2001:db8:1::129/64
}

@test "faults: attach macvlan with DHCP" {
  add_container fd
  walk_faults "dhcp" fd macvlan --parent em1 --dhcp
}

# --- races: someone else acts while an attach runs (issue 15) --------------------------------

# pause_attach N ARGS...: start `lanjoin ARGS...` in the host node, in the background, stopped at
# point N by the hidden LANJOIN_PAUSE_AT/LANJOIN_PAUSE_FIFO hook (src/lib/core/plan.c: before step N,
# or with N = the plan's length + 1 after the whole plan and its waits, before the final check
# and record); returns once lanjoin is there (it has opened the FIFO). resume_attach lets it go
# on and sets status and output.
pause_attach() {
  local n=$1
  shift
  PAUSE_FIFO=$BATS_TEST_TMPDIR/pause.$n
  PAUSE_OUT=$BATS_TEST_TMPDIR/pause.$n.out
  rm -f "$PAUSE_FIFO"
  mkfifo -m 0600 "$PAUSE_FIFO"
  LANJOIN_PAUSE_AT=$n LANJOIN_PAUSE_FIFO=$PAUSE_FIFO \
    ip netns exec "${LAB_PREFIX}host" "$LANJOIN" "$@" >"$PAUSE_OUT" 2>&1 &
  PAUSED_PID=$!
  defer kill_quietly "$PAUSED_PID"
  # the holder's open of the FIFO for writing returns once lanjoin opened it for reading
  sleep infinity >"$PAUSE_FIFO" &
  PAUSE_HOLDER=$!
  defer kill_quietly "$PAUSE_HOLDER"
  wait_until 60 fifo_open_by "$PAUSE_HOLDER" "$PAUSE_FIFO"
}
del_link_quietly() { ip -n "${LAB_PREFIX}host" link del "$1" 2>/dev/null || true; }
fifo_open_by() { [ "$(readlink "/proc/$1/fd/1")" = "$2" ]; }
kill_quietly() { kill "$@" 2>/dev/null || true; }
resume_attach() {
  kill "$PAUSE_HOLDER"
  status=0
  wait "$PAUSED_PID" || status=$?
  output=$(cat "$PAUSE_OUT")
}

@test "faults: a bridge deleted (or replaced) by someone else during an attach fails it and rolls it back" {
  add_container fr
  defer del_link_quietly br-race
  local args=(attach bridge "netns:${LAB_PREFIX}fr" --bridge br-race --ip 198.51.100.129/24
    --gateway 198.51.100.254) L n how
  # the host without the bridge: each case ends with it deleted
  take_snapshots fr
  on host ip link add br-race type bridge
  on host ip link set br-race up
  L=$(lj "${args[@]}" --dry-run --json | jq '.steps | length')
  [ "$L" -ge 4 ]
  on host ip link del br-race
  # deleted once the veth is its port (before step 3), or at the very end; or deleted and made
  # again under the same name (another ifindex)
  for how in del recreate; do
    for n in 3 $((L + 1)); do
      on host ip link add br-race type bridge
      on host ip link set br-race up
      pause_attach "$n" "${args[@]}"
      on host ip link del br-race
      if [[ $how == recreate ]]; then
        on host ip link add br-race type bridge
        on host ip link set br-race up
      fi
      resume_attach
      echo "bridge $how before point $n -> $status: $output"
      [ "$status" -eq 1 ]
      [[ $output == *"bridge 'br-race' was deleted"* ]]
      [[ $output == *"nothing was left behind"* ]]
      [ "$(records)" -eq 0 ]
      assert_same_state fr "$BATS_TEST_TMPDIR/fr.before"
      if [[ $how == recreate ]]; then
        [ -z "$(on host ip -o link show master br-race)" ]
        on host ip link del br-race
      fi
      assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    done
  done
  # undisturbed, the same attach succeeds
  on host ip link add br-race type bridge
  on host ip link set br-race up
  run lj "${args[@]}"
  [ "$status" -eq 0 ]
  [[ $output == *"br-race"* ]]
  run lj detach "netns:${LAB_PREFIX}fr"
  [ "$status" -eq 0 ]
  on host ip link del br-race
  assert_unchanged
}

@test "faults: the state directory full (ENOSPC) at the last record write of a DHCP attach rolls it back" {
  add_container fe
  local mnt=$BATS_TEST_TMPDIR/tmpfs L args
  mkdir -m 0755 "$mnt"
  mount -t tmpfs -o size=4m,mode=0755 lj-fault-tmpfs "$mnt"
  defer umount "$mnt"
  export LANJOIN_STATE_DIR=$mnt/state
  # should the rollback fail, this stops the DHCP client before the tmpfs is unmounted
  defer ip netns exec "${LAB_PREFIX}host" env LANJOIN_STATE_DIR="$LANJOIN_STATE_DIR" \
    "$LANJOIN" detach "netns:${LAB_PREFIX}fe"
  args=(attach macvlan "netns:${LAB_PREFIX}fe" --parent em1 --dhcp)
  L=$(lj "${args[@]}" --dry-run --json | jq '.steps | length')
  take_snapshots fe
  # stopped after the plan and its lease, before the record is written as attached: fill it
  pause_attach $((L + 1)) "${args[@]}"
  dd if=/dev/zero of="$mnt/fill" bs=64k 2>/dev/null || true
  defer rm -f "$mnt/fill"
  resume_attach
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"cannot write the state record: No space left on device"* ]]
  [[ $output == *"nothing was left behind"* ]]
  rm -f "$mnt/fill"
  assert_unchanged
  ! pgrep -f "$LANJOIN_STATE_DIR"
}

@test "faults: gc of a nat attachment whose container is gone" {
  docker_firewall
  walk_gc "gc(nat)" ga nat --uplink em1 --address 198.51.100.127/24 --publish 80
}

@test "faults: gc of a macvlan attachment with a host shim whose container is gone" {
  walk_gc "gc(macvlan-shim)" gm macvlan --parent em1 --ip 198.51.100.128/24 \
    --host-shim 198.51.100.144/24
}

@test "faults: shim add" {
  take_snapshots
  local n
  for ((n = 1; ; n++)); do
    LANJOIN_FAULT_STEP=$n run lj shim add em1 --ip 198.51.100.144/24
    echo "shim add, step $n failing -> $status: $output"
    [ "$status" -eq 0 ] && break
    [ "$status" -eq 1 ]
    [[ $output == *"fault injected by LANJOIN_FAULT_STEP=$n"*"nothing was left behind"* ]]
    assert_unchanged
    case_covered "shim-add" apply "$n"
    ((n < 10))
  done
  ((n > 1))
  run lj shim del em1
  [ "$status" -eq 0 ]
  assert_unchanged
}

# --- uplink adopt / release -------------------------------------------------------------------

# em1's IPv6 addresses are usable again after they moved back: not tentative, each with its
# local route (the kernel finishes an address in a work item, a moment after it was added)
em1_settled() {
  local addrs routes
  [[ -z $(on host ip -6 addr show dev em1 tentative) ]] || return 1
  addrs=$(on host ip -j -6 addr show dev em1 | jq '[.[0].addr_info[]?] | length')
  routes=$(on host ip -j -6 route show table local | jq '[.[] | select(.dev == "em1" and .type == "local")] | length')
  [[ $addrs == "$routes" ]]
}
br_settled() {
  [[ $(on host cat /sys/class/net/br-up/operstate) == @(up|unknown) ]] &&
    [[ -z $(on host ip -6 addr show dev br-up tentative) ]]
}
uplink_records() { find "$LANJOIN_STATE_DIR/uplinks" -name '*.json' 2>/dev/null | wc -l; }
UPLINK_NO_UNDO='["sysctl-copy", "probe", "test-crash"]'
uplink_acting_steps() {
  jq -r --argjson none "$UPLINK_NO_UNDO" '.undo | to_entries[]
    | select((.value.skip_undo // false) == false and (.value.type | IN($none[]) | not))
    | .key + 1' "$LANJOIN_STATE_DIR"/uplinks/*.json
}
# the host as adopted: OVS rows made again get new UUIDs (another order in `ovs-vsctl show`),
# nft rules new handles; the content must be the same
adopted_view() { grep -v '"handle":' | sort; }

# walk_uplink LABEL ADOPT_ARGS...: `uplink adopt br-up em1 ADOPT_ARGS...`
walk_uplink() {
  local label=$1 n k L
  shift
  local -a adopt=(uplink adopt br-up em1 "$@")
  local -A acts=()
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" uplink release br-up --force
  take_snapshots

  run lj "${adopt[@]}"
  echo "$label: $output"
  [ "$status" -eq 0 ]
  L=$(jq '.undo | length' "$LANJOIN_STATE_DIR"/uplinks/*.json)
  wait_until 5 br_settled
  snapshot host | adopted_view >"$BATS_TEST_TMPDIR/adopted"
  # release, with the undo of step k failing: nothing is released
  for k in $(uplink_acting_steps); do
    acts[$k]=1
    LANJOIN_FAULT_UNDO=$k run lj uplink release br-up
    echo "$label: release, undo $k failing -> $status: $output"
    [ "$status" -eq 1 ]
    [[ $output == *"nothing was released"* ]]
    [ "$(uplink_records)" -eq 1 ]
    wait_until 5 br_settled
    diff -u "$BATS_TEST_TMPDIR/adopted" <(snapshot host | adopted_view)
    case_covered "$label" release-undo "$k"
  done
  [ "${#acts[@]}" -gt 5 ]
  run lj uplink release br-up
  [ "$status" -eq 0 ]
  wait_until 5 em1_settled
  assert_unchanged
  [ "$(uplink_records)" -eq 0 ]

  for ((n = 1; n <= L; n++)); do
    LANJOIN_FAULT_STEP=$n run lj "${adopt[@]}"
    echo "$label: step $n failing -> $status: $output"
    [ "$status" -eq 1 ]
    [[ $output == *"step $n of $L"* ]]
    wait_until 5 em1_settled
    assert_unchanged
    [ "$(uplink_records)" -eq 0 ]
    case_covered "$label" apply "$n"
    if ((n >= 2)) && [[ -n ${acts[$((n - 1))]:-} ]]; then
      LANJOIN_FAULT_STEP=$n LANJOIN_FAULT_UNDO=$((n - 1)) run lj "${adopt[@]}"
      echo "$label: step $n failing, undo $((n - 1)) failing -> $status: $output"
      [ "$status" -eq 1 ]
      [[ $output == *"Could not undo: "* ]]
      [[ $output == *"the record is kept"* ]]
      [ "$(uplink_records)" -eq 1 ]
      run lj uplink release br-up
      echo "$label: release after it -> $status: $output"
      [ "$status" -eq 0 ]
      wait_until 5 em1_settled
      assert_unchanged
      [ "$(uplink_records)" -eq 0 ]
      case_covered "$label" rollback-undo "$((n - 1))"
    fi
  done
  LANJOIN_FAULT_STEP=$((L + 1)) run lj "${adopt[@]}"
  [ "$status" -eq 0 ]
  run lj uplink release br-up
  [ "$status" -eq 0 ]
  wait_until 5 em1_settled
  assert_unchanged
}

@test "faults: uplink adopt into a Linux bridge, and release" {
  walk_uplink "uplink(bridge)"
}

@test "faults: uplink adopt into an OVS bridge, and release" {
  walk_uplink "uplink(ovs)" --ovs --ovsdb "$LAB_OVSDB"
}

# --- CNI ADD / DEL ----------------------------------------------------------------------------

# cni_conf MODE JQ_FILTER: a lanjoin network with host-local IPAM over .137-.139, into $CONF
cni_conf() {
  CONF=$BATS_TEST_TMPDIR/conf.json
  IPAM_DIR=$BATS_TEST_TMPDIR/ipam
  jq -n --arg m "$1" --arg dir "$IPAM_DIR" '{
    cniVersion: "1.0.0", name: "faultnet", type: "lanjoin", mode: $m,
    ipam: {type: "host-local", dataDir: $dir,
           ranges: [[{subnet: "198.51.100.0/24", rangeStart: "198.51.100.137",
                      rangeEnd: "198.51.100.139", gateway: "198.51.100.254"}]],
           routes: [{dst: "0.0.0.0/0"}]}} | '"$2" >"$CONF"
}
# cni COMMAND: lanjoin as a CNI plugin for container CNI_C, in the host node
cni() {
  ip netns exec "${LAB_PREFIX}host" env CNI_COMMAND="$1" CNI_CONTAINERID="cid-$CNI_C" \
    CNI_NETNS="/run/netns/$LAB_PREFIX$CNI_C" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$LANJOIN" <"$CONF"
}
# no address is left reserved in host-local's store
ipam_released() {
  [ -z "$(find "$IPAM_DIR" -name '198.51.100.*' 2>/dev/null)" ] || {
    echo "# IPAM still holds: $(ls "$IPAM_DIR"/*)" >&2
    return 1
  }
}

walk_cni() {
  local label=$1 mode=$2 filter=$3
  [ -x /usr/lib/cni/host-local ] || skip "the CNI reference plugins (host-local) are missing"
  CNI_C=c$mode
  add_container "$CNI_C"
  cni_conf "$mode" "$filter"
  WALK_ATTACH=(cni ADD)
  WALK_DETACH=(cni DEL)
  UNCHANGED_CHECK=ipam_released
  walk "$label" "$CNI_C"
}

@test "faults: CNI ADD and DEL, macvlan mode with a host shim" {
  walk_cni "cni(macvlan-shim)" macvlan '.master = "em1" | .hostShim = "198.51.100.148/24"'
}

@test "faults: CNI ADD and DEL, nat mode with published ports" {
  walk_cni "cni(nat-publish)" nat '.uplink = "em1" | .publish = ["tcp/8085:80"]
    | .runtimeConfig = {portMappings: [{hostPort: 8086, containerPort: 80, protocol: "tcp"}]}'
}

@test "faults: detach --all over three ways, with the undo of step k failing in every record" {
  add_container da
  add_container dm
  add_container dn
  take_snapshots da dm dn
  local k L fired=0
  attach_three() {
    lj attach bridge "netns:${LAB_PREFIX}da" --bridge br-all --create-bridge --ip 198.51.100.140/24 >/dev/null &&
      lj attach macvlan "netns:${LAB_PREFIX}dm" --parent em1 --ip 198.51.100.141/24 \
        --host-shim 198.51.100.149/24 >/dev/null &&
      lj attach nat "netns:${LAB_PREFIX}dn" --uplink em1 --address 198.51.100.142/24 \
        --publish 80 >/dev/null
  }
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach --all
  attach_three
  L=$(state_records | jq '[.[].undo | length] | max')
  for ((k = 1; k <= L; k++)); do
    ((k == 1)) || attach_three
    LANJOIN_FAULT_UNDO=$k run lj detach --all
    echo "detach --all, undo $k failing -> $status: $output"
    if [ "$status" -ne 0 ]; then
      [ "$status" -eq 1 ]
      [[ $output == *"the record is kept"* ]]
      [ "$(records)" -ge 1 ]
      run lj detach --all
      echo "detach --all again -> $status: $output"
      [ "$status" -eq 0 ]
      fired=$((fired + 1))
      case_covered "detach--all" detach-undo "$k"
    fi
    [ "$(records)" -eq 0 ]
    assert_unchanged
  done
  [ "$fired" -gt 3 ]
}
