#!/usr/bin/env bats
# detach --dry-run pastes like attach's: what it prints is what THIS detach would do, from the
# record and the kernel (the old sysctl values lanjoin kept, the rules' real handles, the nat
# table when it is the last user, ip_forward only when lanjoin turned it on). Each test:
# attach, print the detach's plan, detach for real and snapshot, attach again, paste the plan
# into a root shell (`bash -e`) in lanjoin's namespace, snapshot, and compare.

load helpers

# Rule handles and ifindexes differ between two attaches; lines sorted as dryrun.bats does.
normalise() {
  sed -E -e 's/"(ifindex|link_index|handle)": [0-9]+/"\1": N/' \
    -e 's/([0-9a-f]{2}:){5}[0-9a-f]{2}/MAC/g' -e 's/fe80::[0-9a-f:]+/fe80::X/g' | sort
}

# check_detach_paste ATTACH-ARGS...: see the file's header; then the record's own detach finds
# nothing left to undo: the lab is as before the first attach (for assert_unchanged).
check_detach_paste() {
  local t=$BATS_TEST_TMPDIR
  take_snapshots web
  lj "$@" >/dev/null
  lj detach "netns:${LAB_PREFIX}web" --dry-run >"$t/undo.sh"
  cat "$t/undo.sh"
  lj detach "netns:${LAB_PREFIX}web" >/dev/null
  snapshot host | normalise >"$t/host.real"
  snapshot web | normalise >"$t/web.real"
  lj "$@" >/dev/null
  defer detach_quietly web
  lj detach "netns:${LAB_PREFIX}web" --dry-run >"$t/undo2.sh"
  diff -u <(sed -E 's/handle [0-9]+/handle N/' "$t/undo.sh") \
    <(sed -E 's/handle [0-9]+/handle N/' "$t/undo2.sh")
  echo "# pasting the detach's plan"
  on host bash -e "$t/undo2.sh"
  snapshot host | normalise >"$t/host.paste"
  snapshot web | normalise >"$t/web.paste"
  diff -u --label "host after detach" --label "host after the pasted plan" "$t/host.real" "$t/host.paste"
  diff -u --label "web after detach" --label "web after the pasted plan" "$t/web.real" "$t/web.paste"
  ! grep -E '<|handle N|only if' "$t/undo2.sh" || false
  lj detach "netns:${LAB_PREFIX}web" >/dev/null
  assert_same_state web "$t/web.before"
}

detach_quietly() { lj detach "netns:${LAB_PREFIX}$1" >/dev/null 2>&1 || true; }

# set_forward V: net.ipv4.ip_forward in the lab's host is V for this test.
set_forward() {
  defer on host sysctl -qw "net.ipv4.ip_forward=$(on host sysctl -n net.ipv4.ip_forward)"
  on host sysctl -qw "net.ipv4.ip_forward=$1"
}

@test "detach --dry-run pastes: nat, ip_forward off before (lanjoin turns it on and off)" {
  add_container web
  set_forward 0
  check_detach_paste attach nat "netns:${LAB_PREFIX}web" --uplink em1 \
    --address 198.51.100.117/24 --publish 8080:80
  assert_unchanged
  grep -q "^sysctl -qw net.ipv4.ip_forward=0" "$BATS_TEST_TMPDIR/undo.sh"
  grep -q "^nft delete table ip lanjoin" "$BATS_TEST_TMPDIR/undo.sh"
}

@test "detach --dry-run pastes: nat behind Docker's firewall, ip_forward on already (Docker's)" {
  add_container web
  set_forward 1
  on host iptables -N DOCKER-USER
  defer on host iptables -X DOCKER-USER
  on host iptables -A FORWARD -j DOCKER-USER
  defer on host iptables -D FORWARD -j DOCKER-USER
  on host iptables -P FORWARD DROP
  defer on host iptables -P FORWARD ACCEPT
  check_detach_paste attach nat "netns:${LAB_PREFIX}web" --uplink em1 \
    --address 198.51.100.117/24 --publish 80
  assert_unchanged
  ! grep -q "^sysctl.*ip_forward" "$BATS_TEST_TMPDIR/undo.sh" || false
  grep -q "^nft delete rule ip filter DOCKER-USER handle [0-9]" "$BATS_TEST_TMPDIR/undo.sh"
  [ "$(on host sysctl -n net.ipv4.ip_forward)" = 1 ]
}

@test "detach --dry-run pastes: nat, another nat attachment keeps the table and forwarding" {
  add_container web
  add_container web2
  set_forward 0
  lj attach nat "netns:${LAB_PREFIX}web2" --uplink em1 --address 198.51.100.118/24 >/dev/null
  defer detach_quietly web2
  check_detach_paste attach nat "netns:${LAB_PREFIX}web" --uplink em1 \
    --address 198.51.100.117/24
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
  ! grep -q "^nft delete table" "$BATS_TEST_TMPDIR/undo.sh" || false
  grep -q "^# net.ipv4.ip_forward stays: other attachments need it" "$BATS_TEST_TMPDIR/undo.sh"
}

@test "detach --dry-run pastes: routed, IPv4 and IPv6" {
  add_container web
  set_forward 0
  check_detach_paste attach routed "netns:${LAB_PREFIX}web" --parent em1 \
    --ip 198.51.100.117/24 --ip 2001:db8:1::117/64
  assert_unchanged
  grep -q "^sysctl -qw net.ipv4.ip_forward=0" "$BATS_TEST_TMPDIR/undo.sh"
}
