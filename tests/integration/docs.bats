#!/usr/bin/env bats
# The documents against the program: every option that `lanjoin help ...` lists is in the man
# page (in the section of its command or way) and in the README; the man page renders without
# warnings; the shell completions load and complete; the README's "By hand" block runs as
# written and leaves nothing behind (no record in /run/lanjoin). Only the last test builds a lab.
# test.sh: plain pass only (help texts, documents and completions; the commands the README
# block runs are run under ASan by the files of their ways)

bats_require_minimum_version 1.5.0
load helpers

MAN=$REPO/doc/lanjoin.8
README=$REPO/README.md
BASH_COMPLETION=$REPO/completion/lanjoin.bash
ZSH_COMPLETION=$REPO/completion/_lanjoin

setup_file() {
  export LANJOIN=${LANJOIN:-$REPO/build/lanjoin}
  # No lab here: the "By hand" test builds its own with the README's commands, and the
  # completion test makes a namespace; both are named with this prefix.
  export DOCS_PREFIX="ljdocs$$-"
  if [[ -n ${LJ_TEST_RECORD:-} ]]; then # test.sh's leak check
    echo "prefix $DOCS_PREFIX" >>"$LJ_TEST_RECORD"
  fi
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

# The exit-status summaries (`lanjoin help`, the README's "Exit status and errors", the man
# page's EXIT STATUS) each say that status exits 1 for an attachment not ok and for a TARGET
# with no attachment, not only "failed and rolled back", and 3 while one is settling.
@test "docs: help, README and man page agree that status exits 1 when not ok or TARGET has no attachment, 3 while settling" {
  local text what
  for what in help readme man; do
    case $what in
    help) text=$("$LANJOIN" help | sed -n '/^Exit status:/,$p') ;;
    readme) text=$(sed -n '/^### Exit status and errors/,/^##/p' "$README") ;;
    man) text=$(man_text | sed -n '/^\.SH EXIT STATUS/,/^\.SH [^E]/p') ;;
    esac
    text=$(tr -s ' \n' ' ' <<<"$text")
    echo "$what: $text"
    [[ $text == *status* ]]
    [[ $text == *"not ok"* || $text == *'not `ok`'* || $text == *"not .BR ok"* || $text == *"not .B ok"* ]]
    [[ $text == *"no attachment"* ]]
    [[ $text == *3*settling* ]] # status while an attach still runs
  done
}

# --- the man page renders cleanly -----------------------------------------------------------------

@test "docs: the man page renders without groff warnings (and mandoc -Tlint is clean if installed)" {
  command -v groff >/dev/null || skip "groff is not installed"
  run --separate-stderr groff -man -Tutf8 -ww -z "$MAN"
  echo "$stderr"
  [ "$status" -eq 0 ]
  [ -z "$stderr" ]
  if command -v man >/dev/null; then
    run -0 env MANWIDTH=80 man -l "$MAN"
    [[ $output == *"lanjoin attach bridge"* ]]
  fi
  if command -v mandoc >/dev/null; then
    run mandoc -Tlint -Wstyle "$MAN"
    echo "$output"
    [ -z "$output" ]
  fi
}

# --- shell completion ------------------------------------------------------------------------------

# Stand-ins for the docker and podman commands the completion asks for container names: the
# host's own podman would make its default storage and CNI lock on first use
# (/var/lib/containers, /run/containers, /etc/cni/net.d/cni.lock), and docker its ~/.docker.
engine_stubs() {
  local d=$BATS_FILE_TMPDIR/engine-stubs e
  if [[ ! -d $d ]]; then
    mkdir -p "$d"
    for e in docker podman; do
      printf '#!/bin/sh\n[ "$1" = ps ] && echo lj-stub-%s\n' "$e" >"$d/$e"
      chmod +x "$d/$e"
    done
  fi
  echo "$d"
}

