#!/usr/bin/env bats
# The documents against the program: every option that `lanjoin help ...` lists is in the man
# page (in the section of its command or way) and in the README; the man page renders without
# warnings; the shell completions load and complete; the README's "By hand" block runs as
# written and leaves nothing behind (no record in /run/lanjoin). Only the last test builds a lab.

bats_require_minimum_version 1.5.0
load helpers

MAN=$REPO/doc/lanjoin.8
README=$REPO/README.md
BASH_COMPLETION=$REPO/completion/lanjoin.bash
ZSH_COMPLETION=$REPO/completion/_lanjoin

setup_file() {
  export LANJOIN=${LANJOIN:-$REPO/build/lanjoin}
  # No lab here (the "By hand" test builds its own with the README's commands).
}
teardown_file() { :; }

# --- the options the binary lists -------------------------------------------------------------

# Print the long options in a help text (stdin), one per line, sorted and unique.
options_in() { grep -oE -- '--[a-z][a-z0-9]*(-[a-z0-9]+)*' | sort -u; }

# Print the commands (and their subcommands) that have a help of their own, one per line:
# "attach", "attach bridge", ..., "uplink adopt", ... Found in the binary's help: the commands
# in `lanjoin help`, a subcommand in a command's usage lines ("lanjoin CMD SUB ...").
help_commands() {
  local cmd sub
  "$LANJOIN" help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}' |
    while read -r cmd; do
      echo "$cmd"
      "$LANJOIN" help "$cmd" | grep -oE "lanjoin $cmd [a-z][a-z-]*" | awk '{print $3}' | sort -u |
        while read -r sub; do
          echo "$cmd $sub"
        done
    done
}

# Normalise the man page source to plain text: \- to -, no font or other escapes.
man_text() {
  sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\[&%c]//g' -e 's/\\(em/--/g' "$MAN"
}

