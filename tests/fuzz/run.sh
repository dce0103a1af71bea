#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] — build the libFuzzer harnesses with clang (ASan+UBSan) into
# build-fuzz and run each for SECONDS (default 20) from its committed seed corpus.
# Prints one line per harness: name, executions, crashes. Exits 1 if any harness crashed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
secs=${1:-20}
dir=build-fuzz
if [[ ! -d $dir ]]; then
  CC=clang meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    --buildtype=debugoptimized >/dev/null
fi
ninja -C "$dir" >/dev/null
rc=0
for h in tests/fuzz/corpus/*/; do
  name=$(basename "$h")
  work=$(mktemp -d)
  cp -r "$h/." "$work/"
  log=$(mktemp)
  if "$dir/tests/fuzz/$name" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$dir/$name-" \
    "$work" >"$log" 2>&1; then
    crashes=0
  else
    crashes=1
    rc=1
    tail -40 "$log"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz $name: ${execs:-0} executions in ${secs}s, crashes: $crashes"
  rm -rf "$work" "$log"
done
exit "$rc"
