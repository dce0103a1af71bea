#!/usr/bin/env bats
# Concurrency beyond the bridge (issue 10): 64 macvlan attaches at once sharing one host shim,
# 64 nat attaches at once drawing private subnets from the pool, 64 routed attaches on one
# uplink, and a mixed race of attach, detach, list and gc over the bridge, macvlan and nat
# ways. No torn record at any point, and the host exactly as before at the end. (The
# 64-at-once bridge case is in reliability.bats.)
# Lab: the plain one (em1 198.51.100.76/24 is the macvlan parent and the nat uplink).

load helpers

N=64
SHIM=198.51.100.141

# LAN addresses for N containers: .77-.140 (the lab uses .10, .76, .254 and DHCP .150-.199)
lan_ip() { echo "198.51.100.$((76 + $1))"; }

# make_namespaces STEM COUNT: empty namespaces ${LAB_PREFIX}STEM1.., deleted after the test
make_namespaces() {
  local i
  for ((i = 1; i <= $2; i++)); do
    ip netns add "${LAB_PREFIX}$1$i"
    defer ip netns del "${LAB_PREFIX}$1$i"
  done
}

# bg CMD...: run lanjoin CMD in the background; its PID goes to BG_PIDS, its output to a log
declare -A BG_LOG=()
BG_N=0
bg() {
  BG_N=$((BG_N + 1))
  local log=$BATS_TEST_TMPDIR/bg.$BG_N.log
  echo "lanjoin $*" >"$log"
  lj "$@" >>"$log" 2>&1 &
  BG_PIDS+=($!)
  BG_LOG[$!]=$log
}

# wait_all PID...: wait for every PID; print the logs of the ones that failed
wait_all() {
  local p rc=0
  for p in "$@"; do
    if ! wait "$p"; then
      rc=1
      cat "${BG_LOG[$p]}"
    fi
  done
  return "$rc"
}

