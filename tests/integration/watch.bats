#!/usr/bin/env bats
# lanjoin watch (issue 18, item 4): the supervisor. It runs in the lab's host namespace with
# this file's private state directory, against a real dockerd started there once for the file.
# Every wait is on a condition (the watch's log, the kernel's state), never a fixed sleep.

load helpers
load engine-helpers
load watch-helpers

setup_file() { watch_setup_file; }
teardown_file() { watch_teardown_file; }

@test "watch: bad usage exits 2; --help" {
  run lj watch --bogus
  [ "$status" -eq 2 ]
  [[ $output == *"Unknown option '--bogus'"* ]]
  run lj watch extra
  [ "$status" -eq 2 ]
  run lj watch --engine-socket
  [ "$status" -eq 2 ]
  run lj watch --engine-socket relative.sock
  [ "$status" -eq 2 ]
  run lj watch --no-engines --engine-socket /x.sock
  [ "$status" -eq 2 ]
  run lj watch --help
  [ "$status" -eq 0 ]
  [[ $output == *"Usage: lanjoin watch"* ]]
}

@test "watch: one at a time; SIGTERM ends it with exit 0 and leaves nothing" {
  start_watch --no-engines
  run lj watch --no-engines
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"Another lanjoin watch is running (PID $WATCH_PID)"* ]]
  [ -e "$LANJOIN_STATE_DIR/watch.lock" ]
  kill -TERM "$WATCH_PID"
  rc=0
  wait "$WATCH_PID" || rc=$?
  [ "$rc" -eq 0 ]
  grep -q 'Terminated: stopping' "$WLOG"
  [ ! -e "$LANJOIN_STATE_DIR/watch.lock" ]
  # a new one starts at once
  start_watch --no-engines
  kill -INT "$WATCH_PID"
  rc=0
  wait "$WATCH_PID" || rc=$?
  [ "$rc" -eq 0 ]
  grep -q 'Interrupt: stopping' "$WLOG"
}

@test "watch: the parent's carrier comes back -> the container's address is announced again" {
  add_container c
  # without the ARP probe the kernel made the first announcement; watch sends the next itself
  run lj attach macvlan "netns:${LAB_PREFIX}c" --parent em1 --ip 198.51.100.117/24 --no-conflict-check
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}c"
  mac=$(on c cat /sys/class/net/eth1/address)
  start_watch --no-engines
  # the peer holds a stale entry for .117 pointing elsewhere
  on peer ip neigh replace 198.51.100.117 lladdr 02:00:5e:00:00:99 dev eth0 nud stale
  defer on peer ip neigh del 198.51.100.117 dev eth0
  on host ip link set em1 down
  log_has "link em1 went down: 1 attachment on it wait"
  on host ip link set em1 up
  log_has "link em1 came up: reconcile netns:${LAB_PREFIX}c"
  log_has "carrier on em1 is back: announced netns:${LAB_PREFIX}c eth1 again"
  wait_until 30 bash -c "ip -n ${LAB_PREFIX}peer neigh show 198.51.100.117 dev eth0 | grep -q '$mac'"
  # three more flaps: the child each announcement leaves to close its packet socket is
  # reaped by the watch, not kept as a zombie (it lives on; init never sees them)
  for i in 2 3 4; do
    on host ip link set em1 down
    on host ip link set em1 up
    wait_until 60 bash -c "(( \$(grep -c 'carrier on em1 is back: announced' '$WLOG') >= $i ))"
  done
  ps --ppid "$WATCH_PID" -o pid=,stat= || true # none at all is fine too
  # the last round's child may not have been reaped yet
  [ "$(ps --ppid "$WATCH_PID" -o stat= | grep -c '^Z')" -le 1 ]
}

@test "watch: nft flush ruleset (a firewall reload) -> the nat attachment works again, no command" {
  add_container n
  run lj attach nat "netns:${LAB_PREFIX}n" --uplink em1 --address 198.51.100.118/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}n"
  start_watch --no-engines
  on host nft flush ruleset
  log_has "nftables: table lanjoin lost something \\(nft, pid [0-9]+\\): reconcile netns:${LAB_PREFIX}n"
  # the reconcile repaired it: the table is back, the peer reaches the container again
  wait_until 60 lj status "netns:${LAB_PREFIX}n"
  on host nft list table ip lanjoin >/dev/null
  [ "$(curl_from peer http://198.51.100.118/hello.html)" = "Hello world" ]
  # its own repair (pid of the watch) is not taken for news: no second reconcile
  [ "$(grep -c 'lost something' "$WLOG")" -eq 1 ]
}

