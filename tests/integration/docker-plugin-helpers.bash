# tests/integration/docker-plugin-helpers.bash — the lanjoin Docker plugin in the lab, for
# docker-plugin.bats and docker-plugin-life.bats. Load after helpers and engine-helpers.
#
#   plugin_start / plugin_stop [SIGNAL] / plugin_pid   `lanjoin docker-plugin` in the lab's host
#                    namespace on $LAB_DIR/dplugin/plugins/lanjoin.sock (state dplugin/state);
#                    a dockerd started with DOCKER_PLUGIN_DIR=$LAB_DIR/dplugin/plugins finds it
#   SOCK / call CALL [BODY]   the socket; POST a call to it (body, then the HTTP status)
#   state_empty      nothing in the plugin's state directory nor in lanjoin's records
#   ep_record EID    the attachment record (list --json) of Docker endpoint EID
#   status_of LINK   the status entry (status --json) of the record of link LINK
#   net_rm NAME      docker network rm, idempotent (for defer); a refusal that is dockerd's
#                    endpoint-count drift is got past as net_rm_checked does (said on stderr)
#   net_rm_checked NET...   docker network rm of networks whose containers the test removed,
#                    after checking that neither Docker nor lanjoin has an endpoint left; see it
#   docker_endpoints NET   the endpoints Docker lists on NET, one a line ("" if none)
#   plugin_endpoints_gone   no Docker endpoint record nor ljd/ljh link
#   plugin_endpoint_files   the plugin's endpoint files ("" if none)
#   no_leftover_networks   (setup) remove a network an earlier test left, said on the output
#   rm_quietly NAME...   docker rm -f, idempotent (for defer)
#   kill_quietly PID   SIGTERM and wait until it is gone
#   no_plugin_links / no_plugin_links_but_shim   no ljd/ljh (and ljs) link in the host namespace

plugin_start() {
  local dir=$LAB_DIR/dplugin
  mkdir -p "$dir/plugins"
  _engine_spawn "$dir/plugin.log" nsenter "--net=/run/netns/${LAB_PREFIX}host" \
    env "LANJOIN_STATE_DIR=$LANJOIN_STATE_DIR" "$LANJOIN" docker-plugin \
    --socket "$dir/plugins/lanjoin.sock" --state-dir "$dir/state"
  disown $! 2>/dev/null || true
  # answering (a plugin killed -9 leaves its socket file: the new one replaces it)
  _engine_wait 10 curl -sf --unix-socket "$dir/plugins/lanjoin.sock" -X POST http://plugin/Plugin.Activate
}

plugin_pid() { pgrep -f -- "--socket $LAB_DIR/dplugin/plugins/lanjoin.sock" || true; }

plugin_stop() { # SIGNAL
  local p
  p=$(plugin_pid)
  [[ -z $p ]] || kill "-${1:-TERM}" $p
  _engine_wait 10 test -z "$(plugin_pid)" || true
}

SOCK() { echo "$LAB_DIR/dplugin/plugins/lanjoin.sock"; }

call() { # CALL [BODY]: POST to the plugin; prints the body, then the HTTP status on a line
  curl -sS --max-time 10 --unix-socket "$(SOCK)" -X POST \
    -H 'Content-Type: application/vnd.docker.plugins.v1.2+json' \
    ${2:+--data-binary "$2"} -w '\n%{http_code}' "http://plugin/$1"
}

# Nothing in the plugin's state directory (networks/, endpoints/; its lock, plugin.lock, held
# while it runs, aside) nor in lanjoin's records.
state_empty() {
  [ -z "$(find "$LAB_DIR/dplugin/state" -type f ! -name plugin.lock)" ] &&
    [ "$(lj list --json | jq length)" -eq 0 ] &&
    [ -z "$(find "$LANJOIN_STATE_DIR" -name '*.json')" ]
}
# The attachment record of Docker endpoint $1, as list --json shows it ("" if none).
ep_record() { lj list --json | jq -c --arg e "$1" '.[] | select(.info.docker.endpoint == $e)'; }
# The status entry (JSON) of the record of link $1.
status_of() { lj status --json | jq -c --arg l "$1" '.attachments[] | select(.ifname == $l)'; }
rm_quietly() { dk rm -f "$@" >/dev/null 2>&1 || true; }

# The endpoints Docker lists on network $1 (network inspect's Containers: a container's, or
# "ep-ID" for one in no sandbox), one "KEY NAME ADDRESS" a line; "" if none.
# shellcheck disable=SC2016 # a Go template
docker_endpoints() {
  dk network inspect "$1" \
    --format '{{range $k, $v := .Containers}}{{$k}} {{$v.Name}} {{$v.IPv4Address}}{{println}}{{end}}'
}
# Nothing left of a Docker endpoint on lanjoin's side: no record of a Docker endpoint, no
# ljd/ljh link (a network's host shim, ljs, goes with its network). (The plugin's file of an
# endpoint Docker dropped without DeleteEndpoint, a dockerd killed -9, stays until its network
# is deleted or its address reused: plugin_endpoint_files.)
plugin_endpoints_gone() {
  [ "$(lj list --json | jq '[.[] | select(.info.docker)] | length')" -eq 0 ] && no_plugin_links_but_shim
}
# The plugin's endpoint files and address index entries ("" if none).
plugin_endpoint_files() {
  find "$LAB_DIR/dplugin/state/endpoints" "$LAB_DIR/dplugin/state/addresses" -type f 2>/dev/null
}
_no_docker_endpoints() { [[ -z $(docker_endpoints "$1" 2>&1) ]]; } # NET (and it exists)
_endpoints_report() { # NET...: what is left, on stderr
  local n
  for n; do echo "Docker lists on $n: $(docker_endpoints "$n" 2>&1)"; done
  echo "plugin state: $(find "$LAB_DIR/dplugin/state" -type f ! -name plugin.lock | tr '\n' ' ')"
  echo "lanjoin records: $(lj list --json | jq -c '[.[] | {ifname, status, info}]')"
  echo "plugin links: $(on host ip -o link show | grep -oE ': lj[dhs][0-9a-f]+' | tr '\n' ' ')"
  echo "plugin log (last lines):"
  grep -v '^Hello' "$LAB_DIR/dplugin/plugin.log" | tail -20
} >&2

