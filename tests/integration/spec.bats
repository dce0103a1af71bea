#!/usr/bin/env bats
# Attachment specs (issue 18, items 1 and 5): the spec kept in the record, idempotent attach,
# --replace, --persist and the spec directory, lanjoin apply FILE|DIR.

load helpers
bats_require_minimum_version 1.5.0

BR=ljspbr0
ATTACH=(--bridge "$BR" --create-bridge --ip 198.18.0.2/24 --gateway 198.18.0.1)

setup_file() {
  lab_setup_file
  spec_dir_setup
}
teardown_file() {
  spec_dir_teardown
  lab_teardown_file
}
teardown() {
  lab_teardown
  spec_dir_clear
}

target() { echo "netns:$LAB_PREFIX$1"; }
detach_later() { defer lj detach "$(target "$1")"; }
state_sums() { (cd "$LANJOIN_STATE_DIR" && find . -type f ! -name lock -exec sha256sum {} + | sort); }

@test "spec: the record keeps the spec in canonical form (the attach options by name)" {
  add_container web
  detach_later web
  run lj attach bridge "$(target web)" --bridge "$BR" --create-bridge --ip 198.18.0.2/24 \
    --ip 2001:DB8:0:0::5/64 --gateway 198.18.0.1 --route 203.0.113.0/24@198.18.0.1 --mac 02:AA:00:00:00:01
  echo "$output"
  [ "$status" -eq 0 ]
  spec=$(state_records | jq -c '.[0].spec')
  echo "$spec"
  [ "$(jq -r .way <<<"$spec")" = bridge ]
  [ "$(jq -r .target <<<"$spec")" = "$(target web)" ]
  [ "$(jq -r .ifname <<<"$spec")" = eth1 ]
  [ "$(jq -r .bridge <<<"$spec")" = "$BR" ]
  [ "$(jq -r '."create-bridge"' <<<"$spec")" = true ]
  [ "$(jq -c .ip <<<"$spec")" = '["198.18.0.2/24","2001:db8::5/64"]' ]
  [ "$(jq -c .gateway <<<"$spec")" = '["198.18.0.1"]' ]
  [ "$(jq -c .route <<<"$spec")" = '["203.0.113.0/24@198.18.0.1"]' ]
  [ "$(jq -r .mac <<<"$spec")" = 02:aa:00:00:00:01 ]
  # list --json shows it, not persistent
  [ "$(lj list --json | jq -r '.[0].persistent')" = false ]
  [ "$(lj list --json | jq -r '.[0].spec.way')" = bridge ]
}

@test "spec: records without a spec (older lanjoin) still load, list and detach" {
  add_container old
  run lj attach bridge "$(target old)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  f=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
  jq 'del(.spec)' "$f" >"$f.new" && mv "$f.new" "$f"
  run lj list --json
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].spec' <<<"$output")" = null ]
  # the same attach again: refused as before (nothing to compare with)
  run lj attach bridge "$(target old)" "${ATTACH[@]}"
  [ "$status" -eq 2 ]
  [[ $output == *"already attached as 'eth1'"*"detach it first"* ]]
  run lj detach "$(target old)"
  [ "$status" -eq 0 ]
  [ -z "$(ls "$LANJOIN_STATE_DIR"/attachments/)" ]
}

@test "idempotent attach: the same attach again is exit 0, 'already attached as asked', nothing changed" {
  add_container web
  detach_later web
  run lj attach bridge "$(target web)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  take_snapshots web
  sums=$(state_sums)
  # the same request, options in another order and spelling
  run lj attach bridge "$(target web)" --ip 198.18.0.2/24 --gateway 198.18.0.1 --create-bridge \
    --bridge "$BR" --ifname eth1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already attached as 'eth1' as asked"* ]]
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --json
  [ "$status" -eq 0 ]
  [ "$(jq -r .unchanged <<<"$output")" = true ]
  [ "$(jq -r .schema <<<"$output")" = lanjoin/attachment/v1 ]
  # the same namespace named otherwise (its path instead of netns:NAME) is the same target
  run lj attach bridge "/run/netns/${LAB_PREFIX}web" "${ATTACH[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* ]]
  for n in host web; do assert_same_state "$n" "$BATS_TEST_TMPDIR/$n.before"; done
  [ "$(state_sums)" = "$sums" ]
  # a different one is refused, naming what differs
  run lj attach bridge "$(target web)" --bridge "$BR" --create-bridge --ip 198.18.0.3/24 \
    --gateway 198.18.0.1 --mtu 1400
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"already attached as 'eth1' (way bridge) otherwise: "*ip*mtu*"differ"*--replace* ]]
  [ "$(state_sums)" = "$sums" ]
}

