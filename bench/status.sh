#!/usr/bin/env bash
# bench/status.sh — `lanjoin status` over N attachments against one `ip -j addr` dump of them
# (issue 18's goal: at most 10×).
#
#   sudo bench/status.sh [--n N] [--rounds R] [--layouts one,spread] [--out FILE]
#                        [--build-dir DIR] [--lanjoin PATH]
#
#   --n N          attachments (default 1000, at most 4000)
#   --rounds R     timed calls of each command, alternating (default 7); the median is shown
#   --layouts LIST one: N macvlan attachments in one namespace (eth0…, --ifname); spread: N
#                  namespaces with one each (default both)
#   --out FILE     also write the Markdown report to FILE
#   --build-dir DIR, --lanjoin PATH   as in bench/run.sh
#
# Environment: BENCH_PREFIX, the lab's namespace prefix (default "ljbs-").
#
# A lab (lab/lab.sh); in its host namespace a macvlan parent "mvs" (a veth whose peer stays
# there). The attachments are made with `lanjoin attach macvlan netns:NS --parent mvs --ip
# 198.18.x.y/20 --no-conflict-check` (cheap: no container engine) and removed with `lanjoin
# detach --all`. Timed, in-process (bash's EPOCHREALTIME around each spawn, so both include
# process start): `lanjoin status` in the host namespace (exit 0: every attachment ok), and
# `ip -j addr show` run in the namespace that holds the addresses (layout one; for spread, the
# same one-namespace dump of N addresses is the reference). Everything is removed at the end.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
P=${BENCH_PREFIX:-ljbs-}

usage() { sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; }
die() {
  echo "bench/status: $*" >&2
  exit 1
}

n=1000
rounds=7
layouts="one spread"
out=
build=
lj_bin=
while (($# > 0)); do
  case $1 in
  --n) n=$2 && shift ;;
  --rounds) rounds=$2 && shift ;;
  --layouts) layouts=${2//,/ } && shift ;;
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
if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n > 4000)); then die "--n: '$n' is not a count from 1 to 4000"; fi
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds: '$rounds' is not a count"
for l in $layouts; do
  [[ $l == one || $l == spread ]] || die "--layouts: unknown layout '$l'"
done
((EUID == 0)) || die "run as root (it builds network namespaces)"

if [[ -z $build ]]; then
  build=$REPO/build
  [[ -f $build/build.ninja ]] || meson setup "$build" "$REPO" >/dev/null
  ninja -C "$build" lanjoin >/dev/null
