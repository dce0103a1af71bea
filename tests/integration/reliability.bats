#!/usr/bin/env bats
# Reliability (issue 10), bridge way: many attaches at once, kill -9 at any point, a failing
# undo; hostile state directories and record files; the environment of exec'd helpers.

load helpers

setup_file() { lab_setup_file --bridge-host; }

N=64
# addresses .85-.148: free in the lab (.10 peer, .76 host, .150-.199 DHCP), as the ARP probe checks

make_namespaces() {
  local i
  for ((i = 1; i <= N; i++)); do
    ip netns add "${LAB_PREFIX}k$i"
    defer ip netns del "${LAB_PREFIX}k$i"
  done
}

@test "reliability: $N attaches at the same instant, then $N detaches at once" {
  make_namespaces
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local i pids=() rc=0
  for ((i = 1; i <= N; i++)); do
    lj attach bridge "netns:${LAB_PREFIX}k$i" --bridge br-em1 --ip "198.51.100.$((i + 84))/24" \
      >"$BATS_TEST_TMPDIR/a$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || { rc=1; cat "$BATS_TEST_TMPDIR/a$((i + 1)).log"; }; done
  [ "$rc" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" gc

  # every attachment is there, with its own host link and its own address
  run lj list --json
  [ "$(jq length <<<"$output")" -eq "$N" ]
  [ "$(jq -r '.[].host_ifname' <<<"$output" | sort -u | wc -l)" -eq "$N" ]
  [ "$(on host ip -o link show master br-em1 | grep -c ' ljv')" -eq "$N" ]
  for i in 1 17 33 64; do
    [[ $(ip -n "${LAB_PREFIX}k$i" -o addr show dev eth1) == *"198.51.100.$((i + 84))/24"* ]]
  done
  ping_from peer 198.51.100.148

  # list and gc racing with detaches must not disturb them
  pids=()
  for ((i = 1; i <= N; i++)); do
    lj detach "netns:${LAB_PREFIX}k$i" >"$BATS_TEST_TMPDIR/d$i.log" 2>&1 &
    pids+=($!)
    if ((i % 16 == 0)); then
      lj list >/dev/null &
      pids+=($!)
      lj gc >/dev/null &
      pids+=($!)
    fi
  done
  rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  [ "$rc" -eq 0 ]
  [ "$(lj list --json | jq length)" -eq 0 ]
  [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "reliability: kill -9 during attach, then gc/detach bring back the exact previous state" {
  ip netns add "${LAB_PREFIX}kc"
  defer ip netns del "${LAB_PREFIX}kc"
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  snapshot kc >"$BATS_TEST_TMPDIR/kc.before"
  local ms
  # with 100 ms between steps, kill at points spread over the 7-step plan
  for ms in 20 130 240 350 460 570 680 790; do
    LANJOIN_STEP_DELAY_MS=100 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
      "netns:${LAB_PREFIX}kc" --bridge br-lj7 --create-bridge --ip 198.51.100.200/24 --ip 2001:db8:1::200/64 \
      --gateway 198.51.100.254 >/dev/null 2>&1 &
    local pid=$!
    sleep "0.$(printf %03d "$ms")"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # a record exists for whatever was started: nothing is orphaned untracked
    if on host ip link show br-lj7 >/dev/null 2>&1; then
      [ -n "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
    fi
    run lj gc
    [ "$status" -eq 0 ]
    run lj detach "netns:${LAB_PREFIX}kc"
    [ "$status" -eq 0 ]
    [ -z "$(ls -A "$LANJOIN_STATE_DIR/attachments")" ]
    assert_same_state host "$BATS_TEST_TMPDIR/host.before"
    assert_same_state kc "$BATS_TEST_TMPDIR/kc.before"
  done
}

@test "reliability: an interrupted attach is cleaned up by re-running the same attach" {
  add_container rr
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  LANJOIN_STEP_DELAY_MS=200 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "netns:${LAB_PREFIX}rr" --bridge br-em1 --ip 198.51.100.201/24 >/dev/null 2>&1 &
  local pid=$!
  sleep 0.5
  kill -9 "$pid"
  wait "$pid" || true
  run lj list
  [[ $output == *"interrupted"* ]]
  run lj attach bridge "netns:${LAB_PREFIX}rr" --bridge br-em1 --ip 198.51.100.201/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}rr"
  run curl_from peer http://198.51.100.201/hello.html
  [ "$output" = "Hello world" ]
  lj detach "netns:${LAB_PREFIX}rr"
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "reliability: a failing undo still lets the rest of the rollback run, and says what is left" {
  add_container uf
  run env LANJOIN_FAULT_STEP=4 LANJOIN_FAULT_UNDO=1 ip netns exec "${LAB_PREFIX}host" \
    "$LANJOIN" attach bridge "netns:${LAB_PREFIX}uf" --bridge br-lj8 --create-bridge --ip 198.51.100.202/24
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"Could not undo: create bridge 'br-lj8'"* ]]
  [[ $output != *"nothing was left behind"* ]]
  # the veth (step 2) was undone despite the failed bridge undo (step 1)
  ! on host ip -o link show | grep -q " ljv" || false
  # the record is kept, so detach can finish the job
  run lj detach "netns:${LAB_PREFIX}uf"
  [ "$status" -eq 0 ]
  ! on host ip link show br-lj8 || false
}

@test "reliability: hostile state files are refused, never followed" {
  mkdir -p "$LANJOIN_STATE_DIR/attachments"
  echo '{"format":"lanjoin-attach' >"$LANJOIN_STATE_DIR/attachments/aaaaaaaaaaaa.json"
  ln -s /etc/passwd "$LANJOIN_STATE_DIR/attachments/bbbbbbbbbbbb.json"
  defer rm -f "$LANJOIN_STATE_DIR/attachments/aaaaaaaaaaaa.json" "$LANJOIN_STATE_DIR/attachments/bbbbbbbbbbbb.json"
  run lj list
  [ "$status" -eq 1 ] # it needs someone's attention (status.bats has the details)
  [[ $output == *"2 files"*"could not be read"*"aaaaaaaaaaaa.json (truncated), bbbbbbbbbbbb.json (a symlink)"* ]]
  run lj gc
  [ "$status" -eq 0 ]
  # detach cannot tell whether an unreadable record was this target's: it says so
  run lj detach "netns:${LAB_PREFIX}nothere"
  [ "$status" -eq 1 ]
  [[ $output == *"could not be read"* ]]
  [ "$(stat -c %a "$LANJOIN_STATE_DIR")" = 700 ]
  # a world-writable state directory is refused
  chmod 0777 "$LANJOIN_STATE_DIR"
  defer chmod 0700 "$LANJOIN_STATE_DIR"
  add_container hs
  run lj attach bridge "netns:${LAB_PREFIX}hs" --bridge br-em1 --ip 198.51.100.203/24
  [ "$status" -eq 1 ]
  [[ $output == *"owned by root and writable by no one else"* ]]
  [ -z "$(on hs ip -o link show eth1 2>/dev/null)" ]
}

@test "reliability: an unsafe state directory is refused by every command, never followed" {
  add_container hd
  local real=$BATS_TEST_TMPDIR/real victim=$BATS_TEST_TMPDIR/victim d cmd
  mkdir -m 0700 "$real"
  echo "do not touch" >"$victim"
  # a symlinked state directory; one owned by another user; a symlinked attachments
  # directory; a world-writable one; a lock that is a symlink
  ln -s "$real" "$BATS_TEST_TMPDIR/link"
  mkdir -m 0700 "$BATS_TEST_TMPDIR/foreign" && chown 65534 "$BATS_TEST_TMPDIR/foreign"
  mkdir -m 0700 -p "$BATS_TEST_TMPDIR/attlink" && ln -s "$real" "$BATS_TEST_TMPDIR/attlink/attachments"
  mkdir -m 0777 "$BATS_TEST_TMPDIR/open" && chmod 0777 "$BATS_TEST_TMPDIR/open"
  mkdir -m 0700 "$BATS_TEST_TMPDIR/locklink" && ln -s "$victim" "$BATS_TEST_TMPDIR/locklink/lock"
  for d in link foreign attlink open locklink; do
    for cmd in "attach bridge netns:${LAB_PREFIX}hd --bridge br-em1 --ip 198.51.100.204/24" \
      "detach netns:${LAB_PREFIX}hd" "gc" "list" "shim add em1 --ip 198.51.100.205/24"; do
      # shellcheck disable=SC2086
      LANJOIN_STATE_DIR=$BATS_TEST_TMPDIR/$d run lj $cmd
      echo "$d: lanjoin $cmd -> $status: $output"
      [ "$status" -eq 1 ]
      if [[ $d == locklink ]]; then
        [[ $output == *"Too many levels of symbolic links"* ]]
      else
        [[ $output == *"must be real directories (not symlinks) owned by root and writable by no one else"* ]]
      fi
    done
  done
  [ -z "$(ls -A "$real")" ]
  [ "$(cat "$victim")" = "do not touch" ]
  [ -z "$(on hd ip -o link show eth1 2>/dev/null)" ]

  # a state directory lanjoin creates (gc does; list, a reader, creates none) is 0700 and
  # root's whatever the umask; so is its content
  d=$BATS_TEST_TMPDIR/fresh
  (umask 000 && LANJOIN_STATE_DIR=$d lj list >/dev/null)
  [ ! -e "$d" ]
  (umask 000 && LANJOIN_STATE_DIR=$d lj gc >/dev/null)
  [ "$(stat -c '%a %u' "$d" "$d/attachments" "$d/lock")" = "700 0
700 0
600 0" ]
}

@test "reliability: a state directory under an unsafe parent is refused by every command, never created" {
  add_container hp
  local t=$BATS_TEST_TMPDIR d cmd
  # a parent writable by others (not sticky); one writable by its group; one owned by another
  # user; a symlinked parent; a sticky world-writable parent not owned by root; a '..' step
  mkdir -m 0777 "$t/open" && chmod 0777 "$t/open" && mkdir -m 0755 "$t/open/a"
  mkdir -m 0775 "$t/group" && chmod 0775 "$t/group"
  mkdir -m 0755 "$t/foreign" && chown 65534 "$t/foreign"
  mkdir -m 0755 "$t/real" && ln -s "$t/real" "$t/link"
  mkdir "$t/sticky" && chown 65534 "$t/sticky" && chmod 1777 "$t/sticky"
  mkdir -m 0755 "$t/up"
  for d in open/a/state group/state foreign/state link/state sticky/state up/../real/state; do
    for cmd in "attach bridge netns:${LAB_PREFIX}hp --bridge br-em1 --ip 198.51.100.207/24" \
      "detach netns:${LAB_PREFIX}hp" "gc" "list" "shim add em1 --ip 198.51.100.205/24"; do
      # shellcheck disable=SC2086
      LANJOIN_STATE_DIR=$t/$d run lj $cmd
      echo "$d: lanjoin $cmd -> $status: $output"
      [ "$status" -eq 1 ]
      [[ $output == *"$t/$d"*"every directory above it must be a real directory (not a symlink), owned by root, and not writable by group or others unless sticky and root's (like /tmp)"* ]]
    done
  done
  [ -z "$(find "$t/real" "$t/open/a" "$t/group" "$t/foreign" "$t/sticky" -mindepth 1)" ]
  [ -z "$(on hp ip -o link show eth1 2>/dev/null)" ]

  # accepted: a root-owned sticky world-writable parent (like /tmp, where the suite's own state
  # directories are), doubled slashes, and parents that are 0755 root's
  mkdir -m 1777 "$t/tmplike" && chmod 1777 "$t/tmplike"
  for d in "$t/tmplike/state" "$t//real/x/" "$LANJOIN_STATE_DIR"; do
    [[ $d == */x/ ]] && mkdir -m 0700 "$t/real/x"
    LANJOIN_STATE_DIR=$d run lj list
    echo "$d: list -> $status: $output"
    [ "$status" -eq 0 ]
    LANJOIN_STATE_DIR=$d run lj gc
    echo "$d: gc -> $status: $output"
    [ "$status" -eq 0 ]
  done
  [ "$(stat -c '%a %u' "$t/tmplike/state")" = "700 0" ]
}

@test "reliability: a FIFO where a recorded netns path was does not block detach or gc" {
  local cmd fifo=/run/netns/${LAB_PREFIX}hf
  # the FIFO only in a /run/netns of the test's own: in the machine's, any `ip netns list` (of
  # another test file, of anyone) would block on it
  netns_view host
  for cmd in "detach netns:${LAB_PREFIX}hf" gc; do
    add_container hf
    take_snapshots
    run lj attach bridge "netns:${LAB_PREFIX}hf" --bridge br-em1 --ip 198.51.100.208/24
    [ "$status" -eq 0 ]
    # the namespace goes; a FIFO takes its name: opening it for reading would wait for a writer
    lab container del hf
    in_view mkfifo -m 0600 "$fifo"
    defer in_view rm -f "$fifo"
    # shellcheck disable=SC2086
    run in_view timeout 60 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" $cmd
    echo "lanjoin $cmd -> $status: $output"
    [ "$status" -eq 0 ]
    [ "$(lj list --json | jq length)" -eq 0 ]
    in_view test -p "$fifo" # left alone
    [ ! -e "$fifo" ]        # and never in the machine's /run/netns
    in_view rm -f "$fifo"
    assert_unchanged
  done
}

@test "reliability: foreign, truncated and special record files are refused with a clear error and left alone" {
  add_container hr
  local a=$LANJOIN_STATE_DIR/attachments f id victim=$BATS_TEST_TMPDIR/victim
  echo "do not touch" >"$victim"
  run lj attach bridge "netns:${LAB_PREFIX}hr" --bridge br-em1 --ip 198.51.100.206/24
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}hr"
  f=$(ls "$a"/*.json)
  id=$(basename "$f" .json)
  cp -p "$f" "$BATS_TEST_TMPDIR/record"
  defer cp -p "$BATS_TEST_TMPDIR/record" "$f"

  # truncated: attach refuses to guess, detach and gc leave it alone and say so
  head -c 200 "$BATS_TEST_TMPDIR/record" >"$f"
  run lj attach bridge "netns:${LAB_PREFIX}hr" --bridge br-em1 --ip 198.51.100.206/24
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"Failed to read the state record $f: it is malformed or not lanjoin's"* ]]
  run lj detach "netns:${LAB_PREFIX}hr"
  echo "$output"
  [[ $output == *"warning: 1 file in $LANJOIN_STATE_DIR/attachments could not be read"*"left alone"* ]]
  run lj gc
  [[ $output == *"warning: 1 file"*"left alone"* ]]
  [ "$(head -c 200 "$BATS_TEST_TMPDIR/record")" = "$(cat "$f")" ]

  # a whole, valid record that is not root's
  cp -p "$BATS_TEST_TMPDIR/record" "$f"
  chown 65534 "$f"
  run lj list
  [ "$status" -eq 1 ]
  [[ $output == *"1 file in $LANJOIN_STATE_DIR/attachments could not be read"*"$id.json (owned by another user)"* ]]
  run lj attach bridge "netns:${LAB_PREFIX}hr" --bridge br-em1 --ip 198.51.100.206/24
  [ "$status" -eq 1 ]
  [[ $output == *"malformed or not lanjoin's"* ]]
  on hr ip link show eth1 # untouched
  chown 0 "$f"

  # a FIFO in its place (list must not block on it) and a symlink to a file elsewhere
  mv "$f" "$BATS_TEST_TMPDIR/record.live"
  mkfifo "$f"
  run timeout 5 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" list
  [ "$status" -eq 1 ] # named, not blocked on
  [[ $output == *"1 file"*"could not be read"*"$id.json (not a regular file)"* ]]
  rm "$f"
  ln -s "$victim" "$f"
  run lj gc
  [[ $output == *"warning: 1 file"* ]]
  [ "$(cat "$victim")" = "do not touch" ]
  rm "$f"
  mv "$BATS_TEST_TMPDIR/record.live" "$f"

  # a symlink where the record's temporary file goes: the write is refused, nothing followed
  # (the first save links the record in without that name, O_TMPFILE: the commit's write is
  # the one refused, and the attach rolls back)
  run lj detach "netns:${LAB_PREFIX}hr"
  [ "$status" -eq 0 ]
  ln -s "$victim" "$a/.$id.tmp"
  defer rm -f "$a/.$id.tmp"
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  run lj attach bridge "netns:${LAB_PREFIX}hr" --bridge br-em1 --ip 198.51.100.206/24
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"the state record: Too many levels of symbolic links"* ]]
  [ "$(cat "$victim")" = "do not touch" ]
  [ -z "$(on hr ip -o link show eth1 2>/dev/null)" ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

# the environment of process $1, sorted, one variable a line
environ_of() { tr '\0' '\n' <"/proc/$1/environ" | sort; }

@test "reliability: helpers get a minimal fixed environment, whatever lanjoin's is (DHCP client); OVS needs none" {
  add_container he
  local poison=(LD_PRELOAD=/nonexistent/evil.so "PATH=$BATS_TEST_TMPDIR/evil:$PATH"
    BASH_ENV=/nonexistent/evil IFS=x LANJOIN_EVIL=1 OVS_DBDIR=/nonexistent)
  run env "${poison[@]}" ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge \
    "netns:${LAB_PREFIX}he" --bridge br-em1 --dhcp
  echo "$output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}he"
  local sup client
  sup=$(lj list --json | jq -r '.[0].info.dhcp.pid')
  client=$(cat /proc/"$sup"/task/*/children | tr ' ' '\n' | grep . | head -1)
  [ -n "$client" ]
  run environ_of "$sup"
  echo "supervisor: $output"
  [ "$output" = "LANJOIN_STATE_DIR=$LANJOIN_STATE_DIR
PATH=/usr/sbin:/usr/bin:/sbin:/bin" ]
  run environ_of "$client"
  echo "client: $output"
  local sock
  sock=$(ls "$LANJOIN_STATE_DIR"/dhcp/*.sock)
  [ "$output" = "LANJOIN_DHCP_HOOK=udhcpc
LANJOIN_DHCP_IFNAME=eth1
LANJOIN_DHCP_NOTIFY=$sock
PATH=/usr/sbin:/usr/bin:/sbin:/bin" ]

  # Open vSwitch: lanjoin speaks OVSDB itself and starts no ovs-vsctl (a stand-in would log it)
  "$LAB" ovs start
  defer "$LAB" ovs stop
  eval "$("$LAB" ovs env)"
  local wrap=$BATS_TEST_TMPDIR/vsctl envlog=$BATS_TEST_TMPDIR/vsctl.env
  printf '#!/bin/sh\ntr "\\0" "\\n" </proc/$$/environ | sort >>%s\nexec %s "$@"\n' "$envlog" \
    "$(command -v ovs-vsctl)" >"$wrap"
  chmod 0755 "$wrap"
  add_container ho
  run env "${poison[@]}" LANJOIN_OVS_VSCTL="$wrap" ip netns exec "${LAB_PREFIX}host" \
    "$LANJOIN" attach ovs "netns:${LAB_PREFIX}ho" --bridge br-env --create-bridge --ovsdb "$LAB_OVSDB" \
    --ip 198.51.100.207/24
  echo "$output"
  [ "$status" -eq 0 ]
  run env LANJOIN_OVS_VSCTL="$wrap" ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach \
    "netns:${LAB_PREFIX}ho"
  [ "$status" -eq 0 ]
  [ ! -e "$envlog" ]
}
