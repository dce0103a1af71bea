#!/usr/bin/env bash
# demo.sh — the README's demo: `sudo ./demo.sh`.
# Builds lanjoin, builds a private lab (see README, "By hand in the lab": a LAN with a gateway, a peer and a host
# with its uplink em1 in bridge br-em1), starts a container "web" serving hello.html, and
# attaches it to the LAN with lanjoin's bridge way. The lab is always removed at the end.
# Environment: LJ_SKIP_DEPS=1 skips installing packages; LJ_BUILD_DIR (default build);
# LAB_PREFIX (default ljdemo-).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$REPO"

if ((EUID != 0)); then
  echo "demo.sh: must run as root (it builds network namespaces): sudo ./demo.sh" >&2
  exit 2
fi

export LAB_PREFIX=${LAB_PREFIX:-ljdemo-}
LAB=$REPO/lab/lab.sh
BUILD=${LJ_BUILD_DIR:-build}
LANJOIN=$BUILD/lanjoin
[[ $LANJOIN == /* ]] || LANJOIN=$REPO/$LANJOIN
P=$LAB_PREFIX

step() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
show() { # print the command, then run it
  printf '$ %s\n' "$*"
  "$@"
}

if [[ ${LJ_SKIP_DEPS:-0} != 1 ]]; then
  step "install what is missing"
  show scripts/install-deps.sh
fi

step "build"
[[ -f $BUILD/build.ninja ]] || show meson setup "$BUILD"
show ninja -C "$BUILD"

step "the lab: LAN 198.51.100.0/24 (gateway .254, peer .10, host .76 on br-em1), outside 203.0.113.0/24"
"$LAB" down # a lab left by an interrupted demo
trap 'step "tear down"; show "$LAB" down' EXIT
trap 'exit 130' INT TERM
show "$LAB" up --bridge-host
# lanjoin runs through `lab.sh exec`, which gives it the lab's own state directory: the records
# of the lab's attachments live in the lab (removed by `lab.sh down`), not in /run/lanjoin.
unset LANJOIN_STATE_DIR

step "a container: namespace ${P}web running a web server with hello.html, not on any network yet"
show "$LAB" container add web

step "attach it to the LAN through br-em1 as 198.51.100.117"
show "$LAB" exec host "$LANJOIN" attach bridge "netns:${P}web" --bridge br-em1 \
  --ip 198.51.100.117/24 --gateway 198.51.100.254

step "the peer fetches the container's page"
show "$LAB" exec peer curl -sS --max-time 5 http://198.51.100.117/hello.html

step "the outside host sees the container's own address as the source"
show "$LAB" exec web curl -sS --max-time 5 http://203.0.113.1/cgi-bin/ip

step "what lanjoin has attached"
show "$LAB" exec host "$LANJOIN" list

step "detach: undo exactly what attach did"
show "$LAB" exec host "$LANJOIN" detach "netns:${P}web"
show "$LAB" exec host "$LANJOIN" list
