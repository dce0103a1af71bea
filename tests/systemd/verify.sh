#!/usr/bin/env bash
# tests/systemd/verify.sh SRCDIR LANJOIN: `systemd-analyze verify` of lanjoin's units
# (lanjoin-watch, lanjoin-docker-plugin), with ExecStart pointing at the binary under test
# (verify checks that it is executable). Exits 77 (meson's "skipped") when systemd-analyze is
# not installed.
set -euo pipefail
src=$1 bin=$2
command -v systemd-analyze >/dev/null || {
  echo "systemd-analyze is not installed: skipped"
  exit 77
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for unit in lanjoin-watch lanjoin-docker-plugin; do
  sed "s|@BINDIR@/lanjoin|$bin|" "$src/systemd/$unit.service.in" >"$dir/$unit.service"
  # --man=no: the man page is not installed where man(1) looks while testing a build.
  out=$(systemd-analyze verify --man=no "$dir/$unit.service" 2>&1) || {
    echo "$out"
    exit 1
  }
  # verify exits 0 on some warnings (unknown settings, bad values): any output is a failure.
  if [[ -n $out ]]; then
    echo "$out"
    exit 1
  fi
  echo "$unit.service: ok"
done
# The plugin's unit: a notify service started before dockerd, which finds its socket then.
grep -qx 'Type=notify' "$dir/lanjoin-docker-plugin.service"
grep -qx 'Before=docker.service' "$dir/lanjoin-docker-plugin.service"
