#!/usr/bin/env bats
# Machine output is one schema (issue 16, doc/json.md): every command's --json prints the
# documented, versioned objects (attachment, uplink adoption, shim, and the detach/gc/pid
# envelopes); attach --json and list --json agree field for field; the state record's private
# parts (undo plan, namespace cookies, owner) never leak.

load helpers

# jq: is . an attachment of doc/json.md (required fields, their types, nothing else)?
IS_ATTACHMENT='def str_or_null: type == "string" or type == "null";
  type == "object" and .schema == "lanjoin/attachment/v1"
  and (.target | type == "object" and (.spec | type == "string")
       and (.kind | IN("pid", "netns", "path", "container")) and (.name | type == "string")
       and (.pid | type == "number" or type == "null") and (.container_id | str_or_null)
       and (keys - ["spec", "kind", "name", "pid", "container_id"] == []))
  and (.ifname | type == "string") and (.way | IN("bridge", "ovs", "macvlan", "nat", "routed"))
  and (.status | IN("attached", "settling", "applying"))
  and (.host_ifname | str_or_null) and (.via | str_or_null) and (.mac | str_or_null)
  and (.addresses | type == "array" and all(.[]; type == "string"))
  and (.created | type == "number") and (.info | type == "object")
  and (.spec | type == "object" or type == "null") and (.persistent | type == "boolean")
  and (keys - ["schema", "target", "ifname", "way", "status", "host_ifname", "via", "mac",
               "addresses", "created", "info", "adopted_uplink", "spec", "persistent",
               "unchanged"] == [])'

IS_UPLINK='type == "object" and .schema == "lanjoin/uplink/v1" and (.bridge | type == "string")
  and (.status | IN("adopted", "adopting", "releasing", "stale", "released", "none"))
  and (.addresses | type == "array") and (.link_local | type == "array") and (.routes | type == "array")
  and (.dhcp | type == "boolean") and (.probe | type == "string" or type == "null")'

IS_SHIM='type == "object" and .schema == "lanjoin/shim/v1" and (.parent | type == "string")
  and (.name | type == "string") and (.address | type == "string" or type == "null")
  and (.status | IN("created", "kept", "removed", "unpinned", "none"))
  and (keys - ["schema", "parent", "name", "address", "status"] == [])'

# No key of the record's private format anywhere in the document on stdin.
no_private() {
  jq -e '[paths | .[-1] | strings | select(IN("undo", "format", "id", "owner", "netns_dev",
    "netns_ino", "netns_cookie", "host_netns", "cookie", "start_time", "i64"))] == []' >/dev/null
}

del_host_link() { on host ip link del "$1" 2>/dev/null || true; }

check() { # check JQ-PROGRAM <<<JSON: fails showing the document when it does not hold
  local doc
  doc=$(cat)
  jq -e "$1" <<<"$doc" >/dev/null || {
    echo "not as documented: $doc" >&2
    return 1
  }
}