fi
build=$(cd "$build" && pwd)
LJ=${lj_bin:-$build/lanjoin}
[[ $LJ == /* ]] || LJ=$PWD/$LJ
[[ -x $LJ ]] || die "$LJ is missing: build first (meson setup build && ninja -C build)"

export LAB_PREFIX=$P
LAB_DIR=/run/lanjoin-lab/$P
[[ ! -e $LAB_DIR ]] || die "$LAB_DIR exists: a lab of prefix '$P' is up (BENCH_PREFIX)"
H=${P}host

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  ip netns exec "$H" "$LJ" detach --all >/dev/null 2>&1
  ip netns list 2>/dev/null | awk -v p="${P}s" 'index($1, p) == 1 { print "netns del " $1 }' |
    ip -batch - 2>/dev/null
  "$REPO/lab/lab.sh" down
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "bench/status: building the lab (prefix $P)" >&2
"$REPO/lab/lab.sh" up
eval "$("$REPO/lab/lab.sh" env)"
ip -n "$H" link add mvs type veth peer name mws
ip -n "$H" link set mvs up
ip -n "$H" link set mws up

# attach LAYOUT: N attachments, made by one bash inside the host namespace
attach() {
  local script
  # shellcheck disable=SC2016 # expanded by the inner bash
  script='for ((i = 0; i < $1; i++)); do
      o=$((i + 2)) ns=$2 ifn=eth1
      if [[ $3 == one ]]; then ifn=e$i; else ns=$2$i; fi
      "$4" attach macvlan "netns:$ns" --parent mvs --ifname "$ifn" \
        --ip "198.18.$((o / 256)).$((o % 256))/20" --no-conflict-check >/dev/null ||
        { echo "attach $i failed" >&2; exit 1; }
    done'
  if [[ $1 == one ]]; then
    ip netns add "${P}sone"
    ip netns exec "$H" bash -c "$script" attach "$n" "${P}sone" one "$LJ"
  else
    for ((i = 0; i < n; i++)); do echo "netns add ${P}s$i"; done | ip -batch -
    ip netns exec "$H" bash -c "$script" attach "$n" "${P}s" spread "$LJ"
  fi
}

# time_calls NETNS R CMD...: R lines "WALL_MS CPU_MS" of CMD run in NETNS (CPU: user + system
# of the process, in ms steps)
time_calls() {
  local ns=$1 r=$2
  shift 2
  # shellcheck disable=SC2016 # expanded by the inner bash
  ip netns exec "$ns" bash -c 'r=$1; shift; TIMEFORMAT="%3U %3S"
    for ((k = 0; k < r; k++)); do
      t0=$EPOCHREALTIME
      cpu=$( { time "$@" >/dev/null 2>&1 || echo failed; } 2>&1) || exit 1
      t1=$EPOCHREALTIME
      [[ $cpu != *failed* ]] || { echo "failed: $*" >&2; exit 1; }
      echo "$(( ${t1/./} - ${t0/./} )) $cpu"
    done' time_calls "$r" "$@" | awk '{ printf "%.3f %.0f\n", $1 / 1000, ($2 + $3) * 1000 }'
}
median() { # COLUMN: the median of that column of stdin
  cut -d' ' -f"$1" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'
}

rows=()
for layout in $layouts; do
  echo "bench/status: $layout: $n attachments" >&2
  t0=$EPOCHREALTIME
  attach "$layout"
  t1=$EPOCHREALTIME
  attach_s=$(awk -v a="${t0/./}" -v b="${t1/./}" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
  count=$(ip netns exec "$H" "$LJ" status --json | jq '[.attachments[] | select(.status == "ok")] | length')
  [[ $count -eq $n ]] || die "$layout: lanjoin status says $count of $n attachments are ok"
  if [[ $layout == one ]]; then
    dump_ns=${P}sone
    ((n <= $(ip -n "$dump_ns" -j addr show | jq '[.[].addr_info[] | select(.family == "inet")] | length'))) ||
      die "the dump lacks addresses"
  fi
  st=()
  ipd=()
  load_a=$(loadavg)
  # alternate: one status, one dump, R times
  for ((k = 0; k < rounds; k++)); do
    st+=("$(time_calls "$H" 1 "$LJ" status)")
    [[ $layout == one ]] && ipd+=("$(time_calls "$dump_ns" 1 ip -j addr show)")
  done
  load_b=$(loadavg)
  st_ms=$(printf '%s\n' "${st[@]}" | median 1)
  st_cpu=$(printf '%s\n' "${st[@]}" | median 2)
  if [[ $layout == one ]]; then
    ip_ms=$(printf '%s\n' "${ipd[@]}" | median 1)
    ip_cpu=$(printf '%s\n' "${ipd[@]}" | median 2)
  fi
  ratio() { awk -v a="$1" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.1f×", a / b; else print "n/a" }'; }
  ip_col="${ip_ms:-?} ms, CPU ${ip_cpu:-?} ms"
  [[ $layout == one ]] || ip_col="($ip_col: the one-namespace dump)"
  rows+=("| $layout | $n | $st_ms ms, CPU $st_cpu ms | $ip_col | $(ratio "$st_ms" "${ip_ms:-}") | $(ratio "$st_cpu" "${ip_cpu:-}") | $attach_s | $load_a → $load_b |")
  echo "bench/status: $layout: status $st_ms ms, ip -j addr ${ip_ms:-?} ms" >&2
  ip netns exec "$H" "$LJ" detach --all >/dev/null
  ip netns list | awk -v p="${P}s" 'index($1, p) == 1 { print "netns del " $1 }' | ip -batch -
done

report() {
  cat <<EOF
### lanjoin status ($(date -u +%F), $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo "?"))

Machine: $(nproc) CPUs, $(uname -r). Medians of $rounds calls each (alternating): wall time
from spawn to exit, and CPU time (user + system, in steps of 1 ms); the load averages (1, 5,
15 min) before and after the timed calls.

| layout | attachments | \`lanjoin status\` | \`ip -j addr\` | wall ratio | CPU ratio | attaching them, s | load |
|---|---:|---:|---:|---:|---:|---:|---|
$(printf '%s\n' "${rows[@]}")
EOF
}
report
[[ -z $out ]] || report >"$out"