# The man page's section of command KEY ("attach bridge", "gc"): the text under each `.SS`
# heading whose title is "lanjoin KEY" (maybe followed by more words), and for a subcommand
# "CMD SUB" also under headings "lanjoin CMD: ..." (options CMD's subcommands share).
man_section() {
  local key=$1 cmd=${1%% *}
  if [[ $key == help ]]; then # `lanjoin help`: the commands' summaries, the whole page
    man_text
    return
  fi
  man_text | awk -v key="lanjoin $key" -v shared="lanjoin $cmd:" -v issub="$([[ $1 == *" "* ]] && echo 1)" '
    /^\.S[HS] / {
      t = $0; sub(/^\.S[HS] +/, "", t); gsub(/"/, "", t)
      on = (index(t, key) == 1 && (length(t) == length(key) || substr(t, length(key) + 1, 1) ~ /[ :]/)) ||
           (issub && index(t, shared) == 1) || (!issub && index(t, key " ") == 1)
      next
    }
    on'
}

# has_option TEXT_FILE OPTION: OPTION appears as a whole word (not a prefix of a longer option).
has_option() { grep -qE -- "(^|[^a-z0-9-])$2([^a-z0-9-]|\$)" "$1"; }

# shellcheck disable=SC2086 # $key is one or two words: the arguments of `lanjoin help`
@test "docs: every option 'lanjoin help' lists is in the man page's section of its command, and in the README" {
  local key missing=() n=0 sec
  sec=$BATS_TEST_TMPDIR/section
  while read -r key; do
    # A subcommand whose help is its command's (no help of its own yet) is checked as the
    # command: its options may be in any of the command's sections.
    if [[ $key == *" "* ]] && cmp -s <("$LANJOIN" help ${key% *}) <("$LANJOIN" help $key); then
      continue
    fi
    man_section "$key" >"$sec"
    [[ -s $sec ]] || {
      missing+=("man page: no section '.SS \"lanjoin $key\"' for 'lanjoin help $key'")
      continue
    }
    while read -r opt; do
      n=$((n + 1))
      has_option "$sec" "$opt" ||
        missing+=("man page: $opt (from 'lanjoin help $key') is not in its section 'lanjoin $key'")
      has_option "$README" "$opt" ||
        missing+=("README.md: $opt (from 'lanjoin help $key') appears nowhere")
    done < <("$LANJOIN" help $key | options_in)
  done < <(help_commands)
  echo "# $n (command, option) pairs checked" >&3
  if ((${#missing[@]} > 0)); then
    printf '%s\n' "${missing[@]}"
    return 1
  fi
  ((n > 30))
}

@test "docs: every command and way has a man page section, and the commands list covers the binary's" {
  local key keys
  keys=$(help_commands)
  [[ $keys == *"attach bridge"* && $keys == *"attach nat"* && $keys == *"uplink adopt"* ]]
  for key in $("$LANJOIN" help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}'); do
    [[ $key == help ]] && continue
    man_text | grep -qE "^\.SS \"?lanjoin $key( |:|\"|$)" || {
      echo "man page: no section for 'lanjoin $key'"
      return 1
    }
  done
}

# --- the man page renders cleanly -----------------------------------------------------------------

@test "docs: the man page renders without groff warnings (and mandoc -Tlint is clean if installed)" {
  command -v groff >/dev/null || skip "groff is not installed"
  run --separate-stderr groff -man -Tutf8 -ww -z "$MAN"
  echo "$stderr"
  [ "$status" -eq 0 ]
  [ -z "$stderr" ]
  run -0 env MANWIDTH=80 man -l "$MAN"
  [[ $output == *"lanjoin attach bridge"* ]]
  if command -v mandoc >/dev/null; then
    run mandoc -Tlint -Wstyle "$MAN"
    echo "$output"
    [ -z "$output" ]
  fi
}

# --- the README's "By hand" block -----------------------------------------------------------------

# The shell commands of the README's "By hand in the lab" block, one per line (continuations
# joined), for lab prefix $1 and the binary under test.
by_hand_commands() {
  awk '/^## By hand in the lab/ {s = 1} s && /^```sh/ {b = 1; next} b && /^```/ {exit} b' "$README" |
    sed -e ':a' -e '/\\$/{N;s/\\\n *//;ba' -e '}' |
    grep -vE '^(#|meson )' |
    sed -e 's/^sudo //' -e "s#lab/lab.sh#$REPO/lab/lab.sh#g" -e "s#build/lanjoin#$LANJOIN#g" \
      -e "s/lj-/$1/g"
}

# Cleanup for when the test fails: records naming this test's unique lab prefix that a broken
# lab.sh let lanjoin write into the machine's state directory (the lab and its links are gone).
drop_stray_records() {
  local f
  for f in /run/lanjoin/attachments/*.json /run/lanjoin/uplinks/*.json; do
    [[ -f $f ]] && grep -qF "$1" "$f" && rm -f "$f"
  done
  return 0
}

@test "docs: the README's 'By hand' lab block runs as written; its records stay in the lab and go with it" {
  local p="ljdocs$$-" cmd out
  if [[ -n ${LJ_TEST_RECORD:-} ]]; then # test.sh's leak check
    echo "prefix $p" >>"$LJ_TEST_RECORD"
  fi
  export LAB_PREFIX=$p
  unset LANJOIN_STATE_DIR
  local state=/run/lanjoin-lab/$p/state
  "$LAB" down
  defer drop_stray_records "$p"
  defer "$LAB" down
  run -0 by_hand_commands "$p"
  [[ $output == *"lab.sh up --bridge-host"* && $output == *"attach bridge netns:${p}web"* ]]
  local cmds
  mapfile -t cmds < <(by_hand_commands "$p")
  for cmd in "${cmds[@]}"; do
    echo "\$ $cmd"
    out=$(bash -c "$cmd" </dev/null 2>"$BATS_TEST_TMPDIR/err") || {
      echo "$out"
      cat "$BATS_TEST_TMPDIR/err"
      echo "failed: $cmd"
      return 1
    }
    echo "$out"
    case $cmd in
    *"/lab.sh exec peer curl "*) [[ $out == "Hello world" ]] ;;
    *"/lab.sh exec web curl "*) [[ $out == "198.51.100.117" ]] ;;
    *" attach bridge "*)
      # The record is in the lab's state directory, and nowhere in /run/lanjoin.
      grep -lq "netns:${p}web" "$state"/attachments/*.json
      run ! grep -rlqs "${p}web" /run/lanjoin
      ;;
    *" list") [[ $out == *"netns:${p}web"* ]] ;;
    esac
  done
  # down removed the lab and its state directory; lanjoin left nothing in /run/lanjoin.
  [[ ! -e /run/lanjoin-lab/$p ]]
  run ! grep -F "$p" < <(ip netns list)
  run ! grep -rlqs "$p" /run/lanjoin
}
