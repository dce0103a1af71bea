#!/usr/bin/env bats
# lanjoin watch over a container's life (issue 18's tests): docker stop/start/rm -f, a firewall
# reload of Docker's own chains, a simulated reboot, and many containers restarted at once.
# One dockerd for the file, in the lab's host namespace; every wait is on a condition.

load helpers
load engine-helpers
load watch-helpers

setup_file() { watch_setup_file; }
teardown_file() { watch_teardown_file; }

SOCK_ARGS=()
setup() { SOCK_ARGS=(--engine-socket "$(engine_sock docker)"); }

# dk_addr NAME: the IPv4 address/prefix of lan0 (lanjoin's) in container NAME
dk_addr() { timeout 10 "$DOCKER_BIN" -H "unix://$(engine_sock docker)" exec "$1" ip -4 -o addr show dev lan0 2>/dev/null | awk '{print $4}'; }

# status_of TARGET: its status in `status --json` ("" when not listed)
status_of() { timeout 10 ip netns exec "${LAB_PREFIX}host" "$LANJOIN" status --json "${SOCK_ARGS[@]}" | jq -r --arg t "$1" '[.attachments[] | select(.target == $t) | .status] | join(",")'; }
status_is() { [[ $(status_of "$1") == "$2" ]]; }

@test "watch: docker stop -> waiting, the LAN address gone; docker start -> back; docker rm -f and a new 'web' -> attached as before" {
  require_engine docker
  engine_run docker web --network none
  run lj attach macvlan web "${SOCK_ARGS[@]}" --parent em1 --ip 198.51.100.124/24 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach web "${SOCK_ARGS[@]}"
  mac=$(dk_mac web)
  [ -n "$mac" ]
  docker_watch
  log_has "engine at $(engine_sock docker) connected"

  dk stop -t 0 web >/dev/null
  # the record is dropped, the spec kept: status says waiting (exit 0), the peer no longer
  # finds the address
  wait_for 30 status_is web waiting || {
    lj status --json "${SOCK_ARGS[@]}" || true
    cat "$WLOG"
    false
  }
  run lj status web "${SOCK_ARGS[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *web*lan0*waiting* ]]
  compgen -G "$LANJOIN_SPEC_DIR/*.json" >/dev/null
  run curl_from peer http://198.51.100.124/hello.html --max-time 1
  [ "$status" -ne 0 ]

  dk start web >/dev/null
  wait_for 60 dk_has_mac web "$mac" || {
    cat "$WLOG"
    false
  }
  [ "$(dk_addr web)" = 198.51.100.124/24 ]
  [ "$(curl_from peer http://198.51.100.124/hello.html)" = "Hello world" ]
  wait_for 30 status_is web ok

  # removed and made again under the same name: the spec names the container as the user
  # did, so the new one is attached as the old one was
  old=$CONTAINER_ID
  dk rm -f web >/dev/null
  engine_run docker web --network none
  [ "$CONTAINER_ID" != "$old" ]
  wait_for 60 dk_has_mac web "$mac" || {
    cat "$WLOG"
    false
  }
  [ "$(dk_addr web)" = 198.51.100.124/24 ]
  [ "$(curl_from peer http://198.51.100.124/hello.html)" = "Hello world" ]
  run lj status --json "${SOCK_ARGS[@]}"
  echo "$output"
  [ "$(jq '[.attachments[] | select(.target == "web")] | length' <<<"$output")" -eq 1 ]
}

# web_actions: how many actions the watch logged for web's lan0 ("web lan0: drop: ...")
web_actions() { grep -Ec '^web lan0: ' "$WLOG" || true; }
more_web_actions() { (($(web_actions) > $1)); }
detach_web_if_any() { # a deferred cleanup: the watch may have dropped it already
  lj detach web --ifname lan0 "${SOCK_ARGS[@]}" >/dev/null 2>&1 || true
}

@test "watch: a non-persistent attachment ends with its container's run: docker restart and docker stop/start drop it, every time" {
  # The stop and the start of a restart race the watch's reconciles: the one after the die event
  # saw the container either stopped (dropped) or started again (it was attached again from its
  # record). A busy watch (here: paused while the container restarts) reads the die and the
  # start at once and always saw the latter, after `docker stop` and `docker start` too.
  # Either way the attachment ended with the container's run: without --persist, dropped.
  require_engine docker
  engine_run docker web # on Docker's default bridge, as a user's container is
  defer detach_web_if_any
  docker_watch
  log_has "engine at $(engine_sock docker) connected"
  local i before
  for i in 1 2 3 4 5 6; do
    run lj attach macvlan web "${SOCK_ARGS[@]}" --ifname lan0 --parent em1 \
      --ip "198.51.100.$((200 + i))/24" --mac "02:00:5e:00:52:0$i"
    echo "$output"
    [ "$status" -eq 0 ]
    timeout 10 "$DOCKER_BIN" -H "unix://$(engine_sock docker)" exec web ip link show lan0 >/dev/null
    before=$(web_actions)
    ((i % 2)) && kill -STOP "$WATCH_PID"
    if ((i <= 4)); then
      dk restart -t 0 web >/dev/null
    else
      dk stop -t 0 web >/dev/null
      dk start web >/dev/null
    fi
    kill -CONT "$WATCH_PID"
    # the watch's action on it (a bound, not a timing), then what it left
    wait_for 60 more_web_actions "$before" || {
      cat "$WLOG"
      false
    }
    [ "$(engine_inspect docker web .State.Running)" = true ]
    run timeout 10 "$DOCKER_BIN" -H "unix://$(engine_sock docker)" exec web ip link show lan0
    [ "$status" -ne 0 ] || {
      echo "try $i: web has lan0 again"
      cat "$WLOG"
      false
    }
    run lj status web "${SOCK_ARGS[@]}"
    echo "$output"
    [ "$status" -eq 1 ] # no attachment of web
    run curl_from peer "http://198.51.100.$((200 + i))/hello.html" --max-time 1
    [ "$status" -ne 0 ]
  done
}

