#!/usr/bin/env bash
# scripts/install-deps.sh — install the Debian packages lanjoin needs to build and test.
# Installs only what is missing (one `apt-get update` first, if anything is). When it installs
# openvswitch-switch itself, it keeps that new service from starting (and disables it): the
# lab runs its own OVS inside a namespace. An Open vSwitch that was there before is left alone,
# running or not: the host's own uplink may be in one of its bridges.
#   scripts/install-deps.sh           install what is missing
#   scripts/install-deps.sh --list    print the package list (the one place it is kept)
#   scripts/install-deps.sh --check   exit 1 and name what is missing, install nothing
set -euo pipefail

PACKAGES=(
  # build
  build-essential meson ninja-build pkg-config clang
  libmnl-dev libnftnl-dev libjansson-dev libcmocka-dev libnftables-dev libcurl4-openssl-dev
  libmicrohttpd-dev libsystemd-dev
  # tests and lab
  bats jq curl iproute2 nftables iptables ethtool psmisc valgrind
  busybox-static dnsmasq-base openvswitch-switch containernetworking-plugins
  # docs checks: the man page's lint and the zsh completion's syntax (tests/integration/docs.bats)
  mandoc zsh clang-format
  # container engines: the tests start their own daemons inside the lab (engine-helpers.bash)
  docker.io docker-compose podman runc
  # DHCP clients lanjoin can run inside a container (udhcpc comes with busybox-static)
  isc-dhcp-client dhcpcd-base
)

missing() {
  local p
  for p in "${PACKAGES[@]}"; do
    if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
      echo "$p"
    fi
  done
}

system_ovs_running() {
  local f pid
  for f in /run/openvswitch/ovsdb-server.pid /run/openvswitch/ovs-vswitchd.pid; do
    [[ -r $f ]] || continue
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] && return 0
  done
  return 1
}

# Only for the openvswitch-switch this script has just installed (see the header).
stop_new_ovs() {
  if command -v systemctl >/dev/null; then
    systemctl disable openvswitch-switch >/dev/null 2>&1 || true
  elif command -v update-rc.d >/dev/null; then
    update-rc.d openvswitch-switch disable >/dev/null 2>&1 || true
  fi
  system_ovs_running || return 0
  echo "install-deps: stopping the Open vSwitch service it just installed (the lab runs its own)"
  if [[ -x /etc/init.d/openvswitch-switch ]]; then
    /etc/init.d/openvswitch-switch stop || true
  elif command -v service >/dev/null; then
    service openvswitch-switch stop || true
  fi
  if system_ovs_running; then
    echo "install-deps: warning: the system Open vSwitch is still running" >&2
  fi
}

case ${1:-} in
--list)
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
  ;;
--check)
  m=$(missing)
  if [[ -n $m ]]; then
    echo "missing packages: ${m//$'\n'/ }"
    exit 1
  fi
  exit 0
  ;;
"") ;;
*)
  echo "usage: $0 [--list|--check]" >&2
  exit 2
  ;;
esac

mapfile -t todo < <(missing)
if ((${#todo[@]} > 0)); then
  if ((EUID != 0)); then
    echo "install-deps: missing ${todo[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${todo[*]}"
  # Keep dpkg from starting services (openvswitch-switch would start the system OVS), unless
  # the system already has a policy of its own.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
    trap 'rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${todo[@]}"
  if ((own_policy)); then
    rm -f "$policy"
    trap - EXIT
  fi
  for p in "${todo[@]}"; do
    if [[ $p == openvswitch-switch ]]; then
      stop_new_ovs
    fi
  done
fi
