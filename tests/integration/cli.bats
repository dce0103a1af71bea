#!/usr/bin/env bats
# The command line itself, no lab needed: every usage error exits 2 and says on its first line
# what was wrong; extra arguments are refused everywhere; `help CMD` is `CMD --help`; no
# message has a doubled quote ('x''s). Runs in well under a second.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
  export LANJOIN=${LANJOIN:-$REPO/build/lanjoin}
  LANJOIN_STATE_DIR=$(mktemp -d /tmp/lanjoin-state.XXXXXX)
  export LANJOIN_STATE_DIR
}
teardown_file() {
  if [[ $LANJOIN_STATE_DIR == /tmp/lanjoin-state.* ]]; then
    rm -rf "$LANJOIN_STATE_DIR"
  fi
}

# usage_error REASON ARGS...: lanjoin ARGS exits 2, prints nothing on stdout, and the first line
# on stderr is "lanjoin: " followed by REASON (a glob).
usage_error() {
  local reason=$1
  shift
  run --separate-stderr "$LANJOIN" "$@"
  echo "lanjoin $*: status $status"
  echo "stdout: $output"
  echo "stderr: $stderr"
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  # shellcheck disable=SC2053 # a glob on purpose
  [[ ${stderr%%$'\n'*} == "lanjoin: "$reason ]]
}

@test "cli: shim says what was wrong before its usage" {
  usage_error "Unknown option '--extra'" shim add --extra
  [[ $stderr == *"Usage:"*"lanjoin shim add PARENT --ip CIDR"* ]]
  usage_error "Unknown shim command 'frob'*" shim frob
  [[ $stderr == *"Usage:"* ]]
  usage_error "Missing shim command*" shim
  usage_error "Missing PARENT" shim add --ip 198.51.100.144/24
  usage_error "shim add needs --ip CIDR" shim add em1
  usage_error "Option '--ip' needs a value" shim add em1 --ip
  usage_error "Option '--ip' is for 'shim add'" shim del em1 --ip 198.51.100.144/24
}

@test "cli: every command names an unknown option, or one missing its value" {
  usage_error "Unknown option '--frob'; see 'lanjoin attach --help'" attach bridge netns:x --frob
  [ "$stderr" = "lanjoin: Unknown option '--frob'; see 'lanjoin attach --help'" ] # one line
  usage_error "Option '--ip' needs a value;*" attach bridge netns:x --bridge br0 --ip
  usage_error "Unknown option '--frob'" detach netns:x --frob
  usage_error "Option '--ifname' needs a value" detach netns:x --ifname
  usage_error "Unknown option '--frob'" list --frob
  usage_error "Unknown option '--frob'" gc --frob
  usage_error "Option '--engine-socket' needs a value" gc --engine-socket
  usage_error "Unknown option '--frob'" pid --frob x
  usage_error "Unknown option '--frob'" detach --frob x
  usage_error "Unknown option '--frob'" ip --frob x
  usage_error "Unknown option '--frob'" uplink adopt --frob br0 em1
  usage_error "Option '--json' takes no value" uplink adopt --json=yes br0 em1
  usage_error "Unknown option '--frob'" uplink release --frob br0
  usage_error "Unknown option '--frob'" uplink list --frob
  usage_error "Unknown uplink command 'frob'*" uplink frob
  usage_error "Unknown option '--frob'" version --frob
  usage_error "Unknown command 'frob'*" frob
}

@test "cli: extra or missing positional arguments are refused everywhere" {
  usage_error "Unexpected argument 'extra'" uplink list extra
  usage_error "Unexpected argument 'extra'" uplink list --json extra
  usage_error "Unexpected argument 'extra'" uplink adopt br0 em1 extra
  usage_error "uplink adopt needs BR and DEV" uplink adopt br0
  usage_error "Unexpected argument 'extra'" uplink release br0 extra
  usage_error "uplink release needs BR" uplink release
  usage_error "Unexpected argument 'extra'" list extra
  usage_error "Unexpected argument 'extra'" gc extra
  usage_error "Unexpected argument 'extra'" version extra
  usage_error "Unexpected argument 'extra'" detach netns:x extra
  usage_error "Missing TARGET*" detach
  usage_error "--all takes no TARGET*" detach --all netns:x
  usage_error "Unexpected argument 'extra'" pid pid:1 extra
  usage_error "Missing TARGET" pid
  usage_error "Unexpected argument 'extra'" ip web extra
  usage_error "Unexpected argument 'extra'" shim del em1 extra
  usage_error "Unexpected argument 'extra'" shim add em1 extra --ip 198.51.100.144/24
  usage_error "Unexpected argument 'extra';*" attach bridge netns:x extra --bridge br0
  usage_error "Missing TARGET*" attach bridge
  # the target last: it must come right after the way, and the option seen there is named
  usage_error "Missing TARGET after 'attach macvlan': it must come right after the way, before the options (saw the option '--parent' there): lanjoin attach macvlan TARGET \[OPTIONS\]*" \
    attach macvlan --parent em1 --ip 198.51.100.131/24 netns:X
  usage_error "Missing WAY*" attach
  usage_error "Unexpected argument 'extra'*" help list extra
  usage_error "Unexpected argument 'extra'*" help attach bridge extra
}

