#!/usr/bin/env bats
# How lanjoin knows a container: by the ID it was attached to, not only by the name it was
# given. A persistent attachment follows its container through `docker rename` (reconcile,
# and watch on the engine's rename event): its record and spec take the new name, and after
# a restart it comes back with the same MAC and address. A container made under the old name
# is not the renamed one. A container that shares another's network namespace
# (--network container:NAME) sees that one's attachments in `status`, but `detach` and
# `attach` through it refuse to remove or replace them (they are that one's), as Docker
# refuses to connect such a container to a network. An
# attach by a short ID prefix that is no container's name says which container it took.
# Containers on the engine's default bridge network, as a user's are.

load helpers
load engine-helpers
load watch-helpers

setup_file() {
  watch_setup_file
  podman_start || true
}
teardown_file() {
  podman_stop || true
  watch_teardown_file
}
teardown() {
  lab_teardown
  rm -f "$LANJOIN_SPEC_DIR"/*.json
}

ljx() { # ENGINE ARGS...: lanjoin with ENGINE's socket
  local e=$1
  shift
  lj "$@" --engine-socket "$(engine_sock "$e")"
}

# has_lan0 ENGINE NAME: container NAME has an interface lan0 (lanjoin's)
has_lan0() { engine_cli "$1" exec "$2" ip link show lan0 >/dev/null 2>&1; }
# mac_of ENGINE NAME: lan0's MAC in container NAME
mac_of() { engine_cli "$1" exec "$2" cat /sys/class/net/lan0/address 2>/dev/null; }
# the one stored spec's member M
spec_member() { jq -r ".[\"$1\"]" "$LANJOIN_SPEC_DIR"/*.json; }

# reconciled ENGINE NAME: a reconcile is all ok, and NAME has lan0
reconciled() { ljx "$1" reconcile && has_lan0 "$1" "$2"; }

# rename_then_restart ENGINE OCTET: attach --persist, rename, restart, reconcile: the
# attachment follows the container (record, spec, status, list), same MAC and address; a
# container made under the old name is left alone, then and after the renamed one is gone.
rename_then_restart() {
  local e=$1 ip=198.51.100.$2 old=lj-ren-$1 new=lj-ren2-$1 mac id
  require_engine "$e"
  engine_run "$e" "$old"
  id=$CONTAINER_ID
  defer engine_rm "$e" "$new"
  run ljx "$e" attach macvlan "$old" --parent em1 --ip "$ip/24" --persist
  echo "$output"
  [ "$status" -eq 0 ]
  defer ljx "$e" detach "$new"
  defer ljx "$e" detach "$old" # (when a check failed before the rename)
  mac=$(mac_of "$e" "$old")
  [ -n "$mac" ]
  # the spec keeps the container's ID beside its name
  [ "$(spec_member container-id)" = "$id" ]

  engine_cli "$e" rename "$old" "$new"
  # before any reconcile, status finds it by the container's new name (its ID) too
  run ljx "$e" status "$new"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$old "*lan0*macvlan*ok* ]]

  engine_cli "$e" restart -t 0 "$new" >/dev/null
  [ "$(engine_inspect "$e" "$new" .State.Running)" = true ]
  run ljx "$e" reconcile
  echo "$output"
  [[ $output == *"$old lan0: rename: its container is now named $new"* ]]
  # the old namespace's macvlan may hold the MAC a moment longer (the kernel frees it): a
  # reconcile that found it taken says try again (exit 2); a later one attaches it (the
  # kernel's namespace cleanup runs late on a loaded machine: up to a minute seen in CI)
  wait_for 90 reconciled "$e" "$new"
  [ "$(mac_of "$e" "$new")" = "$mac" ]
  [ "$(curl_from peer "http://$ip/hello.html")" = "Hello world" ]
  # record, spec, status and list name it as it is named now
  run ljx "$e" status --json
  echo "$output"
  [ "$(jq -c '[.attachments[] | [.target, .status]]' <<<"$output")" = "[[\"$new\",\"ok\"]]" ]
  lj list --json | jq -e --arg n "$new" --arg id "$id" \
    'length == 1 and .[0].target.spec == $n and .[0].target.container_id == $id and .[0].persistent'
  [ "$(ls "$LANJOIN_SPEC_DIR" | wc -l)" -eq 1 ]
  [ "$(spec_member target)" = "$new" ]
  [ "$(spec_member container-id)" = "$id" ]
  run ljx "$e" reconcile
  [ "$status" -eq 0 ]
  [ -z "$output" ]

  # a new container under the old name is another container: not attached
  engine_run "$e" "$old"
  engine_cli "$e" stop -t 0 "$new" >/dev/null
  run ljx "$e" reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  ! has_lan0 "$e" "$old" || false
  run ljx "$e" status "$new"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$new "*lan0*waiting* ]]
  # the renamed one removed: its spec still names it, not whatever has its old name
  engine_rm "$e" "$new"
  run ljx "$e" reconcile
  echo "$output"
  ! has_lan0 "$e" "$old" || false
  [ "$(spec_member target)" = "$new" ]
}

@test "engines: docker rename of a persistent attachment's container, then a restart: reconcile follows it (record, spec, status, list); a new container under the old name is left alone" {
  rename_then_restart docker 161
}

@test "engines: podman rename of a persistent attachment's container, then a restart: reconcile follows it" {
  rename_then_restart podman 162
}

# watch_rename ENGINE OCTET: a watch follows the engine's rename event (record and spec take
# the new name at once); the restart that follows brings the attachment back, same MAC.
watch_rename() {
  local e=$1 ip=198.51.100.$2 old=lj-wren-$1 new=lj-wren2-$1 mac
  require_engine "$e"
  engine_run "$e" "$old"
  defer engine_rm "$e" "$new"
  run ljx "$e" attach macvlan "$old" --parent em1 --ip "$ip/24" --persist
  echo "$output"
  [ "$status" -eq 0 ]
  defer ljx "$e" detach "$new"
  defer ljx "$e" detach "$old"
  mac=$(mac_of "$e" "$old")
  start_watch --engine-socket "$(engine_sock "$e")"
  log_has "engine at $(engine_sock "$e") connected"

  engine_cli "$e" rename "$old" "$new"
  log_has "^container rename [0-9a-f]{12} \\($new\\): reconcile $old\$"
  log_has "^$old lan0: rename: its container is now named $new"
  [ "$(spec_member target)" = "$new" ]
  lj list --json | jq -e --arg n "$new" '.[0].target.spec == $n'

  engine_cli "$e" restart -t 0 "$new" >/dev/null
  has_mac() { [[ $(mac_of "$e" "$new") == "$mac" ]]; }
  wait_for 60 has_mac || {
    cat "$WLOG"
    false
  }
  [ "$(curl_from peer "http://$ip/hello.html")" = "Hello world" ]
}

@test "watch: docker rename (the engine's rename event) -> the record and spec take the new name; a restart brings it back" {
  watch_rename docker 163
}

@test "watch: podman rename (its rename event) -> the record and spec take the new name; a restart brings it back" {
  watch_rename podman 167
}

@test "a container sharing another's network namespace (--network container:NAME): status shows that one's attachment; detach and attach through it leave it alone" {
  require_engine docker
  engine_run docker lj-own
  # its own server on another port: port 80 is lj-own's in the namespace they share
  engine_cli docker run -d --name lj-sh2 --network container:lj-own "$ENGINE_IMAGE" \
    /bin/httpd -f -p 8080 -h /www >/dev/null
  defer engine_rm docker lj-sh2
  run ljx docker attach macvlan lj-own --parent em1 --ip 198.51.100.164/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer ljx docker detach lj-own

  run ljx docker status lj-sh2
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"lj-own "*lan0*macvlan*ok* ]]
  run ljx docker status lj-sh2 --json
  [ "$(jq -c '[.attachments[] | [.target, .status]]' <<<"$output")" = '[["lj-own","ok"]]' ]
  run ljx docker reconcile lj-sh2
  echo "$output"
  [ "$status" -eq 0 ]
  # by the process too: pid: of a process in that namespace
  run ljx docker status "pid:$(engine_inspect docker lj-sh2 .State.Pid)"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"lj-own "*lan0*macvlan*ok* ]]
  # lj-own's attachment is not lj-sh2's: detach and attach through lj-sh2 refuse to touch it
  run ljx docker detach lj-sh2
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"lj-sh2 and container lj-own share one network namespace"*"'lan0' there is lj-own's attachment"*"detach lj-own"* ]]
  run ljx docker detach lj-sh2 --dry-run
  [ "$status" -eq 2 ]
  run ljx docker attach macvlan lj-sh2 --parent em1 --ip 198.51.100.166/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"lj-sh2 and container lj-own share one network namespace"*"--ifname"* ]]
  has_lan0 docker lj-own
  run ljx docker status lj-own
  [ "$status" -eq 0 ]
  # one of its own beside it, under another name: each detach removes only its own
  run ljx docker attach macvlan lj-sh2 --ifname lan1 --parent em1 --ip 198.51.100.166/24
  echo "$output"
  [ "$status" -eq 0 ]
  run ljx docker detach lj-own
  echo "$output"
  [ "$status" -eq 0 ]
  ! has_lan0 docker lj-own || false
  engine_cli docker exec lj-own ip link show lan1 >/dev/null
  run ljx docker detach lj-sh2
  echo "$output"
  [ "$status" -eq 0 ]
  ! engine_cli docker exec lj-own ip link show lan1 >/dev/null 2>&1 || false
  run ljx docker status lj-own
  [ "$status" -eq 1 ]
}

@test "attach: a TARGET that is no container's name but a short ID prefix (as Docker takes '4') gets a note naming the container" {
  require_engine docker
  engine_run docker lj-pre
  local p=${CONTAINER_ID:0:4}
  run ljx docker attach macvlan "$p" --parent em1 --ip 198.51.100.165/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer ljx docker detach lj-pre
  [[ $output == *"note: no container is named '$p': taken as an ID prefix, of container lj-pre (${CONTAINER_ID:0:12})"* ]]
  has_lan0 docker lj-pre
  # by its name, or by the 12 digits docker ps shows: no note
  run ljx docker attach macvlan lj-pre --parent em1 --ip 198.51.100.165/24
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output != *note:* ]]
}

@test "detach: by the new name of a stopped, renamed container whose record is gone removes its persistent spec (it keeps the container's ID)" {
  require_engine docker
  engine_run docker lj-dren
  defer engine_rm docker lj-dren2
  run ljx docker attach macvlan lj-dren --parent em1 --ip 198.51.100.166/24 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  defer ljx docker detach lj-dren
  dk stop -t 0 lj-dren >/dev/null
  run ljx docker reconcile
  echo "$output"
  [[ $output == *"lj-dren lan0: drop: host side removed; its persistent spec is kept"* ]]
  dk rename lj-dren lj-dren2
  run ljx docker detach lj-dren2
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Removed the stored spec of lj-dren2"* ]]
  [ -z "$(ls "$LANJOIN_SPEC_DIR")" ]
  run ljx docker status
  echo "$output"
  [[ $output != *lj-dren* ]]
}