@test "--replace swaps a different attachment; a failing new one restores the old" {
  add_container web
  detach_later web
  run lj attach bridge "$(target web)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  mac=$(on web cat /sys/class/net/eth1/address)
  # the new one has one more step (the route): fail exactly that one; the restore has fewer
  n=$(($(state_records | jq '.[0].undo | length') + 1))
  run env LANJOIN_FAULT_STEP="$n" ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "$(target web)" --bridge "$BR" --create-bridge --ip 198.18.0.3/24 --gateway 198.18.0.1 \
    --route 203.0.113.0/24 --replace
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"fault injected"*"the replaced attachment was restored"* ]]
  on web ip -br addr show eth1 | grep -q 198.18.0.2/24
  [ "$(state_records | jq -c '.[0].spec.ip')" = '["198.18.0.2/24"]' ]
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
  # without a fault it swaps
  run lj attach bridge "$(target web)" --bridge "$BR" --create-bridge --ip 198.18.0.3/24 \
    --gateway 198.18.0.1 --replace
  echo "$output"
  [ "$status" -eq 0 ]
  on web ip -br addr show eth1 | grep -q 198.18.0.3/24
  ! on web ip -br addr show eth1 | grep -q 198.18.0.2/24 || false
  [ "$(state_records | jq length)" -eq 1 ]
  [ -n "$mac" ]
}