@test "cli: 'help CMD [SUB]' prints what 'CMD [SUB] --help' prints" {
  local cmd
  for cmd in attach detach list uplink gc pid ip shim version help "attach bridge" "attach nat" \
    "uplink adopt" "uplink release" "uplink list" "shim add" "shim del"; do
    # shellcheck disable=SC2086 # split "attach bridge"
    run "$LANJOIN" help $cmd
    echo "help $cmd: $status"
    [ "$status" -eq 0 ]
    local help=$output
    # shellcheck disable=SC2086
    run "$LANJOIN" $cmd --help
    [ "$status" -eq 0 ]
    [ "$output" = "$help" ]
  done
  run "$LANJOIN" help attach
  [[ $output == *"lanjoin attach bridge  TARGET --bridge BR"* ]]
  # the top-level help is not any command's
  run "$LANJOIN" help
  [ "$status" -eq 0 ]
  [[ $output == *"Commands:"* ]]
  [ "$(lanjoin_out help attach)" != "$output" ]
  usage_error "Unknown command 'frob'*" help frob
}

lanjoin_out() { "$LANJOIN" "$@" 2>&1; }

@test "cli: each way's help lists its own options, not the others'" {
  local way opt
  declare -A own=([bridge]="--bridge --uplink --create-bridge --ip --dhcp"
    [ovs]="--bridge --create-bridge --vlan --ovsdb --ip --dhcp"
    [macvlan]="--parent --mode --host-shim --ip --dhcp"
    [nat]="--uplink --address --publish --private --to"
    [routed]="--parent --ip --no-default-route")
  declare -A foreign=([bridge]="--vlan --parent --publish --address"
    [ovs]="--uplink --parent --publish --host-shim"
    [macvlan]="--bridge --uplink --vlan --publish"
    [nat]="--bridge --parent --vlan --dhcp --create-bridge"
    [routed]="--bridge --uplink --vlan --dhcp --gateway --slaac --host-shim --address")
  for way in bridge ovs macvlan nat routed; do
    run "$LANJOIN" help attach "$way"
    [ "$status" -eq 0 ]
    [[ $output == "Usage: lanjoin attach $way TARGET"* ]]
    for opt in ${own[$way]}; do
      [[ $output =~ $opt([^a-z-]|$) ]] || { echo "help attach $way lacks $opt"; false; }
    done
    for opt in ${foreign[$way]}; do
      ! [[ $output =~ $opt([^a-z-]|$) ]] || { echo "help attach $way shows $opt"; false; }
    done
    # the same with a TARGET and other options before --help
    [ "$(lanjoin_out attach "$way" netns:x --help)" = "$output" ]
  done
}

@test "cli: no message in the binary has a doubled quote (a possessive like 'em1''s)" {
  run grep -c "''s" <(strings "$LANJOIN")
  echo "$output"
  [ "$output" = 0 ]
}

@test "cli: a relative LANJOIN_STATE_DIR is refused, not replaced by the default" {
  run --separate-stderr env LANJOIN_STATE_DIR=relative-state "$LANJOIN" list
  echo "status $status, stderr: $stderr"
  [ "$status" -eq 1 ]
  [[ $stderr == *"relative-state"*"LANJOIN_STATE_DIR must be an absolute path"* ]]
  [ ! -e relative-state ]
}

@test "cli: list, status and uplink list create no state directory; with none, nothing is attached" {
  local d=$BATS_TEST_TMPDIR/none c
  for c in list "list --json" status "status --json" "uplink list" "uplink list --json"; do
    # shellcheck disable=SC2086 # c is words
    run --separate-stderr env LANJOIN_STATE_DIR="$d/state" LANJOIN_SPEC_DIR="$d/specs" \
      "$LANJOIN" $c
    echo "lanjoin $c: status $status, stdout: $output, stderr: $stderr"
    [ "$status" -eq 0 ]
    [ ! -e "$d" ]
  done
}

@test "cli: detach --dry-run and uplink release --dry-run create no state directory either" {
  local d=$BATS_TEST_TMPDIR c
  for c in "detach netns:none --dry-run" "detach netns:none --ifname eth1 --dry-run" \
    "detach --all --dry-run" "uplink release br0 --dry-run" "uplink release br0 --dry-run --json"; do
    # shellcheck disable=SC2086 # c is words
    run --separate-stderr env LANJOIN_STATE_DIR="$d/state" LANJOIN_SPEC_DIR="$d/specs" \
      "$LANJOIN" $c
    echo "lanjoin $c: status $status, stdout: $output, stderr: $stderr"
    [ "$status" -eq 0 ]
    [ ! -e "$d/state" ]
    [ ! -e "$d/specs" ]
  done
}

@test "cli: an empty LANJOIN_STATE_DIR or LANJOIN_SPEC_DIR is refused, not replaced by the default" {
  usage_error_env() {
    run --separate-stderr env "$1=" "$LANJOIN" list
    echo "$1 empty: status $status, stderr: $stderr"
    [ "$status" -eq 2 ]
    [[ $stderr == "lanjoin: $1 is set but empty"* ]]
  }
  usage_error_env LANJOIN_STATE_DIR
  usage_error_env LANJOIN_SPEC_DIR
}

@test "cli: control characters of bad input are printed as \\xNN, never sent to the terminal" {
  run --separate-stderr "$LANJOIN" attach bridge netns:x --bridge b --ip 198.51.100.2/24 \
    --ifname $'e\033[7m'
  [ "$status" -eq 2 ]
  echo "$stderr"
  [[ $stderr == *"'e\\x1b[7m'"* ]]
  [[ $stderr != *$'\033'* ]]
}
