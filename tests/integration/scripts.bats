#!/usr/bin/env bats
# The scripts around the tests. scripts/install-deps.sh leaves an Open vSwitch it did not install
# alone: the host's uplink may be in one of its bridges. Run with every package reported
# installed (a dpkg-query stub), so nothing is installed and nothing may be stopped or disabled.

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

# test.sh's leak check tears down what it finds of its own prefixes: only its own.
@test "test.sh leak check: a run's prefix matches its labs and sub-labs, not another run's" {
  . "$BATS_TEST_DIRNAME/../own-prefix.bash"
  ours ljnat264-host ljnat264-
  ours ljnat264- ljnat264-
  ours ljnat264x-web ljnat264-
  ! ours ljnat26415-host ljnat264- || false
  ! ours ljnat26415- ljnat264- || false
  ! ours ljnat2641-host ljnat264- || false
}
