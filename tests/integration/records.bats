#!/usr/bin/env bats
# One record per attachment, whatever a user does in between (session 11's fresh-user trial):
# an attach that asks for the address of an attachment whose container is gone removes that
# dead record first (as gc would) instead of adding a second row; a misspelt --parent or
# --uplink on an attached target is "does not exist", not a spec that "differs".
# The lab's host has the plain uplink em1 (198.51.100.76/24, default via .254).

load helpers

X=198.51.100.121

rows() { lj list --json | jq length; }

@test "records: a dead routed attachment's address taken by a macvlan attach: its record goes first, one row, one detach" {
  take_snapshots
  add_container old
  run lj attach routed "netns:${LAB_PREFIX}old" --parent em1 --ip $X/24
  echo "$output"
  [ "$status" -eq 0 ]
  # docker rm -f: the namespace goes, the record stays
  lab container del old
  [ "$(rows)" -eq 1 ]

  add_container new
  run lj attach macvlan "netns:${LAB_PREFIX}new" --parent em1 --ip $X/24 --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Would remove attachment netns:${LAB_PREFIX}old eth1 (routed way) first: its namespace (or container) is gone"* ]]
  [ "$(rows)" -eq 1 ]
  [ "$(lj list --json | jq -r '.[0].way')" = routed ]

  run lj attach macvlan "netns:${LAB_PREFIX}new" --parent em1 --ip $X/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}new"
  [[ $output == *"Removed attachment netns:${LAB_PREFIX}old eth1 (routed way): its namespace (or container) is gone"* ]]
  [ "$(rows)" -eq 1 ]
  [ "$(lj list --json | jq -r '.[0].way')" = macvlan ]
  [ "$(lj list --json | jq -r '.[0].target.spec')" = "netns:${LAB_PREFIX}new" ]
  run curl_from peer http://$X/hello.html
  [ "$output" = "Hello world" ]

  # one detach is all it takes; the host is as before the first attach (proxy entry, sysctls)
  run lj detach "netns:${LAB_PREFIX}new"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(rows)" -eq 0 ]
  assert_unchanged
}

@test "records: a namespace deleted and made again under the same name: the new attach replaces the dead record" {
  add_container same
  run lj attach routed "netns:${LAB_PREFIX}same" --parent em1 --ip $X/24
  [ "$status" -eq 0 ]
  lab container del same
  add_container same
  run lj attach macvlan "netns:${LAB_PREFIX}same" --parent em1 --ip $X/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}same"
  [[ $output == *"Removed attachment netns:${LAB_PREFIX}same eth1 (routed way): its namespace (or container) is gone"* ]]
  [ "$(rows)" -eq 1 ]
  [ "$(lj list --json | jq -r '.[0].way')" = macvlan ]
  run lj detach "netns:${LAB_PREFIX}same"
  [ "$status" -eq 0 ]
  [ "$(rows)" -eq 0 ]
}

@test "records: a live attachment's address is still refused (exit 2), its record kept" {
  add_container live
  add_container other
  run lj attach routed "netns:${LAB_PREFIX}live" --parent em1 --ip $X/24
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}live"
  run lj attach macvlan "netns:${LAB_PREFIX}other" --parent em1 --ip $X/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"$X is the address of netns:${LAB_PREFIX}live ('eth1')"* ]]
  [[ $output != *Removed* ]]
  [ "$(rows)" -eq 1 ]
}

@test "records: --parent or --uplink naming no link on an attached target is 'does not exist' (exit 2), not 'differs'" {
  add_container web
  run lj attach macvlan "netns:${LAB_PREFIX}web" --parent em1 --ip $X/24
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}web"
  take_snapshots web
  for dry in "" --dry-run; do
    run lj attach macvlan "netns:${LAB_PREFIX}web" --parent nosuch --ip $X/24 $dry
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"Parent 'nosuch' does not exist (--parent: no such link in lanjoin's network namespace)"* ]]
    [[ $output != *differ* ]]
  done
  run lj attach nat "netns:${LAB_PREFIX}web" --uplink nosuch --address 198.51.100.122/24
  echo "$output"
  [ "$status" -eq 2 ]
  [[ $output == *"Uplink 'nosuch' does not exist"* ]]
  # the attachment as it was
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  assert_same_state web "$BATS_TEST_TMPDIR/web.before"
  [ "$(rows)" -eq 1 ]
}
