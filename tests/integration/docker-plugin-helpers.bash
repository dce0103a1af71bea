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
#   net_rm NAME      docker network rm, idempotent (for defer)
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
net_rm() { dk network rm "$1" >/dev/null 2>&1 || true; } # idempotent, for defer

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
