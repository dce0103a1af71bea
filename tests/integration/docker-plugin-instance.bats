#!/usr/bin/env bats
# lanjoin docker-plugin, one instance per socket and per state directory: a second plugin is
# refused (it neither takes the first's socket nor removes it on its way out), and a plugin
# removes only the socket file it bound. No dockerd: the socket answers Plugin.Activate.

load helpers

# plug NAME SOCKET STATE: a plugin in the lab's host namespace, in the background, logging to
# $LAB_DIR/NAME.log; its PID in $LAB_DIR/NAME.pid
plug() {
  (exec setsid nsenter "--net=/run/netns/${LAB_PREFIX}host" \
    env "LANJOIN_STATE_DIR=$LANJOIN_STATE_DIR" "$LANJOIN" docker-plugin --socket "$2" \
    --state-dir "$3") </dev/null >"$LAB_DIR/$1.log" 2>&1 &
  echo $! >"$LAB_DIR/$1.pid"
  defer stop "$1"
}
pid_of() { cat "$LAB_DIR/$1.pid"; }
stop() { # NAME [SIGNAL]: stop it and wait until it is gone (idempotent)
  local p
  p=$(pid_of "$1")
  kill "-${2:-TERM}" "$p" 2>/dev/null || return 0
  wait_until 10 test ! -d "/proc/$p"
}
activate() { curl -sf --max-time 5 --unix-socket "$1" -X POST http://plugin/Plugin.Activate; }
# a second plugin run in the foreground, bounded (a plugin that takes the socket never returns)
second() { # SOCKET STATE
  timeout 10 nsenter "--net=/run/netns/${LAB_PREFIX}host" env "LANJOIN_STATE_DIR=$LANJOIN_STATE_DIR" \
    "$LANJOIN" docker-plugin --socket "$1" --state-dir "$2"
}

@test "a second plugin on the same socket or state directory is refused; the first still answers" {
  local d=$LAB_DIR/pi sock=$LAB_DIR/pi/plugins/lanjoin.sock
  mkdir -p "$d"
  plug first "$sock" "$d/state1"
  wait_until 10 activate "$sock"
  # the same socket, another state directory
  run second "$sock" "$d/state2"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"Another lanjoin docker-plugin is running (PID $(pid_of first)) on socket '$sock' (lock $sock.lock)"* ]]
  [[ $output != *listening* ]]
  # refused, it made nothing: not its state directory
  [ ! -e "$d/state2" ]
  [ -S "$sock" ]
  activate "$sock" | grep -q NetworkDriver
  # another socket, the same state directory
  run second "$d/other.sock" "$d/state1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"Another lanjoin docker-plugin is running (PID $(pid_of first)) with state directory '$d/state1'"* ]]
  [ ! -e "$d/other.sock" ]
  [ ! -e "$d/other.sock.lock" ]
  activate "$sock" | grep -q NetworkDriver
  # ... in directories not there yet: refused, it leaves none of them
  run second "$d/new/plugins/other.sock" "$d/state1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"with state directory '$d/state1'"* ]]
  [ ! -e "$d/new" ]
  [ "$(ls -A "$d")" = "$(printf '%s\n' plugins state1)" ]
  # the first, stopped, removes its socket and its locks
  stop first
  [ ! -e "$sock" ]
  [ ! -e "$sock.lock" ]
  [ ! -e "$d/state1/plugin.lock" ]
}

@test "a plugin removes only the socket file it bound; a stale one (killed -9) is replaced" {
  local d=$LAB_DIR/pj sock=$LAB_DIR/pj/lanjoin.sock
  mkdir -p "$d"
  plug first "$sock" "$d/state"
  wait_until 10 activate "$sock"
  # killed -9: its socket file and lock file stay; the next plugin replaces the socket
  stop first KILL
  [ -S "$sock" ]
  plug again "$sock" "$d/state"
  wait_until 10 activate "$sock"
  grep -q "listening on $sock" "$LAB_DIR/again.log"
  # someone put another socket file at the path: the plugin leaves it there when it stops
  mv "$sock" "$d/moved.sock"
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
  local ino
  ino=$(stat -c %i "$sock")
  stop again
  [ -S "$sock" ]
  [ "$(stat -c %i "$sock")" = "$ino" ]
  grep -q "'$sock' is no longer the socket it bound; left there" "$LAB_DIR/again.log"
  # a socket a server answers on is not taken (a server that holds no lanjoin lock)
  rm -f "$sock"
  python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); time.sleep(30)' "$sock" &
  local py=$!
  defer kill "$py"
  wait_until 5 test -S "$sock"
  ino=$(stat -c %i "$sock")
  run second "$sock" "$d/state"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"cannot listen on '$sock': a server answers on it"* ]]
  [ "$(stat -c %i "$sock")" = "$ino" ]
  # a start that fails leaves no directory it made: here a new state directory
  run second "$sock" "$d/new/state"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"cannot listen on '$sock': a server answers on it"* ]]
  [ ! -e "$d/new" ]
  [ "$(stat -c %i "$sock")" = "$ino" ]
}