@test "json: attach, list and detach --json print the same documented attachment; nothing private" {
  add_container web
  local target="netns:${LAB_PREFIX}web"
  run lj attach bridge "$target" --bridge br-x --create-bridge --ip 198.51.100.117/24 \
    --ip 2001:db8:1::117/64 --gateway 198.51.100.254 --json
  echo "$output"
  [ "$status" -eq 0 ]
  defer del_host_link br-x # lanjoin's: detach removes it
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "$target"
  local attached=$output
  check "$IS_ATTACHMENT" <<<"$attached"
  no_private <<<"$attached"
  [ "$(jq -r '.target.spec + " " + .ifname + " " + .way + " " + .via' <<<"$attached")" = \
    "$target eth1 bridge br-x" ]
  [ "$(jq -r '.mac' <<<"$attached")" = "$(on web cat /sys/class/net/eth1/address)" ]
  [ "$(jq -c '.addresses' <<<"$attached")" = '["198.51.100.117/24","2001:db8:1::117/64"]' ]

  run lj list --json
  echo "$output"
  [ "$status" -eq 0 ]
  check 'type == "array" and length == 1' <<<"$output"
  check ".[0] | $IS_ATTACHMENT" <<<"$output"
  no_private <<<"$output"
  # field for field the same as attach printed
  diff <(jq -S . <<<"$attached") <(jq -S '.[0]' <<<"$output")

  run lj detach "$target" --json
  echo "$output"
  [ "$status" -eq 0 ]
  check '.schema == "lanjoin/detach/v1" and (.detached | length == 1) and (.notes | type == "array")' <<<"$output"
  check ".detached[0] | $IS_ATTACHMENT" <<<"$output"
  no_private <<<"$output"
  diff <(jq -S . <<<"$attached") <(jq -S '.detached[0]' <<<"$output")
  # nothing left to detach: still the same document, with no attachment
  run lj detach "$target" --json
  [ "$status" -eq 0 ]
  check '.schema == "lanjoin/detach/v1" and .detached == []' <<<"$output"
  run lj list --json
  [ "$output" = "[]" ]
}