# complete LINE [NETNS]: what the bash completion offers at the end of LINE, one per line (run
# in a fresh bash, inside network namespace NETNS if given, so /sys/class/net is that one's;
# docker and podman are the stand-ins of engine_stubs).
complete_line() {
  local -a pre=()
  [[ -n ${2:-} ]] && pre=(ip netns exec "$2")
  "${pre[@]}" env -i PATH="$(engine_stubs):$PATH" ${LANJOIN_STATE_DIR:+LANJOIN_STATE_DIR="$LANJOIN_STATE_DIR"} \
    bash --norc --noprofile -c '
    source "$1" || exit 1
    COMP_LINE=$2 COMP_POINT=${#2}
    read -r -a COMP_WORDS <<<"$2"
    COMP_CWORD=${#COMP_WORDS[@]}
    _lanjoin lanjoin
    printf "%s\n" "${COMPREPLY[@]}"' _ "$BASH_COMPLETION" "$1"
}

@test "completion: bash completes commands, ways, options, netns names, bridges and links" {
  run -0 complete_line "lanjoin at"
  [ "$output" = attach ]
  run -0 complete_line "lanjoin attach "
  [ "$(sort <<<"$output" | tr '\n' ' ')" = "bridge macvlan nat ovs routed " ]
  run -0 complete_line "lanjoin attach bridge x --br"
  [ "$output" = --bridge ]
  run -0 complete_line "lanjoin attach macvlan web --mode p"
  [ "$(tr '\n' ' ' <<<"$output")" = "private passthru " ]
  run -0 complete_line "lanjoin attach nat web --"
  [[ $output == *--publish* && $output != *--bridge* && $output != *--dhcp* ]]
  run -0 complete_line "lanjoin uplink "
  [ "$(tr '\n' ' ' <<<"$output")" = "adopt release list " ]
  run -0 complete_line "lanjoin detach --a"
  [ "$output" = --all ]
  # Container names come from both engines (here the stand-ins).
  run -0 complete_line "lanjoin pid lj-stub-"
  [ "$(sort <<<"$output" | tr '\n' ' ')" = "lj-stub-docker lj-stub-podman " ]
  # Completing a detach target asks `lanjoin list`, but never creates the state directory.
  mkdir "$BATS_TEST_TMPDIR/bin"
  ln -s "$LANJOIN" "$BATS_TEST_TMPDIR/bin/lanjoin"
  PATH=$BATS_TEST_TMPDIR/bin:$PATH LANJOIN_STATE_DIR=$BATS_TEST_TMPDIR/state run -0 complete_line "lanjoin detach "
  [[ $output == *pid:* && ! -e $BATS_TEST_TMPDIR/state ]]

  # Names from a namespace of our own: netns:NAME, and its bridge and links from inside it.
  local ns=${DOCS_PREFIX}cmp
  ip netns add "$ns"
  defer ip netns del "$ns"
  ip -n "$ns" link add brdocs type bridge
  ip -n "$ns" link add vdocs type veth peer name vdocs2
  run -0 complete_line "lanjoin attach bridge netns:${DOCS_PREFIX}cm"
  [ "$output" = "${DOCS_PREFIX}cmp" ] # bash puts it after the ':' it split the word at
  run -0 complete_line "lanjoin attach bridge netns:$ns --bridge " "$ns"
  [ "$output" = brdocs ]
  run -0 complete_line "lanjoin attach macvlan netns:$ns --parent=vd" "$ns"
  [ "$(tr '\n' ' ' <<<"$output")" = "vdocs vdocs2 " ] # after the '='
  run -0 complete_line "lanjoin shim add " "$ns"
  [[ $output == *lo*vdocs* ]]
}

# shellcheck disable=SC2086 # $key is one or two words: the arguments of `lanjoin help`
@test "completion: bash offers every option 'lanjoin help' lists, for every command and way" {
  local key missing=() opts offered sub keys
  keys=$(help_commands) # once: it runs 'lanjoin help' for every command
  while read -r key; do
    [[ $key == help ]] && continue # the commands' summaries
    # Not the options of another command the help quotes ('attach macvlan --host-shim CIDR').
    opts=$("$LANJOIN" help $key | sed -E "s/(^|[^A-Za-z])('(lanjoin )?[a-z]+ [^']*')/\1\n\2\n/g" |
      grep -vE "^'(lanjoin )?([a-z]+)" | options_in)
    opts+=$'\n'$("$LANJOIN" help $key | grep -oE "(^|[^A-Za-z])'(lanjoin )?${key%% *} [^']*'" | options_in)
    if [[ $key == *" "* ]]; then
      # A subcommand with no help of its own yet is checked with its command.
      cmp -s <("$LANJOIN" help ${key% *}) <("$LANJOIN" help $key) && continue
      offered=$(complete_line "lanjoin $key x --")
    else
      offered=$(complete_line "lanjoin $key --")
      # A command with subcommands: what any of them offers.
      for sub in $(awk -v c="$key" '$1 == c && NF == 2 {print $2}' <<<"$keys"); do
        offered+=$'\n'$(complete_line "lanjoin $key $sub x --")
      done
    fi
    for opt in $opts; do
      grep -qxF -- "$opt" <<<"$offered" ||
        missing+=("completion/lanjoin.bash: $opt (from 'lanjoin help $key') is not offered for 'lanjoin $key'")
    done
  done <<<"$keys"
  if ((${#missing[@]} > 0)); then
    printf '%s\n' "${missing[@]}"
    return 1
  fi
}

@test "completion: the zsh completion parses (zsh -n), and names the same commands" {
  command -v zsh >/dev/null || skip "zsh is not installed"
  run -0 zsh -n "$ZSH_COMPLETION"
  head -1 "$ZSH_COMPLETION" | grep -qx '#compdef lanjoin'
  local cmd
  for cmd in $("$LANJOIN" help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}'); do
    grep -q "'$cmd:" "$ZSH_COMPLETION" || {
      echo "completion/_lanjoin: command '$cmd' is missing"
      return 1
    }
  done
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
  local p=$DOCS_PREFIX cmd out
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
