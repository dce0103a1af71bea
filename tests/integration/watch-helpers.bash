# shellcheck shell=bash
# lanjoin watch in a test: started in the lab's host namespace with the file's private state and
# spec directories, its stderr in $WLOG, stopped by the test's teardown. Loaded after helpers
# (defer, wait_until) and engine-helpers (engine_sock).

# A file's setup: the lab, a private spec directory and one dockerd in the lab's host.
watch_setup_file() {
  lab_setup_file
  LANJOIN_SPEC_DIR=$(mktemp -d /tmp/lanjoin-specs.XXXXXX)
  export LANJOIN_SPEC_DIR
  docker_start || true
}

watch_teardown_file() {
  docker_stop
  [[ ${LANJOIN_SPEC_DIR:-} == /tmp/lanjoin-specs.* ]] && rm -rf "$LANJOIN_SPEC_DIR"
  lab_teardown_file
}

# The watch's log of the current test, and its PID.
WLOG=
WATCH_PID=

# start_watch [ARGS...]: returns once the first reconcile is done (the "ready" line).
start_watch() {
  WLOG=${WLOG:-$BATS_TEST_TMPDIR/watch.log}
  : >"$WLOG"
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec ip netns exec "${LAB_PREFIX}host" "$LANJOIN" watch "$@"
  ) </dev/null >>"$WLOG" 2>&1 &
  WATCH_PID=$!
  defer stop_watch "$WATCH_PID"
  wait_until 60 grep -q '^ready' "$WLOG" || {
    cat "$WLOG"
    return 1
  }
}

stop_watch() { # PID: SIGTERM, and wait until it is gone
  kill -TERM "$1" 2>/dev/null || return 0
  wait_until 60 bash -c "! kill -0 $1 2>/dev/null"
}

# log_has REGEX: the watch logged a line matching REGEX (waits for it; a bound, not a timing)
log_has() {
  wait_until 60 grep -Eq "$1" "$WLOG" || {
    echo "--- watch log:" >&2
    cat "$WLOG" >&2
    return 1
  }
}

docker_watch() { start_watch --engine-socket "$(engine_sock docker)"; }

# The MAC of IFNAME (default lan0, lanjoin's default in a container) in Docker container NAME
# (empty while it does not run).
dk_mac() { timeout 10 "$DOCKER_BIN" -H "unix://$(engine_sock docker)" exec "$1" cat "/sys/class/net/${2:-lan0}/address" 2>/dev/null; }
dk_has_mac() { [[ $(dk_mac "$1") == "$2" ]]; }

# wait_for SECS CMD...: CMD succeeds within SECS seconds of wall time (wait_until counts tries,
# which is too long a bound when each try is a slow `docker exec`)
wait_for() {
  local end=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= end)); then
      echo "timed out waiting for: $*" >&2
      return 1
    fi
    sleep 0.2
  done
}

# --- nat --to a Docker container's address (watch.bats, nat-engine.bats) --------------------

ljd() { lj "$@" --engine-socket "$(engine_sock docker)"; }
# Container NAME answers /who.html with its name (every container answers /hello.html alike),
# which the peer gets through the nat address 198.51.100.119.
who_is() { dk exec "$1" sh -c "echo $1 >/www/who.html"; }
who_url=http://198.51.100.119/who.html
peer_gets() { [[ $(curl_from peer "$who_url") == "$1" ]]; }
# The host's nat table forwards to ADDR (dnat to ADDR), and to no other container address.
nat_to_only() {
  local t
  t=$(on host nft list table ip lanjoin) || return
  [[ $t == *"dnat to $1"* ]] && [[ $(grep -o 'dnat to [0-9.]*' <<<"$t" | sort -u) == "dnat to $1" ]]
}