@test "watch: a netns:NAME target deleted and made again under its name -> attached again (same address and MAC), one record, no command" {
  add_container nr
  local t="netns:${LAB_PREFIX}nr" mac
  run lj attach macvlan "$t" --parent em1 --ip 198.51.100.131/24 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "$t"
  mac=$(on nr cat /sys/class/net/eth1/address)
  answers() { [ "$(curl_from peer http://198.51.100.131/hello.html --max-time 1)" = "Hello world" ]; }
  records() { ls "$LANJOIN_STATE_DIR/attachments" | grep -c '\.json$'; }
  start_watch --no-engines
  # deleted (`ip netns del`): no link of the host's goes with a macvlan; the unmount says it
  lab container del nr
  wait_until 60 bash -c "! ls '$LANJOIN_STATE_DIR/attachments' | grep -q json"
  log_has "^$t: its namespace is gone: reconcile $t"
  # made again (`ip netns add`, then the bind mount): the persistent spec attaches it
  lab container add nr >/dev/null
  wait_until 60 answers
  [ "$(on nr cat /sys/class/net/eth1/address)" = "$mac" ]
  [ "$(records)" -eq 1 ]
  log_has "^$t: its namespace is there: reconcile $t"
  # deleted and made again at once: whether the watch sees both or only the new namespace,
  # it ends attached as asked, once
  lab container del nr
  lab container add nr >/dev/null
  wait_until 60 answers
  [ "$(on nr cat /sys/class/net/eth1/address)" = "$mac" ]
  wait_until 60 lj status "$t"
  [ "$(records)" -eq 1 ]
  # one reconcile per namespace change seen (gone, there, or new): none for the mounts of
  # the attaches themselves or anything else
  cat "$WLOG"
  [ "$(grep -c "^$t: .*: reconcile $t" "$WLOG")" -le 4 ]
}

@test "watch: follows the engine's events; dockerd stopped and started again -> reconnects" {
  require_engine docker
  engine_run docker web --network none
  run lj attach macvlan web --engine-socket "$(engine_sock docker)" --parent em1 \
    --ip 198.51.100.119/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach web --engine-socket "$(engine_sock docker)"
  docker_watch
  log_has "engine at $(engine_sock docker) connected"
  dk kill web >/dev/null
  log_has "container die ${CONTAINER_ID:0:12} \\(web\\): reconcile web"
  # the daemon goes away and comes back: the stream is opened again, all is reconciled
  local d
  d=$(_engine_dir docker)
  kill -TERM "$(cat "$d/docker.pid")"
  log_has "closed its event stream"
  docker_start
  log_has "engine at $(engine_sock docker) is back: reconcile all"
}


