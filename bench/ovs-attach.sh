#!/usr/bin/env bash
# bench/ovs-attach.sh — wall and CPU time of `lanjoin attach ovs` and `lanjoin detach` per container
# (median, p90) on the lab's OVS bridge (netdev datapath, OVS running in the lab host).
#
#   sudo bench/ovs-attach.sh [--n N] [--lanjoin PATH] [--prefix PREFIX]
#
#   --n N           containers attached one after the other, then detached (default 20)
#   --lanjoin PATH  the binary to measure (default build/lanjoin)
#   --prefix P      the lab's namespace prefix (default "ljbovs-")
#
# Everything runs in lab namespaces (lab/lab.sh up --ovs-host) and is removed at the end.
# Containers are plain namespaces; attaches use --no-conflict-check (no ARP probe), as the
# bridge and macvlan methods of bench/run.sh do. Timings are printed, never asserted.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=20
lj=$REPO/build/lanjoin
P=ljbovs-
while (($# > 0)); do
  case $1 in
  --n) n=$2 && shift ;;
  --lanjoin) lj=$2 && shift ;;
  --prefix) P=$2 && shift ;;
  *)
    sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0" >&2
    exit 2
    ;;
  esac
  shift
done
[[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 200 ]] || {
  echo "bench: --n 1-200" >&2
  exit 2
}
LAB=$REPO/lab/lab.sh
export LAB_PREFIX=$P

cleanup() {
  for ((i = 0; i < n; i++)); do ip netns del "${P}c$i" 2>/dev/null || true; done
  "$LAB" down >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM
"$LAB" up --ovs-host >/dev/null
eval "$("$LAB" env)"
eval "$("$LAB" ovs env)"
for ((i = 0; i < n; i++)); do ip netns add "${P}c$i"; done

# ms: "WALL CPU" of a command in milliseconds (CPU: user + system of it and its children,
# ovs-vsctl included, ovsdb-server and ovs-vswitchd not), its output discarded
ms() {
  local TIMEFORMAT='%R %U %S' t
  t=$({ time "$@" >/dev/null; } 2>&1 | tail -1)
  awk '{printf "%.1f %.1f\n", $1 * 1000, ($2 + $3) * 1000}' <<<"$t"
}
stats() { sort -n | awk '{a[NR] = $1} END {printf "median %.1f ms, p90 %.1f ms (n = %d)",
  a[int((NR + 1) / 2)], a[int(NR * 0.9 + 0.999)], NR}'; }
report() {
  local what=$1
  shift
  echo "$what: wall $(printf '%s\n' "$@" | cut -d' ' -f1 | stats); CPU $(printf '%s\n' "$@" |
    cut -d' ' -f2 | stats)"
}

host=(ip netns exec "${P}host")
att=() det=()
for ((i = 0; i < n; i++)); do
  att+=("$(ms "${host[@]}" "$lj" attach ovs "netns:${P}c$i" --bridge br-em1 \
    --ip "198.51.100.$((20 + i))/24" --no-conflict-check --ovsdb "$LAB_OVSDB")")
done
for ((i = 0; i < n; i++)); do
  det+=("$(ms "${host[@]}" "$lj" detach "netns:${P}c$i")")
done
report "ovs attach" "${att[@]}"
report "ovs detach" "${det[@]}"
