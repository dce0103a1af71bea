#!/usr/bin/env bash
# bench/watch.sh — `lanjoin watch` (issue 18's speed goals): its idle cost (RSS, wake-ups) and
# the time from the engine's `start` event to the container answering on the LAN again.
#
#   sudo bench/watch.sh [--n N] [--idle SECONDS] [--interval-us US] [--out FILE]
#                       [--build-dir DIR] [--lanjoin PATH]
#
#   --n N            docker restarts to time (default 100)
#   --idle SECONDS   length of each idle window (default 10)
#   --interval-us US the LAN peer's ARP probe interval (default 1000: 1 ms resolution)
#   --out FILE       also write the Markdown report to FILE (raw figures beside it, .tsv)
#   --build-dir DIR  the meson build directory (default: build, set up if missing)
#   --lanjoin PATH   the lanjoin binary to measure (default: the build's)
#
# Environment: BENCH_PREFIX, the lab's namespace prefix (default "ljbw-"); BENCH_RAW_DIR, a
# directory to copy the raw logs into (events, probe, time-stamped watch log) at the end.
#
# A lab (lab/lab.sh) with a real dockerd in its host namespace, started the way the tests
# start it (tests/integration/engine-helpers.bash: private sockets and directories), one
# container "web" (--network none) attached with `lanjoin attach macvlan web --parent em1
# --ip 198.51.100.121/24 --persist`, and `lanjoin watch --engine-socket …` running.
#
# Idle: once the watch has connected and settled, its voluntary + involuntary context switches
# over SECONDS (a wake-up is a switch), then the syscalls `strace` sees over another SECONDS
# (an idle watch blocks in one epoll_wait), VmRSS/Pss and the mappings that cost most.
#
# Restarts: `docker restart -t 0 web` N times, one after the other (each once the container
# is back, plus half a second). Docker's events (`start`, `die`, with timeNano) are read
# from its event stream; build/bench/lj-bench-arp in the LAN peer sends an ARP request for
# 198.51.100.121 every US microseconds (unicast to the container's MAC) and logs the
# replies that end a run of unanswered requests (CLOCK_REALTIME, the clock of timeNano). Per
# restart: from the `start` event to the reply that ends the outage (the longest such run
# around the restart; negative when the container answered before Docker sent the event),
# and to the watch's log line of a successful (re-)attach (time-stamped as it arrives).
# A restart after which the container is not back within 20 s is counted and left out.
# Everything is removed at the end, also on failure or Ctrl-C.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
P=${BENCH_PREFIX:-ljbw-}
IP_ADDR=198.51.100.121

usage() { sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; }
die() {
  echo "bench/watch: $*" >&2
  exit 1
}

n=100
idle=10
interval=1000
out=
build=
lj_bin=
while (($# > 0)); do
  case $1 in
  --n) n=$2 && shift ;;
  --idle) idle=$2 && shift ;;
  --interval-us) interval=$2 && shift ;;
  --out) out=$2 && shift ;;
  --build-dir) build=$2 && shift ;;
  --lanjoin) lj_bin=$2 && shift ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
  shift
done
[[ $n =~ ^[1-9][0-9]*$ ]] || die "--n: '$n' is not a count"
[[ $idle =~ ^[1-9][0-9]*$ ]] || die "--idle: '$idle' is not a number of seconds"
if ! [[ $interval =~ ^[1-9][0-9]*$ ]] || ((interval < 100)); then die "--interval-us: at least 100"; fi
((EUID == 0)) || die "run as root (it builds network namespaces and starts dockerd)"

if [[ -z $build ]]; then
  build=$REPO/build
  [[ -f $build/build.ninja ]] || meson setup "$build" "$REPO" >/dev/null
  ninja -C "$build" lanjoin bench/lj-bench-arp >/dev/null