# Every record file parses as a lanjoin record; list sees no unreadable file.
assert_records_sound() {
  local f
  for f in "$LANJOIN_STATE_DIR"/attachments/*.json; do
    [[ -e $f ]] || continue
    jq -e '.format == "lanjoin-attachment/1" and (.undo | length > 0)' "$f" >/dev/null || {
      echo "# torn or foreign record: $f" >&2
      cat "$f" >&2
      return 1
    }
  done
  run lj list
  [ "$status" -eq 0 ]
  [[ $output != *"could not be read"* ]]
}

# ping_all NODE ADDR...: one ping to each address from NODE, 16 at a time; fail if any fails
ping_all() {
  local node=$1 a rc=0
  shift
  local -a pids=()
  for a in "$@"; do
    ping_from "$node" "$a" >/dev/null 2>&1 &
    pids+=($!)
    if ((${#pids[@]} == 16)); then
      for p in "${pids[@]}"; do wait "$p" || rc=1; done
      pids=()
    fi
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return "$rc"
}

@test "concurrency: $N macvlan attaches at once share one host shim; $N detaches at once remove it" {
  make_namespaces m "$N"
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local i
  BG_PIDS=()
  for ((i = 1; i <= N; i++)); do
    bg attach macvlan "netns:${LAB_PREFIX}m$i" --parent em1 --ip "$(lan_ip "$i")/24" \
      --host-shim "$SHIM/24"
  done
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" gc
  wait_all "${BG_PIDS[@]}"
  assert_records_sound

  # one shim, one host route per container through it; the host and the peer reach them all
  run lj list --json
  [ "$(jq length <<<"$output")" -eq "$N" ]
  [ "$(jq -r '.[].info.host_shim' <<<"$output" | sort -u | wc -l)" -eq 1 ]
  local shim
  shim=$(jq -r '.[0].info.host_shim' <<<"$output")
  [ "$(on host ip -o link show type macvlan | wc -l)" -eq 1 ]
  [ "$(on host ip -4 route show dev "$shim" | wc -l)" -eq "$N" ]
  local -a addrs=()
  for ((i = 1; i <= N; i++)); do addrs+=("$(lan_ip "$i")"); done
  ping_all host "${addrs[@]}"
  ping_all peer "${addrs[@]}"

  BG_PIDS=()
  for ((i = 1; i <= N; i++)); do
    bg detach "netns:${LAB_PREFIX}m$i"
  done
  wait_all "${BG_PIDS[@]}"
  [ "$(lj list --json | jq length)" -eq 0 ]
  ! on host ip link show "$shim" || false
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "concurrency: $N nat attaches at once get distinct private subnets; each is reachable at its LAN address" {
  make_namespaces n "$N"
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local i
  BG_PIDS=()
  for ((i = 1; i <= N; i++)); do
    bg attach nat "netns:${LAB_PREFIX}n$i" --uplink em1 --address "$(lan_ip "$i")/24"
  done
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" gc
  wait_all "${BG_PIDS[@]}"
  assert_records_sound

  run lj list --json
  [ "$(jq length <<<"$output")" -eq "$N" ]
  [ "$(jq -r '.[].info.private' <<<"$output" | sort -u | wc -l)" -eq "$N" ]
  [ "$(jq -r '.[].host_ifname' <<<"$output" | sort -u | wc -l)" -eq "$N" ]
  # the private subnets do not overlap: every container's private address is in its own only
  local privs
  privs=$(jq -r '.[].info.private' <<<"$output")
  python3 - "$privs" <<'EOF'
import ipaddress, sys
nets = [ipaddress.ip_network(l, strict=False) for l in sys.argv[1].split()]
for i, a in enumerate(nets):
    for b in nets[i + 1:]:
        assert not a.overlaps(b), (a, b)
EOF
  local -a addrs=()
  for ((i = 1; i <= N; i++)); do addrs+=("$(lan_ip "$i")"); done
  ping_all peer "${addrs[@]}"

  BG_PIDS=()
  for ((i = 1; i <= N; i++)); do
    bg detach "netns:${LAB_PREFIX}n$i"
  done
  wait_all "${BG_PIDS[@]}"
  [ "$(lj list --json | jq length)" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "concurrency: $N routed attaches at once on one uplink; each is reachable; the last detach restores the sysctls" {
  make_namespaces r "$N"
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  local i
  BG_PIDS=()
  for ((i = 1; i <= N; i++)); do
    bg attach routed "netns:${LAB_PREFIX}r$i" --parent em1 --ip "$(lan_ip "$i")/24"
  done
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" gc
  wait_all "${BG_PIDS[@]}"
  assert_records_sound
  run lj list --json
  [ "$(jq length <<<"$output")" -eq "$N" ]
  [ "$(jq -r '.[].host_ifname' <<<"$output" | sort -u | wc -l)" -eq "$N" ]
  [ "$(on host ip neigh show proxy dev em1 | wc -l)" -eq "$N" ]
  local -a addrs=()
  for ((i = 1; i <= N; i++)); do addrs+=("$(lan_ip "$i")"); done
  ping_all peer "${addrs[@]}"

  BG_PIDS=()
  for ((i = 1; i <= N; i++)); do
    bg detach "netns:${LAB_PREFIX}r$i"
  done
  wait_all "${BG_PIDS[@]}"
  [ "$(lj list --json | jq length)" -eq 0 ]
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "concurrency: attach, detach, list and gc racing over the bridge, macvlan and nat ways" {
  local W=16 i
  make_namespaces xb $((2 * W))
  make_namespaces xm $((2 * W))
  make_namespaces xn $((2 * W))
  snapshot host >"$BATS_TEST_TMPDIR/host.before"
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" gc

  # attach_one WAY I: the I-th container of a way (bridge: a bridge lanjoin creates, with no
  # uplink; macvlan .77-.108; nat .109-.140)
  attach_one() {
    case $1 in
    b) bg attach bridge "netns:${LAB_PREFIX}xb$2" --bridge br-mix --create-bridge --ip "198.51.100.$((19 + $2))/24" ;;
    m) bg attach macvlan "netns:${LAB_PREFIX}xm$2" --parent em1 --ip "198.51.100.$((76 + $2))/24" \
      --host-shim "$SHIM/24" ;;
    n) bg attach nat "netns:${LAB_PREFIX}xn$2" --uplink em1 --address "198.51.100.$((108 + $2))/24" ;;
    esac
  }

  # round 1: the first W of each way attach, while list and gc run
  BG_PIDS=()
  for ((i = 1; i <= W; i++)); do
    attach_one b "$i"
    attach_one m "$i"
    attach_one n "$i"
    if ((i % 4 == 0)); then
      bg list --json
      bg gc
    fi
  done
  wait_all "${BG_PIDS[@]}"
  assert_records_sound
  [ "$(lj list --json | jq length)" -eq $((3 * W)) ]

  # round 2: those detach while the next W of each way attach, with list and gc again
  BG_PIDS=()
  for ((i = 1; i <= W; i++)); do
    bg detach "netns:${LAB_PREFIX}xb$i"
    attach_one b $((W + i))
    bg detach "netns:${LAB_PREFIX}xm$i"
    attach_one m $((W + i))
    bg detach "netns:${LAB_PREFIX}xn$i"
    attach_one n $((W + i))
    if ((i % 4 == 0)); then
      bg list
      bg gc
    fi
  done
  wait_all "${BG_PIDS[@]}"
  assert_records_sound
  run lj list --json
  [ "$(jq length <<<"$output")" -eq $((3 * W)) ]
  [ "$(jq -r '.[].target.spec' <<<"$output" | grep -c -E "x[bmn]($(seq -s '|' $((W + 1)) $((2 * W))))\$")" -eq $((3 * W)) ]
  ping_from peer 198.51.100.$((76 + 2 * W))
  ping_from peer 198.51.100.$((108 + 2 * W))
  ping_from host 198.51.100.$((76 + W + 1))

  # round 3: the rest detach at once
  BG_PIDS=()
  for ((i = W + 1; i <= 2 * W; i++)); do
    bg detach "netns:${LAB_PREFIX}xb$i"
    bg detach "netns:${LAB_PREFIX}xm$i"
    bg detach "netns:${LAB_PREFIX}xn$i"
  done
  bg gc
  wait_all "${BG_PIDS[@]}"
  [ "$(lj list --json | jq length)" -eq 0 ]
  ! on host ip link show br-mix || false
  assert_same_state host "$BATS_TEST_TMPDIR/host.before"
}

@test "concurrency: gc waiting for a hung container engine holds up no attach" {
  make_namespaces g 2
  take_snapshots
  local sock=$BATS_TEST_TMPDIR/engine.sock accepted=$BATS_TEST_TMPDIR/engine.accepted
  local gc_done=$BATS_TEST_TMPDIR/gc.done f
  run lj attach macvlan "netns:${LAB_PREFIX}g1" --parent em1 --ip 198.51.100.145/24
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}g1"
  # make it a container's record: gc asks the engine whether that container still runs
  f=$(ls "$LANJOIN_STATE_DIR"/attachments/*.json)
  jq '.target.kind = "container" | .target.spec = "ghost" | .target.container_id = ("ab" * 32)' \
    "$f" >"$BATS_TEST_TMPDIR/record"
  cat "$BATS_TEST_TMPDIR/record" >"$f"
  # an engine that accepts connections and never answers (perl-base is in every Debian)
  perl -MIO::Socket::UNIX -e '
    my ($path, $flag) = @ARGV;
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $path, Listen => 16) or die $!;
    my @held;
    while (my $c = $s->accept) {
      push @held, $c;
      open(my $f, ">>", $flag) or die $!;
      print $f "accepted\n";
      close $f;
    }' "$sock" "$accepted" &
  defer kill_quietly $!
  wait_until 10 test -S "$sock"
  (
    LANJOIN_ENGINE_SOCKET=$sock lj gc >"$BATS_TEST_TMPDIR/gc.log" 2>&1
    echo $? >"$gc_done"
  ) &
  defer kill_quietly $!
  # gc now waits for the engine's answer (it gives up after the engine timeout, 10 s)
  wait_until 30 test -s "$accepted"
  run lj attach macvlan "netns:${LAB_PREFIX}g2" --parent em1 --ip 198.51.100.146/24
  echo "attach: $status: $output"
  [ "$status" -eq 0 ]
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}g2"
  # the attach was done while gc still waited: it did not wait for gc's engine query
  [ ! -e "$gc_done" ]
  wait_until 60 test -s "$gc_done"
  cat "$BATS_TEST_TMPDIR/gc.log"
  [ "$(cat "$gc_done")" -eq 0 ]
  # gc judged the first attachment by its namespace (alive) and left both alone
  [ "$(lj list --json | jq length)" -eq 2 ]
  run lj detach "netns:${LAB_PREFIX}g1"
  [ "$status" -eq 0 ]
  run lj detach "netns:${LAB_PREFIX}g2"
  [ "$status" -eq 0 ]
  assert_unchanged
}

# held_notice LOG: LOG has the notice of a wait for the state lock
held_notice() { grep -q "waiting for the state lock" "$1"; }
# pid_exited PID: PID has ended (gone, or a zombie not yet waited for)
pid_exited() { [ ! -d "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat")" = Z ]; }
fifo_open_by() { [ "$(readlink "/proc/$1/fd/1")" = "$2" ]; }
# paused_attach_h1: an attach of h1 stopped before its first step, under the state lock (the
# hidden LANJOIN_PAUSE_AT hook of src/lib/core/plan.c: it reads the FIFO until the test closes
# it); sets attach_pid (the attach) and holder (the FIFO's writer: kill it to let the attach on)
paused_attach_h1() {
  local fifo=$BATS_TEST_TMPDIR/pause
  mkdir -p -m 0700 "$LANJOIN_STATE_DIR/uplinks"
  mkfifo -m 0600 "$fifo"
  LANJOIN_PAUSE_AT=1 LANJOIN_PAUSE_FIFO=$fifo ip netns exec "${LAB_PREFIX}host" "$LANJOIN" \
    attach macvlan "netns:${LAB_PREFIX}h1" --parent em1 --ip 198.51.100.147/24 \
    >"$BATS_TEST_TMPDIR/holder.log" 2>&1 &
  attach_pid=$!
  defer kill_quietly "$attach_pid"
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" gc
  sleep infinity >"$fifo" &
  holder=$!
  defer kill_quietly "$holder"
  # its open of the FIFO for writing returns once lanjoin has opened it for reading
  wait_until 60 fifo_open_by "$holder" "$fifo"
}

@test "concurrency: a command waiting for the state lock says on stderr which lanjoin holds it, and goes on once it is free" {
  make_namespaces h 3
  take_snapshots
  local attach_pid holder
  paused_attach_h1

  # every command that reads or changes the state waits, and says for whom, once, on stderr
  local -a cmds=("list --json" "status --json" "uplink list --json" gc
    "detach netns:${LAB_PREFIX}h3" "attach macvlan netns:${LAB_PREFIX}h2 --parent em1 --ip 198.51.100.148/24")
  local -a pids=()
  local i
  for i in "${!cmds[@]}"; do
    # shellcheck disable=SC2086 # the words of one command
    lj ${cmds[$i]} >"$BATS_TEST_TMPDIR/out.$i" 2>"$BATS_TEST_TMPDIR/err.$i" &
    pids+=($!)
    defer kill_quietly $!
  done
  for i in "${!cmds[@]}"; do
    wait_until 60 held_notice "$BATS_TEST_TMPDIR/err.$i" || {
      echo "no notice from lanjoin ${cmds[$i]}:"
      cat "$BATS_TEST_TMPDIR/err.$i"
      return 1
    }
    grep -F "held by lanjoin attach macvlan (PID $attach_pid)" "$BATS_TEST_TMPDIR/err.$i"
    grep -qF "$LANJOIN_STATE_DIR/lock" "$BATS_TEST_TMPDIR/err.$i"
    # still waiting: nothing on stdout yet
    [ ! -s "$BATS_TEST_TMPDIR/out.$i" ]
  done

  # the attach goes on; then each of them, with the notice said once and --json clean
  kill "$holder"
  wait "$attach_pid"
  defer ip netns exec "${LAB_PREFIX}host" "$LANJOIN" detach "netns:${LAB_PREFIX}h1"
  for i in "${!cmds[@]}"; do
    local rc=0
    wait "${pids[$i]}" || rc=$?
    echo "lanjoin ${cmds[$i]}: exit $rc"
    cat "$BATS_TEST_TMPDIR/err.$i"
    [ "$rc" -eq 0 ]
    [ "$(grep -c "waiting for the state lock" "$BATS_TEST_TMPDIR/err.$i")" -eq 1 ]
    if [[ ${cmds[$i]} == *--json ]]; then
      jq -e . "$BATS_TEST_TMPDIR/out.$i" >/dev/null
    fi
  done
  [ "$(lj list --json | jq length)" -eq 2 ]
  lj detach "netns:${LAB_PREFIX}h2"
  lj detach "netns:${LAB_PREFIX}h1"
  assert_unchanged
}

@test "concurrency: Ctrl-C while attach waits for the state lock stops the wait at once: exit 130, nothing changed" {
  make_namespaces h 2
  take_snapshots
  local attach_pid holder
  paused_attach_h1

  # a second attach waits for it (SIGINT as a terminal's Ctrl-C: not ignored as a background
  # job's is)
  env --default-signal=INT ip netns exec "${LAB_PREFIX}host" "$LANJOIN" attach macvlan \
    "netns:${LAB_PREFIX}h2" --parent em1 --ip 198.51.100.148/24 >"$BATS_TEST_TMPDIR/out" \
    2>"$BATS_TEST_TMPDIR/err" &
  local pid=$!
  defer kill_quietly "$pid"
  wait_until 60 held_notice "$BATS_TEST_TMPDIR/err"
  kill -INT "$pid"
  # it ends while the lock is still held (the first attach still paused)
  wait_until 20 pid_exited "$pid" || {
    echo "still waiting after SIGINT:"
    cat "$BATS_TEST_TMPDIR/err"
    return 1
  }
  local rc=0
  wait "$pid" || rc=$?
  cat "$BATS_TEST_TMPDIR/err"
  [ "$rc" -eq 130 ]
  grep -q "Interrupted (SIGINT) while waiting for the state lock $LANJOIN_STATE_DIR/lock: nothing was changed" "$BATS_TEST_TMPDIR/err"
  kill -0 "$holder"
  ! ip -n "${LAB_PREFIX}h2" link show eth1 2>/dev/null || false

  # the first attach goes on; only its attachment is there
  kill "$holder"
  wait "$attach_pid"
  [ "$(lj list --json | jq -r '.[].target.spec')" = "netns:${LAB_PREFIX}h1" ]
  lj detach "netns:${LAB_PREFIX}h1"
  assert_unchanged
}

@test "concurrency: Ctrl-C while uplink adopt, uplink release or attach --uplink waits for the state lock stops the wait at once: exit 130, nothing changed" {
  make_namespaces h 2
  take_snapshots
  local attach_pid holder
  paused_attach_h1

  # each waits for the paused attach (SIGINT as a terminal's Ctrl-C), and ends at once
  local -a cmds=("uplink adopt br-lj em1" "uplink release br-lj"
    "attach bridge netns:${LAB_PREFIX}h2 --bridge br-lj --uplink em1 --ip 198.51.100.148/24")
  local i
  for i in "${!cmds[@]}"; do
    # shellcheck disable=SC2086 # the words of one command
    env --default-signal=INT ip netns exec "${LAB_PREFIX}host" "$LANJOIN" ${cmds[$i]} \
      >"$BATS_TEST_TMPDIR/out.$i" 2>"$BATS_TEST_TMPDIR/err.$i" &
    local pid=$!
    defer kill_quietly "$pid"
    wait_until 60 held_notice "$BATS_TEST_TMPDIR/err.$i"
    kill -INT "$pid"
    wait_until 20 pid_exited "$pid" || {
      echo "lanjoin ${cmds[$i]}: still waiting after SIGINT:"
      cat "$BATS_TEST_TMPDIR/err.$i"
      return 1
    }
    local rc=0
    wait "$pid" || rc=$?
    echo "lanjoin ${cmds[$i]}: exit $rc"
    cat "$BATS_TEST_TMPDIR/err.$i"
    [ "$rc" -eq 130 ]
    grep -q "Interrupted (SIGINT) while waiting for the state lock $LANJOIN_STATE_DIR/lock: nothing was changed" "$BATS_TEST_TMPDIR/err.$i"
    # the lock is still held: the first attach still paused
    kill -0 "$holder"
  done
  ! ip -n "${LAB_PREFIX}host" link show br-lj 2>/dev/null || false

  # the first attach goes on; only its attachment is there, nothing adopted
  kill "$holder"
  wait "$attach_pid"
  [ "$(lj list --json | jq -r '.[].target.spec')" = "netns:${LAB_PREFIX}h1" ]
  [ "$(lj uplink list --json | jq length)" -eq 0 ]
  lj detach "netns:${LAB_PREFIX}h1"
  assert_unchanged
}