@test "watch: iptables -F DOCKER-USER (Docker's firewall reloaded) -> the nat attachment's accept rule is back, no command" {
  require_engine docker
  engine_run docker fw --network none
  # dockerd made FORWARD's policy DROP and jumps to DOCKER-USER: nat accepts its traffic there
  [[ $(on host iptables -S FORWARD) == *"-P FORWARD DROP"* ]]
  run lj attach nat fw "${SOCK_ARGS[@]}" --uplink em1 --address 198.51.100.125/24 --persist
  echo "$output"
  [ "$status" -eq 0 ]
  defer lj detach fw "${SOCK_ARGS[@]}"
  [ "$(curl_from peer http://198.51.100.125/hello.html)" = "Hello world" ]
  docker_watch
  on host iptables -F DOCKER-USER
  wait_for 60 curl_from peer http://198.51.100.125/hello.html --max-time 1 || {
    on host iptables -S DOCKER-USER
    cat "$WLOG"
    false
  }
  on host iptables -S DOCKER-USER | grep -q -- '-j ACCEPT'
  wait_for 30 status_is fw ok
}

@test "watch: a simulated reboot (namespaces and /run state gone, rebuilt) -> every persistent attachment is back" {
  local n macs=()
  for n in 1 2 3; do
    add_container "rb$n"
    run lj attach macvlan "netns:${LAB_PREFIX}rb$n" --parent em1 --ip "198.51.100.$((125 + n))/24" --persist
    echo "$output"
    [ "$status" -eq 0 ]
    defer lj detach "netns:${LAB_PREFIX}rb$n"
    macs+=("$(on "rb$n" cat /sys/class/net/eth1/address)")
  done
  # the reboot: the containers and every record in /run are gone; the specs in the spec
  # directory stay; the containers come back (new namespaces, same names)
  for n in 1 2 3; do
    lab container del "rb$n"
  done
  rm -rf "${LANJOIN_STATE_DIR:?}"/*
  for n in 1 2 3; do
    lab container add "rb$n" >/dev/null
  done
  start_watch --no-engines
  for n in 1 2 3; do
    [ "$(on "rb$n" cat /sys/class/net/eth1/address)" = "${macs[n - 1]}" ]
    [ "$(curl_from peer "http://198.51.100.$((125 + n))/hello.html")" = "Hello world" ]
  done
  run lj status
  echo "$output"
  [ "$status" -eq 0 ]
}

# Containers c1..cN on the LAN at .(83+i): 16 (8 under the sanitizer) keep the suite's time;
# LJ_RESTART_MANY=64 runs the issue's 64 (about 5 minutes on 2 cores).
restart_many_n() {
  if [[ -n ${LJ_RESTART_MANY:-} ]]; then
    echo "$LJ_RESTART_MANY"
  elif grep -q __asan_init "$LANJOIN" 2>/dev/null; then
    echo 8
  else
    echo 16
  fi
}
all_back() { # N: every container has its MAC and address again
  local i
  for ((i = 1; i <= $1; i++)); do
    [[ $(dk_mac "c$i") == "${MACS[i]}" ]] || return 1
  done
}

@test "watch: many containers restarted at once -> all back, same addresses and MACs, no collision" {
  require_engine docker
  local n i
  n=$(restart_many_n)
  MACS=()
  for ((i = 1; i <= n; i++)); do
    defer engine_rm docker "c$i"
  done
  # started 8 at a time
  seq 1 "$n" | xargs -P 8 -I{} "$DOCKER_BIN" -H "unix://$(engine_sock docker)" run -d \
    --name c{} --network none "$ENGINE_IMAGE" /bin/httpd -f -p 80 -h /www >/dev/null
  for ((i = 1; i <= n; i++)); do
    run lj attach macvlan "c$i" "${SOCK_ARGS[@]}" --parent em1 --ip "198.51.100.$((83 + i))/24" --persist
    [ "$status" -eq 0 ] || {
      echo "$output"
      false
    }
    defer lj detach "c$i" "${SOCK_ARGS[@]}"
    MACS[i]=$(dk_mac "c$i")
  done
  docker_watch
  log_has "engine at $(engine_sock docker) connected"
  timeout 200 xargs -P 16 -I{} "$DOCKER_BIN" -H "unix://$(engine_sock docker)" restart -t 0 c{} >/dev/null < <(seq 1 "$n")
  wait_for 120 all_back "$n" || {
    for ((i = 1; i <= n; i++)); do
      echo "c$i: want ${MACS[i]}, has $(dk_mac "c$i")"
    done
    dk ps -a
    lj status "${SOCK_ARGS[@]}" || true
    cat "$WLOG"
    false
  }
  for ((i = 1; i <= n; i++)); do
    [ "$(dk_addr "c$i")" = "198.51.100.$((83 + i))/24" ]
    ping_from peer "198.51.100.$((83 + i))" >/dev/null
  done
  # one attachment each, every one ok, no MAC twice
  wait_for 60 lj status "${SOCK_ARGS[@]}"
  run lj status --json "${SOCK_ARGS[@]}"
  [ "$(jq '[.attachments[] | select(.target | test("^c[0-9]+$"))] | length' <<<"$output")" -eq "$n" ]
  [ "$(printf '%s\n' "${MACS[@]}" | sort -u | wc -l)" -eq "$n" ]
}
