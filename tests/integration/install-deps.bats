#!/usr/bin/env bats
# scripts/install-deps.sh leaves an Open vSwitch it did not install alone: the host's uplink
# may be in one of its bridges. Run with every package reported installed (a dpkg-query stub),
# so nothing is installed and nothing may be stopped or disabled.

setup() {
  stub=$BATS_TEST_TMPDIR/bin
  mkdir -p "$stub"
  printf '#!/bin/sh\nprintf "install ok installed"\n' >"$stub/dpkg-query"
  for c in systemctl service update-rc.d apt-get; do
    printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$c" "$BATS_TEST_TMPDIR" >"$stub/$c"
  done
  chmod +x "$stub"/*
}

@test "install-deps: with nothing to install it stops and disables no service" {
  run env PATH="$stub:$PATH" bash -x "$BATS_TEST_DIRNAME/../../scripts/install-deps.sh"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ ! -e $BATS_TEST_TMPDIR/calls ]]
  # not even the step that would look for one to stop
  [[ $output != *stop_system_ovs* && $output != *stop_new_ovs* ]]
}