# _net_rm_drift NET ERR: dockerd refused to remove NET with ERR. If that is its endpoint-count
# drift -- "has active endpoints" while Docker lists no endpoint on NET and lanjoin has none --
# say so, restart dockerd (which corrects the count when it starts: "Fixing inconsistent
# endpoint_cnt for network NET") and remove NET again; that must succeed. Returns 1 otherwise.
#
# The drift is dockerd 20.10's (moby/moby#42119): concurrent container removals on one network
# can leave the network's endpoint_count object in its local-kv.db above the endpoints it has;
# network rm then refuses for good, until dockerd's next start recounts them
# (cleanupLocalEndpoints).
_net_rm_drift() {
  local net=$1 err=$2 log lines
  [[ $err == *"has active endpoints"* ]] || return 1
  _no_docker_endpoints "$net" && plugin_endpoints_gone || return 1
  echo "# docker network rm $net: \"$err\" with no endpoint on it in Docker nor lanjoin:" \
    "dockerd's endpoint-count drift (moby/moby#42119); dockerd restarted to correct it" >&3
  log=$(_engine_dir docker)/dockerd.log
  lines=$(wc -l <"$log")
  docker_restart || return 1
  # dockerd says it corrected its count (the evidence that this was the drift)
  tail -n +"$((lines + 1))" "$log" | grep -F "Fixing inconsistent endpoint_cnt for network $net." >&3 || {
    echo "dockerd did not say it corrected the endpoint count of $net after its restart" >&2
    return 1
  }
  dk network rm "$net" >/dev/null
}

# net_rm_checked NET...: remove the networks NET... once the test removed every container of
# its own: first Docker lists no endpoint on them and lanjoin has no endpoint of Docker's left
# (records, ljd/ljh links; up to 10 s), else what is left is printed and it
# fails; then `docker network rm`, each network on its own. A refusal while nothing has an
# endpoint is dockerd's endpoint-count drift (_net_rm_drift): said on the test's output,
# dockerd restarted, removed again. Any other failure fails.
net_rm_checked() {
  local n err
  for n; do
    wait_until 10 _no_docker_endpoints "$n" || { _endpoints_report "$@"; return 1; }
  done
  wait_until 10 plugin_endpoints_gone || { _endpoints_report "$@"; return 1; }
  for n; do
    err=$(dk network rm "$n" 2>&1 >/dev/null) && continue
    echo "docker network rm $n: $err" >&2
    _net_rm_drift "$n" "$err" || { _endpoints_report "$n"; return 1; }
  done
}

# net_rm NET: docker network rm, idempotent, for defer (a test's end, whatever it did): a
# network dockerd's endpoint-count drift keeps is removed after a restart as net_rm_checked
# does; one that stays fails the cleanup (so the test that left it), with the reason on stderr.
net_rm() {
  local err
  dk network inspect "$1" >/dev/null 2>&1 || return 0
  err=$(dk network rm "$1" 2>&1 >/dev/null) && return 0
  _net_rm_drift "$1" "$err" && return 0
  echo "net_rm: network $1 left: $err" >&2
  return 1
}

# no_leftover_networks (a test's setup): a network an earlier test of the file left (its own
# failure, which that test reports) is removed and said on the output, so that this test does
# not fail on it ("Pool overlaps" on the lab's LAN subnet); fails, naming it, if it stays.
no_leftover_networks() {
  local n
  [[ -z $(engine_skip_reason docker) ]] || return 0
  for n in $(dk network ls --format '{{.Name}}' --filter driver=lanjoin); do
    if net_rm "$n" && ! dk network inspect "$n" >/dev/null 2>&1; then
      echo "# network $n left by an earlier test: removed" >&3
    else
      echo "network $n ($(dk network inspect "$n" --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}' 2>&1))" \
        "left by an earlier test cannot be removed; Docker lists on it: $(docker_endpoints "$n" 2>&1)" >&2
      return 1
    fi
  done
}

kill_quietly() { kill "$1" 2>/dev/null || true; _engine_wait 10 test ! -d "/proc/$1" || true; }
no_plugin_links_but_shim() { [[ -z $(on host ip -o link show | grep -E ': lj[dh][0-9a-f]') ]]; }
no_plugin_links() { [[ -z $(on host ip -o link show | grep -E ': lj[dhs][0-9a-f]') ]]; }


# A file's lab, one plugin and one private dockerd that finds it through DOCKER_PLUGIN_DIR
# (setup_file), and their end (teardown_file).
plugin_docker_setup_file() {
  lab_setup_file
  plugin_start
  export DOCKER_PLUGIN_DIR=$LAB_DIR/dplugin/plugins
  docker_start || true
}

plugin_docker_teardown_file() {
  docker_stop || true
  plugin_stop TERM
  lab_teardown_file
}
