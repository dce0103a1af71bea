# tests/integration/faults-helpers.bash — the walks of the fault-injection files
# (faults-*.bats: `load faults-helpers`). Each file has its own lab with OVS running; the cases
# are split over files so that test.sh can run them side by side.
#
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
# Each case counted is one where the injected fault really fired. Each file prints its total as
# "# fault cases covered: N" (bats fd 3) and writes it to $LJ_FAULT_REPORT if that is set.

# shellcheck disable=SC2034 # used by the .bats files

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
NO_UNDO_TYPES='["arp-probe", "arp-notify", "announce", "slaac", "garp", "tx-csum-off", "ndp-probe", "proxy-announce"]'
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
# nothing is left, KEPT_CHECK (optional) one that what a failed detach keeps is still whole.
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
  local steps
  steps=$(acting_steps)
  for k in $steps; do
    acts[$k]=1
  done
  [ "${#acts[@]}" -gt 0 ]
  local first=1
  for k in $steps; do
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
    if [[ -n ${KEPT_CHECK:-} ]]; then "$KEPT_CHECK"; fi
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
resume_attach() {
  kill "$PAUSE_HOLDER"
  status=0
  wait "$PAUSED_PID" || status=$?
  output=$(cat "$PAUSE_OUT")
}


# --- uplink adopt / release -------------------------------------------------------------------

# em1's IPv6 addresses are usable again after they moved back (helpers.bash)
em1_settled() { ip6_settled host em1; }
# br-up is up, with no tentative address (one ip and one jq; `link show` last, see ip6_settled)
br_settled() {
  ip -n "${LAB_PREFIX}host" -6 -j -batch - 2>/dev/null <<<"addr show dev br-up
link show dev br-up" | jq -se '(.[1][0].operstate | IN("UP", "UNKNOWN"))
    and ([.[0][]?.addr_info[]? | select(.tentative)] | length == 0)' >/dev/null
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
# A DEL that could not undo everything keeps the address too (it is still on the interface).
ipam_held() {
  [ -n "$(find "$IPAM_DIR" -name '198.51.100.*' 2>/dev/null)" ] || {
    echo "# IPAM released the address of an attachment that is kept" >&2
    return 1
  }
}

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
  KEPT_CHECK=ipam_held
  walk "$label" "$CNI_C"
}