@test "--persist: the spec is stored (derived MAC), list says persistent, detach removes it" {
  add_container web
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --persist
  echo "$output"
  [ "$status" -eq 0 ]
  files=("$LANJOIN_SPEC_DIR"/*.json)
  [ "${#files[@]}" -eq 1 ]
  [ "$(stat -c %a "${files[0]}")" = 600 ]
  [ "$(jq -r .persist "${files[0]}")" = true ]
  mac=$(jq -r .mac "${files[0]}")
  [[ $mac =~ ^[0-9a-f][26ae](:[0-9a-f]{2}){5}$ ]] # locally administered, unicast
  [ "$(on web cat /sys/class/net/eth1/address)" = "$mac" ]
  run lj list
  [[ $output == *"(persistent)"* ]]
  [ "$(lj list --json | jq -r '.[0].persistent')" = true ]
  # the same MAC again for the same identity
  lj detach "$(target web)" --keep-spec
  [ -f "${files[0]}" ]
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --persist
  [ "$status" -eq 0 ]
  [ "$(on web cat /sys/class/net/eth1/address)" = "$mac" ]
  run lj detach "$(target web)"
  [ "$status" -eq 0 ]
  [ -z "$(ls "$LANJOIN_SPEC_DIR")" ]
  # a PID is no identity
  run lj attach bridge "pid:$CONTAINER_PID" "${ATTACH[@]}" --persist
  [ "$status" -eq 2 ]
  [[ $output == *"--persist needs a lasting identity"* ]]
}

@test "--replace of a persistent attachment keeps it persistent: the stored spec becomes the new one; a failed replace keeps the old" {
  add_container web
  detach_later web
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --persist
  [ "$status" -eq 0 ]
  files=("$LANJOIN_SPEC_DIR"/*.json)
  mac=$(jq -r .mac "${files[0]}")
  # a failing replace (fault at its route step) leaves the old spec
  n=$(($(state_records | jq '.[0].undo | length') + 1))
  run env LANJOIN_FAULT_STEP="$n" ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "$(target web)" --bridge "$BR" --create-bridge --ip 198.18.0.3/24 --gateway 198.18.0.1 \
    --route 203.0.113.0/24 --replace
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(jq -c .ip "${files[0]}")" = '["198.18.0.2/24"]' ]
  # a replace without --persist: the new spec is stored, with the same MAC
  run lj attach bridge "$(target web)" --bridge "$BR" --create-bridge --ip 198.18.0.3/24 \
    --gateway 198.18.0.1 --replace
  echo "$output"
  [ "$status" -eq 0 ]
  files=("$LANJOIN_SPEC_DIR"/*.json)
  [ "${#files[@]}" -eq 1 ]
  cat "${files[0]}"
  [ "$(jq -c .ip "${files[0]}")" = '["198.18.0.3/24"]' ]
  [ "$(jq -r .mac "${files[0]}")" = "$mac" ]
  [ "$(on web cat /sys/class/net/eth1/address)" = "$mac" ]
  [ "$(lj list --json | jq -r '.[0].persistent')" = true ]
  [ "$(lj list --json | jq -c '.[0].spec.ip')" = '["198.18.0.3/24"]' ]
}

@test "--persist: the spec directory must be safe (root's, not writable by others)" {
  add_container web
  d=$(mktemp -d /tmp/lanjoin-specs.XXXXXX)
  defer rm -rf "$d"
  chmod 0777 "$d"
  LANJOIN_SPEC_DIR=$d run lj attach bridge "$(target web)" "${ATTACH[@]}" --persist
  echo "$output"
  [ "$status" -eq 1 ] # refused before anything is changed
  [[ $output == *"spec directory $d"*"writable by no one else"* ]]
  [ -z "$(ls "$d")" ]
  [ "$(state_records | jq length)" -eq 0 ]
  ! on web ip link show eth1 || false
}

@test "--persist: a missing spec directory is made with its parents (0700)" {
  add_container web
  detach_later web
  d=$(mktemp -d /tmp/lanjoin-specs.XXXXXX)
  defer rm -rf "$d"
  LANJOIN_SPEC_DIR=$d/lanjoin/specs run lj attach bridge "$(target web)" "${ATTACH[@]}" --persist
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *warning* ]]
  [ "$(stat -c %a "$d/lanjoin")" = 700 ]
  [ "$(stat -c %a "$d/lanjoin/specs")" = 700 ]
  [ "$(ls "$d/lanjoin/specs" | wc -l)" -eq 1 ]
  [ "$(LANJOIN_SPEC_DIR=$d/lanjoin/specs lj list --json | jq -r '.[0].persistent')" = true ]
  LANJOIN_SPEC_DIR=$d/lanjoin/specs lj detach "$(target web)"
}

@test "idempotent attach: --persist is no difference, nor --create-bridge, a derived MAC or a default ifname" {
  add_container web
  add_container db
  detach_later web
  detach_later db
  # persistent, then the same without --persist: as asked, still persistent
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --persist
  [ "$status" -eq 0 ]
  sums=$(state_sums)
  run lj attach bridge "$(target web)" "${ATTACH[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* ]]
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --persist --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* ]]
  [ "$(state_sums)" = "$sums" ]
  [ "$(ls "$LANJOIN_SPEC_DIR" | wc -l)" -eq 1 ]
  # not persistent, then the same with --persist: stored (with the live MAC), nothing else
  ATTACH2=(--bridge "$BR" --ip 198.18.0.3/24)
  run lj attach bridge "$(target db)" "${ATTACH2[@]}"
  [ "$status" -eq 0 ]
  mac=$(on db cat /sys/class/net/eth1/address)
  # a record of an older lanjoin without the default ifname in its spec
  f=$(grep -l "$(target db)" "$LANJOIN_STATE_DIR"/attachments/*.json)
  jq 'del(.spec.ifname)' "$f" >"$f.new" && mv "$f.new" "$f"
  sums=$(state_sums)
  run lj attach bridge "$(target db)" "${ATTACH2[@]}" --persist
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"*"now stored in $LANJOIN_SPEC_DIR"* ]]
  [ "$(state_sums)" = "$sums" ]
  [ "$(on db cat /sys/class/net/eth1/address)" = "$mac" ]
  [ "$(jq -r 'select(.target == "'"$(target db)"'") | .mac' "$LANJOIN_SPEC_DIR"/*.json)" = "$mac" ]
  # --create-bridge only says how a missing bridge is made: with it or without, as asked
  run lj attach bridge "$(target db)" "${ATTACH2[@]}" --create-bridge
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* ]]
  run lj attach bridge "$(target web)" --bridge "$BR" --ip 198.18.0.2/24 --gateway 198.18.0.1
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* ]]
  [ "$(state_sums)" = "$sums" ]
  # what differs is named, in good grammar
  run lj attach bridge "$(target db)" --bridge "$BR" --ip 198.18.0.4/24
  [ "$status" -eq 2 ]
  [[ $output == *"otherwise: ip differs;"* ]]
  run lj attach bridge "$(target db)" --bridge "$BR" --ip 198.18.0.4/24 --mtu 1400
  [ "$status" -eq 2 ]
  [[ $output == *"ip, mtu differ;"* || $output == *"mtu, ip differ;"* ]]
}

@test "apply: the spec attach --persist stored (with the MAC the interface got) is as asked while attached" {
  # an empty spec directory (a boot script's first run) is nothing to do; no argument is usage
  run lj apply "$LANJOIN_SPEC_DIR"
  [ "$status" -eq 0 ]
  [[ $output == "Nothing to apply"* ]]
  run lj apply
  [ "$status" -eq 2 ]
  add_container web
  detach_later web
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --persist
  [ "$status" -eq 0 ]
  mac=$(on web cat /sys/class/net/eth1/address)
  [ "$(jq -r .mac "$LANJOIN_SPEC_DIR"/*.json)" = "$mac" ]
  sums=$(state_sums)
  run lj apply "$LANJOIN_SPEC_DIR"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* ]]
  # the MAC it has, asked for (in capitals): as asked; another one differs
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --mac "${mac^^}"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* ]]
  [ "$(state_sums)" = "$sums" ]
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --mac 02:00:5e:10:00:99
  [ "$status" -eq 2 ]
  [[ $output == *"otherwise: mac differs;"* ]]
  [ "$(on web cat /sys/class/net/eth1/address)" = "$mac" ]
}

@test "idempotent attach: repeated options (--ip, --route) are sets: another order is as asked" {
  add_container web
  detach_later web
  run lj attach bridge "$(target web)" --bridge "$BR" --create-bridge --ip 198.18.0.2/24 \
    --ip 2001:db8:5::2/64 --route 198.18.50.0/24@198.18.0.1 --route 198.18.60.0/24@198.18.0.1
  echo "$output"
  [ "$status" -eq 0 ]
  sums=$(state_sums)
  run lj attach bridge "$(target web)" --bridge "$BR" --ip 2001:db8:5::2/64 --ip 198.18.0.2/24 \
    --route 198.18.60.0/24@198.18.0.1 --route 198.18.50.0/24@198.18.0.1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already attached as 'eth1' as asked"* ]]
  [ "$(state_sums)" = "$sums" ]
  # the record keeps them as given first
  [ "$(state_records | jq -r '.[0].spec.ip[0]')" = 198.18.0.2/24 ]
  # a set with one more is a difference
  run lj attach bridge "$(target web)" --bridge "$BR" --ip 2001:db8:5::2/64 --ip 198.18.0.2/24 \
    --ip 198.18.0.3/24 --route 198.18.60.0/24@198.18.0.1 --route 198.18.50.0/24@198.18.0.1
  [ "$status" -eq 2 ]
  [[ $output == *"otherwise: ip differs;"* ]]
}

@test "apply: files and a directory attach what they declare; again is 'already attached'" {
  add_container a
  add_container b
  detach_later a
  detach_later b
  d=$BATS_TEST_TMPDIR/specs
  mkdir -p "$d"
  cat >"$d/a.json" <<JSON
{"way": "bridge", "target": "$(target a)", "bridge": "$BR", "create-bridge": true,
 "ip": ["198.18.0.11/24"], "gateway": ["198.18.0.1"], "mtu": 1400, "persist": true}
JSON
  cat >"$d/b.json" <<JSON
{"way": "macvlan", "target": "$(target b)", "parent": "em1", "ip": ["198.51.100.121/24"],
 "mode": "bridge"}
JSON
  run lj apply "$d"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"a.json: attached"* && $output == *"b.json: attached"* ]]
  on a ip -br addr show eth1 | grep -q 198.18.0.11/24
  [ "$(on a cat /sys/class/net/eth1/mtu)" = 1400 ]
  ping_from peer 198.51.100.121
  [ "$(ls "$LANJOIN_SPEC_DIR" | wc -l)" -eq 1 ] # a.json asked to persist
  sums=$(state_sums)
  run lj apply "$d/a.json" "$d/b.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"a.json: "*"as asked"* && $output == *"b.json: "*"as asked"* ]]
  [ "$(state_sums)" = "$sums" ]
  # the same spec through attach's options is the same attachment
  run lj attach macvlan "$(target b)" --parent em1 --ip 198.51.100.121/24 --mode bridge
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* ]]
  # already attached otherwise: exit 2 as attach, one line naming the file
  echo '{"way": "macvlan", "target": "'"$(target b)"'", "parent": "em1", "ip": ["198.51.100.122/24"]}' >"$d/c.json"
  run lj apply "$d/c.json"
  echo "$output"
  [ "$status" -eq 2 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ ${lines[0]} == "lanjoin: $d/c.json: "*"otherwise: ip differs;"* ]]
}

@test "apply of a persistent spec to an attachment already as asked says it stores the spec, and stores the MAC it has" {
  add_container a
  detach_later a
  run lj attach bridge "$(target a)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  mac=$(on a cat /sys/class/net/eth1/address)
  d=$BATS_TEST_TMPDIR/specs
  mkdir -p "$d"
  cat >"$d/a.json" <<JSON
{"way": "bridge", "target": "$(target a)", "bridge": "$BR", "create-bridge": true,
 "ip": ["198.18.0.2/24"], "gateway": ["198.18.0.1"], "persist": true}
JSON
  run lj apply "$d/a.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$d/a.json: $(target a) is already attached as 'eth1' as asked (way bridge): its spec is now stored in $LANJOIN_SPEC_DIR (persistent)" ]
  [ "$(ls "$LANJOIN_SPEC_DIR" | wc -l)" -eq 1 ]
  [ "$(jq -r .mac "$LANJOIN_SPEC_DIR"/*.json)" = "$mac" ]
  [ "$(lj list --json | jq -r '.[0].persistent')" = true ]
  # again: already stored, nothing new to say
  run lj apply "$d/a.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"as asked"* && $output != *"now stored"* ]]
  [ "$(on a cat /sys/class/net/eth1/address)" = "$mac" ]
}

@test "apply: a spec that fails is rolled back alone; the last line names what stays attached and what not" {
  add_container a
  add_container b
  detach_later a
  d=$BATS_TEST_TMPDIR/specs
  mkdir -p "$d"
  cat >"$d/a.json" <<JSON
{"way": "bridge", "target": "$(target a)", "bridge": "$BR", "create-bridge": true,
 "ip": ["198.18.0.11/24"]}
JSON
  # the peer's address: the LAN probe fails
  cat >"$d/b.json" <<JSON
{"way": "macvlan", "target": "$(target b)", "parent": "em1", "ip": ["198.51.100.10/24"]}
JSON
  run lj apply "$d"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"a.json: attached"* ]]
  [[ $output == *"b.json: "*"already in use on the LAN"* ]]
  [[ ${lines[-1]} == "lanjoin: Not attached: $d/b.json. Attached"*": $d/a.json" ]]
  on a ip link show eth1
  ! on b ip link show eth1 || false
  [ "$(state_records | jq length)" -eq 1 ]
  # refused as bad input (no such parent) while the other is attached: exit 1 too, not the
  # 2 of "nothing changed"
  run lj detach "$(target a)"
  [ "$status" -eq 0 ]
  cat >"$d/b.json" <<JSON
{"way": "macvlan", "target": "$(target b)", "parent": "ljnosuch0", "ip": ["198.51.100.12/24"]}
JSON
  run lj apply "$d"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"a.json: attached"* ]]
  [[ ${lines[-1]} == "lanjoin: Not attached: $d/b.json. Attached"*": $d/a.json" ]]
}

@test "apply: bad files exit 2 naming file and field, and change nothing" {
  add_container c
  d=$BATS_TEST_TMPDIR
  take_snapshots c
  good='"way": "bridge", "target": "'$(target c)'", "bridge": "'$BR'", "create-bridge": true'
  echo '{"way": "bridge",' >"$d/syntax.json"
  echo "{$good, \"colour\": \"blue\"}" >"$d/unknown.json"
  echo "{$good, \"ip\": [\"198.18.0.300/24\"]}" >"$d/badip.json"
  echo "{$good, \"mtu\": 12}" >"$d/badmtu.json"
  echo "{$good, \"parent\": \"em1\"}" >"$d/notway.json"
  echo "{$good, \"dhcp\": \"yes\"}" >"$d/badflag.json"
  echo "{$good, \"dry-run\": true}" >"$d/cmdopt.json"
  echo '{"way": "bridge", "target": "pid:1", "bridge": "x"}' >"$d/pid.json"
  echo '{"way": "teleport", "target": "x"}' >"$d/way.json"
  echo "{$good, \"ip\": [\"198.18.0.5/24\"]}" >"$d/good.json"
  echo "{$good, \"ip\": [\"2001:db8:5::2/64\", \"fe80::2/64\"]}" >"$d/linklocal.json"
  echo "{$good, \"ip\": [\"198.18.0.6/24\"], \"ifname\": \"eth1\"}" >"$d/dup.json"
  echo '{"way": "macvlan", "target": "'$(target c)'", "parent": "em1", "ip": ["2001:db8:5::3/64"],
    "host-shim": "fe80::1/64"}' >"$d/llshim.json"
  check() { # FILE EXPECTED...
    local f=$1
    shift
    run lj apply "$d/good.json" "$d/$f"
    echo "$output"
    [ "$status" -eq 2 ]
    for e in "$@"; do [[ $output == *"$d/$f"*"$e"* ]]; done
  }
  check syntax.json "line 2"
  check unknown.json "unknown field 'colour'"
  [[ $output != *"field 'colour': "* ]] # said once, not as the prefix of a field too
  check badip.json "field 'ip'" "Invalid --ip '198.18.0.300/24'"
  check badmtu.json "field 'mtu'" "Invalid --mtu '12'"
  check linklocal.json "field 'ip'" "Invalid --ip 'fe80::2/64': a link-local address (fe80::/10)"
  check llshim.json "field 'host-shim'" "Invalid --host-shim 'fe80::1/64': a link-local address (fe80::/10)"
  check notway.json "field 'parent'" "--parent does not apply to the bridge way"
  check badflag.json "field 'dhcp'" "expected true or false"
  check cmdopt.json "'dry-run' is not a spec field"
  [[ $output != *"unknown field"* ]]
  check pid.json "field 'target'" "a PID is no lasting identity"
  check way.json "field 'way'" "unknown way"
  check dup.json "field 'target'" "declared by $d/good.json too"
  # the same namespace spelled as a path
  echo '{"way": "bridge", "target": "/run/netns/'"${LAB_PREFIX}c"'", "bridge": "'$BR'"}' >"$d/path.json"
  check path.json "field 'target'" "declared by $d/good.json too (the same namespace)"
  # a member of the wrong type: the file named once
  echo "{$good, \"mtu\": [1400]}" >"$d/typemtu.json"
  check typemtu.json "field 'mtu': expected a number"
  [ "$(grep -o "typemtu.json" <<<"$output" | wc -l)" -eq 1 ]
  run lj apply "$d/nosuch.json"
  [ "$status" -eq 2 ]
  assert_unchanged
}

@test "apply: every member's JSON type is checked (a number as a string, a lone string for an array): exit 2 naming file, field and type, nothing applied" {
  add_container c
  d=$BATS_TEST_TMPDIR
  take_snapshots c
  good='"way": "bridge", "target": "'$(target c)'", "bridge": "'$BR'", "create-bridge": true'
  check() { # FILE JSON-MEMBERS EXPECTED [ALSO-SAID]
    echo "{$good, $2}" >"$d/$1"
    run lj apply "$d/$1"
    echo "$output"
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ ${lines[0]} == "lanjoin: $d/$1: $3"* ]]
    [[ ${lines[0]} == *"${4-}" ]]
  }
  check mtu.json '"mtu": "1400"' "field 'mtu': expected a number (a JSON integer, e.g. 1400, not \"1400\"), not a string"
  check mtureal.json '"mtu": 1400.5' "field 'mtu': expected a number" "not a fractional number"
  check vlan.json '"vlan": true' "field 'vlan': expected a number" "not a boolean"
  check dhcpt.json '"dhcp": true, "dhcp-timeout": "30"' "field 'dhcp-timeout': expected a number"
  check ip.json '"ip": "198.18.0.5/24"' "field 'ip': expected an array of strings" "not a string"
  check gw.json '"ip": ["198.18.0.5/24"], "gateway": "198.18.0.1"' "field 'gateway': expected an array of strings"
  check route.json '"route": {"to": "198.18.9.0/24"}' "field 'route': expected an array of strings" "not an object"
  check member.json '"ip": ["198.18.0.5/24", 7]' "field 'ip': member 2: expected a string, not an integer"
  check ifname.json '"ifname": 1' "field 'ifname': expected a string, not an integer"
  check mac.json '"mac": null' "field 'mac': expected a string, not null"
  check flag.json '"dhcp": "true"' "field 'dhcp': expected true or false, not a string"
  echo '{"way": 1, "target": "x"}' >"$d/way.json"
  run lj apply "$d/way.json"
  [ "$status" -eq 2 ]
  [[ $output == *"$d/way.json: field 'way': not a string but an integer"* ]]
  echo '{"way": "bridge", "target": ["x"]}' >"$d/target.json"
  run lj apply "$d/target.json"
  [ "$status" -eq 2 ]
  [[ $output == *"$d/target.json: field 'target': expected a string, not an array"* ]]
  assert_unchanged
  [ "$(state_records | jq length)" -eq 0 ]
  # the same with the right types attaches
  echo "{$good, \"ip\": [\"198.18.0.5/24\"], \"gateway\": [\"198.18.0.1\"], \"mtu\": 1400}" >"$d/ok.json"
  defer lj detach "$(target c)"
  run lj apply "$d/ok.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(on c cat /sys/class/net/eth1/mtu)" = 1400 ]
}

@test "status: TARGET /run/netns/NAME matches an attachment made as netns:NAME" {
  add_container web
  detach_later web
  run lj attach bridge "$(target web)" "${ATTACH[@]}"
  [ "$status" -eq 0 ]
  run lj status "/run/netns/${LAB_PREFIX}web"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[1]} == *"$(target web)"*ok* ]]
}

@test "status: a persistent spec without an attachment is waiting (target stopped, exit 0) or missing (exit 1)" {
  add_container web
  echo '{"way": "bridge", "target": "'"$(target ghost)"'", "bridge": "'$BR'", "persist": true}' \
    >"$LANJOIN_SPEC_DIR/ghost.json"
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$(target ghost)"*eth1*waiting*"does not run"* ]]
  run lj status "$(target ghost)"
  [ "$status" -eq 0 ]
  [ "$(lj status --json | jq -r '.attachments[] | select(.target == "'"$(target ghost)"'") | .status')" = waiting ]
  # list shows it too, as status does
  run lj list
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$(target ghost)"*eth1*bridge*"persistent spec, waiting"* ]]
  run lj list --json
  [ "$(jq -r '.[] | select(.target.spec == "'"$(target ghost)"'") | "\(.status) \(.persistent) \(.via)"' <<<"$output")" = "waiting true $BR" ]
  # a container's spec while its engine cannot be reached: not known, not "does not run"
  echo '{"way": "bridge", "target": "ljnosuchweb", "bridge": "'$BR'", "persist": true}' \
    >"$LANJOIN_SPEC_DIR/engine.json"
  export LANJOIN_ENGINE_SOCKET=$BATS_TEST_TMPDIR/no-engine.sock
  run lj status ljnosuchweb
  echo "$output"
  [[ $output == *ljnosuchweb*waiting*"whether its target runs is not known: Cannot reach"*no-engine.sock* ]]
  run lj status --json
  [[ $(jq -r '.attachments[] | select(.target == "ljnosuchweb") | .what' <<<"$output") == "Cannot reach"* ]]
  run lj list
  [[ $output == *ljnosuchweb*"whether its target runs is not known: Cannot reach"* ]]
  unset LANJOIN_ENGINE_SOCKET
  rm "$LANJOIN_SPEC_DIR/engine.json"
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --persist
  [ "$status" -eq 0 ]
  [ "$(lj list --json | jq length)" -eq 2 ] # web attached, ghost waiting
  lj detach "$(target web)" --keep-spec
  run lj status
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"$(target web)"*eth1*missing*"reconcile attaches it"* ]]
  run lj list
  [[ $output == *"$(target web)"*eth1*"persistent spec, missing"* ]]
  [ "$(lj list --json | jq -r '.[] | select(.target.spec == "'"$(target web)"'") | .status')" = missing ]
}

@test "help, man page and completion know apply, reconcile, --persist, --replace, --keep-spec" {
  run "$LANJOIN" help
  [[ $output == *apply* && $output == *reconcile* ]]
  run "$LANJOIN" attach --help
  [[ $output == *--persist* && $output == *--replace* ]]
  run "$LANJOIN" detach --help
  [[ $output == *--keep-spec* ]]
  run "$LANJOIN" apply --help
  [ "$status" -eq 0 ]
  run "$LANJOIN" reconcile --help
  [ "$status" -eq 0 ]
}

# A waiting nat spec asks for --address, not --ip: list shows that address, as it shows a
# bridge spec's --ip (and as the record will once attached).
@test "list: a waiting nat spec shows the address it asks for" {
  echo '{"way": "nat", "target": "'"$(target natghost)"'", "uplink": "em1", "address": "198.51.100.117/24", "persist": true}' \
    >"$LANJOIN_SPEC_DIR/natghost.json"
  run lj list
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$(target natghost)"*eth1*nat*em1*"198.51.100.117/24 (persistent spec, waiting"* ]]
  run lj list --json
  [ "$(jq -c '.[] | select(.target.spec == "'"$(target natghost)"'") | .addresses' <<<"$output")" = '["198.51.100.117/24"]' ]
}

# A persistent spec attached from another network namespace (a lab's lanjoin, the same state
# and spec directories) is not "missing" there: list and status name where it is attached, and
# reconcile there does not attach it a second time.
@test "status, list, reconcile: a persistent spec attached from another namespace is named there, not missing" {
  add_container web
  detach_later web
  run lj attach bridge "$(target web)" "${ATTACH[@]}" --persist
  [ "$status" -eq 0 ]
  run ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" status
  echo "$output"
  [ "$status" -eq 1 ] # nothing checked here, as for a foreign record alone
  [[ $output == *"$(target web)"*eth1*bridge*elsewhere*"attached from network namespace /run/netns/${LAB_PREFIX}host"*"run 'lanjoin status' there"* ]]
  [[ $output != *missing* && $output != *"reconcile attaches"* ]]
  run --separate-stderr ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" status --json
  [ "$(jq -r '.attachments[] | select(.target == "'"$(target web)"'") | "\(.status) \(.where)"' <<<"$output")" = "elsewhere /run/netns/${LAB_PREFIX}host" ]
  run ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" list
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$(target web)"*eth1*bridge*"persistent spec, attached from network namespace /run/netns/${LAB_PREFIX}host: run 'lanjoin list' there"* ]]
  [[ $output != *missing* ]]
  [ "$(ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" list --json 2>/dev/null | jq -r '.[0].status')" = elsewhere ]
  run ip netns exec "${LAB_PREFIX}peer" "$LANJOIN" reconcile
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"$(target web) eth1: leave: attached from network namespace /run/netns/${LAB_PREFIX}host"* ]]
  [ "$(on web ip -o link show | grep -c ': eth1@')" -eq 1 ]
  ! ip -n "${LAB_PREFIX}peer" link show "$BR" 2>/dev/null || false
  run lj status
  [ "$status" -eq 0 ]
}