fi
build=$(cd "$build" && pwd)
LJ=${lj_bin:-$build/lanjoin}
[[ $LJ == /* ]] || LJ=$PWD/$LJ
ARP=$build/bench/lj-bench-arp
for f in "$LJ" "$ARP"; do
  [[ -x $f ]] || die "$f is missing: build first (meson setup build && ninja -C build)"
done

export LAB_PREFIX=$P
export LAB_DIR=/run/lanjoin-lab/$P
[[ ! -e $LAB_DIR ]] || die "$LAB_DIR exists: a lab of prefix '$P' is up (BENCH_PREFIX)"
# shellcheck source-path=SCRIPTDIR source=../tests/integration/engine-helpers.bash disable=SC1091
source "$REPO/tests/integration/engine-helpers.bash"

pids=()
RUN=
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  set +e
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  [[ -z ${BENCH_RAW_DIR:-} || -z ${RUN:-} ]] || cp "$RUN"/* "$BENCH_RAW_DIR"/
  docker_stop
  "$REPO/lab/lab.sh" down
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() { # SECONDS CMD...: poll every 10 ms
  local k end=$((SECONDS + $1))
  shift
  for ((k = 0; ; k++)); do
    "$@" && return 0
    ((SECONDS < end)) || return 1
    sleep 0.01
  done
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "bench/watch: building the lab (prefix $P) and starting dockerd" >&2
"$REPO/lab/lab.sh" up
eval "$("$REPO/lab/lab.sh" env)"
RUN=$LAB_DIR/bench-watch
mkdir -p "$RUN"
docker_start || die "dockerd: $(engine_skip_reason docker)"
SOCK=$(engine_sock docker)
H=(ip netns exec "${P}host")

dk run -d --name web --network none "$ENGINE_IMAGE" /bin/httpd -f -p 80 -h /www >/dev/null
"${H[@]}" "$LJ" attach macvlan web --engine-socket "$SOCK" --parent em1 --ip "$IP_ADDR/24" \
  --persist >&2
mac=$(dk exec web cat /sys/class/net/eth1/address)

# The watch's log, each line prefixed with its arrival time (EPOCHREALTIME).
stamp() { while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
"${H[@]}" "$LJ" watch --engine-socket "$SOCK" </dev/null > >(stamp >"$RUN/watch.log") 2>&1 &
wpid=$!
pids+=("$wpid")
wait_for 60 grep -q "engine at $SOCK connected" "$RUN/watch.log" ||
  die "the watch did not connect: $(cat "$RUN/watch.log")"

# --- idle -------------------------------------------------------------------------------------

ctxt() { awk '/^(non)?voluntary_ctxt_switches/ { s += $2 } END { print s }' "/proc/$wpid/status"; }
kib() { awk -v k="$1" '$1 == k":" { print $2 }' "$2"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
mappings() { # the mappings with most Rss: "NAME KiB, …"
  awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "[anon]" : $6); sub(/.*\//, "", name) }
    /^Rss:/ { rss[name] += $2 }
    END { for (m in rss) if (rss[m] > 0) print rss[m], m }' "/proc/$wpid/smaps" |
    sort -rn | head -n "$1" | awk '{ printf "%s%s %d", (NR > 1 ? ", " : ""), $2, $1 } END { print "" }'
}
memory() { # LABEL: one table row
  local r p a f
  r=$(kib VmRSS "/proc/$wpid/status") a=$(kib RssAnon "/proc/$wpid/status")
  f=$(kib RssFile "/proc/$wpid/status") p=$(kib Pss "/proc/$wpid/smaps_rollup")
  echo "| $1 | $(mib "$r") | $(mib "$a") | $(mib "$f") | $(mib "$p") | $(loadavg) |"
}

sleep 2 # the first reconcile's aftermath (settle timers) is over
idle_load=$(loadavg)
c0=$(ctxt)
sleep "$idle"
c1=$(ctxt)
wakeups=$((c1 - c0))
straced=n/a
if command -v strace >/dev/null; then
  timeout "$idle" strace -qq -p "$wpid" -o "$RUN/strace" 2>/dev/null || true
  straced=$(wc -l <"$RUN/strace")
  straced="$straced ($(head -c 60 "$RUN/strace" | tr -d '\n')…)"
fi
mem_idle=$(memory "idle, after connecting")
map_idle=$(mappings 10)

# --- restarts ---------------------------------------------------------------------------------

dk events --filter container=web --filter event=start --filter event=die \
  --format '{{.Status}} {{.TimeNano}}' >"$RUN/events" &
pids+=("$!")
ip netns exec "${P}peer" "$ARP" eth0 "$IP_ADDR" "$mac" "$interval" >"$RUN/arp" &
pids+=("$!")

starts() { grep -c '^start ' "$RUN/events" || true; }
last_die() { awk '$1 == "die" { t = $2 } END { print t }' "$RUN/events"; }
back_after() { # NANOSECONDS: the watch re-attached and the probe saw an outage end after it
  awk -v t="$1" '$1 * 1e9 > t { a = 1 } END { exit !a }' "$RUN/arp" &&
    awk -v t="$1" '/ (re)?attach: (attached again|from its)/ && $1 * 1e9 > t { a = 1 }
      END { exit !a }' "$RUN/watch.log"
}

restart_load_start=$(loadavg)
echo "bench/watch: $n restarts" >&2
for ((i = 1; i <= n; i++)); do
  dk restart -t 0 web >/dev/null
  wait_for 30 bash -c "(( \$(grep -c '^start ' '$RUN/events') >= $i ))" ||
    die "restart $i: no start event"
  if ! wait_for 20 back_after "$(last_die)"; then
    # counted, left out of the figures; the next restart's events give the watch another go
    echo "bench/watch: restart $i: not back within 20 s; the watch's log ends:" >&2
    tail -n 3 "$RUN/watch.log" >&2
    echo "$i" >>"$RUN/failed"
  fi
  sleep 0.5
  ((i % 10)) || echo "bench/watch: $i/$n" >&2
done
restart_load_end=$(loadavg)
mem_after=$(memory "after $n restarts")
[[ $(starts) -eq $n ]] || die "expected $n start events, saw $(starts)"

# Per restart: die→start, the outage the LAN peer saw (the probe's longest run of unanswered
# requests between 0.5 s before the `die` and the next `die`: from its first request to the
# reply that ended it), start→that reply (negative: the container was back before Docker
# announced the start) and start→the watch's first successful "attach:"/"reattach:" line after the
# `die`, in ms.
touch "$RUN/failed"
awk 'FILENAME ~ /failed$/ { bad[$1] = 1; next }
  FILENAME ~ /events$/ { if ($1 == "die") d[++k] = $2; else s[k] = $2; next }
  FILENAME ~ /watch.log$/ { if ($0 ~ / (re)?attach: (attached again|from its)/) w[++m] = $1 * 1e9; next }
  { r[++n] = $1 * 1e9; f[n] = $2 * 1e9; u[n] = $3 }
  END {
    i = 1; q = 1
    for (j = 1; j <= k; j++) {
      lo = d[j] - 5e8; hi = (j < k ? d[j + 1] : 1e30); best = 0
      while (i <= n && r[i] < lo) i++
      for (; i <= n && r[i] < hi; i++)
        if (u[i] > best) { best = u[i]; back = r[i]; gap = r[i] - f[i] }
      while (q <= m && w[q] < d[j]) q++
      wl = (q <= m && w[q] < hi) ? sprintf("%.3f", (w[q] - s[j]) / 1e6) : "nan"
      if (best && !(j in bad)) printf "%d\t%.3f\t%.3f\t%.3f\t%s\n", j, (s[j] - d[j]) / 1e6, gap / 1e6, (back - s[j]) / 1e6, wl
    }
  }' "$RUN/failed" "$RUN/events" "$RUN/watch.log" "$RUN/arp" >"$RUN/restarts.tsv"
got=$(wc -l <"$RUN/restarts.tsv")
failed=$(wc -l <"$RUN/failed")
((got > 0)) || die "no restart measured"
stat() { # COLUMN: median p99 min max count (nearest rank; "nan": no such log line)
  cut -f"$1" "$RUN/restarts.tsv" | grep -v nan | sort -g |
    awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); p = int(NR * 0.99 + 0.999999);
      printf "%.1f | %.1f | %.1f | %.1f | %d", v[m], v[p], v[1], v[NR], NR }'
}

report() {
  cat <<EOF
### lanjoin watch ($(date -u +%F), $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo "?"))

Machine: $(nproc) CPUs, $(uname -r), Docker $(dk version --format '{{.Server.Version}}'); load
averages (1, 5, 15 min) next to each figure.

Idle, ${idle} s windows, one persistent macvlan attachment, one Docker engine followed:

| | measured | load |
|---|---|---|
| wake-ups (context switches) | $wakeups | $idle_load |
| syscalls seen by strace | $straced | |

| memory, MiB | VmRSS | anon | file | Pss | load |
|---|---:|---:|---:|---:|---|
$mem_idle
$mem_after

Largest mappings when idle (Rss KiB): $map_idle.

Docker \`start\` event → the container answers ARP on the LAN (probe every ${interval} µs), $n
restarts (load $restart_load_start at the start, $restart_load_end at the end): $got measured,
$failed not back within 20 s (left out; restarts $(paste -sd, "$RUN/failed")).

| ms | median | p99 | min | max | restarts |
|---|---:|---:|---:|---:|---:|
| \`start\` event → answers on the LAN again | $(stat 4) |
| \`start\` event → the watch logs a successful (re-)attach | $(stat 5) |
| outage seen by the LAN peer | $(stat 3) |
| (\`die\` → \`start\`, Docker's own) | $(stat 2) |
EOF
}
report
if [[ -n $out ]]; then
  report >"$out"
  cp "$RUN/restarts.tsv" "${out%.md}.tsv"
fi