@test "watch: docker restart web -> back on the LAN with the same address and MAC, no command" {
  require_engine docker
  engine_run docker web --network none
  run lj attach macvlan web --engine-socket "$(engine_sock docker)" --parent em1 \
    --ip 198.51.100.121/24 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach web --engine-socket "$(engine_sock docker)"
  mac=$(dk_mac web)
  [ -n "$mac" ]
  docker_watch
  log_has "engine at $(engine_sock docker) connected"
  dk restart -t 0 web >/dev/null
  log_has "container (die|start) ${CONTAINER_ID:0:12} \\(web\\): reconcile web"
  wait_for 60 dk_has_mac web "$mac" || {
    cat "$WLOG"
    false
  }
  [ "$(dk exec web ip -4 -o addr show dev lan0 | awk '{print $4}')" = 198.51.100.121/24 ]
  [ "$(curl_from peer http://198.51.100.121/hello.html)" = "Hello world" ]
  run lj status web --engine-socket "$(engine_sock docker)"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "watch: SIGKILL mid-restart, then a new watch converges (nothing duplicated)" {
  # Killed while it repaired the restarted container, the old watch leaves the old record; the
  # new watch's gc drops it (its namespace is out of reach), but the kernel frees that namespace
  # later (30-60 s under load) and until then its macvlan keeps the MAC busy on the parent: the
  # re-attach fails ("Address already in use") and is tried again with backoff until it works.
  require_engine docker
  engine_run docker web --network none
  run lj attach macvlan web --engine-socket "$(engine_sock docker)" --parent em1 \
    --ip 198.51.100.122/24 --persist
  [ "$status" -eq 0 ]
  defer lj detach web --engine-socket "$(engine_sock docker)"
  mac=$(dk_mac web)
  docker_watch
  log_has "engine at $(engine_sock docker) connected"
  dk restart -t 0 web >/dev/null
  log_has "container (die|start) ${CONTAINER_ID:0:12}"
  kill -KILL "$WATCH_PID"
  wait "$WATCH_PID" || true
  # a new watch (the old one's lock file is left: its lock went with it); the waits are
  # bounds, not timings: generous for the sanitizer build on a loaded machine
  WLOG=$BATS_TEST_TMPDIR/watch2.log
  docker_watch
  # the retries back off to about two minutes in all
  wait_until_every 1 150 dk_has_mac web "$mac" || {
    cat "$WLOG"
    false
  }
  run lj status --json
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(jq '[.attachments[] | select(.target == "web")] | length' <<<"$output")" -eq 1 ]
  [ "$(curl_from peer http://198.51.100.122/hello.html)" = "Hello world" ]
}

@test "watch: a detach killed part-way (persistent) ends detached: no link, no record, no spec; not attached again" {
  add_container dk
  local t="netns:${LAB_PREFIX}dk" pid
  run lj attach bridge "$t" --bridge br-wdk --create-bridge --ip 198.51.100.133/24 --gateway 198.51.100.254 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "$t"
  specs() { find "$LANJOIN_SPEC_DIR" -name '*.json' | wc -l; }
  [ "$(specs)" -eq 1 ]
  start_watch --no-engines
  LANJOIN_STEP_DELAY_MS=500 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "$t" >/dev/null 2>&1 &
  pid=$!
  # killed part-way: after its first undo (the default route), before the link goes
  wait_until 30 bash -c "! ip netns exec '${LAB_PREFIX}dk' ip route show default | grep -q ."
  kill -9 "$pid"
  wait "$pid" || true
  on dk ip link show eth1
  # an event on a link it uses makes the watch reconcile it: its bridge down and up again
  ip netns exec "${LAB_PREFIX}host" ip link set br-wdk down
  ip netns exec "${LAB_PREFIX}host" ip link set br-wdk up
  # the watch finishes the detach the user asked for, rather than attaching it again
  log_has "^$t eth1: detach: finished an interrupted detach"
  wait_until 60 bash -c "! ls '$LANJOIN_STATE_DIR/attachments' | grep -q json"
  wait_until 30 bash -c "! ip netns exec '${LAB_PREFIX}dk' ip link show eth1 2>/dev/null"
  [ "$(specs)" -eq 0 ]
  ! grep -E "^$t eth1: (repair|attach)" "$WLOG" || false
  run lj list
  [[ $output != *"$t"* ]]
}

# The record of the one attachment, and whose attach it waits in ("" when none).
one_record() { ls "$LANJOIN_STATE_DIR"/attachments/*.json 2>/dev/null; }
owner_is() { [ "$(jq -r '.owner.pid // empty' "$(one_record)" 2>/dev/null)" = "$1" ]; }

# start_waiting ATTACH_ARGS...: an attach in the background that waits for a DHCP lease that
# never comes (no server on br-wq); WAITING_PID is lanjoin's PID, once its record says so.
start_waiting() {
  ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach bridge "netns:${LAB_PREFIX}wq" \
    --bridge br-wq --dhcp --dhcp-timeout 60 >"$BATS_TEST_TMPDIR/wq.out" 2>&1 3>&- &
  WAITING_PID=$!
  defer stop_pid "$WAITING_PID"
  wait_until 10 owner_is "$WAITING_PID"
}

stop_pid() { kill -TERM "$1" 2>/dev/null || return 0; wait "$1" 2>/dev/null || true; }

@test "watch: an attach that still waits is left alone, though its link has a killed attach's name; status says settling" {
  add_container wq
  on host ip link add br-wq type bridge
  defer ip -n "${LAB_PREFIX}host" link del br-wq
  on host ip link set br-wq up
  start_watch --no-engines
  # killed while it waits: its record (settling, its owner gone) and its link stay behind
  start_waiting
  kill -KILL "$WAITING_PID"
  wait "$WAITING_PID" || true
  # a new attach undoes them and makes its link again, under the same (hashed) name
  start_waiting
  host_if=$(jq -r .host_ifname "$(one_record)")
  ifindex=$(on host cat "/sys/class/net/$host_if/ifindex")
  # whatever the watch made of those link events is done once a later round is
  kill -HUP "$WATCH_PID"
  log_has "reconcile all: done"
  kill -0 "$WAITING_PID"
  owner_is "$WAITING_PID"
  [ "$(jq -r .status "$(one_record)")" = settling ]
  [ "$(on host cat "/sys/class/net/$host_if/ifindex")" = "$ifindex" ]
  run lj status
  echo "$output"
  [ "$status" -eq 3 ] # not ready yet, nothing wrong
  [[ $output == *"netns:${LAB_PREFIX}wq"*settling*"PID $WAITING_PID"* ]]
  [[ $output == *"1 attachment still settling"* ]]
  [ "$(lj status --json | jq -c '[.ok, .settling]')" = '[true,1]' ]
  run lj reconcile
  echo "$output"
  [ "$status" -eq 0 ]
  owner_is "$WAITING_PID"
  [ "$(on host cat "/sys/class/net/$host_if/ifindex")" = "$ifindex" ]
  # its own attach ends it: interrupted, it rolls back
  kill -TERM "$WAITING_PID"
  rc=0
  wait "$WAITING_PID" || rc=$?
  cat "$BATS_TEST_TMPDIR/wq.out"
  [ "$rc" -eq 1 ]
  [ -z "$(one_record)" ]
}

@test "watch: a new attachment on a bridge announces the others on it no more; the uplink's carrier back does" {
  defer lj uplink release br-em1
  for i in 1 2 3; do
    add_container "an$i"
  done
  for i in 1 2; do
    run lj attach bridge "netns:${LAB_PREFIX}an$i" --bridge br-em1 --uplink em1 --ip "198.51.100.14$i/24"
    echo "$output"
    [ "$status" -eq 0 ]
    defer lj detach "netns:${LAB_PREFIX}an$i"
  done
  start_watch --no-engines
  peer_takes_announcements
  run lj attach bridge "netns:${LAB_PREFIX}an3" --bridge br-em1 --ip 198.51.100.143/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach "netns:${LAB_PREFIX}an3"
  kill -HUP "$WATCH_PID"
  log_has "reconcile all: done"
  # no carrier came back: the peer heard no announcement of the other two
  ip -n "${LAB_PREFIX}peer" neigh show dev eth0
  [ -z "$(ip -n "${LAB_PREFIX}peer" neigh show 198.51.100.141 dev eth0 | grep lladdr)" ]
  [ -z "$(ip -n "${LAB_PREFIX}peer" neigh show 198.51.100.142 dev eth0 | grep lladdr)" ]
  # the uplink's carrier back is: every attachment on its bridge is announced
  on host ip link set em1 down
  on host ip link set em1 up
  peer_learned 198.51.100.141 "$(on an1 cat /sys/class/net/eth1/address)"
  peer_learned 198.51.100.142 "$(on an2 cat /sys/class/net/eth1/address)"
}

# --- nat --to a container's Docker address that Docker gives to another container ------------


@test "status: nat with --to from Docker, the container removed and its address given to another: target-gone says the rules still forward there; reconcile removes them" {
  require_engine docker
  engine_run docker web
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24
  echo "$output"
  [ "$status" -eq 0 ]
  defer ljd detach web
  old=$(engine_inspect docker web .NetworkSettings.Networks.bridge.IPAddress)
  nat_to_only "$old"
  engine_rm docker web
  engine_run docker other
  [ "$(engine_inspect docker other .NetworkSettings.Networks.bridge.IPAddress)" = "$old" ]
  who_is other
  engine_run docker web
  run ljd status web
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *target-gone*"its NAT rules still forward 198.51.100.119/24 to $old"* ]]
  run ljd reconcile web
  echo "$output"
  [[ $output == *"drop: host side removed"* ]]
  # nothing forwards the LAN address to the other container any more
  ! on host nft list table ip lanjoin 2>/dev/null | grep -q "dnat to $old" || false
  ! curl_from peer "$who_url" || false
}

@test "watch: nat --persist, --to from Docker: network disconnect, another container takes the address, connect -> forwarded to the container's new address" {
  require_engine docker
  engine_run docker web
  who_is web
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  defer ljd detach web
  old=$(engine_inspect docker web .NetworkSettings.Networks.bridge.IPAddress)
  peer_gets web
  docker_watch
  log_has "engine at $(engine_sock docker) connected"
  dk network disconnect bridge web
  log_has "network disconnect ${CONTAINER_ID:0:12}"
  engine_run docker other3
  [ "$(engine_inspect docker other3 .NetworkSettings.Networks.bridge.IPAddress)" = "$old" ]
  who_is other3
  dk network connect bridge web
  new=$(engine_inspect docker web .NetworkSettings.Networks.bridge.IPAddress)
  [ -n "$new" ] && [ "$new" != "$old" ]
  log_has "network connect"
  wait_for 60 nat_to_only "$new" || {
    cat "$WLOG"
    on host nft list table ip lanjoin
    false
  }
  wait_for 30 peer_gets web
  run ljd status web
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "status: nat with --to from Docker: the address no longer the container's (network disconnect, connect) is drift; reconcile forwards to its new address" {
  require_engine docker
  engine_run docker web
  who_is web
  run ljd attach nat web --uplink em1 --address 198.51.100.119/24
  [ "$status" -eq 0 ]
  defer ljd detach web
  old=$(engine_inspect docker web .NetworkSettings.Networks.bridge.IPAddress)
  dk network disconnect bridge web
  engine_run docker other3
  who_is other3
  dk network connect bridge web
  new=$(engine_inspect docker web .NetworkSettings.Networks.bridge.IPAddress)
  [ "$new" != "$old" ]
  run ljd status web
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *drifted*"the forward's address $old (--to) is no longer an address of the target"* ]]
  run ljd reconcile web
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"repair"* ]]
  nat_to_only "$new"
  peer_gets web
  run ljd status web
  [ "$status" -eq 0 ]
}