@test "json: attach macvlan --host-shim --json names the shim, and whether it was created or reused" {
  add_container a
  add_container b
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach --all
  run lj attach macvlan "netns:${LAB_PREFIX}a" --parent em1 --ip 198.51.100.121/24 \
    --host-shim 198.51.100.78/24 --json
  echo "$output"
  [ "$status" -eq 0 ]
  check "$IS_ATTACHMENT and .via == \"em1\" and .host_ifname == .info.host_shim
    and (.info.host_shim | type == \"string\") and .info.host_shim_address == \"198.51.100.78\"
    and .info.host_shim_created == true" <<<"$output"
  local first=$output shim
  shim=$(jq -r .info.host_shim <<<"$first")
  on host ip link show "$shim" >/dev/null
  run lj attach macvlan "netns:${LAB_PREFIX}b" --parent em1 --ip 198.51.100.122/24 \
    --host-shim 198.51.100.78/24 --json
  echo "$output"
  [ "$status" -eq 0 ]
  check "$IS_ATTACHMENT and .info.host_shim == \"$shim\" and (.info | has(\"host_shim_created\") | not)" <<<"$output"
  # list --json agrees field for field
  run lj list --json
  diff <(jq -S . <<<"$first") <(jq -S --arg t "netns:${LAB_PREFIX}a" '.[] | select(.target.spec == $t)' <<<"$output")
}

# The info members doc/json.md documents (the first column of its info table), as a JSON array.
documented_info() {
  awk '/^`info` members/ {s = 1; next} s && /^## / {exit} s && /^\| `/' "$REPO/doc/json.md" |
    cut -d'|' -f2 | grep -oE '`[a-z0-9_]+`' | tr -d '`' | jq -R . | jq -sc .
}

@test "json: routed and nat attachments are documented attachments; every info member is in doc/json.md" {
  add_container r
  add_container n
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach --all
  local doc
  doc=$(documented_info)
  echo "documented: $doc"
  [[ $doc == *'"next_hops"'* && $doc == *'"dhcp6"'* && $doc == *'"bridge_created"'* ]]
  run lj attach routed "netns:${LAB_PREFIX}r" --parent em1 --ip 198.51.100.123/24 \
    --ip 2001:db8:1::123/64 --json
  echo "$output"
  [ "$status" -eq 0 ]
  check "$IS_ATTACHMENT and .way == \"routed\" and .via == \"em1\" and .info.parent == \"em1\"
    and .info.next_hops == [\"169.254.0.1\", \"fe80::1\"] and ((.info | keys) - $doc == [])" <<<"$output"
  no_private <<<"$output"
  run lj attach nat "netns:${LAB_PREFIX}n" --uplink em1 --address 198.51.100.124/24 --publish 80 --json
  echo "$output"
  [ "$status" -eq 0 ]
  check "$IS_ATTACHMENT and .way == \"nat\" and .info.uplink == \"em1\"
    and ((.info | keys) - $doc == [])" <<<"$output"
  no_private <<<"$output"
  run lj list --json
  check "length == 2 and all(.[]; $IS_ATTACHMENT and ((.info | keys) - $doc == []))" <<<"$output"
}

@test "json: gc --json names what it removed; detach --all --json too" {
  lab container add gone >/dev/null
  defer "$LAB" container del gone
  add_container web
  lj attach macvlan "netns:${LAB_PREFIX}gone" --parent em1 --ip 198.51.100.121/24 >/dev/null
  lj attach macvlan "netns:${LAB_PREFIX}web" --parent em1 --ip 198.51.100.122/24 >/dev/null
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach --all
  lab container del gone
  run lj gc --json
  echo "$output"
  [ "$status" -eq 0 ]
  check '.schema == "lanjoin/gc/v1" and (.removed | length == 1) and .count == 1
    and (.notes | type == "array")' <<<"$output"
  check ".removed[0] | $IS_ATTACHMENT" <<<"$output"
  [ "$(jq -r '.removed[0].target.spec' <<<"$output")" = "netns:${LAB_PREFIX}gone" ]
  no_private <<<"$output"

  run lj detach --all --json
  echo "$output"
  [ "$status" -eq 0 ]
  check '.schema == "lanjoin/detach/v1" and (.detached | length == 1)' <<<"$output"
  [ "$(jq -r '.detached[0].target.spec' <<<"$output")" = "netns:${LAB_PREFIX}web" ]
  no_private <<<"$output"
}

@test "json: pid --json" {
  add_container web
  run lj pid "pid:$CONTAINER_PID" --json
  echo "$output"
  [ "$status" -eq 0 ]
  check ".schema == \"lanjoin/pid/v1\" and .pid == $CONTAINER_PID and .target == \"pid:$CONTAINER_PID\"
    and (keys == [\"pid\", \"schema\", \"target\"])" <<<"$output"
}

@test "json: shim add and del --json print the documented shim" {
  run lj shim add em1 --ip 198.51.100.77/24 --json
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" shim del em1
  check "$IS_SHIM and .status == \"created\" and .parent == \"em1\" and .address == \"198.51.100.77/32\"" <<<"$output"
  local name
  name=$(jq -r .name <<<"$output")
  on host ip link show "$name" >/dev/null
  run lj shim add em1 --ip 198.51.100.77/24 --json
  check "$IS_SHIM and .status == \"kept\"" <<<"$output"
  run lj shim del em1 --json
  echo "$output"
  [ "$status" -eq 0 ]
  check "$IS_SHIM and .status == \"removed\" and .name == \"$name\"" <<<"$output"
  run lj shim del em1 --json
  check "$IS_SHIM and .status == \"none\"" <<<"$output"
}

@test "json: uplink adopt, list and release --json print the documented adoption" {
  run lj uplink adopt br-em1 em1 --json
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" uplink release br-em1
  check "$IS_UPLINK and .status == \"adopted\" and .uplink == \"em1\" and .kind == \"bridge\"
    and .probe == \"198.51.100.254\" and (.warnings | type == \"array\")
    and (.addresses | index(\"198.51.100.76/24\"))" <<<"$output"
  no_private <<<"$output"
  local adopted=$output
  run lj uplink list --json
  echo "$output"
  check "type == \"array\" and length == 1 and (.[0] | $IS_UPLINK)" <<<"$output"
  no_private <<<"$output"
  diff <(jq -S 'del(.warnings)' <<<"$adopted") <(jq -S '.[0]' <<<"$output")
  run lj uplink release br-em1 --json
  echo "$output"
  [ "$status" -eq 0 ]
  check "$IS_UPLINK and .status == \"released\" and .uplink == \"em1\"" <<<"$output"
  run lj uplink release br-em1 --json
  check "$IS_UPLINK and .status == \"none\"" <<<"$output"
  run lj uplink list --json
  [ "$output" = "[]" ]
}
